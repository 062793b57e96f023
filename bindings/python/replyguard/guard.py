"""Challenges: the guard that issues and verifies them, and the form.

A Guard writes a small sum ("nine + ten ="), signs it into a token that
any server holding the same key can verify without a database, and makes
sure each token is answered only once. See docs/challenges.md and
docs/token-format.md in the library's sources.
"""

from __future__ import annotations

import ctypes
import enum
import os
from dataclasses import dataclass
from typing import (
    TYPE_CHECKING,
    Any,
    Callable,
    Iterable,
    Mapping,
    Optional,
    Tuple,
    Union,
)

from . import _native
from ._common import (
    Handle,
    flag,
    key_bytes,
    make_clock,
    name_in,
    path_in,
    text_in,
    text_out,
    unsigned,
)
from .errors import check, raise_for

if TYPE_CHECKING:
    from .judge import Decision, Policy, Submission

__all__ = [
    "Verdict",
    "Style",
    "Operator",
    "Form",
    "Challenge",
    "Guard",
    "generate_key_file",
]

#: A path as the standard library takes one.
PathLike = Union[str, bytes, "os.PathLike[str]", "os.PathLike[bytes]"]


class Verdict(enum.Enum):
    """The outcome of verifying one answer; the values are the library's
    names (rg_verdict_name). The library checks in this order: MALFORMED
    (not a token), FORGED (unknown key, bad tag, or another binding),
    EXPIRED, TOO_FAST (sooner than the time trap), REPLAYED (answered
    before), then WRONG or PASS."""

    PASS = "pass"
    WRONG = "wrong"
    EXPIRED = "expired"
    TOO_FAST = "too_fast"
    REPLAYED = "replayed"
    FORGED = "forged"
    MALFORMED = "malformed"

    @classmethod
    def _from_c(cls, value: int) -> "Verdict":
        """The verdict for a C rg_verdict, by the library's own name."""
        return cls(text_out(_native.rg_verdict_name(value)))


class Style(enum.Enum):
    """How numbers appear in a question (rg_style)."""

    WORDS = "words"  # "nine + ten =", the default
    DIGITS = "digits"  # "9 + 10 ="
    MIXED = "mixed"  # each number at random: "9 + ten ="


# The C values of rg_style, in the header's order.
_STYLE_CODES = {Style.WORDS: 0, Style.DIGITS: 1, Style.MIXED: 2}


def _style_code(style: Union[Style, str]) -> int:
    """The C rg_style for a Style or its name."""
    return _STYLE_CODES[Style(style)]


class Operator(enum.IntFlag):
    """Operators a challenge may use (rg_operator_set)."""

    ADD = 1
    SUB = 2
    MUL = 4
    ALL = 7


class Form(enum.IntFlag):
    """Shapes a challenge may take (rg_form_set); one is picked at random
    among those enabled."""

    TWO_TERMS = 1  # "nine + ten ="
    THREE_TERMS = 2  # "nine + ten − four ="
    MISSING_TERM = 4  # "nine + ? = nineteen"


def _fill(array_size: int, value: str, field: str) -> bytes:
    """A challenge string as bytes that fit a C char array with its NUL."""
    data = text_in(value, field) or b""
    if len(data) >= array_size:
        raise_for(
            _native.RG_EINVAL,
            f"{field} is {len(data)} bytes; at most {array_size - 1} fit",
        )
    return data


@dataclass(frozen=True)
class Challenge:
    """One challenge, ready for the form.

    Show ``question`` (or let html() do it), and put ``token`` in a hidden
    field; the answer comes back with the token and is checked by
    Guard.verify() or Guard.judge(). ``spoken`` is the question wholly in
    words, for screen readers. Times are Unix seconds.
    """

    question: str
    token: str
    spoken: str
    locale: str
    issued_at: int
    expires_at: int

    @classmethod
    def _from_c(cls, c: _native.Challenge) -> "Challenge":
        return cls(
            question=text_out(c.question),
            token=text_out(c.token),
            spoken=text_out(c.spoken),
            locale=text_out(c.locale),
            issued_at=int(c.issued_at),
            expires_at=int(c.expires_at),
        )

    def _to_c(self) -> _native.Challenge:
        c = _native.Challenge()
        c.question = _fill(_native.QUESTION_MAX, self.question, "question")
        c.token = _fill(_native.TOKEN_MAX, self.token, "token")
        c.spoken = _fill(_native.QUESTION_MAX, self.spoken, "spoken")
        c.locale = _fill(_native.LOCALE_MAX, self.locale, "locale")
        c.issued_at = unsigned(self.issued_at, "issued_at", 64)
        c.expires_at = unsigned(self.expires_at, "expires_at", 64)
        return c

    def _render(
        self,
        render: Callable[..., int],
        answer_field: Optional[str],
        token_field: Optional[str],
        honeypot_field: Optional[str],
    ) -> str:
        form = _native.new_sized(_native.FormConfig,
                                 _native.rg_form_config_init)
        # None keeps the library's default name for that field.
        if answer_field is not None:
            form.answer_field = name_in(answer_field, "answer_field")
        if token_field is not None:
            form.token_field = name_in(token_field, "token_field")
        if honeypot_field is not None:
            form.honeypot_field = name_in(honeypot_field, "honeypot_field")
        out = ctypes.create_string_buffer(_native.FORM_MAX)
        check(render(ctypes.byref(self._to_c()), ctypes.byref(form), out,
                     len(out)))
        return text_out(out.value)

    def html(
        self,
        answer_field: Optional[str] = None,
        token_field: Optional[str] = None,
        honeypot_field: Optional[str] = None,
    ) -> str:
        """The challenge's part of a comment form as an HTML fragment.

        The question labels the answer box, the token rides in a hidden
        field, and a honeypot field hides from people; everything is
        escaped and there is no script (docs/form.md). The field names
        default to rg_answer, rg_token and rg_note.
        """
        return self._render(_native.rg_form_html, answer_field,
                            token_field, honeypot_field)

    def json(
        self,
        answer_field: Optional[str] = None,
        token_field: Optional[str] = None,
        honeypot_field: Optional[str] = None,
    ) -> str:
        """The same as html(), as the text of one JSON object, for
        engines that render their own form: question, spoken, token,
        locale, expires_at and the three field names."""
        return self._render(_native.rg_form_json, answer_field,
                            token_field, honeypot_field)


#: A key for Guard(keys=...): (key id, 32 key bytes, signs new challenges).
KeySpec = Tuple[int, bytes, bool]


class Guard(Handle):
    """Issues challenges and verifies answers (rg_guard).

    Give it the site's keys, either a key file (``key_file``, the format
    of docs/key-file.md, as generate_key_file() writes) or
    ``keys=[(key_id, key_bytes, sign), ...]`` (the key with sign=True
    signs new challenges; all of them verify).
    ``store`` names the replay store that remembers spent tokens:
    "memory:" (this process), "sqlite:PATH" (this machine) or
    "redis://HOST:PORT/DB" (several servers). ``min_solve`` is the time
    trap in seconds, ``ttl`` a token's lifetime in seconds.

    The rest are keyword-only: ``style`` ("words", "digits", "mixed"),
    ``clock`` (a callable giving Unix seconds, for tests; it is kept
    alive as long as the guard), ``clock_skew`` (seconds a token may be
    issued in the future), and the challenge ranges ``operand_min``,
    ``operand_max``, ``product_max``, ``operators`` (Operator flags) and
    ``forms`` (Form flags); None keeps the library's default.

    Thread-safe: one guard may serve every request of a process.
    """

    def __init__(
        self,
        key_file: Optional[PathLike] = None,
        keys: Optional[Iterable[KeySpec]] = None,
        store: str = "memory:",
        locale: str = "en",
        min_solve: int = 5,
        ttl: int = 1200,
        *,
        style: Union[Style, str] = Style.WORDS,
        clock: Optional[Callable[[], float]] = None,
        clock_skew: Optional[int] = None,
        operand_min: Optional[int] = None,
        operand_max: Optional[int] = None,
        product_max: Optional[int] = None,
        operators: Optional[Union[Operator, int]] = None,
        forms: Optional[Union[Form, int]] = None,
    ) -> None:
        self._style = Style(style)
        cfg = _native.new_sized(_native.Config, _native.rg_config_init)
        cfg.store = name_in(store, "store")
        cfg.locale = name_in(locale, "locale")
        cfg.min_solve_s = unsigned(min_solve, "min_solve")
        cfg.ttl_s = unsigned(ttl, "ttl")
        cfg.style = _style_code(self._style)
        optional = {
            "clock_skew_s": (clock_skew, "clock_skew"),
            "operand_min": (operand_min, "operand_min"),
            "operand_max": (operand_max, "operand_max"),
            "product_max": (product_max, "product_max"),
            "operators": (operators, "operators"),
            "forms": (forms, "forms"),
        }
        for c_field, (value, name) in optional.items():
            if value is not None:
                # Operator and Form flags are ints; a float or a str is
                # not one (int() would truncate 1.5 and parse "7").
                setattr(cfg, c_field, unsigned(value, name))
        c_clock = None
        if clock is not None:
            c_clock = make_clock(clock, "Guard's clock")
            cfg.clock = c_clock

        pointer = ctypes.c_void_p()
        check(_native.rg_guard_new(ctypes.byref(pointer), ctypes.byref(cfg)))
        # The guard calls the clock for as long as it lives, so the
        # finaliser holds the callback until the guard is freed.
        self._own(pointer.value or 0, _native.rg_guard_free, c_clock)
        try:
            if key_file is not None:
                self.load_keys(key_file)
            for entry in keys or ():
                if not isinstance(entry, tuple) or len(entry) != 3:
                    raise TypeError(
                        "each of keys must be a (key_id, key, sign) tuple, "
                        f"not {entry!r:.40}"
                    )
                key_id, key, sign = entry
                self.add_key(key_id, key, sign)
        except BaseException:
            self.close()
            raise

    @property
    def style(self) -> Style:
        """The style questions are written in unless issue() says."""
        return self._style

    def add_key(self, key_id: int, key: Union[bytes, bytearray, memoryview],
                sign: bool = False) -> None:
        """Adds a 32-byte key that verifies tokens; with sign=True it also
        signs every new challenge, and the previous signing key goes on
        verifying (this is how keys rotate). Raises BadKey for a key id
        already added or a key of the wrong length, TypeError for a key
        that is not bytes-like or a sign that is not a bool."""
        handle = self._handle()
        data = key_bytes(key, "key")
        sign = flag(sign, "sign")
        if len(data) != _native.KEY_BYTES:
            raise_for(
                _native.RG_EKEY,
                f"a key is {_native.KEY_BYTES} bytes, not {len(data)}",
            )
        buf = (ctypes.c_uint8 * _native.KEY_BYTES).from_buffer_copy(data)
        try:
            check(_native.rg_guard_add_key(
                handle, unsigned(key_id, "key_id"), buf, 1 if sign else 0))
        finally:
            # The library copied the key into guarded memory; wipe the
            # copy made for the call (the caller's bytes are theirs).
            ctypes.memset(buf, 0, _native.KEY_BYTES)

    def load_keys(self, path: PathLike) -> None:
        """Adds every key of a key file; its "sign" key signs. Raises
        BadKeyFile when the file is missing, unreadable or malformed,
        BadKey when it clashes with a key already added (no key of the
        file is added then), TypeError for a path that is not one, and
        InvalidArgument for a path with a NUL character."""
        handle = self._handle()
        check(_native.rg_guard_load_keys(handle, path_in(path, "path")))

    def issue(
        self,
        binding: str = "",
        *,
        locale: Optional[str] = None,
        style: Optional[Union[Style, str]] = None,
    ) -> Challenge:
        """Issues a challenge whose token is bound to `binding`, a string
        naming the form (and post, and client, as you choose): the answer
        must come back with the same binding. ``locale`` and ``style``
        override the guard's for this one question."""
        handle = self._handle()
        out = _native.Challenge()
        c_binding = text_in(binding, "binding")
        if locale is None and style is None:
            check(_native.rg_challenge_issue(handle, c_binding,
                                             ctypes.byref(out)))
        else:
            check(_native.rg_challenge_issue_in(
                handle,
                c_binding,
                name_in(locale, "locale"),
                _style_code(self._style if style is None else style),
                ctypes.byref(out),
            ))
        return Challenge._from_c(out)

    def verify(self, token: str, answer: str, binding: str = "") -> Verdict:
        """Checks the answer a reader typed for a token. Every authentic,
        unexpired token can be answered once: this spends it, right or
        wrong. Raises StoreUnavailable or StoreFull when the replay store
        cannot record the token (it fails closed, never PASS).

        The three are the visitor's text, any str at all: None (a field
        the form did not send) counts as "", a NUL character as U+FFFD,
        and lone surrogates go through as bytes that are not UTF-8, which
        the library answers with a verdict (MALFORMED, FORGED or WRONG),
        never an error. Anything but a str or None is a TypeError."""
        handle = self._handle()
        verdict = ctypes.c_int(0)
        check(_native.rg_challenge_verify(
            handle,
            text_in(token, "token") or b"",
            text_in(answer, "answer"),
            text_in(binding, "binding"),
            ctypes.byref(verdict),
        ))
        return Verdict._from_c(verdict.value)

    def judge(
        self,
        submission: Union["Submission", Mapping[str, Any]],
        policy: Optional["Policy"] = None,
    ) -> "Decision":
        """Runs every layer of `policy` on one submitted comment and
        decides: accept, moderate or reject, with the reasons. policy None
        is the library's default (the challenge and the honeypot, no
        limiter, no content filter). See replyguard.judge."""
        from .judge import judge

        return judge(self._handle(), submission, policy)


def generate_key_file(key_id: int = 0) -> str:
    """The text of a new key file with one fresh random signing key.

    key_id 0 means the current time, so later keys get larger ids. Write
    it to a file that only the web server can read (mode 0600).
    """
    out = ctypes.create_string_buffer(_native.KEY_FILE_MAX)
    try:
        check(_native.rg_keyfile_generate(unsigned(key_id, "key_id"), out,
                                          len(out)))
        return text_out(out.value)
    finally:
        ctypes.memset(out, 0, len(out))
