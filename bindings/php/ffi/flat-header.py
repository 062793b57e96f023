#!/usr/bin/env python3
"""Finishes the flat header that PHP's FFI loads.

bindings/php/meson.build runs include/replyguard.h through the C
preprocessor (replyguard-ffi.c is the input); this script puts the two
lines FFI::load() reads at the top, FFI_SCOPE and FFI_LIB, and checks that
nothing FFI's parser rejects is left: attributes, __declspec, extern "C".

Usage: flat-header.py PREPROCESSED OUTPUT SCOPE LIBRARY
"""

import re
import sys

FORBIDDEN = ("__attribute__", "__declspec", 'extern "C"', "__extension__")


def main(argv):
    if len(argv) != 5:
        sys.stderr.write(__doc__)
        return 2
    source, output, scope, library = argv[1:]
    with open(source, encoding="utf-8") as f:
        body = f.read()
    for word in FORBIDDEN:
        if word in body:
            sys.stderr.write(f"flat-header.py: {word} left in {source}\n")
            return 1
    if re.search(r"^\s*#", body, re.M):
        sys.stderr.write(f"flat-header.py: a directive left in {source}\n")
        return 1
    # FFI::load() reads these two defines only at the very start of the
    # file, before any comment or declaration.
    head = (
        f'#define FFI_SCOPE "{scope}"\n'
        f'#define FFI_LIB "{library}"\n'
        "/*\n"
        " * replyguard's public API for PHP's FFI, made at build time from\n"
        " * include/replyguard.h by the C preprocessor: the declarations of\n"
        " * that header without attributes, extern \"C\" or macros. Generated;\n"
        " * do not edit. The documentation is in include/replyguard.h.\n"
        " */\n"
    )
    with open(output, "w", encoding="utf-8") as f:
        f.write(head + body.strip() + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
