"""The rate limiter (GCRA) and the rate-limit key of a client address.

A key that has rested may act ``burst + 1`` times at once, then ``rate``
times a second; a take either fits and is charged or is refused and
charges nothing. See docs/limit.md in the library's sources.
"""

from __future__ import annotations

import ctypes
from dataclasses import dataclass
from typing import Callable, Optional, Union

from . import _native
from ._common import Handle, make_clock, name_in, real, text_in, unsigned
from .errors import check

__all__ = ["RETRY_NEVER", "LimitResult", "Limiter", "client_key"]

#: retry_after_ms of a take whose cost is above the limit: it never fits.
RETRY_NEVER = 2**64 - 1


@dataclass(frozen=True)
class LimitResult:
    """The outcome of one Limiter.take()."""

    allowed: bool  # True: go ahead, the cost was charged
    limit: int  # burst + 1: the most a rested key allows
    remaining: int  # takes of cost 1 that would fit right now
    retry_after_ms: int  # limited: when the take would fit; RETRY_NEVER
    reset_after_ms: int  # until the key has fully rested


#: A limiter key: any bytes, or text (taken as its UTF-8 bytes).
KeyLike = Union[str, bytes, bytearray, memoryview]


class Limiter(Handle):
    """A rate limiter (rg_limiter).

    ``store`` is "memory:" (this process: a fixed table of ``capacity``
    keys, 0 for the library's 100000), "sqlite:PATH" (every process on
    the machine) or "redis://HOST:PORT/DB" (every web server). ``rate``
    is takes per second (1/60: one a minute), ``burst`` how many more a
    rested key may take at once. Keyword-only: ``name``, a namespace so
    limiters can share a store without sharing keys, and ``clock_ns``, a
    callable giving nanoseconds (for tests; kept alive with the limiter).

    Thread-safe: one limiter may serve every request of a process.
    """

    def __init__(
        self,
        store: str = "memory:",
        rate: float = 1 / 60,
        burst: int = 4,
        capacity: int = 0,
        *,
        name: str = "",
        clock_ns: Optional[Callable[[], int]] = None,
    ) -> None:
        cfg = _native.new_sized(_native.LimiterConfig,
                                _native.rg_limiter_config_init)
        cfg.store = name_in(store, "store")
        cfg.name = name_in(name, "name")
        cfg.rate_per_s = real(rate, "rate")
        cfg.burst = unsigned(burst, "burst")
        # capacity 0 keeps the library's default, as rg_limiter_new() does.
        if capacity:
            cfg.capacity = unsigned(capacity, "capacity",
                                    8 * ctypes.sizeof(ctypes.c_size_t))
        c_clock = None
        if clock_ns is not None:
            c_clock = make_clock(clock_ns, "Limiter's clock")
            cfg.clock_ns = c_clock
        pointer = ctypes.c_void_p()
        check(_native.rg_limiter_open(ctypes.byref(pointer),
                                      ctypes.byref(cfg)))
        self._own(pointer.value or 0, _native.rg_limiter_free, c_clock)
        self._rate = cfg.rate_per_s
        self._burst = burst

    @property
    def rate(self) -> float:
        """Takes per second, sustained."""
        return self._rate

    @property
    def burst(self) -> int:
        """How many takes beyond one a rested key may make at once."""
        return self._burst

    def take(self, key: KeyLike, cost: int = 1) -> LimitResult:
        """Takes `cost` from the key's allowance; cost 0 only looks.

        The key is any bytes (text counts as its UTF-8); for a client's
        address use client_key(), which groups an IPv6 client's /64. No
        store keeps the key itself, only a keyed hash of it.
        """
        handle = self._handle()
        if isinstance(key, str):
            data = text_in(key, "key") or b""
        elif isinstance(key, (bytes, bytearray, memoryview)):
            data = bytes(key)
        else:
            raise TypeError(
                f"a key is str or bytes, not {type(key).__name__}"
            )
        out = _native.LimitResult()
        check(_native.rg_limiter_take(handle, data, len(data),
                                      unsigned(cost, "cost"),
                                      ctypes.byref(out)))
        return LimitResult(
            allowed=bool(out.allowed),
            limit=int(out.limit),
            remaining=int(out.remaining),
            retry_after_ms=int(out.retry_after_ms),
            reset_after_ms=int(out.reset_after_ms),
        )


def client_key(address: str, ipv6_prefix: int = 0) -> bytes:
    """The rate-limit key of a client's address, as bytes.

    An IPv4 address counts whole; an IPv6 address by its first
    `ipv6_prefix` bits (0 means 64, one customer's network), so a client
    cannot take a fresh key from each of its addresses; an IPv4-mapped
    IPv6 address as the IPv4 address it holds. The bytes are the family
    (4 or 6), the prefix length, and the address bytes under the prefix.
    Raises AddressError for anything but an address (a host name, a port,
    a zone index), TypeError for anything but a str.
    """
    if not isinstance(address, str):
        raise TypeError(
            f"address must be a str, not {type(address).__name__}"
        )
    out = (ctypes.c_uint8 * _native.CLIENT_KEY_MAX)()
    length = ctypes.c_size_t(0)
    check(_native.rg_client_key(text_in(address, "address"),
                                unsigned(ipv6_prefix, "ipv6_prefix"),
                                out, ctypes.byref(length)))
    return bytes(out[: length.value])
