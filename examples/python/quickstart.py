#!/usr/bin/env python3
"""The smallest complete use of replyguard from Python.

Make a guard, issue a challenge, verify an answer. A blog engine does the
same across two HTTP requests: it issues while rendering the form (the
question on the page, the token in a hidden field) and verifies when the
comment is posted.

    python3 examples/python/quickstart.py [--key FILE] [ANSWER]

It prints the question, reads the answer (from the command line, or else
a line of standard input) and prints the verdict: "pass", "wrong", ...
Without --key it makes a fresh key for this run only; a site keeps one
key file (generate_key_file(), or `captcha-check keygen`) that every one
of its servers shares. It exits 0 whenever it reached a verdict.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from typing import List, Optional

import replyguard


def main(argv: Optional[List[str]] = None) -> int:
    """Issues one challenge, verifies one answer, prints the verdict."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--key", help="a key file (default: a fresh key)")
    parser.add_argument("answer", nargs="?", help="the answer to check")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="replyguard-") as scratch:
        key_file = args.key
        if key_file is None:
            key_file = os.path.join(scratch, "site.key")
            # The key is a secret: readable by its owner only.
            fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as f:
                f.write(replyguard.generate_key_file())

        # A person at a terminal can be quick; a web form keeps the
        # default time trap of 5 seconds.
        guard = replyguard.Guard(key_file=key_file, min_solve=0)
        challenge = guard.issue(binding="post-42")
        print(challenge.question, flush=True)

        answer = args.answer
        if answer is None:
            answer = sys.stdin.readline().strip()
        verdict = guard.verify(challenge.token, answer, binding="post-42")
        print(verdict.value)
        guard.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
