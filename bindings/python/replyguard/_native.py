"""The C library, loaded with ctypes: its structs, prototypes and helpers.

This module is the only place that knows the C ABI of libreplyguard.so.0
(include/replyguard.h). Every struct below mirrors its C counterpart field
for field, and every function the binding calls has its argument and
return types declared, so that ctypes never guesses a type (a guessed
``int`` where C has a pointer or a ``uint64_t`` corrupts values silently).

Nothing here is public API; the rest of the package builds on it.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import sys
from ctypes import (
    CFUNCTYPE,
    POINTER,
    Structure,
    c_char,
    c_char_p,
    c_double,
    c_int,
    c_size_t,
    c_uint,
    c_uint8,
    c_uint32,
    c_uint64,
    c_void_p,
)
from typing import Any, Callable, List, Tuple, Type, TypeVar

# ---- Loading. ----------------------------------------------------------

#: The environment variable that names the shared library to load.
LIBRARY_ENV = "REPLYGUARD_LIBRARY"


def _candidates() -> Tuple[List[str], List[str]]:
    """The names to try, in order, and notes on lookups that found none.

    A path set in REPLYGUARD_LIBRARY is tried alone: a test or a
    deployment that names a build means that build, never another copy
    found elsewhere.
    """
    chosen = os.environ.get(LIBRARY_ENV)
    if chosen:
        return [chosen], []
    names: List[str] = []
    notes: List[str] = []
    found = ctypes.util.find_library("replyguard")
    if found:
        names.append(found)
    else:
        notes.append('ctypes.util.find_library("replyguard") (found nothing)')
    names.append("libreplyguard.0.dylib" if sys.platform == "darwin"
                 else "libreplyguard.so.0")
    return names, notes


def _load() -> ctypes.CDLL:
    """Loads the library, or raises ImportError naming everything tried."""
    names, tried = _candidates()
    for name in names:
        try:
            # CDLL (not PyDLL) releases the GIL during every call, so that
            # threads sharing one handle really run in parallel.
            return ctypes.CDLL(name)
        except OSError as exc:
            tried.append(f"{name!r} ({exc})")
    raise ImportError(
        "replyguard: cannot load the C library libreplyguard; tried "
        + "; ".join(tried)
        + f". Install libreplyguard, or set {LIBRARY_ENV} to the path of "
        "libreplyguard.so.0."
    )


lib = _load()

# ---- Sizes of the header, as the library reports them. ----------------

KEY_BYTES = 32  # RG_KEY_BYTES
QUESTION_MAX = 256  # RG_QUESTION_MAX
TOKEN_MAX = 128  # RG_TOKEN_MAX
LOCALE_MAX = 8  # RG_LOCALE_MAX
CLUE_TOKEN_MAX = 72  # RG_CLUE_TOKEN_MAX
CLIENT_KEY_MAX = 18  # RG_CLIENT_KEY_MAX
FORM_MAX = 4096  # RG_FORM_MAX
KEY_FILE_MAX = 512  # rg_keyfile_generate() needs 160 and writes fewer

# Error codes (RG_ERRNO_MAP in the header). Append-only in C, so here too.
RG_OK = 0
RG_EINVAL = -1
RG_ENOMEM = -2
RG_EINIT = -3
RG_ENOKEY = -4
RG_EKEY = -5
RG_EKEYFILE = -6
RG_ELOCALE = -7
RG_ERANGE = -8
RG_EURL = -9
RG_ESTORE = -10
RG_EFULL = -11
RG_ENOSUPPORT = -12
RG_ETOOBIG = -13
RG_EPERM = -14
RG_ENOTLEARNED = -15
RG_EADDRESS = -16

# ---- Structs. -----------------------------------------------------------
# C enums are int-sized with every compiler the library supports, so an
# enum field is c_int. Callbacks are declared once and shared.

ClockFn = CFUNCTYPE(c_uint64, c_void_p)


class Config(Structure):
    """rg_config."""

    _fields_ = [
        ("size", c_size_t),
        ("ttl_s", c_uint32),
        ("min_solve_s", c_uint32),
        ("locale", c_char_p),
        ("store", c_char_p),
        ("clock", ClockFn),
        ("clock_arg", c_void_p),
        ("style", c_int),
        ("operand_min", c_uint32),
        ("operand_max", c_uint32),
        ("product_max", c_uint32),
        ("operators", c_uint),
        ("forms", c_uint),
        ("clock_skew_s", c_uint32),
    ]


class Challenge(Structure):
    """rg_challenge."""

    _fields_ = [
        ("question", c_char * QUESTION_MAX),
        ("token", c_char * TOKEN_MAX),
        ("spoken", c_char * QUESTION_MAX),
        ("locale", c_char * LOCALE_MAX),
        ("issued_at", c_uint64),
        ("expires_at", c_uint64),
    ]


class Comment(Structure):
    """rg_comment."""

    _fields_ = [
        ("size", c_size_t),
        ("author", c_char_p),
        ("email", c_char_p),
        ("url", c_char_p),
        ("body", c_char_p),
    ]


class BayesConfig(Structure):
    """rg_bayes_config."""

    _fields_ = [
        ("size", c_size_t),
        ("ham_cutoff", c_double),
        ("spam_cutoff", c_double),
        ("strength", c_double),
        ("prior", c_double),
        ("min_deviation", c_double),
        ("max_clues", c_uint32),
        ("threads", c_uint32),
    ]


class Clue(Structure):
    """rg_clue."""

    _fields_ = [
        ("token", c_char * CLUE_TOKEN_MAX),
        ("probability", c_double),
        ("spam_count", c_uint32),
        ("ham_count", c_uint32),
    ]


class BayesResult(Structure):
    """rg_bayes_result."""

    _fields_ = [
        ("spamicity", c_double),
        ("verdict", c_int),
        ("nclues", c_size_t),
    ]


class BayesStats(Structure):
    """rg_bayes_stats."""

    _fields_ = [
        ("spam_comments", c_uint64),
        ("ham_comments", c_uint64),
        ("tokens", c_uint64),
    ]


class LimitResult(Structure):
    """rg_limit_result."""

    _fields_ = [
        ("allowed", c_int),
        ("limit", c_uint32),
        ("remaining", c_uint32),
        ("retry_after_ms", c_uint64),
        ("reset_after_ms", c_uint64),
    ]


class LimiterConfig(Structure):
    """rg_limiter_config."""

    _fields_ = [
        ("size", c_size_t),
        ("rate_per_s", c_double),
        ("burst", c_uint32),
        ("capacity", c_size_t),
        ("store", c_char_p),
        ("name", c_char_p),
        ("clock_ns", ClockFn),
        ("clock_arg", c_void_p),
    ]


class FormConfig(Structure):
    """rg_form_config."""

    _fields_ = [
        ("size", c_size_t),
        ("answer_field", c_char_p),
        ("token_field", c_char_p),
        ("honeypot_field", c_char_p),
    ]


class Submission(Structure):
    """rg_submission."""

    _fields_ = [
        ("size", c_size_t),
        ("author", c_char_p),
        ("email", c_char_p),
        ("url", c_char_p),
        ("body", c_char_p),
        ("token", c_char_p),
        ("answer", c_char_p),
        ("honeypot", c_char_p),
        ("client", c_char_p),
        ("binding", c_char_p),
    ]


class Policy(Structure):
    """rg_policy."""

    _fields_ = [
        ("size", c_size_t),
        ("on_honeypot", c_int),
        ("on_captcha_wrong", c_int),
        ("on_captcha_expired", c_int),
        ("on_captcha_too_fast", c_int),
        ("on_captcha_replayed", c_int),
        ("on_captcha_forged", c_int),
        ("on_captcha_malformed", c_int),
        ("on_rate_limited", c_int),
        ("on_spam", c_int),
        ("on_unsure", c_int),
        ("on_store_unavailable", c_int),
        ("limiter", c_void_p),
        ("limiter_ipv6_56", c_void_p),
        ("limiter_ipv6_48", c_void_p),
        ("limit_by", c_int),
        ("failure_cost", c_uint32),
        ("failures", c_void_p),
        ("escalation_step_s", c_uint32),
        ("escalation_cap_s", c_uint32),
        ("bayes", c_void_p),
    ]


class Decision(Structure):
    """rg_decision."""

    _fields_ = [
        ("action", c_int),
        ("reasons", c_uint32),
        ("verdict", c_int),
        ("verified", c_int),
        ("spamicity", c_double),
        ("retry_after_ms", c_uint64),
        ("min_solve_s", c_uint32),
    ]


# ---- Prototypes. --------------------------------------------------------

_HANDLE_OUT = POINTER(c_void_p)


def _declare(name: str, restype: Any, *argtypes: Any) -> Any:
    """Declares one function of the library and returns it."""
    fn = getattr(lib, name)
    fn.restype = restype
    fn.argtypes = list(argtypes)
    return fn


rg_init = _declare("rg_init", c_int)
rg_version = _declare("rg_version", c_char_p)
rg_key_bytes = _declare("rg_key_bytes", c_size_t)
rg_token_max = _declare("rg_token_max", c_size_t)
rg_question_max = _declare("rg_question_max", c_size_t)
rg_strerror = _declare("rg_strerror", c_char_p, c_int)
rg_err_name = _declare("rg_err_name", c_char_p, c_int)
rg_verdict_name = _declare("rg_verdict_name", c_char_p, c_int)

rg_config_init = _declare("rg_config_init", None, POINTER(Config))
rg_guard_new = _declare("rg_guard_new", c_int, _HANDLE_OUT, POINTER(Config))
rg_guard_add_key = _declare(
    "rg_guard_add_key", c_int, c_void_p, c_uint32, POINTER(c_uint8), c_int
)
rg_guard_load_keys = _declare("rg_guard_load_keys", c_int, c_void_p, c_char_p)
rg_keyfile_generate = _declare(
    "rg_keyfile_generate", c_int, c_uint32, POINTER(c_char), c_size_t
)
rg_challenge_issue = _declare(
    "rg_challenge_issue", c_int, c_void_p, c_char_p, POINTER(Challenge)
)
rg_challenge_issue_in = _declare(
    "rg_challenge_issue_in",
    c_int,
    c_void_p,
    c_char_p,
    c_char_p,
    c_int,
    POINTER(Challenge),
)
rg_challenge_verify = _declare(
    "rg_challenge_verify",
    c_int,
    c_void_p,
    c_char_p,
    c_char_p,
    c_char_p,
    POINTER(c_int),
)
rg_guard_free = _declare("rg_guard_free", None, c_void_p)

rg_comment_init = _declare("rg_comment_init", None, POINTER(Comment))
rg_bayes_config_init = _declare(
    "rg_bayes_config_init", None, POINTER(BayesConfig)
)
rg_bayes_open = _declare(
    "rg_bayes_open", c_int, _HANDLE_OUT, c_char_p, POINTER(BayesConfig)
)
rg_bayes_learn = _declare(
    "rg_bayes_learn", c_int, c_void_p, POINTER(Comment), c_int
)
rg_bayes_unlearn = _declare(
    "rg_bayes_unlearn", c_int, c_void_p, POINTER(Comment), c_int
)
rg_bayes_classify = _declare(
    "rg_bayes_classify",
    c_int,
    c_void_p,
    POINTER(Comment),
    POINTER(BayesResult),
    POINTER(Clue),
    c_size_t,
)
rg_bayes_optimize = _declare("rg_bayes_optimize", c_int, c_void_p)
rg_bayes_preload = _declare("rg_bayes_preload", c_int, c_void_p)
rg_bayes_stats_get = _declare(
    "rg_bayes_stats_get", c_int, c_void_p, POINTER(BayesStats)
)
rg_bayes_verdict_name = _declare("rg_bayes_verdict_name", c_char_p, c_int)
rg_bayes_close = _declare("rg_bayes_close", None, c_void_p)

rg_limiter_config_init = _declare(
    "rg_limiter_config_init", None, POINTER(LimiterConfig)
)
rg_limiter_open = _declare(
    "rg_limiter_open", c_int, _HANDLE_OUT, POINTER(LimiterConfig)
)
# The key is any bytes with an explicit length, so c_char_p (a pointer to
# the bytes object's buffer) is right even for keys holding NUL bytes.
rg_limiter_take = _declare(
    "rg_limiter_take",
    c_int,
    c_void_p,
    c_char_p,
    c_size_t,
    c_uint32,
    POINTER(LimitResult),
)
rg_limiter_free = _declare("rg_limiter_free", None, c_void_p)
rg_client_key = _declare(
    "rg_client_key",
    c_int,
    c_char_p,
    c_uint,
    POINTER(c_uint8),
    POINTER(c_size_t),
)

rg_form_config_init = _declare(
    "rg_form_config_init", None, POINTER(FormConfig)
)
rg_form_html = _declare(
    "rg_form_html",
    c_int,
    POINTER(Challenge),
    POINTER(FormConfig),
    POINTER(c_char),
    c_size_t,
)
rg_form_json = _declare(
    "rg_form_json",
    c_int,
    POINTER(Challenge),
    POINTER(FormConfig),
    POINTER(c_char),
    c_size_t,
)

rg_submission_init = _declare(
    "rg_submission_init", None, POINTER(Submission)
)
rg_policy_init = _declare("rg_policy_init", None, POINTER(Policy))
rg_judge = _declare(
    "rg_judge",
    c_int,
    c_void_p,
    POINTER(Submission),
    POINTER(Policy),
    POINTER(Decision),
)
rg_action_name = _declare("rg_action_name", c_char_p, c_int)
rg_reason_name = _declare("rg_reason_name", c_char_p, c_uint32)

# ---- Sized structs. -----------------------------------------------------

# Room left after each sized struct. The library's *_init writes
# sizeof(its struct), and structs only grow at their end: a newer library
# with a longer struct then writes its defaults into this room instead of
# past the end of ours, and reads them back, so a binding built for this
# version keeps working with a later library.
_SPARE_BYTES = 256

S = TypeVar("S", bound=Structure)


def new_sized(cls: Type[S], init: Callable[[Any], None]) -> S:
    """A struct of type cls filled with the library's defaults by init.

    The struct lives in a zeroed buffer _SPARE_BYTES longer than cls (see
    above); the struct keeps the buffer alive.
    """
    buf = (c_char * (ctypes.sizeof(cls) + _SPARE_BYTES))()
    struct = cls.from_buffer(buf)
    init(ctypes.byref(struct))
    return struct


def _check_struct_sizes() -> None:
    """Refuses a library whose sizes do not fit the binding's.

    The fixed-size buffers must match exactly. A sized struct may be
    longer in the library (see new_sized) but not shorter: an older
    library would read only the front of it and ignore the fields this
    binding sets after that, which would quietly drop settings.
    """
    pairs: List[Tuple[Type[Structure], Callable[[Any], None]]] = [
        (Config, rg_config_init),
        (Comment, rg_comment_init),
        (BayesConfig, rg_bayes_config_init),
        (LimiterConfig, rg_limiter_config_init),
        (FormConfig, rg_form_config_init),
        (Submission, rg_submission_init),
        (Policy, rg_policy_init),
    ]
    sizes = [
        (rg_key_bytes(), KEY_BYTES, "RG_KEY_BYTES"),
        (rg_token_max(), TOKEN_MAX, "RG_TOKEN_MAX"),
        (rg_question_max(), QUESTION_MAX, "RG_QUESTION_MAX"),
    ]
    for got, want, name in sizes:
        if got != want:
            raise ImportError(
                f"replyguard: the loaded library's {name} is {got}, not "
                f"{want}: it does not match this binding"
            )
    for cls, init in pairs:
        size = new_sized(cls, init).size
        if size < ctypes.sizeof(cls):
            raise ImportError(
                f"replyguard: the loaded library's {cls.__doc__} has "
                f"{size} bytes, fewer than the binding's "
                f"{ctypes.sizeof(cls)}: the library is older than this "
                "binding"
            )


def _initialise() -> None:
    """Runs rg_init() and the size checks once, at import."""
    rc = rg_init()
    if rc != RG_OK:
        text = rg_strerror(rc).decode("utf-8", "replace")
        raise ImportError(f"replyguard: rg_init() failed: {text}")
    _check_struct_sizes()


_initialise()


def text_out(value: bytes) -> str:
    """A string from C as str: UTF-8, any stray byte as U+FFFD."""
    return value.decode("utf-8", "replace")
