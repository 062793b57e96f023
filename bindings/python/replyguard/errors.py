"""Exceptions: every RG_E* code of the C library as a Python class.

A failing C call returns a negative code; the binding raises the class
mapped to it below, carrying the code and the library's own sentence for
it (rg_strerror). Related codes share a base class, so a program can
catch a whole family (every store problem, every key problem) or one
code. Where a built-in exception means the same thing (ValueError for a
bad argument, MemoryError), the class derives from it too, so code that
already catches the built-in keeps working.

``replyguard.KeyError`` is the family of key problems. It is named after
what it is, but it is not the built-in KeyError (a missing mapping key)
and does not derive from it. The package leaves it out of its
``__all__``, so that ``from replyguard import *`` cannot hide the
built-in; type-checked code can import it from replyguard.errors.
"""

from __future__ import annotations

from typing import Dict, NoReturn, Optional, Type

from . import _native

__all__ = [
    "ReplyGuardError",
    "InvalidArgument",
    "ClosedError",
    "OutOfMemory",
    "InitError",
    "KeyError",
    "NoKey",
    "BadKey",
    "BadKeyFile",
    "UnknownLocale",
    "RangeError",
    "StoreError",
    "BadStoreURL",
    "StoreUnavailable",
    "StoreFull",
    "NotSupported",
    "TooBig",
    "PermissionDenied",
    "NotLearned",
    "AddressError",
    "error_class",
    "err_name",
    "strerror",
]


def _c_code(code: int) -> int:
    """An error code as C's int: TypeError for anything but an int, and
    a number outside C's int (which ctypes would wrap round, 2**32 to 0,
    "success") as 1, which no code is: the library's text for an unknown
    code."""
    if isinstance(code, bool) or not isinstance(code, int):
        raise TypeError(f"an error code is an int, not {type(code).__name__}")
    return code if -(2**31) <= code < 2**31 else 1


def strerror(code: int) -> str:
    """The library's sentence for an error code (rg_strerror); "unknown
    error" for a number that is none."""
    return _native.text_out(_native.rg_strerror(_c_code(code)))


def err_name(code: int) -> str:
    """The library's name of an error code, such as "RG_EINVAL";
    "RG_EUNKNOWN" for a number that is none."""
    return _native.text_out(_native.rg_err_name(_c_code(code)))


class ReplyGuardError(Exception):
    """A call into the library failed.

    ``code`` is the RG_E* number (negative), ``name`` its name
    ("RG_ESTORE") and ``message`` the library's sentence for it, with any
    detail the binding adds after a colon.
    """

    code: int
    name: str
    message: str

    def __init__(self, code: int, message: Optional[str] = None) -> None:
        if message is None:
            message = strerror(code)
        super().__init__(code, message)
        self.code = code
        self.name = err_name(code)
        self.message = message

    def __str__(self) -> str:
        return f"{self.message} ({self.name})"


class InvalidArgument(ReplyGuardError, ValueError):
    """RG_EINVAL: an argument or setting the library refuses."""


class ClosedError(InvalidArgument):
    """A handle was used after close(): RG_EINVAL, as a NULL handle is."""


class OutOfMemory(ReplyGuardError, MemoryError):
    """RG_ENOMEM: the library could not allocate memory."""


class InitError(ReplyGuardError):
    """RG_EINIT: the crypto library (libsodium) could not be initialised."""


class KeyError(ReplyGuardError):  # noqa: A001 - see the module docstring
    """The family of key problems: RG_ENOKEY, RG_EKEY, RG_EKEYFILE."""


class NoKey(KeyError):
    """RG_ENOKEY: the guard has no signing key yet."""


class BadKey(KeyError):
    """RG_EKEY: a duplicate key id, or a key that is not 32 bytes."""


class BadKeyFile(KeyError):
    """RG_EKEYFILE: the key file is missing, unreadable or malformed."""


class UnknownLocale(ReplyGuardError, ValueError):
    """RG_ELOCALE: not one of the locales challenges are written in."""


class RangeError(ReplyGuardError, ValueError):
    """RG_ERANGE: challenge ranges that cannot make a question."""


class StoreError(ReplyGuardError):
    """The family of store problems: RG_EURL, RG_ESTORE, RG_EFULL and
    RG_ENOSUPPORT (a store this build lacks)."""


class BadStoreURL(StoreError, ValueError):
    """RG_EURL: a malformed or unsupported store URL."""


class StoreUnavailable(StoreError):
    """RG_ESTORE: the store failed (I/O error, or a server unreachable)."""


class StoreFull(StoreError):
    """RG_EFULL: the store is full of live entries, so it fails closed."""


class NotSupported(StoreError):
    """RG_ENOSUPPORT: this build of the library lacks the feature."""


class TooBig(ReplyGuardError):
    """RG_ETOOBIG: the output does not fit in its buffer."""


class PermissionDenied(ReplyGuardError):
    """RG_EPERM: permission denied."""


class NotLearned(ReplyGuardError):
    """RG_ENOTLEARNED: unlearning a comment that was never learned."""


class AddressError(ReplyGuardError, ValueError):
    """RG_EADDRESS: not an IPv4 or IPv6 address."""


_CLASSES: Dict[int, Type[ReplyGuardError]] = {
    _native.RG_EINVAL: InvalidArgument,
    _native.RG_ENOMEM: OutOfMemory,
    _native.RG_EINIT: InitError,
    _native.RG_ENOKEY: NoKey,
    _native.RG_EKEY: BadKey,
    _native.RG_EKEYFILE: BadKeyFile,
    _native.RG_ELOCALE: UnknownLocale,
    _native.RG_ERANGE: RangeError,
    _native.RG_EURL: BadStoreURL,
    _native.RG_ESTORE: StoreUnavailable,
    _native.RG_EFULL: StoreFull,
    _native.RG_ENOSUPPORT: NotSupported,
    _native.RG_ETOOBIG: TooBig,
    _native.RG_EPERM: PermissionDenied,
    _native.RG_ENOTLEARNED: NotLearned,
    _native.RG_EADDRESS: AddressError,
}


def error_class(code: int) -> Type[ReplyGuardError]:
    """The exception class for an error code; ReplyGuardError for a code
    this binding does not know (one a later library added). TypeError for
    anything but an int."""
    if isinstance(code, bool) or not isinstance(code, int):
        raise TypeError(f"an error code is an int, not {type(code).__name__}")
    return _CLASSES.get(code, ReplyGuardError)


def raise_for(code: int, detail: Optional[str] = None) -> NoReturn:
    """Raises the exception for `code`, with optional detail appended."""
    message = strerror(code)
    if detail:
        message = f"{message}: {detail}"
    raise error_class(code)(code, message)


def check(code: int) -> None:
    """Raises the exception for a failed call's return code, if any."""
    if code < 0:
        raise_for(code)
