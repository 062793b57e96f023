#!/usr/bin/env python3
"""Sums up meson test logs into one closing line, `N passed, N failed`.

Each Check suite counts its test cases (the "Checks: N, Failures: F,
Errors: E" line it prints); any other test counts as one. A suite that
crashed before its summary, or that valgrind failed after it, counts as
one failure more. Skipped tests are shown separately and never counted as
passed.

Usage: summarize.py LABEL=LOG [LABEL=LOG ...]

LOG is a build directory (its meson-logs/testlog.json) or a log file in
the same JSON Lines form: meson's testlog-SETUP.json of a `meson test
--setup SETUP` run, or what `scripts/lint --log` writes.
"""
import json
import os
import re
import sys

CHECK_LINE = re.compile(r"Checks: (\d+), Failures: (\d+), Errors: (\d+)")


def summarize(log):
    passed = failed = skipped = 0
    problems = []
    if os.path.isdir(log):
        log = os.path.join(log, "meson-logs", "testlog.json")
    with open(log, encoding="utf-8") as f:
        for line in f:
            t = json.loads(line)
            result, name = t["result"], t["name"]
            if result == "SKIP":
                skipped += 1
                problems.append(f"skipped: {name}")
                continue
            m = CHECK_LINE.search(t.get("stdout") or "")
            if m:
                checks, failures, errors = map(int, m.groups())
                passed += checks - failures - errors
                failed += failures + errors
                if result != "OK" and failures + errors == 0:
                    failed += 1
            elif result == "OK":
                passed += 1
            else:
                failed += 1
            if result != "OK":
                problems.append(f"{result.lower()}: {name}")
    return passed, failed, skipped, problems


def main():
    total = [0, 0, 0]
    for arg in sys.argv[1:]:
        label, _, log = arg.partition("=")
        try:
            p, f, s, problems = summarize(log)
        except FileNotFoundError:
            p, f, s, problems = 0, 1, 0, ["no test log: its build failed, or it did not run"]
        print(f"{label}: {p} passed, {f} failed" + (f", {s} skipped" if s else ""))
        for problem in problems:
            print(f"  {problem}")
        total = [total[0] + p, total[1] + f, total[2] + s]
    line = f"{total[0]} passed, {total[1]} failed"
    if total[2]:
        line += f", {total[2]} skipped"
    print(line)
    return 1 if total[1] or total[2] else 0


if __name__ == "__main__":
    sys.exit(main())
