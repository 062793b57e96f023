"""The judge: every layer on one submitted comment, and one decision.

Guard.judge() takes the comment with its challenge fields and the
client's address, runs the layers a Policy names (rate limits, the
honeypot, the challenge, the content filter) and answers accept,
moderate or reject, with every reason. See docs/judge.md in the
library's sources for the order of the layers and the default policy.
"""

from __future__ import annotations

import ctypes
import enum
from dataclasses import dataclass, field, fields
from typing import Any, List, Mapping, Optional, Union

from . import _native
from ._common import text_in, text_out, unsigned
from .bayes import Bayes
from .errors import check
from .guard import Verdict
from .limiter import Limiter

__all__ = [
    "Action",
    "LimitBy",
    "REASONS",
    "Submission",
    "SubmissionLike",
    "Policy",
    "Decision",
]


class Action(enum.Enum):
    """What to do with a comment (rg_action)."""

    ACCEPT = "accept"  # publish
    MODERATE = "moderate"  # hold for a moderator
    REJECT = "reject"  # refuse; show the form again

    @classmethod
    def _from_c(cls, value: int) -> "Action":
        return cls(text_out(_native.rg_action_name(value)))


# The C values of rg_action, in the header's order.
_ACTION_CODES = {Action.ACCEPT: 0, Action.MODERATE: 1, Action.REJECT: 2}


class LimitBy(enum.Enum):
    """Whose submissions a rate limit counts together (rg_limit_by)."""

    CLIENT = "client"  # the client's address (default)
    BINDING = "binding"  # the binding: one post or form, whoever posts
    CLIENT_BINDING = "client_binding"  # each client on each binding


_LIMIT_BY_CODES = {
    LimitBy.CLIENT: 0,
    LimitBy.BINDING: 1,
    LimitBy.CLIENT_BINDING: 2,
}

#: The names of the reason bits the library knows, lowest bit first
#: ("honeypot", "captcha_wrong", ..., "store_unavailable").
REASONS = tuple(
    text_out(_native.rg_reason_name(1 << bit))
    for bit in range(32)
    if _native.rg_reason_name(1 << bit) != b"unknown"
)


@dataclass
class Submission:
    """One submitted comment with its challenge fields.

    Everything is untrusted text as it arrived, None for a field that was
    not sent: the comment (body, author, email, url), the challenge's
    hidden ``token``, the reader's ``answer``, the ``honeypot`` field's
    value, the ``client``'s IP address as text (REMOTE_ADDR), and the
    ``binding`` the challenge was issued with.
    """

    body: Optional[str] = None
    author: Optional[str] = None
    email: Optional[str] = None
    url: Optional[str] = None
    token: Optional[str] = None
    answer: Optional[str] = None
    honeypot: Optional[str] = None
    client: Optional[str] = None
    binding: Optional[str] = ""


#: What Guard.judge() takes: a Submission, or a mapping of its fields.
SubmissionLike = Union[Submission, Mapping[str, Optional[str]]]


def _submission_to_c(value: SubmissionLike) -> _native.Submission:
    """The C rg_submission; a mapping with an unknown key is a TypeError
    (a misspelt field would otherwise be ignored without a word)."""
    if isinstance(value, Mapping):
        value = Submission(**value)
    elif not isinstance(value, Submission):
        raise TypeError(
            "a submission is a Submission or a mapping, not "
            f"{type(value).__name__}"
        )
    c = _native.new_sized(_native.Submission, _native.rg_submission_init)
    for f in fields(Submission):
        setattr(c, f.name, text_in(getattr(value, f.name), f.name))
    return c


_DEFAULTS = _native.new_sized(_native.Policy, _native.rg_policy_init)


def _default_action(name: str) -> Any:
    """A dataclass field whose default is the library's rg_policy_init()
    value, so the two never disagree."""
    return field(default=Action._from_c(getattr(_DEFAULTS, name)))


def _default_number(name: str) -> Any:
    return field(default=int(getattr(_DEFAULTS, name)))


@dataclass
class Policy:
    """What to do about each finding, and the layers to run (rg_policy).

    The defaults are the library's: every challenge failure, the honeypot,
    a rate limit and spam reject; an unsure filter and a failed store
    moderate. A layer runs when its handle is set: ``limiter`` counts
    every submission per client (an IPv6 client by its /64),
    ``limiter_ipv6_56`` and ``limiter_ipv6_48`` per IPv6 network,
    ``failures`` counts failed challenges to raise the client's minimum
    solve time by ``escalation_step_s`` each, up to ``escalation_cap_s``,
    and ``bayes`` scores the content. A failed challenge costs
    ``failure_cost`` from the limiters.

    The policy holds the Python objects, so they live as long as it does;
    they must stay open while a judgement uses them.
    """

    on_honeypot: Action = _default_action("on_honeypot")
    on_captcha_wrong: Action = _default_action("on_captcha_wrong")
    on_captcha_expired: Action = _default_action("on_captcha_expired")
    on_captcha_too_fast: Action = _default_action("on_captcha_too_fast")
    on_captcha_replayed: Action = _default_action("on_captcha_replayed")
    on_captcha_forged: Action = _default_action("on_captcha_forged")
    on_captcha_malformed: Action = _default_action("on_captcha_malformed")
    on_rate_limited: Action = _default_action("on_rate_limited")
    on_spam: Action = _default_action("on_spam")
    on_unsure: Action = _default_action("on_unsure")
    on_store_unavailable: Action = _default_action("on_store_unavailable")
    limiter: Optional[Limiter] = None
    limiter_ipv6_56: Optional[Limiter] = None
    limiter_ipv6_48: Optional[Limiter] = None
    limit_by: LimitBy = LimitBy.CLIENT
    failure_cost: int = _default_number("failure_cost")
    failures: Optional[Limiter] = None
    escalation_step_s: int = _default_number("escalation_step_s")
    escalation_cap_s: int = _default_number("escalation_cap_s")
    bayes: Optional[Bayes] = None


_ACTION_FIELDS = [
    f.name for f in fields(Policy) if f.name.startswith("on_")
]
_LIMITER_FIELDS = ["limiter", "limiter_ipv6_56", "limiter_ipv6_48",
                   "failures"]


def _policy_to_c(policy: Policy) -> _native.Policy:
    """The C rg_policy. It points at the policy's handles without owning
    them; the caller keeps `policy` (and so the handles) alive during the
    call."""
    c = _native.new_sized(_native.Policy, _native.rg_policy_init)
    for name in _ACTION_FIELDS:
        setattr(c, name, _ACTION_CODES[Action(getattr(policy, name))])
    for name in _LIMITER_FIELDS:
        limiter = getattr(policy, name)
        if limiter is not None:
            if not isinstance(limiter, Limiter):
                raise TypeError(f"{name} must be a Limiter or None")
            setattr(c, name, limiter._handle())
    if policy.bayes is not None:
        if not isinstance(policy.bayes, Bayes):
            raise TypeError("bayes must be a Bayes or None")
        c.bayes = policy.bayes._handle()
    c.limit_by = _LIMIT_BY_CODES[LimitBy(policy.limit_by)]
    c.failure_cost = unsigned(policy.failure_cost, "failure_cost")
    c.escalation_step_s = unsigned(policy.escalation_step_s,
                                   "escalation_step_s")
    c.escalation_cap_s = unsigned(policy.escalation_cap_s,
                                  "escalation_cap_s")
    return c


@dataclass(frozen=True)
class Decision:
    """The decision on one submission.

    ``action`` is the most severe action of any finding; ``reasons`` names
    every finding ("captcha_wrong", "rate_limited", ...), lowest bit
    first. ``verified`` says whether the challenge was verified, and
    ``verdict`` is its Verdict then (None when it was not: a rejected
    client gets no guess). ``spamicity`` is the filter's score, None when
    the filter did not run. ``retry_after_ms`` says, when rate limited,
    how long until the client may post; ``min_solve_s`` is the time trap
    applied to this client.
    """

    action: Action
    reasons: List[str]
    verified: bool
    verdict: Optional[Verdict]
    spamicity: Optional[float]
    retry_after_ms: int
    min_solve_s: int
    reason_bits: int = 0


def _reason_names(bits: int) -> List[str]:
    return [
        text_out(_native.rg_reason_name(1 << bit))
        for bit in range(32)
        if bits & (1 << bit)
    ]


def judge(
    guard: int,
    submission: SubmissionLike,
    policy: Optional[Policy] = None,
) -> Decision:
    """rg_judge() on a guard's C handle; Guard.judge() is the public way
    in. Raises AddressError when a limiter counts by client and the
    client is not an IP address, TypeError for a policy that is neither a
    Policy nor None."""
    if policy is not None and not isinstance(policy, Policy):
        raise TypeError(
            f"policy must be a Policy or None, not {type(policy).__name__}"
        )
    c_submission = _submission_to_c(submission)
    c_policy = None if policy is None else _policy_to_c(policy)
    out = _native.Decision()
    check(_native.rg_judge(
        guard,
        ctypes.byref(c_submission),
        None if c_policy is None else ctypes.byref(c_policy),
        ctypes.byref(out),
    ))
    verified = bool(out.verified)
    return Decision(
        action=Action._from_c(out.action),
        reasons=_reason_names(int(out.reasons)),
        verified=verified,
        verdict=Verdict._from_c(out.verdict) if verified else None,
        spamicity=None if out.spamicity < 0 else float(out.spamicity),
        retry_after_ms=int(out.retry_after_ms),
        min_solve_s=int(out.min_solve_s),
        reason_bits=int(out.reasons),
    )
