#!/usr/bin/env python3
"""Checks that the README's quick starts are copies of files a test runs.

Every fenced code block in README.md that follows a line
`<!-- from PATH -->` must appear, line for line (leading and trailing
blanks aside), as a run of consecutive lines of PATH. So the README cannot
drift from the example programs that the test suite builds and runs.

Usage: readme_snippets.py SOURCE-DIR
"""

import pathlib
import re
import sys


def blocks(readme):
    """(path, lines of the block) for each block marked with its file."""
    marker = re.compile(r"<!-- from (\S+) -->")
    lines = readme.splitlines()
    i = 0
    while i < len(lines):
        m = marker.fullmatch(lines[i].strip())
        i += 1
        if not m:
            continue
        while i < len(lines) and not lines[i].startswith("```"):
            i += 1
        start = i + 1
        end = start
        while end < len(lines) and not lines[end].startswith("```"):
            end += 1
        yield m.group(1), [l.strip() for l in lines[start:end]]
        i = end + 1


def contains_run(haystack, needle):
    """Whether needle is a run of consecutive lines of haystack."""
    for k in range(len(haystack) - len(needle) + 1):
        if haystack[k:k + len(needle)] == needle:
            return True
    return False


def main():
    src = pathlib.Path(sys.argv[1])
    readme = (src / "README.md").read_text(encoding="utf-8")
    failures, checked = 0, 0
    for path, block in blocks(readme):
        checked += 1
        text = (src / path).read_text(encoding="utf-8")
        lines = [l.strip() for l in text.splitlines() if l.strip()]
        if not contains_run(lines, [l for l in block if l]):
            print(f"README.md: the block from {path} is not in that file")
            failures += 1
    if checked == 0:
        print("README.md: no block marked <!-- from PATH -->")
        failures += 1
    print(f"{checked} README blocks checked, {failures} differ")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
