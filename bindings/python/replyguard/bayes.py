"""The content filter: a Bayesian classifier trained from moderation.

Mark comments spam or ham as a moderator decides them; the filter learns
their words (and links, and the author's address) and scores new
comments from 0 (ham) to 1 (spam). See docs/bayes.md in the library's
sources for the tokenizer and the maths.
"""

from __future__ import annotations

import ctypes
import enum
from dataclasses import dataclass, field
from typing import List, Mapping, Optional, Union

from . import _native
from ._common import Handle, flag, name_in, real, text_in, text_out, unsigned
from .errors import check

__all__ = [
    "Comment",
    "CommentLike",
    "BayesVerdict",
    "Clue",
    "BayesResult",
    "BayesStats",
    "Bayes",
]


@dataclass(frozen=True)
class Comment:
    """A comment as the filter sees it. Every field is optional."""

    body: Optional[str] = None
    author: Optional[str] = None
    email: Optional[str] = None
    url: Optional[str] = None


#: What the filter's calls take: the body alone, a mapping with some of
#: body/author/email/url, or a Comment.
CommentLike = Union[str, Comment, Mapping[str, Optional[str]]]


def _comment(value: CommentLike) -> Comment:
    """A Comment from any CommentLike; TypeError for anything else."""
    if isinstance(value, Comment):
        return value
    if isinstance(value, str):
        return Comment(body=value)
    if isinstance(value, Mapping):
        return Comment(**value)
    raise TypeError(
        "a comment is a str, a mapping or a Comment, not "
        f"{type(value).__name__}"
    )


def _comment_to_c(value: CommentLike) -> _native.Comment:
    """The C rg_comment for a comment. The struct keeps its strings."""
    comment = _comment(value)
    c = _native.new_sized(_native.Comment, _native.rg_comment_init)
    c.author = text_in(comment.author, "author")
    c.email = text_in(comment.email, "email")
    c.url = text_in(comment.url, "url")
    c.body = text_in(comment.body, "body")
    return c


class BayesVerdict(enum.Enum):
    """The filter's three-way verdict (rg_bayes_verdict)."""

    HAM = "ham"  # spamicity below the ham cutoff
    UNSURE = "unsure"  # in between: for a moderator
    SPAM = "spam"  # spamicity at or above the spam cutoff

    @classmethod
    def _from_c(cls, value: int) -> "BayesVerdict":
        return cls(text_out(_native.rg_bayes_verdict_name(value)))


@dataclass(frozen=True)
class Clue:
    """One token that weighed in a classification, and what it says."""

    token: str  # "free", "dom:example.com"
    probability: float  # 0 hammy, 1 spammy
    spam_count: int  # spam comments that had it
    ham_count: int  # ham comments that had it


@dataclass(frozen=True)
class BayesResult:
    """A classification: the score, the verdict from the cutoffs, and the
    clues asked for (most extreme first)."""

    spamicity: float
    verdict: BayesVerdict
    clues: List[Clue] = field(default_factory=list)


@dataclass(frozen=True)
class BayesStats:
    """Model totals: comments learned (less unlearned), distinct tokens."""

    spam_comments: int
    ham_comments: int
    tokens: int


# The C values of rg_class.
_HAM, _SPAM = 0, 1


class Bayes(Handle):
    """A content filter on a model store (rg_bayes).

    ``url`` is "memory:" (this process; "memory:?tokens=N" bounds it),
    "sqlite:PATH" (a file several processes share) or
    "redis://HOST:PORT/DB" (every web server learns into one model). The
    keyword-only settings default to the library's (docs/bayes.md):
    ``ham_cutoff`` 0.20 and ``spam_cutoff`` 0.90 split the verdicts,
    ``strength``, ``prior``, ``min_deviation`` and ``max_clues`` tune the
    scoring, ``threads`` the tokenizing of large batches.

    Thread-safe: one filter may serve every request of a process.
    """

    def __init__(
        self,
        url: str = "memory:",
        *,
        ham_cutoff: Optional[float] = None,
        spam_cutoff: Optional[float] = None,
        strength: Optional[float] = None,
        prior: Optional[float] = None,
        min_deviation: Optional[float] = None,
        max_clues: Optional[int] = None,
        threads: Optional[int] = None,
    ) -> None:
        cfg = _native.new_sized(_native.BayesConfig,
                                _native.rg_bayes_config_init)
        floats = {
            "ham_cutoff": ham_cutoff,
            "spam_cutoff": spam_cutoff,
            "strength": strength,
            "prior": prior,
            "min_deviation": min_deviation,
        }
        for name, value in floats.items():
            if value is not None:
                setattr(cfg, name, real(value, name))
        if max_clues is not None:
            cfg.max_clues = unsigned(max_clues, "max_clues")
        if threads is not None:
            cfg.threads = unsigned(threads, "threads")
        pointer = ctypes.c_void_p()
        check(_native.rg_bayes_open(ctypes.byref(pointer),
                                    name_in(url, "url"), ctypes.byref(cfg)))
        self._own(pointer.value or 0, _native.rg_bayes_close)
        # The library never writes more clues than this.
        self._max_clues = int(cfg.max_clues)

    def learn(self, comment: CommentLike, spam: bool = True) -> None:
        """Learns one comment as spam (or, with spam=False, as ham).
        spam must be a bool: a truthy "no" would mean spam."""
        handle = self._handle()
        cls = _SPAM if flag(spam, "spam") else _HAM
        check(_native.rg_bayes_learn(handle,
                                     ctypes.byref(_comment_to_c(comment)),
                                     cls))

    def unlearn(self, comment: CommentLike, spam: bool = True) -> None:
        """Takes back exactly what learn() taught for this comment and
        class; to move a comment from ham to spam, unlearn it as ham and
        learn it as spam. Raises NotLearned (changing nothing) when it was
        never learned so."""
        handle = self._handle()
        cls = _SPAM if flag(spam, "spam") else _HAM
        check(_native.rg_bayes_unlearn(handle,
                                       ctypes.byref(_comment_to_c(comment)),
                                       cls))

    def classify(self, comment: CommentLike, clues: int = 0) -> BayesResult:
        """Scores a comment; with clues=N, also returns up to N of the
        tokens that decided (never more than the filter's max_clues, so a
        huge N costs nothing). An empty model scores everything 0.5."""
        handle = self._handle()
        wanted = min(unsigned(clues, "clues", 64), self._max_clues)
        result = _native.BayesResult()
        buf = (_native.Clue * wanted)() if wanted else None
        check(_native.rg_bayes_classify(
            handle, ctypes.byref(_comment_to_c(comment)),
            ctypes.byref(result), buf, wanted))
        found: List[Clue] = []
        if buf is not None:
            for clue in buf[: min(int(result.nclues), wanted)]:
                found.append(Clue(
                    token=text_out(clue.token),
                    probability=float(clue.probability),
                    spam_count=int(clue.spam_count),
                    ham_count=int(clue.ham_count),
                ))
        return BayesResult(
            spamicity=float(result.spamicity),
            verdict=BayesVerdict._from_c(result.verdict),
            clues=found,
        )

    def stats(self) -> BayesStats:
        """The model's totals."""
        handle = self._handle()
        out = _native.BayesStats()
        check(_native.rg_bayes_stats_get(handle, ctypes.byref(out)))
        return BayesStats(
            spam_comments=int(out.spam_comments),
            ham_comments=int(out.ham_comments),
            tokens=int(out.tokens),
        )

    def optimize(self) -> None:
        """With sqlite:PATH, writes the model image that lets new handles
        classify batches quickly (rg_bayes_optimize); call it after bulk
        training. Does nothing with memory:."""
        check(_native.rg_bayes_optimize(self._handle()))

    def preload(self) -> None:
        """Reads the whole model into the handle now rather than lookup by
        lookup, for a server that would rather pay at start."""
        check(_native.rg_bayes_preload(self._handle()))
