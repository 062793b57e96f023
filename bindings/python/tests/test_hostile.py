"""Hostile input to every public class and function of the binding.

One table: each row calls one function or method with what a stranger,
or a careless caller, can hand it (None, an int for a str, bytes for a
str, a float, a huge or negative int, an arbitrary object, a NUL in a
string, lone surrogates) and names what must come of it: TypeError for
a wrong type, the binding's own exceptions (InvalidArgument is a
ValueError) for a value the library refuses, or, for the visitor's text,
an answer and no exception at all. Never a crash, never a
ctypes.ArgumentError, never a MemoryError for a number too large.

A second table checks that calls refused that way leave the model, the
rate limits and the spent tokens as they were. A last test fails when a
public name of the package has no row.

Run with the other tests: `meson test --suite bindings`, or
`python3 -m unittest discover -s bindings/python/tests`.
"""

from __future__ import annotations

import ctypes
import os
import tempfile
import unittest
from typing import Any, Callable, List, NamedTuple, Union

import replyguard
from replyguard import (
    Action,
    Bayes,
    BayesVerdict,
    Challenge,
    Comment,
    Form,
    Guard,
    Limiter,
    LimitBy,
    Operator,
    Policy,
    Style,
    Submission,
    Verdict,
)
from replyguard.errors import (
    AddressError,
    BadKey,
    BadKeyFile,
    BadStoreURL,
    ClosedError,
    InvalidArgument,
    NotLearned,
    RangeError,
    ReplyGuardError,
    UnknownLocale,
)

KEY = bytes(range(32))
OTHER_KEY = bytes(range(32, 64))
T0 = 1_700_000_000
MIB = "a" * (1 << 20)

# Strings that are not valid text: a NUL, lone surrogates (which strict
# UTF-8 refuses), and a mix.
HOSTILE_TEXT = [
    "a\0b",
    "\0",
    "\ud800",
    "\udcff\udcfe",
    "x\udfffy\0z",
    "\ufeff\u202e\u200b",
    MIB,
]


class Returns(NamedTuple):
    """A row that must not raise: `check` gets what the call returned."""

    check: Callable[[Any], bool]
    what: str


def returns(what: str, check: Callable[[Any], bool]) -> Returns:
    return Returns(check, what)


def verdict_is(v: Verdict) -> Returns:
    return returns(f"Verdict.{v.name}", lambda got: got is v)


class Row(NamedTuple):
    target: str  # "Guard", "Guard.issue", "client_key", ...
    what: str  # the bad argument
    call: Callable[["Fixture"], Any]
    want: Union[type, Returns]


class Fixture:
    """What the rows call: a guard with a key and a fixed clock, a filter
    with comments learned, a limiter with one take, and scratch files."""

    def __init__(self) -> None:
        self.tmp = tempfile.TemporaryDirectory()
        self.now = T0
        self.guard = Guard(keys=[(1, KEY, True)], min_solve=0,
                           style="digits", clock=lambda: self.now)
        self.bayes = Bayes()
        self.bayes.learn("cheap pills at http://pills.example.com", spam=True)
        self.bayes.learn("a lovely article about gardens", spam=False)
        self.limiter = Limiter(rate=1, burst=2, capacity=16,
                               clock_ns=lambda: self.now)
        self.limiter.take("client-a")
        self.challenge = self.guard.issue(binding="post-1")
        self.garbage = self.path("garbage")
        with open(self.garbage, "wb") as f:
            f.write(bytes((i * 131 + 7) % 256 for i in range(4096)))
        self.clashing = self.path("clashing.key")
        with open(self.clashing, "w") as f:
            f.write(f"2 verify {b64(OTHER_KEY)}\n1 sign {b64(KEY)}\n")

    def path(self, name: str) -> str:
        return os.path.join(self.tmp.name, name)

    def closed(self, kind: str) -> Any:
        handle = {"guard": lambda: Guard(keys=[(1, KEY, True)]),
                  "bayes": Bayes, "limiter": Limiter}[kind]()
        handle.close()
        return handle

    def close(self) -> None:
        for h in (self.guard, self.bayes, self.limiter):
            h.close()
        self.tmp.cleanup()


def b64(key: bytes) -> str:
    import base64

    return base64.urlsafe_b64encode(key).decode().rstrip("=")


def challenge(**fields: Any) -> Challenge:
    base = dict(question="1 + 1 =", token="t", spoken="one plus one",
                locale="en", issued_at=T0, expires_at=T0 + 1200)
    base.update(fields)
    return Challenge(**base)


def rows_for_hostile_text(target: str, call: Callable[[Fixture, str], Any],
                          want: Union[type, Returns]) -> List[Row]:
    return [Row(target, f"text {text[:12]!r}", lambda f, t=text: call(f, t),
                want) for text in HOSTILE_TEXT]


ROWS: List[Row] = [
    # ---- Guard() ----
    Row("Guard", "store an int", lambda f: Guard(store=5), TypeError),
    Row("Guard", "store bytes", lambda f: Guard(store=b"memory:"), TypeError),
    Row("Guard", "store an object", lambda f: Guard(store=object()),
        TypeError),
    Row("Guard", "store with a NUL", lambda f: Guard(store="memory:\0x"),
        InvalidArgument),
    Row("Guard", "store malformed", lambda f: Guard(store="bogus:"),
        BadStoreURL),
    Row("Guard", "store with a surrogate",
        lambda f: Guard(store="memory:\udcff"), BadStoreURL),
    Row("Guard", "store empty", lambda f: Guard(store=""), InvalidArgument),
    Row("Guard", "locale an int", lambda f: Guard(locale=5), TypeError),
    Row("Guard", "locale unknown", lambda f: Guard(locale="xx"),
        UnknownLocale),
    Row("Guard", "locale a surrogate", lambda f: Guard(locale="\udcff"),
        UnknownLocale),
    Row("Guard", "locale with a NUL", lambda f: Guard(locale="en\0"),
        InvalidArgument),
    Row("Guard", "min_solve a float", lambda f: Guard(min_solve=1.5),
        TypeError),
    Row("Guard", "min_solve a bool", lambda f: Guard(min_solve=True),
        TypeError),
    Row("Guard", "min_solve a str", lambda f: Guard(min_solve="5"),
        TypeError),
    Row("Guard", "min_solve None", lambda f: Guard(min_solve=None),
        TypeError),
    Row("Guard", "min_solve negative", lambda f: Guard(min_solve=-1),
        InvalidArgument),
    Row("Guard", "min_solve 2**100", lambda f: Guard(min_solve=2**100),
        InvalidArgument),
    Row("Guard", "min_solve not below ttl",
        lambda f: Guard(min_solve=10, ttl=10), InvalidArgument),
    Row("Guard", "ttl 0", lambda f: Guard(ttl=0, min_solve=0),
        InvalidArgument),
    Row("Guard", "ttl 2**32", lambda f: Guard(ttl=2**32), InvalidArgument),
    Row("Guard", "style unknown", lambda f: Guard(style="bold"), ValueError),
    Row("Guard", "style an int", lambda f: Guard(style=5), ValueError),
    Row("Guard", "clock not callable", lambda f: Guard(clock=5), TypeError),
    Row("Guard", "clock_skew negative", lambda f: Guard(clock_skew=-1),
        InvalidArgument),
    Row("Guard", "clock_skew a float", lambda f: Guard(clock_skew=1.5),
        TypeError),
    Row("Guard", "operand_max 1000", lambda f: Guard(operand_max=1000),
        RangeError),
    Row("Guard", "operators a float", lambda f: Guard(operators=1.5),
        TypeError),
    Row("Guard", "operators a str", lambda f: Guard(operators="7"),
        TypeError),
    Row("Guard", "operators none", lambda f: Guard(operators=0), RangeError),
    Row("Guard", "operators an unknown bit", lambda f: Guard(operators=8),
        RangeError),
    Row("Guard", "forms an unknown bit", lambda f: Guard(forms=8),
        RangeError),
    Row("Guard", "forms negative", lambda f: Guard(forms=-1),
        InvalidArgument),
    Row("Guard", "key_file an int", lambda f: Guard(key_file=5), TypeError),
    Row("Guard", "key_file with a NUL",
        lambda f: Guard(key_file=f.garbage + "\0x"), InvalidArgument),
    Row("Guard", "key_file missing",
        lambda f: Guard(key_file=f.path("none")), BadKeyFile),
    Row("Guard", "key_file a directory",
        lambda f: Guard(key_file=f.tmp.name), BadKeyFile),
    Row("Guard", "key_file garbage", lambda f: Guard(key_file=f.garbage),
        BadKeyFile),
    Row("Guard", "keys not iterable", lambda f: Guard(keys=5), TypeError),
    Row("Guard", "keys of pairs", lambda f: Guard(keys=[(1, KEY)]),
        TypeError),
    Row("Guard", "keys of ints", lambda f: Guard(keys=[5]), TypeError),
    Row("Guard", "a key of 31 bytes",
        lambda f: Guard(keys=[(1, KEY[:31], True)]), BadKey),
    Row("Guard", "a key id twice",
        lambda f: Guard(keys=[(1, KEY, True), (1, OTHER_KEY, False)]),
        BadKey),

    # ---- Guard.add_key ----
    Row("Guard.add_key", "key_id a float",
        lambda f: f.guard.add_key(1.5, OTHER_KEY), TypeError),
    Row("Guard.add_key", "key_id a str",
        lambda f: f.guard.add_key("2", OTHER_KEY), TypeError),
    Row("Guard.add_key", "key_id negative",
        lambda f: f.guard.add_key(-1, OTHER_KEY), InvalidArgument),
    Row("Guard.add_key", "key_id 2**32",
        lambda f: f.guard.add_key(2**32, OTHER_KEY), InvalidArgument),
    Row("Guard.add_key", "key an int (not 32 zero bytes)",
        lambda f: f.guard.add_key(2, 32), TypeError),
    Row("Guard.add_key", "key a str", lambda f: f.guard.add_key(2, "x" * 32),
        TypeError),
    Row("Guard.add_key", "key None", lambda f: f.guard.add_key(2, None),
        TypeError),
    Row("Guard.add_key", "key of 33 bytes",
        lambda f: f.guard.add_key(2, KEY + b"x"), BadKey),
    Row("Guard.add_key", "key id already added",
        lambda f: f.guard.add_key(1, OTHER_KEY), BadKey),
    Row("Guard.add_key", "sign a str",
        lambda f: f.guard.add_key(2, OTHER_KEY, sign="no"), TypeError),
    Row("Guard.add_key", "a closed guard",
        lambda f: f.closed("guard").add_key(2, OTHER_KEY), ClosedError),

    # ---- Guard.load_keys ----
    Row("Guard.load_keys", "None", lambda f: f.guard.load_keys(None),
        TypeError),
    Row("Guard.load_keys", "an int", lambda f: f.guard.load_keys(5),
        TypeError),
    Row("Guard.load_keys", "a path with a NUL",
        lambda f: f.guard.load_keys(f.clashing + "\0"), InvalidArgument),
    Row("Guard.load_keys", "a path with a surrogate",
        lambda f: f.guard.load_keys(f.path("\udcff")), BadKeyFile),
    Row("Guard.load_keys", "garbage",
        lambda f: f.guard.load_keys(f.garbage), BadKeyFile),
    Row("Guard.load_keys", "a key id the guard has",
        lambda f: f.guard.load_keys(f.clashing), BadKey),

    # ---- Guard.issue ----
    Row("Guard.issue", "binding an int", lambda f: f.guard.issue(binding=5),
        TypeError),
    Row("Guard.issue", "binding bytes",
        lambda f: f.guard.issue(binding=b"post-1"), TypeError),
    Row("Guard.issue", "binding None: \"\"",
        lambda f: f.guard.issue(binding=None),
        returns("a Challenge", lambda c: isinstance(c, Challenge))),
    Row("Guard.issue", "locale an int", lambda f: f.guard.issue(locale=5),
        TypeError),
    Row("Guard.issue", "locale unknown", lambda f: f.guard.issue(locale="EN"),
        UnknownLocale),
    Row("Guard.issue", "locale with a NUL",
        lambda f: f.guard.issue(locale="en\0"), InvalidArgument),
    Row("Guard.issue", "locale a surrogate",
        lambda f: f.guard.issue(locale="\ud800"), UnknownLocale),
    Row("Guard.issue", "style unknown",
        lambda f: f.guard.issue(style="bold"), ValueError),
    Row("Guard.issue", "style an int", lambda f: f.guard.issue(style=1),
        ValueError),
    Row("Guard.issue", "a closed guard", lambda f: f.closed("guard").issue(),
        ClosedError),
    *rows_for_hostile_text(
        "Guard.issue", lambda f, t: f.guard.issue(binding=t),
        returns("a Challenge", lambda c: isinstance(c, Challenge))),

    # ---- Guard.verify ----
    Row("Guard.verify", "token an int", lambda f: f.guard.verify(5, "1"),
        TypeError),
    Row("Guard.verify", "token bytes",
        lambda f: f.guard.verify(f.challenge.token.encode(), "1"), TypeError),
    Row("Guard.verify", "answer an int",
        lambda f: f.guard.verify(f.challenge.token, 2, "post-1"), TypeError),
    Row("Guard.verify", "answer a float",
        lambda f: f.guard.verify(f.challenge.token, 2.0, "post-1"), TypeError),
    Row("Guard.verify", "binding an int",
        lambda f: f.guard.verify(f.challenge.token, "2", 5), TypeError),
    Row("Guard.verify", "token None: MALFORMED",
        lambda f: f.guard.verify(None, "1"), verdict_is(Verdict.MALFORMED)),
    Row("Guard.verify", "a closed guard",
        lambda f: f.closed("guard").verify("t", "1"), ClosedError),
    *rows_for_hostile_text("Guard.verify",
                           lambda f, t: f.guard.verify(t, "1", "post-1"),
                           verdict_is(Verdict.MALFORMED)),
    *rows_for_hostile_text(
        "Guard.verify", lambda f, t: f.guard.verify(f.challenge.token, "1", t),
        verdict_is(Verdict.FORGED)),
    *rows_for_hostile_text(
        "Guard.verify",
        lambda f, t: f.guard.verify(f.guard.issue("p").token, t, "p"),
        verdict_is(Verdict.WRONG)),

    # ---- Guard.judge, Submission, Policy ----
    Row("Guard.judge", "submission an int", lambda f: f.guard.judge(5),
        TypeError),
    Row("Guard.judge", "submission None", lambda f: f.guard.judge(None),
        TypeError),
    Row("Guard.judge", "submission a str", lambda f: f.guard.judge("body"),
        TypeError),
    Row("Guard.judge", "an unknown field",
        lambda f: f.guard.judge({"bogus": "x"}), TypeError),
    Row("Submission", "a field an int",
        lambda f: f.guard.judge(Submission(body=5)), TypeError),
    Row("Submission", "client bytes",
        lambda f: f.guard.judge(Submission(client=b"1.2.3.4")), TypeError),
    Row("Guard.judge", "policy an int", lambda f: f.guard.judge({}, 5),
        TypeError),
    Row("Guard.judge", "policy a dict",
        lambda f: f.guard.judge({}, {"on_spam": "reject"}), TypeError),
    Row("Policy", "an action unknown",
        lambda f: f.guard.judge({}, Policy(on_spam="maybe")), ValueError),
    Row("Policy", "an action an int",
        lambda f: f.guard.judge({}, Policy(on_spam=2)), ValueError),
    Row("Policy", "failure_cost 0",
        lambda f: f.guard.judge({}, Policy(failure_cost=0)), InvalidArgument),
    Row("Policy", "failure_cost 1001",
        lambda f: f.guard.judge({}, Policy(failure_cost=1001)),
        InvalidArgument),
    Row("Policy", "failure_cost a float",
        lambda f: f.guard.judge({}, Policy(failure_cost=1.5)), TypeError),
    Row("Policy", "escalation_step_s negative",
        lambda f: f.guard.judge({}, Policy(escalation_step_s=-1)),
        InvalidArgument),
    Row("Policy", "limit_by unknown",
        lambda f: f.guard.judge({}, Policy(limit_by="everyone")), ValueError),
    Row("Policy", "limiter a str",
        lambda f: f.guard.judge({}, Policy(limiter="x")), TypeError),
    Row("Policy", "bayes an int",
        lambda f: f.guard.judge({}, Policy(bayes=5)), TypeError),
    Row("Policy", "a closed limiter",
        lambda f: f.guard.judge({}, Policy(limiter=f.closed("limiter"))),
        ClosedError),
    Row("Guard.judge", "client not an address, counted by a limiter",
        lambda f: f.guard.judge({"client": "localhost"},
                                Policy(limiter=f.limiter)), AddressError),
    Row("Guard.judge", "client None, counted by a limiter",
        lambda f: f.guard.judge({"body": "x"}, Policy(limiter=f.limiter)),
        AddressError),
    Row("Guard.judge", "a closed guard",
        lambda f: f.closed("guard").judge({}), ClosedError),
    *rows_for_hostile_text(
        "Guard.judge",
        lambda f, t: f.guard.judge(
            {k: t for k in ("body", "author", "email", "url", "token",
                            "answer", "binding")}, Policy(bayes=f.bayes)),
        returns("a REJECT", lambda d: d.action is Action.REJECT)),

    # ---- Challenge ----
    Row("Challenge.html", "answer_field an int",
        lambda f: f.challenge.html(answer_field=5), TypeError),
    Row("Challenge.html", "answer_field empty",
        lambda f: f.challenge.html(answer_field=""), InvalidArgument),
    Row("Challenge.html", "answer_field with a NUL",
        lambda f: f.challenge.html(answer_field="a\0"), InvalidArgument),
    Row("Challenge.html", "token_field a surrogate",
        lambda f: f.challenge.html(token_field="\udcff"), InvalidArgument),
    Row("Challenge.html", "honeypot_field of 65 bytes",
        lambda f: f.challenge.html(honeypot_field="h" * 65), InvalidArgument),
    Row("Challenge.html", "two fields of one name",
        lambda f: f.challenge.html(answer_field="x", token_field="x"),
        InvalidArgument),
    Row("Challenge.json", "answer_field bytes",
        lambda f: f.challenge.json(answer_field=b"a"), TypeError),
    Row("Challenge.json", "expires_at 2**63",
        lambda f: challenge(expires_at=2**63).json(), InvalidArgument),
    Row("Challenge", "question an int", lambda f: challenge(question=5).html(),
        TypeError),
    Row("Challenge", "question of 300 bytes",
        lambda f: challenge(question="q" * 300).html(), InvalidArgument),
    Row("Challenge", "question a surrogate",
        lambda f: challenge(question="\ud800").json(), InvalidArgument),
    Row("Challenge", "expires_at negative",
        lambda f: challenge(expires_at=-1).html(), InvalidArgument),
    Row("Challenge", "issued_at None",
        lambda f: challenge(issued_at=None).html(), TypeError),
    Row("Challenge", "a NUL in the question: U+FFFD, rendered",
        lambda f: challenge(question="1\0 + 1 =").html(),
        returns("escaped HTML", lambda h: "1\ufffd + 1 =" in h)),

    # ---- generate_key_file ----
    Row("generate_key_file", "a str",
        lambda f: replyguard.generate_key_file("1"), TypeError),
    Row("generate_key_file", "a float",
        lambda f: replyguard.generate_key_file(1.0), TypeError),
    Row("generate_key_file", "negative",
        lambda f: replyguard.generate_key_file(-1), InvalidArgument),
    Row("generate_key_file", "2**32",
        lambda f: replyguard.generate_key_file(2**32), InvalidArgument),

    # ---- Enums ----
    Row("Verdict", "an unknown name", lambda f: Verdict("passed"), ValueError),
    Row("Style", "an unknown name", lambda f: Style("bold"), ValueError),
    Row("Operator", "a str", lambda f: Operator("x"), ValueError),
    Row("Form", "a str", lambda f: Form("x"), ValueError),
    Row("Action", "an unknown name", lambda f: Action("drop"), ValueError),
    Row("LimitBy", "an unknown name", lambda f: LimitBy("ip"), ValueError),
    Row("BayesVerdict", "an unknown name", lambda f: BayesVerdict("maybe"),
        ValueError),

    # ---- Bayes() ----
    Row("Bayes", "url an int", lambda f: Bayes(5), TypeError),
    Row("Bayes", "url None", lambda f: Bayes(None), InvalidArgument),
    Row("Bayes", "url malformed", lambda f: Bayes("memory:?tokens=0"),
        BadStoreURL),
    Row("Bayes", "url with a NUL", lambda f: Bayes("memory:\0"),
        InvalidArgument),
    Row("Bayes", "url a garbage file",
        lambda f: Bayes("sqlite:" + f.garbage), replyguard.StoreUnavailable),
    Row("Bayes", "ham_cutoff a str", lambda f: Bayes(ham_cutoff="0.1"),
        TypeError),
    Row("Bayes", "ham_cutoff a bool", lambda f: Bayes(ham_cutoff=True),
        TypeError),
    Row("Bayes", "ham_cutoff NaN", lambda f: Bayes(ham_cutoff=float("nan")),
        InvalidArgument),
    Row("Bayes", "spam_cutoff infinite",
        lambda f: Bayes(spam_cutoff=float("inf")), InvalidArgument),
    Row("Bayes", "strength 10**400", lambda f: Bayes(strength=10**400),
        InvalidArgument),
    Row("Bayes", "cutoffs out of order",
        lambda f: Bayes(ham_cutoff=0.9, spam_cutoff=0.1), InvalidArgument),
    Row("Bayes", "prior 1", lambda f: Bayes(prior=1), InvalidArgument),
    Row("Bayes", "min_deviation an object",
        lambda f: Bayes(min_deviation=object()), TypeError),
    Row("Bayes", "max_clues a float", lambda f: Bayes(max_clues=1.5),
        TypeError),
    Row("Bayes", "max_clues 0", lambda f: Bayes(max_clues=0),
        InvalidArgument),
    Row("Bayes", "threads negative", lambda f: Bayes(threads=-1),
        InvalidArgument),
    Row("Bayes", "threads 65", lambda f: Bayes(threads=65), InvalidArgument),

    # ---- Bayes methods, Comment ----
    Row("Bayes.learn", "an int", lambda f: f.bayes.learn(5), TypeError),
    Row("Bayes.learn", "None", lambda f: f.bayes.learn(None), TypeError),
    Row("Bayes.learn", "bytes", lambda f: f.bayes.learn(b"pills"), TypeError),
    Row("Bayes.learn", "an unknown field",
        lambda f: f.bayes.learn({"text": "pills"}), TypeError),
    Row("Comment", "a field an int",
        lambda f: f.bayes.learn(Comment(body=5)), TypeError),
    Row("Comment", "a field bytes",
        lambda f: f.bayes.learn(Comment(url=b"http://x")), TypeError),
    Row("Bayes.learn", "spam a str", lambda f: f.bayes.learn("x", spam="no"),
        TypeError),
    Row("Bayes.learn", "spam an int", lambda f: f.bayes.learn("x", spam=1),
        TypeError),
    Row("Bayes.learn", "a closed filter",
        lambda f: f.closed("bayes").learn("x"), ClosedError),
    Row("Bayes.unlearn", "never learned",
        lambda f: f.bayes.unlearn("never ever learned"), NotLearned),
    Row("Bayes.unlearn", "learned as the other class",
        lambda f: f.bayes.unlearn("a lovely article about gardens",
                                  spam=True), NotLearned),
    Row("Bayes.unlearn", "spam None",
        lambda f: f.bayes.unlearn("x", spam=None), TypeError),
    Row("Bayes.unlearn", "an object", lambda f: f.bayes.unlearn(object()),
        TypeError),
    Row("Bayes.classify", "clues negative",
        lambda f: f.bayes.classify("x", clues=-1), InvalidArgument),
    Row("Bayes.classify", "clues a float",
        lambda f: f.bayes.classify("x", clues=1.5), TypeError),
    Row("Bayes.classify", "clues 2**64",
        lambda f: f.bayes.classify("x", clues=2**64), InvalidArgument),
    Row("Bayes.classify", "clues 2**40: no more than max_clues",
        lambda f: f.bayes.classify("cheap pills", clues=2**40),
        returns("at most 150 clues", lambda r: 0 < len(r.clues) <= 150)),
    Row("Bayes.classify", "an int", lambda f: f.bayes.classify(5), TypeError),
    Row("Bayes.classify", "a closed filter",
        lambda f: f.closed("bayes").classify("x"), ClosedError),
    Row("Bayes.stats", "a closed filter", lambda f: f.closed("bayes").stats(),
        ClosedError),
    Row("Bayes.stats", "an argument", lambda f: f.bayes.stats(5), TypeError),
    Row("Bayes.optimize", "a closed filter",
        lambda f: f.closed("bayes").optimize(), ClosedError),
    Row("Bayes.preload", "a closed filter",
        lambda f: f.closed("bayes").preload(), ClosedError),
    *rows_for_hostile_text(
        "Bayes.classify",
        lambda f, t: f.bayes.classify(
            {"body": t, "author": t, "email": t, "url": t}, clues=5),
        returns("a score", lambda r: 0 <= r.spamicity <= 1)),
    *rows_for_hostile_text(
        "Bayes.learn",
        lambda f, t: (f.bayes.learn(t), f.bayes.unlearn(t)),
        returns("learned and unlearned", lambda r: r == (None, None))),

    # ---- Limiter(), Limiter.take, client_key ----
    Row("Limiter", "store an int", lambda f: Limiter(5), TypeError),
    Row("Limiter", "store malformed", lambda f: Limiter("memory:?capacity=0"),
        BadStoreURL),
    Row("Limiter", "rate a str", lambda f: Limiter(rate="5"), TypeError),
    Row("Limiter", "rate None", lambda f: Limiter(rate=None), TypeError),
    Row("Limiter", "rate 0", lambda f: Limiter(rate=0), InvalidArgument),
    Row("Limiter", "rate negative", lambda f: Limiter(rate=-1.0),
        InvalidArgument),
    Row("Limiter", "rate NaN", lambda f: Limiter(rate=float("nan")),
        InvalidArgument),
    Row("Limiter", "rate 10**400", lambda f: Limiter(rate=10**400),
        InvalidArgument),
    Row("Limiter", "burst a float", lambda f: Limiter(burst=1.5), TypeError),
    Row("Limiter", "burst negative", lambda f: Limiter(burst=-1),
        InvalidArgument),
    Row("Limiter", "burst 1000001", lambda f: Limiter(burst=1000001),
        InvalidArgument),
    Row("Limiter", "capacity negative", lambda f: Limiter(capacity=-1),
        InvalidArgument),
    Row("Limiter", "capacity 2**64", lambda f: Limiter(capacity=2**64),
        InvalidArgument),
    Row("Limiter", "capacity 15", lambda f: Limiter(capacity=15),
        InvalidArgument),
    Row("Limiter", "name an int", lambda f: Limiter(name=5), TypeError),
    Row("Limiter", "name of 257 bytes", lambda f: Limiter(name="n" * 257),
        InvalidArgument),
    Row("Limiter", "name with a NUL", lambda f: Limiter(name="a\0b"),
        InvalidArgument),
    Row("Limiter", "clock_ns not callable", lambda f: Limiter(clock_ns=1),
        TypeError),
    Row("Limiter.take", "key None", lambda f: f.limiter.take(None),
        TypeError),
    Row("Limiter.take", "key an int", lambda f: f.limiter.take(5), TypeError),
    Row("Limiter.take", "key a list", lambda f: f.limiter.take([1]),
        TypeError),
    Row("Limiter.take", "cost negative",
        lambda f: f.limiter.take("client-a", cost=-1), InvalidArgument),
    Row("Limiter.take", "cost 2**32",
        lambda f: f.limiter.take("client-a", cost=2**32), InvalidArgument),
    Row("Limiter.take", "cost a float",
        lambda f: f.limiter.take("client-a", cost=1.0), TypeError),
    Row("Limiter.take", "cost above the limit: refused, nothing charged",
        lambda f: f.limiter.take("client-a", cost=4),
        returns("never", lambda r: not r.allowed
                and r.retry_after_ms == replyguard.RETRY_NEVER)),
    Row("Limiter.take", "a closed limiter",
        lambda f: f.closed("limiter").take("x"), ClosedError),
    *rows_for_hostile_text(
        "Limiter.take", lambda f, t: f.limiter.take(t),
        returns("allowed", lambda r: r.allowed)),
    Row("client_key", "None", lambda f: replyguard.client_key(None),
        TypeError),
    Row("client_key", "an int", lambda f: replyguard.client_key(5),
        TypeError),
    Row("client_key", "bytes", lambda f: replyguard.client_key(b"1.2.3.4"),
        TypeError),
    Row("client_key", "a host name",
        lambda f: replyguard.client_key("localhost"), AddressError),
    Row("client_key", "a NUL after the address",
        lambda f: replyguard.client_key("1.2.3.4\0"), AddressError),
    Row("client_key", "a surrogate",
        lambda f: replyguard.client_key("1.2.3.\udcff"), AddressError),
    Row("client_key", "a megabyte", lambda f: replyguard.client_key(MIB),
        AddressError),
    Row("client_key", "ipv6_prefix 129",
        lambda f: replyguard.client_key("::1", 129), InvalidArgument),
    Row("client_key", "ipv6_prefix negative",
        lambda f: replyguard.client_key("::1", -1), InvalidArgument),
    Row("client_key", "ipv6_prefix a float",
        lambda f: replyguard.client_key("::1", 64.0), TypeError),

    # ---- Errors, and the library ----
    Row("strerror", "a str", lambda f: replyguard.strerror("-1"), TypeError),
    Row("strerror", "None", lambda f: replyguard.strerror(None), TypeError),
    Row("strerror", "2**40 (no wrapping round to 0)",
        lambda f: replyguard.strerror(2**40),
        returns("unknown error", lambda s: s == "unknown error")),
    Row("err_name", "a float", lambda f: replyguard.err_name(-1.0), TypeError),
    Row("err_name", "-2**40", lambda f: replyguard.err_name(-2**40),
        returns("RG_EUNKNOWN", lambda s: s == "RG_EUNKNOWN")),
    Row("error_class", "a str", lambda f: replyguard.error_class("-1"),
        TypeError),
    Row("error_class", "an unknown code",
        lambda f: replyguard.error_class(-99),
        returns("ReplyGuardError", lambda c: c is ReplyGuardError)),
    Row("ReplyGuardError", "a code that is a str",
        lambda f: ReplyGuardError("x"), TypeError),
    Row("version", "an argument", lambda f: replyguard.version(1), TypeError),
]

# Exception classes: each refuses a code that is not an int.
ROWS += [
    Row(name, "a code that is None", lambda f, c=getattr(replyguard, name):
        c(None), TypeError)
    for name in replyguard.__all__
    if isinstance(getattr(replyguard, name), type)
    and issubclass(getattr(replyguard, name), ReplyGuardError)
    and name != "ReplyGuardError"
]

# Public names that only ever come out of the binding, never go in (so
# there is nothing hostile to give them), and constants.
OUT_ONLY = {
    "Decision", "BayesResult", "BayesStats", "Clue",
    "LimitResult", "REASONS", "RETRY_NEVER", "KEY_BYTES", "LIBRARY",
    "SubmissionLike", "CommentLike",
}


class HostileInputTest(unittest.TestCase):
    def test_rows(self) -> None:
        for row in ROWS:
            with self.subTest(target=row.target, what=row.what):
                f = Fixture()
                try:
                    self.run_row(f, row)
                finally:
                    f.close()

    def run_row(self, f: Fixture, row: Row) -> None:
        want = row.want
        if isinstance(want, Returns):
            got = row.call(f)
            self.assertTrue(want.check(got),
                            f"wanted {want.what}, got {got!r:.100}")
            return
        try:
            row.call(f)
        except ctypes.ArgumentError as e:  # never: the binding checks first
            self.fail(f"ctypes.ArgumentError leaked: {e}")
        except want as e:
            # The binding's errors carry the library's code and its name.
            if isinstance(e, ReplyGuardError):
                self.assertLess(e.code, 0)
                self.assertTrue(e.name.startswith("RG_E"), e.name)
            self.assertTrue(str(e))
        except BaseException as e:
            self.fail(f"raised {type(e).__name__} ({e}), not {want.__name__}")
        else:
            self.fail(f"raised nothing, not {want.__name__}")

    def test_every_public_name_has_rows(self) -> None:
        targets = {row.target for row in ROWS}
        missing = []
        for name in replyguard.__all__:
            obj = getattr(replyguard, name)
            if name in OUT_ONLY:
                continue
            if name not in targets:
                missing.append(name)
            if isinstance(obj, type) and obj.__module__.startswith(
                    "replyguard"):
                for attr, value in vars(obj).items():
                    if callable(value) and not attr.startswith("_") \
                            and f"{name}.{attr}" not in OUT_ONLY \
                            and f"{name}.{attr}" not in targets \
                            and not issubclass(obj, BaseException):
                        missing.append(f"{name}.{attr}")
        self.assertEqual(missing, [], "public names without a hostile row")
        # The table is not trivially small either.
        self.assertGreater(len(ROWS), 200)


class RefusedCallsChangeNothingTest(unittest.TestCase):
    """Each refused call leaves the model, the limits and the spent
    tokens as they were, on memory: and on sqlite:."""

    def snapshot(self, f: Fixture) -> Any:
        probe = ["cheap pills at http://pills.example.com",
                 "a lovely article about gardens", "never ever learned"]
        return (
            f.bayes.stats(),
            [f.bayes.classify(p, clues=50) for p in probe],
            [f.limiter.take(k, cost=0) for k in ("client-a", "client-b", "")],
        )

    # Each call must raise, or return whether it failed to refuse: a take
    # that fitted, a verdict other than FORGED.
    REFUSED: List[Any] = [
        lambda f: f.bayes.learn({"body": "x", "text": "y"}),
        lambda f: f.bayes.learn("x", spam="yes"),
        lambda f: f.bayes.learn(Comment(body="x", url=5)),
        lambda f: f.bayes.unlearn("never ever learned"),
        lambda f: f.bayes.unlearn("cheap pills at http://pills.example.com",
                                  spam=False),
        lambda f: f.limiter.take("client-a", cost=-1),
        lambda f: f.limiter.take("client-a", cost=1.0),
        lambda f: f.limiter.take("client-a", cost=4).allowed,
        lambda f: f.limiter.take(None),
        lambda f: f.guard.verify(f.challenge.token, 5, "post-1"),
        lambda f: f.guard.verify(f.challenge.token, "1", "post-2")
        is not Verdict.FORGED,
        lambda f: f.guard.judge({"client": "localhost", "body": "x",
                                 "token": f.challenge.token, "answer": "2",
                                 "binding": "post-1"},
                                Policy(limiter=f.limiter, bayes=f.bayes)),
        lambda f: f.guard.judge({"client": "203.0.113.5", "body": "x",
                                 "token": f.challenge.token, "answer": "2",
                                 "binding": "post-1"},
                                Policy(limiter=f.limiter, failure_cost=0)),
        lambda f: f.guard.load_keys(f.clashing),
    ]

    def check(self, make: Callable[[Fixture], None]) -> None:
        for i, call in enumerate(self.REFUSED):
            with self.subTest(call=i):
                f = Fixture()
                make(f)
                try:
                    before = self.snapshot(f)
                    try:
                        self.assertFalse(call(f))
                    except (TypeError, ValueError, ReplyGuardError):
                        pass
                    self.assertEqual(self.snapshot(f), before)
                    # The challenge's token was not spent, and key 2 was not
                    # added by the key file that clashed.
                    answer = str(eval_question(f.challenge.question))
                    self.assertIs(f.guard.verify(f.challenge.token, answer,
                                                 "post-1"), Verdict.PASS)
                    other = Guard(keys=[(2, OTHER_KEY, True)], min_solve=0,
                                  clock=lambda: f.now)
                    token = other.issue("post-1").token
                    other.close()
                    self.assertIs(f.guard.verify(token, "0", "post-1"),
                                  Verdict.FORGED)
                finally:
                    f.close()

    def test_memory(self) -> None:
        self.check(lambda f: None)

    def test_sqlite(self) -> None:
        def on_sqlite(f: Fixture) -> None:
            url = "sqlite:" + f.path("store.sqlite")
            model = "sqlite:" + f.path("model.sqlite")
            f.guard.close()
            f.bayes.close()
            f.limiter.close()
            f.guard = Guard(keys=[(1, KEY, True)], min_solve=0, store=url,
                            style="digits", clock=lambda: f.now)
            f.bayes = Bayes(model)
            f.bayes.learn("cheap pills at http://pills.example.com",
                          spam=True)
            f.bayes.learn("a lovely article about gardens", spam=False)
            f.limiter = Limiter(url, rate=1, burst=2,
                                clock_ns=lambda: f.now * 10**9)
            f.limiter.take("client-a")
            f.challenge = f.guard.issue(binding="post-1")

        self.check(on_sqlite)


def eval_question(question: str) -> int:
    """The answer to a digits question such as "9 + 10 =" or "What is 9
    minus 3?" (U+2212 and U+00D7 are the library's minus and times)."""
    import re

    a, op, b = re.findall(r"\d+|[+\u2212\u00d7]|plus|minus|times", question)
    a, b = int(a), int(b)
    if op in ("+", "plus"):
        return a + b
    if op in ("\u2212", "minus"):
        return a - b
    return a * b


if __name__ == "__main__":
    unittest.main()
