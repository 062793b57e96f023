"""What the handle classes share: ownership of a C handle, and strings.

Not public API.
"""

from __future__ import annotations

import os
import sys
import traceback
import weakref
from typing import Any, Callable, Optional, TypeVar

from . import _native
from .errors import ClosedError, InvalidArgument

H = TypeVar("H", bound="Handle")


def _release(free: Callable[[int], None], pointer: int, *keep: Any) -> None:
    """Frees a C handle. `keep` holds what the handle points at (a clock
    callback) until the handle is gone, so C never calls freed memory."""
    free(pointer)


class Handle:
    """A Python object that owns one C handle.

    The handle is freed exactly once: by close(), at the end of a
    ``with`` block, or, if the program forgets both, by a finaliser when
    the object is garbage collected (or at interpreter exit). Using the
    object after that raises ClosedError instead of touching freed memory.

    The C handles are thread-safe, and this class adds no state of its own
    beyond the pointer, so one object may serve many threads. As in C,
    close() must not race with calls still running on other threads.
    """

    _pointer: Optional[int] = None
    _finalizer: Optional[weakref.finalize] = None

    def _own(self, pointer: int, free: Callable[[int], None],
             *keep: Any) -> None:
        """Takes ownership of a new C handle, freed with `free`."""
        self._pointer = pointer
        self._finalizer = weakref.finalize(self, _release, free, pointer,
                                           *keep)

    def _handle(self) -> int:
        """The C pointer, or ClosedError once the handle is closed."""
        pointer = self._pointer
        if pointer is None or self.closed:
            raise ClosedError(
                _native.RG_EINVAL,
                f"this {type(self).__name__} is closed",
            )
        return pointer

    @property
    def closed(self) -> bool:
        """True once the C handle has been freed."""
        return self._finalizer is None or not self._finalizer.alive

    def close(self) -> None:
        """Frees the C handle now. Closing twice is harmless."""
        if self._finalizer is not None:
            self._finalizer()
        self._pointer = None

    def __enter__(self: H) -> H:
        self._handle()
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.close()

    def __repr__(self) -> str:
        state = "closed" if self.closed else "open"
        return f"<replyguard.{type(self).__name__} {state}>"


def text_in(value: Optional[str], field: str) -> Optional[bytes]:
    """Untrusted text for C: UTF-8 bytes, or None for NULL.

    C strings end at the first NUL, so a NUL inside received text would
    let the library check only a prefix of it (a comment body cut short
    before its spam, say). Each NUL therefore becomes U+FFFD: what the
    library checks is all of what arrived. Lone surrogates, which strict
    UTF-8 refuses, go through as the bytes "surrogatepass" gives: the
    library treats invalid UTF-8 as untrusted bytes, never as an error.
    """
    if value is None:
        return None
    if not isinstance(value, str):
        raise TypeError(
            f"{field} must be a str or None, not {type(value).__name__}"
        )
    if "\0" in value:
        value = value.replace("\0", "\ufffd")
    return value.encode("utf-8", "surrogatepass")


def name_in(value: Optional[str], field: str) -> Optional[bytes]:
    """A setting for C (a locale, a store URL, a field name): UTF-8 bytes.

    Unlike received text, a setting with a NUL in it is a mistake in the
    program, so it is refused as the library refuses any bad argument
    (InvalidArgument) rather than cut short.
    """
    if value is None:
        return None
    if not isinstance(value, str):
        raise TypeError(
            f"{field} must be a str, not {type(value).__name__}"
        )
    if "\0" in value:
        raise InvalidArgument(
            _native.RG_EINVAL, f"{field} contains a NUL character"
        )
    return value.encode("utf-8", "surrogatepass")


def text_out(value: Optional[bytes]) -> str:
    """A string from C as str: UTF-8, any stray byte as U+FFFD."""
    return _native.text_out(value or b"")


def make_clock(clock: Callable[[], float], what: str) -> Any:
    """A C clock callback that calls `clock` and returns a whole number.

    A `clock` that is not callable is a TypeError now, rather than a
    failure on every later call.

    An exception cannot travel through C: ctypes would print it and hand
    the library an undefined number. This wrapper prints it too, and
    returns 0 (1970). A token issued while the clock worked then looks
    issued in the future and is refused as expired: a clock that breaks
    fails closed.
    """

    if not callable(clock):
        raise TypeError(
            f"the {what} must be callable, not {type(clock).__name__}"
        )

    def thunk(_arg: Optional[int]) -> int:
        try:
            value = int(clock())
        except BaseException:  # nothing may escape into C
            sys.stderr.write(f"replyguard: the {what} raised; using 0\n")
            traceback.print_exc()
            return 0
        return min(max(value, 0), 2**64 - 1)

    return _native.ClockFn(thunk)


def unsigned(value: int, field: str, bits: int = 32) -> int:
    """An int that fits C's uint32_t (or `bits`), or InvalidArgument.

    ctypes would silently wrap a negative or oversized number into range,
    turning a mistake such as ttl=-1 into a lifetime of 136 years.
    """
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{field} must be an int, not {type(value).__name__}")
    if not 0 <= value < 2**bits:
        raise InvalidArgument(
            _native.RG_EINVAL,
            f"{field} must be from 0 to {2**bits - 1}, not {value}",
        )
    return value


def flag(value: bool, field: str) -> bool:
    """A yes-or-no setting: True or False, nothing else.

    A truthy string such as "no" would otherwise mean yes: learning a
    comment as spam, or signing with a key, by mistake.
    """
    if not isinstance(value, bool):
        raise TypeError(f"{field} must be a bool, not {type(value).__name__}")
    return value


def real(value: float, field: str) -> float:
    """A number for a C double: an int or a float (not a str, nor a
    bool), or TypeError. One too large for a double is InvalidArgument,
    as the library's own range checks are; NaN and infinities go to the
    library, which refuses them with InvalidArgument too.
    """
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(
            f"{field} must be an int or a float, not {type(value).__name__}"
        )
    try:
        return float(value)
    except OverflowError:
        raise InvalidArgument(
            _native.RG_EINVAL, f"{field} is too large for a double"
        ) from None


def key_bytes(value: Any, field: str) -> bytes:
    """Bytes from a bytes-like object (bytes, bytearray, memoryview), or
    TypeError: bytes(32) would quietly make 32 zero bytes of an int."""
    try:
        return memoryview(value).tobytes()
    except TypeError:
        raise TypeError(
            f"{field} must be bytes-like, not {type(value).__name__}"
        ) from None


def path_in(path: Any, field: str) -> bytes:
    """A file system path for C: bytes without a NUL.

    os.fsencode() takes str, bytes and os.PathLike (TypeError for anything
    else); a NUL inside would make C open a shorter path, another file, so
    it is refused as open() refuses it (ValueError, here InvalidArgument).
    """
    data = os.fsencode(path)
    if b"\0" in data:
        raise InvalidArgument(
            _native.RG_EINVAL, f"{field} contains a NUL character"
        )
    return data
