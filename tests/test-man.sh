#!/usr/bin/env bash
# Checks the man pages: captcha-check(1) has a section for every verb that
# `captcha-check --help` lists, naming each option of the verb's --help,
# and the sections a man page has; replyguard(3) names every exported
# call; and both render without a warning.
#
# Usage: test-man.sh PATH-TO-captcha-check captcha-check.1 replyguard.3 \
#            replyguard.sym replyguard.h
# Prints one line per failed check and exits 0 only when all pass (77, a
# skip, when neither man nor groff is installed to render them).
set -euo pipefail

usage="test-man.sh captcha-check captcha-check.1 replyguard.3 replyguard.sym
replyguard.h"
cc=${1:?usage: $usage}
page1=${2:?}
page3=${3:?}
sym=${4:?}
header=${5:?}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/rg-man.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

failures=0
fail() {
    echo "FAIL: $*"
    failures=$((failures + 1))
}

# The roff source with its escapes for a minus taken out, so that
# "\-\-store" reads "--store".
plain() { sed 's/\\-/-/g; s/\\%//g' "$1"; }
plain "$page1" >"$tmp/page1"
plain "$page3" >"$tmp/page3"

# --- every verb, and every option of each ------------------------------
"$cc" --help >"$tmp/help"
verbs=$(sed -n '/^Verbs:/,/^$/s/^  \([a-z][a-z]*\)  .*/\1/p' "$tmp/help")
[[ $(wc -w <<<"$verbs") -ge 12 ]] || fail "--help lists too few verbs: $verbs"
for verb in $verbs; do
    grep -qx "\.SS $verb" "$tmp/page1" ||
        fail "captcha-check.1 has no .SS $verb"
    [[ $verb == help ]] && continue
    # The verb's section: from its .SS to the next .SS or .SH.
    section=$(awk -v v=".SS $verb" '
        $0 == v { on = 1; next }
        on && /^\.S[SH] / { exit }
        on { print }' "$tmp/page1")
    "$cc" "$verb" --help >"$tmp/verb-help"
    for opt in $(grep -o -- '--[a-z][a-z-]*' "$tmp/verb-help" | sort -u); do
        case $opt in --help | --version) continue ;; esac
        grep -q -- "$opt\b" <<<"$section" ||
            fail "captcha-check.1: section $verb lacks $opt"
    done
done
# The global options and the sections of a man page.
for opt in --store --key --db --help --version; do
    grep -q -- "$opt" "$tmp/page1" || fail "captcha-check.1 lacks $opt"
done
for sh in NAME SYNOPSIS DESCRIPTION ENVIRONMENT "EXIT STATUS" FILES \
    EXAMPLES "SEE ALSO"; do
    grep -qx "\.SH $sh" "$tmp/page1" || fail "captcha-check.1 has no .SH $sh"
done
# Every status the tool documents is in the table.
for status in 0 1 2 3 4 5 64 65 66 70 73 74; do
    grep -q "^$status|" "$tmp/page1" ||
        fail "captcha-check.1: exit status $status missing"
done
for var in REPLYGUARD_KEY_FILE REPLYGUARD_STORE REPLYGUARD_DB; do
    grep -q "^\.B $var$" "$tmp/page1" || fail "captcha-check.1 lacks $var"
done

# --- every exported call -----------------------------------------------
for fn in $(grep -o '\brg_[a-z0-9_]*' "$sym"); do
    grep -q "\b$fn\b *\"*()" "$tmp/page3" ||
        fail "replyguard.3 does not list $fn()"
done
for code in $(grep -o 'XX(E[A-Z]*' "$header" | cut -c4-); do
    grep -q "^RG_$code|" "$tmp/page3" ||
        fail "replyguard.3: error RG_$code missing"
done

# --- rendering ---------------------------------------------------------
have_man=false have_groff=false
command -v man >/dev/null && have_man=true
command -v groff >/dev/null && have_groff=true
if ! $have_man && ! $have_groff; then
    echo "note: neither man nor groff installed; rendering not checked" >&2
    [[ $failures -eq 0 ]] || exit 1
    exit 77
fi
for page in "$page1" "$page3"; do
    name=$(basename "$page")
    if $have_groff; then
        # -ww: every warning; -t: the tables; -z: no output, only messages.
        groff -t -man -Tutf8 -ww -z "$page" 2>"$tmp/warn" ||
            fail "groff cannot render $name"
        [[ ! -s $tmp/warn ]] || fail "groff warns on $name: $(cat "$tmp/warn")"
    fi
    if $have_man; then
        MANWIDTH=80 MANPAGER=cat PAGER=cat man --warnings -l "$page" \
            >"$tmp/out" 2>"$tmp/warn" || fail "man -l cannot render $name"
        [[ ! -s $tmp/warn ]] || fail "man -l warns on $name: $(cat "$tmp/warn")"
        [[ $(wc -l <"$tmp/out") -gt 50 ]] ||
            fail "man -l renders $name short: $(head -c 300 "$tmp/out")"
        grep -q "^NAME" "$tmp/out" || fail "man -l: $name has no NAME"
    fi
done

[[ $failures -eq 0 ]]
