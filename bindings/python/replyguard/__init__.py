"""replyguard: keeps spam out of the comment forms of blogs and news sites.

A Python binding of the C library libreplyguard, through ctypes: nothing
is compiled at install time, and the shared library (libreplyguard.so.0)
is found by ``ctypes.util.find_library("replyguard")``, by its soname,
or at the path in the environment variable REPLYGUARD_LIBRARY.

    import replyguard

    guard = replyguard.Guard(key_file="site.key")
    challenge = guard.issue(binding="post-42")  # show challenge.question
    verdict = guard.verify(token, answer, binding="post-42")  # on POST

Guard issues and verifies challenges, and Guard.judge() runs every layer
(rate limits, honeypot, challenge, content filter) on one submitted
comment. Bayes is the content filter, Limiter the rate limiter. Failures
raise subclasses of ReplyGuardError, one per error code of the library.
Every handle is thread-safe, closes with close() or a ``with`` block,
and is freed by the garbage collector if forgotten.
"""

from __future__ import annotations

from . import _native
from ._common import text_out
from .bayes import (
    Bayes,
    BayesResult,
    BayesStats,
    BayesVerdict,
    Clue,
    Comment,
    CommentLike,
)
from .errors import (
    AddressError,
    BadKey,
    BadKeyFile,
    BadStoreURL,
    ClosedError,
    InitError,
    InvalidArgument,
    KeyError,  # noqa: F401 - public, but not in __all__: see .errors
    NoKey,
    NotLearned,
    NotSupported,
    OutOfMemory,
    PermissionDenied,
    RangeError,
    ReplyGuardError,
    StoreError,
    StoreFull,
    StoreUnavailable,
    TooBig,
    UnknownLocale,
    err_name,
    error_class,
    strerror,
)
from .guard import (
    Challenge,
    Form,
    Guard,
    Operator,
    Style,
    Verdict,
    generate_key_file,
)
from .judge import (
    REASONS,
    Action,
    Decision,
    LimitBy,
    Policy,
    Submission,
    SubmissionLike,
)
from .limiter import RETRY_NEVER, Limiter, LimitResult, client_key

__version__ = "0.1.0"

#: The length of a signing key in bytes (RG_KEY_BYTES).
KEY_BYTES = _native.KEY_BYTES

#: The path or name the C library was loaded from.
LIBRARY = _native.lib._name


def version() -> str:
    """The version of the loaded C library (rg_version), such as "0.1.0"."""
    return text_out(_native.rg_version())


__all__ = [
    # Challenges.
    "Guard",
    "Challenge",
    "Verdict",
    "Style",
    "Operator",
    "Form",
    "generate_key_file",
    "KEY_BYTES",
    # The judge.
    "Submission",
    "SubmissionLike",
    "Policy",
    "Decision",
    "Action",
    "LimitBy",
    "REASONS",
    # The content filter.
    "Bayes",
    "Comment",
    "CommentLike",
    "BayesResult",
    "BayesVerdict",
    "BayesStats",
    "Clue",
    # The rate limiter.
    "Limiter",
    "LimitResult",
    "RETRY_NEVER",
    "client_key",
    # Errors (replyguard.KeyError is left out: see replyguard.errors).
    "ReplyGuardError",
    "InvalidArgument",
    "ClosedError",
    "OutOfMemory",
    "InitError",
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
    # The library.
    "version",
    "LIBRARY",
]
