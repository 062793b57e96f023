"""Tests of the Python binding, with the standard library's unittest.

Run from the repository's top, against a built library:

    REPLYGUARD_LIBRARY=build/libreplyguard.so.0 PYTHONPATH=bindings/python \\
        python3 -m unittest discover -s bindings/python/tests -v

or `meson test --suite bindings` in a build directory. Time is injected
(a clock the test moves), never waited for.
"""

from __future__ import annotations

import contextlib
import ctypes
import gc
import html
import importlib.util
import io
import json
import os
import re
import subprocess
import sys
import tempfile
import threading
import unittest
from typing import Any, Callable, Dict, List, Tuple, Union
from wsgiref.util import setup_testing_defaults

import replyguard
from replyguard import (
    Action,
    Bayes,
    BayesVerdict,
    Challenge,
    Comment,
    Decision,
    Guard,
    Limiter,
    Policy,
    Style,
    Submission,
    Verdict,
)
from replyguard import _native

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.normpath(os.path.join(HERE, "..", "..", ".."))
HEADER = os.path.join(TOP, "include", "replyguard.h")
EXAMPLES = os.path.join(TOP, "examples", "python")

T0 = 1_700_000_000  # the injected clock's start, Unix seconds
BINDING = "post-42|comments"

# ---- Helpers. -------------------------------------------------------------

_EN_WORDS = [
    "zero", "one", "two", "three", "four", "five", "six", "seven", "eight",
    "nine", "ten", "eleven", "twelve", "thirteen", "fourteen", "fifteen",
    "sixteen", "seventeen", "eighteen", "nineteen", "twenty",
]
_OPS: Dict[str, Callable[[int, int], int]] = {
    "+": lambda a, b: a + b, "plus": lambda a, b: a + b,
    "\u2212": lambda a, b: a - b, "minus": lambda a, b: a - b,
    "\u00d7": lambda a, b: a * b, "times": lambda a, b: a * b,
}


def solve(question: str) -> int:
    """The answer to an English two-term question, in digits or in words:
    "9 + 10 =", "What is 9 minus 3?", "nine × ten =" (U+2212 and U+00D7
    are the minus and times signs the library writes)."""
    tokens = re.findall(r"\d+|[a-z]+|[+\u2212\u00d7]", question.lower())
    numbers: List[int] = []
    op = None
    for token in tokens:
        if token.isdigit():
            numbers.append(int(token))
        elif token in _EN_WORDS:
            numbers.append(_EN_WORDS.index(token))
        elif token in _OPS and op is None:
            op = _OPS[token]
    if op is None or len(numbers) != 2:
        raise AssertionError(f"cannot solve {question!r}")
    return op(numbers[0], numbers[1])


class Clock:
    """A clock the test moves: seconds, or nanoseconds for a Limiter."""

    def __init__(self, now: int = T0) -> None:
        self.now = now

    def __call__(self) -> int:
        return self.now


def new_key() -> bytes:
    return os.urandom(replyguard.KEY_BYTES)


def new_guard(**kwargs: Any) -> Guard:
    """A guard with one fresh signing key; arguments override."""
    kwargs.setdefault("keys", [(1, new_key(), True)])
    return Guard(**kwargs)


# ---- Loading and the mirror of the C API. ---------------------------------


class LoadingTest(unittest.TestCase):
    def run_python(self, code: str,
                   library: str) -> "subprocess.CompletedProcess[str]":
        env = dict(os.environ)
        env["REPLYGUARD_LIBRARY"] = library
        return subprocess.run(
            [sys.executable, "-c", code],
            env=env, capture_output=True, text=True, timeout=60,
        )

    def test_missing_library_names_what_was_tried(self) -> None:
        proc = self.run_python(
            "import replyguard", "/nonexistent/libreplyguard.so.0")
        self.assertNotEqual(proc.returncode, 0)
        self.assertIn("ImportError", proc.stderr)
        self.assertIn("/nonexistent/libreplyguard.so.0", proc.stderr)
        self.assertIn("REPLYGUARD_LIBRARY", proc.stderr)

    def test_import_error_is_catchable(self) -> None:
        proc = self.run_python(
            "try:\n"
            "    import replyguard\n"
            "except ImportError as e:\n"
            "    print('caught:', e)\n",
            "/nonexistent",
        )
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertIn("caught: replyguard: cannot load", proc.stdout)
        self.assertIn("'/nonexistent'", proc.stdout)

    def test_version(self) -> None:
        self.assertRegex(replyguard.version(), r"^\d+\.\d+\.\d+")
        self.assertEqual(replyguard.version(), replyguard.__version__)
        self.assertTrue(replyguard.LIBRARY)

    def test_struct_sizes_match_the_library(self) -> None:
        # Each *_init writes sizeof(the C struct) into `size`: the ctypes
        # mirror must be exactly as long.
        for cls, init in [
            (_native.Config, _native.rg_config_init),
            (_native.Comment, _native.rg_comment_init),
            (_native.BayesConfig, _native.rg_bayes_config_init),
            (_native.LimiterConfig, _native.rg_limiter_config_init),
            (_native.FormConfig, _native.rg_form_config_init),
            (_native.Submission, _native.rg_submission_init),
            (_native.Policy, _native.rg_policy_init),
        ]:
            with self.subTest(cls.__name__):
                self.assertEqual(_native.new_sized(cls, init).size,
                                 ctypes.sizeof(cls))

    def test_config_defaults_read_through_the_mirror(self) -> None:
        cfg = _native.new_sized(_native.Config, _native.rg_config_init)
        self.assertEqual((cfg.ttl_s, cfg.min_solve_s), (1200, 5))
        self.assertEqual((cfg.operand_min, cfg.operand_max,
                          cfg.product_max), (0, 20, 100))
        self.assertEqual((cfg.operators, cfg.forms, cfg.clock_skew_s),
                         (7, 1, 60))
        lim = _native.new_sized(_native.LimiterConfig,
                                _native.rg_limiter_config_init)
        self.assertAlmostEqual(lim.rate_per_s, 1 / 60)
        self.assertEqual((lim.burst, lim.capacity), (4, 100000))
        bayes = _native.new_sized(_native.BayesConfig,
                                  _native.rg_bayes_config_init)
        self.assertEqual(
            (bayes.ham_cutoff, bayes.spam_cutoff, bayes.max_clues),
            (0.20, 0.90, 150))

    def test_enums_match_the_library_names(self) -> None:
        for code, verdict in enumerate(Verdict):
            self.assertEqual(Verdict._from_c(code), verdict)
        for code, bayes_verdict in enumerate(BayesVerdict):
            self.assertEqual(BayesVerdict._from_c(code), bayes_verdict)
        from replyguard.judge import _ACTION_CODES, _LIMIT_BY_CODES
        for action, code in _ACTION_CODES.items():
            self.assertEqual(Action._from_c(code), action)
        self.assertEqual(sorted(_LIMIT_BY_CODES.values()), [0, 1, 2])
        self.assertEqual(replyguard.REASONS[0], "honeypot")
        self.assertEqual(replyguard.REASONS[-1], "store_unavailable")
        self.assertEqual(len(replyguard.REASONS), 11)


# ---- Errors. ---------------------------------------------------------------


class ErrorMappingTest(unittest.TestCase):
    def library_codes(self) -> Dict[int, str]:
        """Every error code the loaded library names."""
        codes = {}
        for code in range(-1, -256, -1):
            name = replyguard.err_name(code)
            if name != "RG_EUNKNOWN":
                codes[code] = name
        return codes

    def test_every_library_code_has_its_own_class(self) -> None:
        codes = self.library_codes()
        self.assertGreaterEqual(len(codes), 16)
        classes = set()
        for code, name in codes.items():
            with self.subTest(name):
                cls = replyguard.error_class(code)
                self.assertIsNot(cls, replyguard.ReplyGuardError)
                self.assertTrue(issubclass(cls, replyguard.ReplyGuardError))
                classes.add(cls)
                err = cls(code)
                self.assertEqual(err.code, code)
                self.assertEqual(err.name, name)
                self.assertEqual(err.message, replyguard.strerror(code))
                self.assertIn(name, str(err))
        self.assertEqual(len(classes), len(codes))

    @unittest.skipUnless(os.path.exists(HEADER), "header not found")
    def test_every_header_code_is_mapped(self) -> None:
        with open(HEADER, encoding="utf-8") as f:
            text = f.read()
        found = re.findall(r"XX\((E[A-Z]+),\s*(-\d+),", text)
        self.assertGreaterEqual(len(found), 16)
        for name, value in found:
            with self.subTest(name):
                self.assertEqual(getattr(_native, "RG_" + name), int(value))
                self.assertIsNot(replyguard.error_class(int(value)),
                                 replyguard.ReplyGuardError)

    def test_families(self) -> None:
        E = replyguard
        key_family = replyguard.errors.KeyError
        self.assertIs(getattr(replyguard, "KeyError"), key_family)
        for cls in (E.NoKey, E.BadKey, E.BadKeyFile):
            self.assertTrue(issubclass(cls, key_family))
            self.assertFalse(issubclass(cls, KeyError))  # the built-in
        for store_cls in (E.StoreUnavailable, E.StoreFull, E.BadStoreURL,
                          E.NotSupported):
            self.assertTrue(issubclass(store_cls, E.StoreError))
        for value_cls in (E.InvalidArgument, E.UnknownLocale, E.RangeError,
                          E.AddressError, E.BadStoreURL, E.ClosedError):
            self.assertTrue(issubclass(value_cls, ValueError))
        self.assertTrue(issubclass(E.OutOfMemory, MemoryError))
        self.assertNotIn("KeyError", E.__all__)

    def test_codes_no_call_can_reach(self) -> None:
        # No call fails this way on a working machine; the mapping holds.
        cases = [
            (_native.RG_ENOMEM, replyguard.OutOfMemory),
            (_native.RG_EINIT, replyguard.InitError),
            (_native.RG_EPERM, replyguard.PermissionDenied),
            (_native.RG_ENOSUPPORT, replyguard.NotSupported),
        ]
        for code, cls in cases:
            with self.assertRaises(cls) as ctx:
                replyguard.errors.check(code)
            self.assertEqual(ctx.exception.code, code)
        self.assertIs(replyguard.error_class(-9999),
                      replyguard.ReplyGuardError)
        replyguard.errors.check(0)  # RG_OK raises nothing

    def test_pickles(self) -> None:
        import pickle
        err = replyguard.NotLearned(_native.RG_ENOTLEARNED)
        back = pickle.loads(pickle.dumps(err))
        self.assertIsInstance(back, replyguard.NotLearned)
        self.assertEqual((back.code, back.message), (err.code, err.message))


class RealFailuresTest(unittest.TestCase):
    """Every exception class, raised by a call that really fails."""

    def setUp(self) -> None:
        self.tmp = tempfile.TemporaryDirectory()
        self.addCleanup(self.tmp.cleanup)

    def test_unknown_locale(self) -> None:
        with self.assertRaises(replyguard.UnknownLocale) as ctx:
            new_guard(locale="xx")
        self.assertEqual(ctx.exception.code, _native.RG_ELOCALE)
        with new_guard() as guard:
            with self.assertRaises(replyguard.UnknownLocale):
                guard.issue(locale="klingon")

    def test_range(self) -> None:
        with self.assertRaises(replyguard.RangeError):
            new_guard(operand_min=10, operand_max=5)
        with self.assertRaises(replyguard.RangeError):
            new_guard(operators=0)

    def test_bad_store_url(self) -> None:
        makers: List[Callable[[], object]] = [
            lambda: new_guard(store="nosuch:"),
            lambda: Bayes("ftp://example.com/model"),
            lambda: Limiter("memory:?colour=blue"),
        ]
        for make in makers:
            with self.assertRaises(replyguard.BadStoreURL):
                make()

    def test_store_unavailable(self) -> None:
        url = "sqlite:" + os.path.join(self.tmp.name, "no", "such", "m.db")
        with self.assertRaises(replyguard.StoreError) as ctx:
            Bayes(url)
        # A build without SQLite says so instead.
        self.assertIsInstance(ctx.exception, (replyguard.StoreUnavailable,
                                              replyguard.NotSupported))

    def test_store_full(self) -> None:
        # One live entry: the second spent token has nowhere to go, and
        # verification fails closed rather than forget the first.
        with new_guard(store="memory:?capacity=1", min_solve=0) as guard:
            first, second = guard.issue(), guard.issue()
            self.assertIn(guard.verify(first.token, "0"),
                          (Verdict.PASS, Verdict.WRONG))
            with self.assertRaises(replyguard.StoreFull) as ctx:
                guard.verify(second.token, "0")
            self.assertEqual(ctx.exception.code, _native.RG_EFULL)

    def test_no_key(self) -> None:
        with Guard() as guard:
            with self.assertRaises(replyguard.NoKey):
                guard.issue()

    def test_bad_key(self) -> None:
        with new_guard() as guard:
            with self.assertRaises(replyguard.BadKey):
                guard.add_key(1, new_key())  # id 1 is taken
            with self.assertRaises(replyguard.BadKey):
                guard.add_key(2, b"short")
        with self.assertRaises(replyguard.BadKey):
            Guard(keys=[(7, new_key(), True), (7, new_key(), False)])

    def test_bad_key_file(self) -> None:
        missing = os.path.join(self.tmp.name, "missing.key")
        with self.assertRaises(replyguard.BadKeyFile):
            Guard(key_file=missing)
        garbage = os.path.join(self.tmp.name, "garbage.key")
        with open(garbage, "w") as f:
            f.write("this is not a key file\n")
        with self.assertRaises(replyguard.errors.KeyError):
            Guard(key_file=garbage)

    def test_invalid_argument(self) -> None:
        with self.assertRaises(replyguard.InvalidArgument):
            Limiter(rate=0)
        with self.assertRaises(replyguard.InvalidArgument):
            Bayes(ham_cutoff=0.95, spam_cutoff=0.5)
        with new_guard() as guard:
            with self.assertRaises(replyguard.InvalidArgument):
                guard.issue().html(answer_field="")
        with self.assertRaises(replyguard.InvalidArgument):
            new_guard(ttl=-1)  # refused, not wrapped round to 136 years
        with self.assertRaises(replyguard.InvalidArgument):
            new_guard(store="memory:\0sqlite:x")

    def test_not_learned(self) -> None:
        with Bayes() as bayes:
            with self.assertRaises(replyguard.NotLearned):
                bayes.unlearn("never learned", spam=True)

    def test_address(self) -> None:
        for bad in ("example.com", "203.0.113.7:80", "fe80::1%eth0", ""):
            with self.subTest(bad):
                with self.assertRaises(replyguard.AddressError):
                    replyguard.client_key(bad)

    def test_too_big(self) -> None:
        # The library's own challenges always fit; a made-up one full of
        # characters to escape, with long names, does not.
        made_up = Challenge(question='"' * 255, token='"' * 127,
                            spoken='"' * 255, locale="en", issued_at=0,
                            expires_at=0)
        with self.assertRaises(replyguard.TooBig):
            made_up.html(answer_field='"' * 64, token_field="&" * 64,
                         honeypot_field="<" * 64)

    def test_closed(self) -> None:
        guard = new_guard()
        guard.close()
        with self.assertRaises(replyguard.ClosedError) as ctx:
            guard.issue()
        self.assertEqual(ctx.exception.code, _native.RG_EINVAL)


# ---- Challenges. -----------------------------------------------------------


class ChallengeTest(unittest.TestCase):
    def setUp(self) -> None:
        self.clock = Clock()
        self.guard = new_guard(clock=self.clock, min_solve=5, ttl=1200)
        self.addCleanup(self.guard.close)

    def issue(self, binding: str = BINDING) -> Challenge:
        return self.guard.issue(binding, style=Style.DIGITS)

    def test_issue(self) -> None:
        c = self.issue()
        self.assertEqual(c.locale, "en")
        self.assertEqual(c.issued_at, T0)
        self.assertEqual(c.expires_at, T0 + 1200)
        self.assertRegex(c.question, r"\d")
        self.assertNotRegex(c.spoken, r"\d")
        self.assertRegex(c.token, r"^[A-Za-z0-9_-]{94}$")

    def test_round_trip_passes(self) -> None:
        for _ in range(30):
            c = self.issue()
            self.clock.now += 6
            with self.subTest(c.question):
                self.assertIs(
                    self.guard.verify(c.token, str(solve(c.question)),
                                      BINDING),
                    Verdict.PASS)

    def test_words_round_trip(self) -> None:
        c = self.guard.issue(BINDING)  # the guard's default: words
        self.assertNotRegex(c.question, r"\d")
        self.clock.now += 6
        self.assertIs(self.guard.verify(c.token, str(solve(c.question)),
                                        BINDING), Verdict.PASS)

    def test_every_verdict(self) -> None:
        c = self.issue()
        self.clock.now += 6
        self.assertIs(self.guard.verify(c.token, str(solve(c.question) + 1),
                                        BINDING), Verdict.WRONG)
        # Every authentic attempt spends the token, right or wrong.
        self.assertIs(self.guard.verify(c.token, str(solve(c.question)),
                                        BINDING), Verdict.REPLAYED)

        c = self.issue()
        self.clock.now += 1
        self.assertIs(self.guard.verify(c.token, str(solve(c.question)),
                                        BINDING), Verdict.TOO_FAST)

        c = self.issue()
        self.clock.now += 1201
        self.assertIs(self.guard.verify(c.token, str(solve(c.question)),
                                        BINDING), Verdict.EXPIRED)

        c = self.issue()
        self.clock.now += 6
        self.assertIs(self.guard.verify(c.token, str(solve(c.question)),
                                        "post-43|comments"), Verdict.FORGED)
        with new_guard(min_solve=0) as other:
            self.assertIs(other.verify(c.token, str(solve(c.question)),
                                       BINDING), Verdict.FORGED)

        for junk in ("", "not a token", "A" * 94, "\0", "\udc80"):
            self.assertIs(self.guard.verify(junk, "1", BINDING),
                          Verdict.MALFORMED)

    def test_nul_in_an_answer_is_not_cut_off(self) -> None:
        c = self.issue()
        self.clock.now += 6
        answer = f"{solve(c.question)}\0junk"
        self.assertIs(self.guard.verify(c.token, answer, BINDING),
                      Verdict.WRONG)

    def test_locales_and_styles(self) -> None:
        for locale in ("en", "ru", "de", "fr", "es"):
            c = self.guard.issue(locale=locale, style="digits")
            self.assertEqual(c.locale, locale)
        c = self.guard.issue(style=Style.WORDS)
        self.assertNotRegex(c.question, r"\d")
        with new_guard(locale="de", style="digits") as german:
            self.assertEqual(german.style, Style.DIGITS)
            self.assertEqual(german.issue().locale, "de")

    def test_key_rotation(self) -> None:
        old, new = new_key(), new_key()
        with Guard(keys=[(1, old, True)], min_solve=0) as before, \
                Guard(keys=[(1, old, False), (2, new, True)],
                      min_solve=0) as after:
            c = before.issue()
            self.assertIs(after.verify(c.token, str(solve_any(c)), ""),
                          Verdict.PASS)

    def test_generated_key_file(self) -> None:
        text = replyguard.generate_key_file(1234)
        self.assertRegex(text, r"(?m)^1234 sign [A-Za-z0-9_-]{43}$")
        self.assertNotEqual(text, replyguard.generate_key_file(1234))
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "site.key")
            with open(path, "w") as f:
                f.write(text)
            with Guard(key_file=path, min_solve=0) as a, \
                    Guard(min_solve=0) as b:
                b.load_keys(path)  # a second server with the same file
                c = a.issue(style="digits")
                self.assertIs(b.verify(c.token, str(solve(c.question))),
                              Verdict.PASS)

    def test_failing_clock_fails_closed(self) -> None:
        failing = False

        def clock() -> int:
            if failing:
                raise RuntimeError("no time")
            return T0

        err = io.StringIO()
        with new_guard(clock=clock, min_solve=0) as guard:
            c = guard.issue(style="digits")
            failing = True
            with contextlib.redirect_stderr(err):
                verdict = guard.verify(c.token, str(solve(c.question)))
        self.assertIs(verdict, Verdict.EXPIRED)
        self.assertIn("RuntimeError: no time", err.getvalue())

    def test_store_sqlite_replay_survives_a_restart(self) -> None:
        with tempfile.TemporaryDirectory() as tmp:
            url = "sqlite:" + os.path.join(tmp, "replay.sqlite")
            key = new_key()
            try:
                first = Guard(keys=[(1, key, True)], store=url, min_solve=0)
            except replyguard.NotSupported:
                self.skipTest("this build has no SQLite")
            with first:
                c = first.issue(style="digits")
                self.assertIs(first.verify(c.token, str(solve(c.question))),
                              Verdict.PASS)
            with Guard(keys=[(1, key, True)], store=url,
                       min_solve=0) as second:
                self.assertIs(second.verify(c.token, str(solve(c.question))),
                              Verdict.REPLAYED)


def solve_any(c: Challenge) -> int:
    return solve(c.question)


# ---- The form. -------------------------------------------------------------


class FormTest(unittest.TestCase):
    def setUp(self) -> None:
        self.guard = new_guard()
        self.addCleanup(self.guard.close)
        self.challenge = self.guard.issue(BINDING)

    def test_html(self) -> None:
        fragment = self.challenge.html()
        c = self.challenge
        self.assertIn('<div class="rg-challenge" lang="en">', fragment)
        self.assertIn(f'<label for="rg_answer">{html.escape(c.question)}'
                      "</label>", fragment)
        self.assertIn(f'name="rg_token" value="{c.token}"', fragment)
        self.assertIn('name="rg_note"', fragment)
        self.assertNotIn("<script", fragment)
        self.assertNotIn("style=", fragment)

    def test_html_field_names(self) -> None:
        fragment = self.challenge.html(answer_field="sum",
                                       token_field="ticket",
                                       honeypot_field="fax")
        for name in ("sum", "ticket", "fax"):
            self.assertIn(f'name="{name}"', fragment)
        self.assertNotIn("rg_answer", fragment)

    def test_json(self) -> None:
        data = json.loads(self.challenge.json(honeypot_field="fax"))
        c = self.challenge
        self.assertEqual(data["question"], c.question)
        self.assertEqual(data["spoken"], c.spoken)
        self.assertEqual(data["token"], c.token)
        self.assertEqual(data["locale"], c.locale)
        self.assertEqual(data["expires_at"], c.expires_at)
        self.assertEqual(data["fields"], {"answer": "rg_answer",
                                          "token": "rg_token",
                                          "honeypot": "fax"})

    def test_escapes_a_made_up_challenge(self) -> None:
        made_up = Challenge(question="<script>alert(1)</script> & \"'",
                            token="x\"><b>", spoken="s", locale="en",
                            issued_at=0, expires_at=0)
        fragment = made_up.html()
        self.assertNotIn("<script>", fragment)
        self.assertNotIn("<b>", fragment)
        self.assertIn("&lt;script&gt;", fragment)
        self.assertEqual(json.loads(made_up.json())["question"],
                         made_up.question)

    def test_too_long_for_the_c_struct(self) -> None:
        long = Challenge(question="q" * 256, token="t", spoken="s",
                         locale="en", issued_at=0, expires_at=0)
        with self.assertRaises(replyguard.InvalidArgument):
            long.html()


# ---- The content filter. --------------------------------------------------

SPAM = [
    "Cheap pills online, buy viagra now at http://pills.example.com",
    "Best casino bonus, win money fast http://casino.example.net",
    "Buy cheap replica watches, discount http://watches.example.org",
    "Earn money from home, click here http://money.example.com",
    "Cheap viagra and cialis, no prescription http://pharma.example.com",
    "Casino jackpot bonus, free spins today http://spins.example.net",
    "Discount pills, buy now, cheap prices http://pills.example.com",
    "Make money fast with this casino trick http://casino.example.net",
]
HAM = [
    "Thanks for the walk report, the beech wood sounds lovely.",
    "We went along the river last spring and the mill was flooded too.",
    "Lovely photographs; which path did you take back to the village?",
    "I agree about the rain, the footpath by the church was muddy.",
    "Great article, I learned a lot about the history of the mill.",
    "The bridge near the weir was closed when we visited in May.",
    "Thank you for writing this, it reminded me of my grandfather.",
    "Is the tea room at the lock still open on Sundays?",
]


def trained_bayes(url: str = "memory:") -> Bayes:
    bayes = Bayes(url)
    for text in SPAM:
        bayes.learn(text, spam=True)
    for text in HAM:
        bayes.learn(text, spam=False)
    return bayes


class BayesTest(unittest.TestCase):
    def test_empty_model_is_unsure(self) -> None:
        with Bayes() as bayes:
            result = bayes.classify("anything at all")
            self.assertEqual(result.spamicity, 0.5)
            self.assertIs(result.verdict, BayesVerdict.UNSURE)

    def test_learn_classify(self) -> None:
        with trained_bayes() as bayes:
            self.assertEqual(
                (bayes.stats().spam_comments, bayes.stats().ham_comments),
                (len(SPAM), len(HAM)))
            spam = bayes.classify("Buy cheap pills and casino bonus now "
                                  "http://pills.example.com", clues=5)
            self.assertIs(spam.verdict, BayesVerdict.SPAM)
            self.assertGreaterEqual(spam.spamicity, 0.9)
            self.assertTrue(1 <= len(spam.clues) <= 5)
            self.assertTrue(all(0 <= c.probability <= 1 for c in spam.clues))
            ham = bayes.classify("We walked along the river to the mill "
                                 "and the beech wood, thank you")
            self.assertIs(ham.verdict, BayesVerdict.HAM)
            self.assertEqual(ham.clues, [])

    def test_comment_forms(self) -> None:
        with Bayes() as bayes:
            bayes.learn(Comment(body="cheap pills", author="Pill Seller",
                                url="http://pills.example.com"))
            bayes.learn({"body": "cheap pills", "email": "a@example.com"})
            self.assertEqual(bayes.stats().spam_comments, 2)
            with self.assertRaises(TypeError):
                bayes.learn({"text": "misspelt field"})
            with self.assertRaises(TypeError):
                bayes.learn(42)  # type: ignore[arg-type]

    def test_unlearn_restores(self) -> None:
        with trained_bayes() as bayes:
            before = bayes.stats()
            bayes.learn("a brand new comment about otters", spam=False)
            self.assertEqual(bayes.stats().ham_comments,
                             before.ham_comments + 1)
            bayes.unlearn("a brand new comment about otters", spam=False)
            self.assertEqual(bayes.stats(), before)
            with self.assertRaises(replyguard.NotLearned):
                bayes.unlearn("a brand new comment about otters", spam=False)
            self.assertEqual(bayes.stats(), before)

    def test_sqlite_model_is_shared(self) -> None:
        with tempfile.TemporaryDirectory() as tmp:
            url = "sqlite:" + os.path.join(tmp, "model.sqlite")
            try:
                bayes = trained_bayes(url)
            except replyguard.NotSupported:
                self.skipTest("this build has no SQLite")
            with bayes:
                bayes.optimize()
            with Bayes(url) as again:
                again.preload()
                self.assertEqual(again.stats().spam_comments, len(SPAM))


# ---- The rate limiter. ----------------------------------------------------


class LimiterTest(unittest.TestCase):
    def setUp(self) -> None:
        self.clock = Clock(now=10**18)  # nanoseconds
        self.limiter = Limiter(rate=1.0, burst=2, clock_ns=self.clock)
        self.addCleanup(self.limiter.close)

    def test_burst_then_rate(self) -> None:
        results = [self.limiter.take("k") for _ in range(4)]
        self.assertEqual([r.allowed for r in results],
                         [True, True, True, False])
        self.assertEqual([r.remaining for r in results], [2, 1, 0, 0])
        self.assertEqual(results[0].limit, 3)
        self.assertEqual(results[3].retry_after_ms, 1000)
        self.assertEqual(results[3].reset_after_ms, 3000)
        self.clock.now += 10**9  # one second: one more fits
        self.assertTrue(self.limiter.take("k").allowed)
        self.assertFalse(self.limiter.take("k").allowed)

    def test_cost(self) -> None:
        peek = self.limiter.take("k", cost=0)
        self.assertEqual((peek.allowed, peek.remaining), (True, 3))
        self.assertEqual(self.limiter.take("k", cost=0).remaining, 3)
        self.assertTrue(self.limiter.take("k", cost=3).allowed)
        refused = self.limiter.take("k", cost=1)
        self.assertFalse(refused.allowed)
        never = self.limiter.take("other", cost=4)
        self.assertFalse(never.allowed)
        self.assertEqual(never.retry_after_ms, replyguard.RETRY_NEVER)

    def test_keys(self) -> None:
        self.assertTrue(self.limiter.take("clé", cost=3).allowed)
        self.assertFalse(self.limiter.take("clé".encode()).allowed)
        self.assertTrue(self.limiter.take(b"\0binary\0").allowed)
        self.assertTrue(self.limiter.take(bytearray(b"\0binary")).allowed)
        self.assertTrue(self.limiter.take(b"").allowed)
        with self.assertRaises(TypeError):
            self.limiter.take(42)  # type: ignore[arg-type]

    def test_client_key(self) -> None:
        ck = replyguard.client_key
        self.assertEqual(ck("203.0.113.7"), bytes([4, 32, 203, 0, 113, 7]))
        v6 = ck("2001:db8:1:2:3:4:5:6")
        self.assertEqual(v6,
                         bytes([6, 64]) + bytes.fromhex("20010db800010002"))
        self.assertEqual(v6, ck("2001:db8:1:2::99"))
        self.assertNotEqual(ck("2001:db8:1:2::1", 128),
                            ck("2001:db8:1:2::2", 128))
        self.assertEqual(ck("2001:db8:1:2::1", 48), ck("2001:db8:1:3::1", 48))
        self.assertEqual(ck("::ffff:203.0.113.7"), ck("203.0.113.7"))
        with self.assertRaises(replyguard.InvalidArgument):
            ck("2001:db8::1", 129)
        self.assertTrue(self.limiter.take(ck("203.0.113.7")).allowed)

    def test_attributes(self) -> None:
        self.assertEqual((self.limiter.rate, self.limiter.burst), (1.0, 2))


# ---- The judge. ------------------------------------------------------------


class JudgeTest(unittest.TestCase):
    def setUp(self) -> None:
        self.clock = Clock()
        self.guard = new_guard(clock=self.clock, min_solve=5)
        self.addCleanup(self.guard.close)

    def fill(self, right: bool = True, **fields: Any) -> Submission:
        """A submission answering a fresh challenge, 10 s later."""
        c = self.guard.issue(BINDING, style="digits")
        self.clock.now += 10
        answer = solve(c.question) + (0 if right else 1)
        values: Dict[str, Any] = dict(
            body="Thank you, we walked there last spring.",
            author="Ann", email="ann@example.org", url="",
            token=c.token, answer=str(answer), honeypot="",
            client="203.0.113.7", binding=BINDING)
        values.update(fields)
        return Submission(**values)

    def test_accept(self) -> None:
        d = self.guard.judge(self.fill())
        self.assertIsInstance(d, Decision)
        self.assertIs(d.action, Action.ACCEPT)
        self.assertEqual(d.reasons, [])
        self.assertTrue(d.verified)
        self.assertIs(d.verdict, Verdict.PASS)
        self.assertIsNone(d.spamicity)
        self.assertEqual((d.retry_after_ms, d.min_solve_s), (0, 5))

    def test_a_mapping_is_a_submission(self) -> None:
        s = self.fill()
        d = self.guard.judge(vars(s))
        self.assertIs(d.action, Action.ACCEPT)
        with self.assertRaises(TypeError):
            self.guard.judge({"body": "x", "anser": "4"})

    def test_reject_with_reasons(self) -> None:
        d = self.guard.judge(self.fill(right=False))
        self.assertIs(d.action, Action.REJECT)
        self.assertEqual(d.reasons, ["captcha_wrong"])
        self.assertIs(d.verdict, Verdict.WRONG)

        s = self.fill()
        d = self.guard.judge(Submission(**{**vars(s), "honeypot": "Buy"}))
        self.assertIs(d.action, Action.REJECT)
        self.assertEqual(d.reasons, ["honeypot"])
        # No guess for a bot: the challenge was not verified, or spent.
        self.assertFalse(d.verified)
        self.assertIsNone(d.verdict)
        self.assertIs(self.guard.verify(s.token or "", s.answer or "",
                                        BINDING),
                      Verdict.PASS)

        d = self.guard.judge({"body": "no token at all",
                              "binding": BINDING})
        self.assertEqual(d.reasons, ["captcha_malformed"])

    def test_policy_changes_the_action(self) -> None:
        policy = Policy(on_captcha_wrong=Action.MODERATE)
        d = self.guard.judge(self.fill(right=False), policy)
        self.assertIs(d.action, Action.MODERATE)
        self.assertEqual(d.reasons, ["captcha_wrong"])

    def test_default_policy_is_the_library_s(self) -> None:
        p = Policy()
        self.assertIs(p.on_honeypot, Action.REJECT)
        self.assertIs(p.on_unsure, Action.MODERATE)
        self.assertIs(p.on_store_unavailable, Action.MODERATE)
        self.assertEqual((p.failure_cost, p.escalation_step_s,
                          p.escalation_cap_s), (3, 10, 300))
        self.assertIs(p.limit_by, replyguard.LimitBy.CLIENT)

    def test_rate_limited(self) -> None:
        ns = Clock(now=10**18)
        with Limiter(rate=1 / 60, burst=0, clock_ns=ns) as limiter:
            policy = Policy(limiter=limiter)
            self.assertIs(self.guard.judge(self.fill(), policy).action,
                          Action.ACCEPT)
            s = self.fill()
            d = self.guard.judge(s, policy)
            self.assertIs(d.action, Action.REJECT)
            self.assertEqual(d.reasons, ["rate_limited"])
            self.assertEqual(d.retry_after_ms, 60000)
            self.assertFalse(d.verified)
            # Another client is not limited by this one.
            other = Submission(**{**vars(self.fill()),
                                  "client": "198.51.100.1"})
            self.assertIs(self.guard.judge(other, policy).action,
                          Action.ACCEPT)
            with self.assertRaises(replyguard.AddressError):
                self.guard.judge(self.fill(client="not an address"), policy)

    def test_escalation(self) -> None:
        with Limiter(rate=1 / 600, burst=9,
                     clock_ns=Clock(now=10**18)) as failures:
            policy = Policy(failures=failures)
            self.assertEqual(self.guard.judge(self.fill(right=False),
                                              policy).min_solve_s, 5)
            d = self.guard.judge(self.fill(), policy)  # 10 s: too fast now
            self.assertEqual(d.min_solve_s, 15)
            self.assertEqual(d.reasons, ["captcha_too_fast"])

    def test_content_filter(self) -> None:
        with trained_bayes() as bayes:
            policy = Policy(bayes=bayes)
            d = self.guard.judge(self.fill(
                body="Cheap pills, casino bonus, buy viagra now "
                     "http://pills.example.com"), policy)
            self.assertIs(d.action, Action.REJECT)
            self.assertEqual(d.reasons, ["spam"])
            self.assertGreaterEqual(d.spamicity or 0, 0.9)
            d = self.guard.judge(self.fill(
                body="We walked along the river to the mill, thank you"),
                policy)
            self.assertIs(d.action, Action.ACCEPT)
            self.assertLess(d.spamicity or 1, 0.2)
        with Bayes() as empty:
            d = self.guard.judge(self.fill(), Policy(bayes=empty))
            self.assertIs(d.action, Action.MODERATE)
            self.assertEqual(d.reasons, ["unsure"])
            self.assertEqual(d.spamicity, 0.5)

    def test_closed_handle_in_a_policy(self) -> None:
        limiter = Limiter()
        limiter.close()
        with self.assertRaises(replyguard.ClosedError):
            self.guard.judge(self.fill(), Policy(limiter=limiter))


# ---- Threads. --------------------------------------------------------------


class ThreadTest(unittest.TestCase):
    THREADS = 8

    def run_threads(self, work: Any) -> List[Any]:
        results: List[Any] = [None] * self.THREADS
        errors: List[BaseException] = []

        def run(i: int) -> None:
            try:
                results[i] = work(i)
            except BaseException as exc:  # reported by the main thread
                errors.append(exc)

        threads = [threading.Thread(target=run, args=(i,))
                   for i in range(self.THREADS)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        if errors:
            raise errors[0]
        return results

    def test_one_guard_many_threads(self) -> None:
        # With a Python clock too: C calls back into Python from threads.
        with new_guard(min_solve=0, clock=Clock()) as guard:
            def work(i: int) -> List[Verdict]:
                verdicts = []
                for n in range(50):
                    c = guard.issue(f"t{i}", style="digits")
                    verdicts.append(guard.verify(c.token,
                                                 str(solve(c.question)),
                                                 f"t{i}"))
                    verdicts.append(guard.verify(c.token, "0", f"t{i}"))
                return verdicts

            for verdicts in self.run_threads(work):
                self.assertEqual(verdicts[0::2], [Verdict.PASS] * 50)
                self.assertEqual(verdicts[1::2], [Verdict.REPLAYED] * 50)

    def test_one_token_many_threads(self) -> None:
        # One token, eight threads racing to answer: exactly one passes.
        with new_guard(min_solve=0) as guard:
            c = guard.issue(style="digits")
            answer = str(solve(c.question))
            verdicts = self.run_threads(
                lambda i: guard.verify(c.token, answer))
            self.assertEqual(verdicts.count(Verdict.PASS), 1)
            self.assertEqual(verdicts.count(Verdict.REPLAYED),
                             self.THREADS - 1)

    def test_one_limiter_many_threads(self) -> None:
        clock = Clock(now=10**18)  # still: nothing refills
        with Limiter(rate=1 / 60, burst=99, clock_ns=clock) as limiter:
            allowed = self.run_threads(
                lambda i: sum(limiter.take("shared").allowed
                              for _ in range(20)))
            self.assertEqual(sum(allowed), 100)


# ---- Handles. --------------------------------------------------------------


class HandleTest(unittest.TestCase):
    def test_context_managers_close(self) -> None:
        makers: List[Callable[[], Union[Guard, Bayes, Limiter]]] = [
            new_guard, Bayes, Limiter]
        for make in makers:
            with self.subTest(repr(make)):
                with make() as handle:
                    self.assertFalse(handle.closed)
                    self.assertIn("open", repr(handle))
                self.assertTrue(handle.closed)
                self.assertIn("closed", repr(handle))
                handle.close()  # twice is harmless
                with self.assertRaises(replyguard.ClosedError):
                    with handle:
                        pass

    def test_every_method_refuses_a_closed_handle(self) -> None:
        guard, bayes, limiter = new_guard(), Bayes(), Limiter()
        for h in (guard, bayes, limiter):
            h.close()
        calls: List[Callable[[], object]] = [
            lambda: guard.issue(), lambda: guard.verify("t", "1"),
            lambda: guard.add_key(9, new_key()),
            lambda: guard.load_keys("/dev/null"),
            lambda: guard.judge({}),
            lambda: bayes.learn("x"), lambda: bayes.unlearn("x"),
            lambda: bayes.classify("x"), lambda: bayes.stats(),
            lambda: bayes.optimize(), lambda: bayes.preload(),
            lambda: limiter.take("x"),
        ]
        for call in calls:
            with self.assertRaises(replyguard.ClosedError):
                call()

    def test_forgotten_handles_are_freed(self) -> None:
        clock = Clock()
        guard = new_guard(clock=clock)
        finalizer = guard._finalizer
        assert finalizer is not None
        self.assertTrue(finalizer.alive)
        del guard
        gc.collect()
        self.assertFalse(finalizer.alive)

    def test_clock_outlives_the_caller_s_references(self) -> None:
        # The guard keeps its clock callback alive by itself.
        guard = new_guard(clock=Clock(T0 + 7), min_solve=0)
        gc.collect()
        self.assertEqual(guard.issue().issued_at, T0 + 7)
        guard.close()


# ---- The examples. ---------------------------------------------------------


def _load_example(name: str) -> Any:
    """An example program as a module, imported once."""
    module_name = "example_" + name
    if module_name in sys.modules:
        return sys.modules[module_name]
    path = os.path.join(EXAMPLES, name + ".py")
    spec = importlib.util.spec_from_file_location(module_name, path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


@unittest.skipUnless(os.path.isdir(EXAMPLES), "examples not found")
class ExamplesTest(unittest.TestCase):
    def test_quickstart_passes_with_the_right_answer(self) -> None:
        proc = subprocess.Popen(
            [sys.executable, os.path.join(EXAMPLES, "quickstart.py")],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        try:
            assert proc.stdin and proc.stdout
            question = proc.stdout.readline()
            proc.stdin.write(f"{solve(question)}\n")
            proc.stdin.flush()
            verdict = proc.stdout.readline().strip()
        finally:
            proc.communicate(timeout=60)
        self.assertEqual(verdict, "pass")
        self.assertEqual(proc.returncode, 0)

    def test_quickstart_wrong_answer(self) -> None:
        proc = subprocess.run(
            [sys.executable, os.path.join(EXAMPLES, "quickstart.py"),
             "not a number"], capture_output=True, text=True, timeout=60)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertEqual(proc.stdout.splitlines()[-1], "wrong")


@unittest.skipUnless(os.path.isdir(EXAMPLES), "examples not found")
class CommentFormTest(unittest.TestCase):
    def setUp(self) -> None:
        self.module = _load_example("comment_form")
        self.clock = Clock()
        self.guard = new_guard(clock=self.clock, style="digits")
        self.limiter = Limiter(rate=1 / 60, burst=2,
                               clock_ns=Clock(now=10**18))
        self.addCleanup(self.guard.close)
        self.addCleanup(self.limiter.close)
        self.app = self.module.CommentApp(self.guard,
                                          Policy(limiter=self.limiter))

    def request(self, method: str, path: str = "/", body: str = "",
                query: str = "",
                ctype: str = "application/x-www-form-urlencoded",
                ) -> Tuple[str, Dict[str, str], str]:
        environ: Dict[str, Any] = {}
        setup_testing_defaults(environ)
        data = body.encode("utf-8")
        environ.update(REQUEST_METHOD=method, PATH_INFO=path,
                       QUERY_STRING=query, CONTENT_TYPE=ctype,
                       CONTENT_LENGTH=str(len(data)),
                       REMOTE_ADDR="203.0.113.7")
        environ["wsgi.input"] = io.BytesIO(data)
        got: Dict[str, Any] = {}

        def start_response(status: str, headers: List[Tuple[str, str]]
                           ) -> None:
            got["status"], got["headers"] = status, dict(headers)

        page = b"".join(self.app(environ, start_response)).decode("utf-8")
        return got["status"], got["headers"], page

    def form_fields(self, page: str) -> Tuple[str, str]:
        """The question and the token of the form on a page."""
        question = re.search(r'<label for="rg_answer">(.*?)</label>', page)
        token = re.search(r'name="rg_token" value="([^"]*)"', page)
        assert question and token
        return html.unescape(question.group(1)), token.group(1)

    def post(self, right: bool = True, **fields: str
             ) -> Tuple[str, Dict[str, str], str]:
        from urllib.parse import urlencode
        _, _, page = self.request("GET")
        question, token = self.form_fields(page)
        self.clock.now += 10
        values = {"author": "Ann", "email": "ann@example.org", "url": "",
                  "comment": "Lovely walk.", "rg_token": token,
                  "rg_answer": str(solve(question) + (0 if right else 1)),
                  "rg_note": ""}
        values.update(fields)
        return self.request("POST", body=urlencode(values))

    def test_get_shows_the_form(self) -> None:
        status, headers, page = self.request("GET")
        self.assertEqual(status, "200 OK")
        self.assertIn('<div class="rg-challenge"', page)
        for name in ("author", "email", "url", "comment", "rg_answer",
                     "rg_token", "rg_note"):
            self.assertIn(f'name="{name}"', page)
        self.assertEqual(headers["Cache-Control"], "no-store")
        self.assertIn("default-src 'none'",
                      headers["Content-Security-Policy"])

    def test_accepted_comment_is_published_escaped(self) -> None:
        status, headers, _ = self.post(
            author="<script>alert(1)</script>",
            url="javascript:alert(1)",
            comment="Nice <b>walk</b> & \"river\"")
        self.assertEqual(status, "303 See Other")
        self.assertTrue(headers["Location"].startswith("/?posted=published"))
        _, _, page = self.request("GET", query="posted=published")
        self.assertIn("is published", page)
        self.assertIn("&lt;script&gt;alert(1)&lt;/script&gt;", page)
        self.assertIn("Nice &lt;b&gt;walk&lt;/b&gt; &amp; &quot;river&quot;",
                      page)
        self.assertNotIn("<script>", page)
        self.assertNotIn("javascript:", page)

    def test_rejected_comment_keeps_the_text(self) -> None:
        status, _, page = self.post(right=False, author="Bob \"B\"",
                                    comment="My <long> comment")
        self.assertEqual(status, "400 Bad Request")
        self.assertIn("not right", page)
        self.assertIn('value="Bob &quot;B&quot;"', page)
        self.assertIn(">My &lt;long&gt; comment</textarea>", page)
        self.assertIn("0 comments", page)

    def test_rate_limited(self) -> None:
        for _ in range(3):
            self.assertEqual(self.post()[0], "303 See Other")
        status, headers, page = self.post()
        self.assertEqual(status, "429 Too Many Requests")
        self.assertEqual(headers["Retry-After"], "60")
        self.assertIn("too often", page)

    def test_get_never_changes_state(self) -> None:
        from urllib.parse import urlencode
        _, _, page = self.request("GET")
        question, token = self.form_fields(page)
        self.clock.now += 10
        query = urlencode({"author": "Ann", "comment": "via GET",
                           "rg_token": token,
                           "rg_answer": str(solve(question))})
        status, _, page = self.request("GET", query=query)
        self.assertEqual(status, "200 OK")
        self.assertIn("0 comments", page)
        self.assertIs(self.guard.verify(token, str(solve(question)),
                                        self.module.BINDING), Verdict.PASS)

    def test_other_requests(self) -> None:
        self.assertEqual(self.request("PUT")[0], "405 Method Not Allowed")
        self.assertEqual(self.request("DELETE")[1]["Allow"],
                         "GET, HEAD, POST")
        self.assertEqual(self.request("GET", path="/admin")[0],
                         "404 Not Found")
        self.assertEqual(self.request("POST", body="{}",
                                      ctype="application/json")[0],
                         "415 Unsupported Media Type")
        self.assertEqual(self.request("GET", path="/style.css")[0],
                         "200 OK")
        status, _, page = self.request("POST", body="author=Ann&comment=")
        self.assertEqual(status, "400 Bad Request")
        self.assertIn("Please write a comment", page)


if __name__ == "__main__":
    unittest.main()
