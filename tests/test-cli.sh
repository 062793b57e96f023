#!/usr/bin/env bash
# Tests captcha-check end to end: every verb, every verdict's exit status,
# the error paths, and replay across separate processes.
#
# Usage: test-cli.sh PATH-TO-captcha-check [SCRATCH-PARENT-DIR]
# Prints one line per failed check and exits 0 only when all pass.
set -euo pipefail

cc=${1:?usage: test-cli.sh PATH-TO-captcha-check [SCRATCH-DIR]}
tmp=$(mktemp -d "${2:-${TMPDIR:-/tmp}}/rg-cli.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

# Nothing from the caller's environment may choose keys or stores, and the
# default store must land in the scratch directory.
unset REPLYGUARD_KEY_FILE REPLYGUARD_STORE XDG_DATA_HOME
export HOME=$tmp/home
mkdir "$HOME"

# shellcheck source=tests/cli-common.sh
source "$(dirname "$0")/cli-common.sh"

# expect STATUS WORD DESCRIPTION: checks the last run's status and, unless
# WORD is empty, that stdout is exactly WORD.
expect() {
    if [[ $rc -ne $1 ]]; then
        fail "$3: exit $rc, wanted $1 (stdout '$out', stderr '$err')"
    elif [[ -n $2 && $out != "$2" ]]; then
        fail "$3: printed '$out', wanted '$2'"
    fi
}

# The answer to a question issued with --style digits: numbers are digits,
# operators either symbols (+, U+2212, U+00D7) or English words.
solve() {
    python3 -c '
import re, sys
q = sys.argv[1]
for old, new in (("\u2212", "-"), ("\u00d7", "*"), ("plus", "+"),
                 ("minus", "-"), ("times", "*")):
    q = q.replace(old, " " + new + " ")
terms = re.findall(r"\d+|[-+*]", q)
assert len(terms) == 3 and terms[1] in "+-*", (sys.argv[1], terms)
a, op, b = int(terms[0]), terms[1], int(terms[2])
print(a + b if op == "+" else a - b if op == "-" else a * b)
' "$1"
}

key=$tmp/key
stat_mode() { stat -c %a "$1"; }

# --- help and version ---------------------------------------------------
for args in "--help" "-h" "help" "--version"; do
    run $args
    expect 0 "" "captcha-check $args"
    [[ -n $out ]] || fail "captcha-check $args printed nothing"
done
for verb in keygen issue verify demo; do
    run "$verb" --help
    expect 0 "" "$verb --help"
    [[ $out == *"captcha-check $verb"* ]] || fail "$verb --help: no usage"
    run help "$verb"
    expect 0 "" "help $verb"
done
run
expect 64 "" "no verb"
run frobnicate
expect 64 "" "unknown verb"
[[ $err == "captcha-check: "* ]] || fail "unknown verb: message '$err'"
run help frobnicate
expect 64 "" "help for an unknown verb"

# --- keygen -------------------------------------------------------------
run keygen
expect 0 "" "keygen to stdout"
[[ $out =~ (^|$'\n')[0-9]+\ sign\ [A-Za-z0-9_-]{43}($|$'\n') ]] ||
    fail "keygen: no key line in '$out'"
run keygen --id 42
[[ $out == *$'\n'"42 sign "* ]] || fail "keygen --id 42: '$out'"

run keygen --out "$key"
expect 0 "" "keygen --out"
[[ -f $key && $(stat_mode "$key") == 600 ]] ||
    fail "keygen --out: mode $(stat_mode "$key"), wanted 600"
before=$(cat "$key")
run keygen --out "$key"
[[ $rc -ne 0 ]] || fail "keygen --out overwrote an existing file"
[[ $err == *"$key"* ]] || fail "keygen refusal does not name the file: '$err'"
[[ $(cat "$key") == "$before" ]] || fail "keygen refusal changed the file"
run keygen --out "$tmp/key2" --force
expect 0 "" "keygen --force on a new file"
run keygen --out "$tmp/key2" --force
expect 0 "" "keygen --force on an existing file"
[[ $(stat_mode "$tmp/key2") == 600 ]] || fail "keygen --force: mode"
run keygen --id -1
expect 64 "" "keygen --id -1"
run keygen --id 4294967296
expect 64 "" "keygen --id overflow"
run keygen --id 12x
expect 64 "" "keygen --id 12x"
run keygen stray
expect 64 "" "keygen with an argument"

# --- issue --------------------------------------------------------------
run issue --key "$key"
expect 0 "" "issue"
[[ $(wc -l <"$tmp/out") -eq 2 ]] || fail "issue: not two lines: '$out'"
token=$(sed -n 2p "$tmp/out")
[[ $token =~ ^[A-Za-z0-9_-]+$ ]] || fail "issue: token '$token'"

for locale in en ru de fr es; do
    run issue --key "$key" --json --locale "$locale" --style mixed --ttl 60
    expect 0 "" "issue --json --locale $locale"
    python3 -c '
import json, sys, time
o = json.loads(sys.argv[1])
assert set(o) == {"question", "spoken", "token", "locale", "expires_at"}, o
assert o["locale"] == sys.argv[2], o
assert all(isinstance(o[k], str) and o[k] for k in
           ("question", "spoken", "token")), o
assert isinstance(o["expires_at"], int), o
assert abs(o["expires_at"] - (time.time() + 60)) < 30, o
' "$out" "$locale" || fail "issue --json --locale $locale: '$out'"
done

run issue
expect 64 "" "issue without a key"
run issue --key "$key" --locale xx
expect 64 "" "issue --locale xx"
run issue --key "$key" --style roman
expect 64 "" "issue --style roman"
run issue --key "$key" --ttl 0
expect 64 "" "issue --ttl 0"
run issue --key "$key" --ttl ' 5'
expect 64 "" "issue --ttl ' 5'"
run issue --key "$key" --ttl 99999999999
expect 64 "" "issue --ttl overflow"
run issue --key "$tmp/missing"
expect 66 "" "issue with a missing key file"
[[ $err == "captcha-check: "*"$tmp/missing"* ]] ||
    fail "missing key file not named: '$err'"
printf 'not a key file\n' >"$tmp/bad-key"
run issue --key "$tmp/bad-key"
expect 66 "" "issue with a malformed key file"
[[ $err == *"$tmp/bad-key"* ]] || fail "bad key file not named: '$err'"

# REPLYGUARD_KEY_FILE stands in for --key.
rc=0
REPLYGUARD_KEY_FILE=$key "$cc" issue >"$tmp/out" 2>"$tmp/err" || rc=$?
[[ $rc -eq 0 ]] || fail "issue with REPLYGUARD_KEY_FILE: exit $rc"

# --- verify -------------------------------------------------------------
# Does this build have the sqlite: store? Without it, the cross-process
# checks cannot run, and everything else uses memory:.
store=sqlite:$tmp/replay.sqlite
run verify --key "$key" --store "$store" AAAA 1
if [[ $rc -eq 74 && $err == *"lacks that feature"* ]]; then
    echo "note: sqlite store not built; skipping its checks" >&2
    store=
fi

issue_digits() {
    run issue --key "$key" --style digits "$@"
    [[ $rc -eq 0 ]] || fail "issue --style digits: exit $rc: $err"
    question=$(sed -n 1p "$tmp/out")
    token=$(sed -n 2p "$tmp/out")
}

if [[ -n $store ]]; then
    # Wrong, then the same token again from a new process: replayed.
    issue_digits
    run verify --key "$key" --store "$store" --min-solve 0 "$token" 1000
    expect 1 wrong "verify a wrong answer"
    run verify --key "$key" --store "$store" --min-solve 0 "$token" 1000
    expect 4 replayed "verify the same token again"

    # A right answer passes, once.
    issue_digits
    answer=$(solve "$question")
    run verify --key "$key" --store "$store" --min-solve 0 "$token" "$answer"
    expect 0 pass "verify the answer to '$question'"
    run verify --key "$key" --store "$store" --min-solve 0 "$token" "$answer"
    expect 4 replayed "verify a passed token again"

    # REPLYGUARD_STORE stands in for --store.
    issue_digits
    rc=0
    REPLYGUARD_STORE=$store "$cc" verify --key "$key" --min-solve 0 \
        "$token" "$(solve "$question")" >"$tmp/out" 2>"$tmp/err" || rc=$?
    [[ $rc -eq 0 ]] || fail "verify with REPLYGUARD_STORE: exit $rc"
    run verify --key "$key" --store "$store" --min-solve 0 "$token" 0
    expect 4 replayed "REPLYGUARD_STORE was not the store used"

    # The default store is a private file under $XDG_DATA_HOME, else
    # under ~/.local/share; each keeps its spent tokens.
    issue_digits
    run verify --key "$key" --min-solve 0 "$token" 1000
    expect 1 wrong "verify with the default store"
    db=$HOME/.local/share/replyguard/replay.sqlite
    [[ -f $db ]] || fail "default store: no $db"
    [[ $(stat_mode "$HOME/.local/share/replyguard") == 700 ]] ||
        fail "default store directory is not mode 700"
    run verify --key "$key" --min-solve 0 "$token" 1000
    expect 4 replayed "default store, second process"
    rc=0
    XDG_DATA_HOME=$tmp/xdg "$cc" verify --key "$key" --min-solve 0 \
        "$token" 1000 >"$tmp/out" 2>"$tmp/err" || rc=$?
    [[ $rc -eq 1 ]] || fail "verify with XDG_DATA_HOME: exit $rc: $(cat "$tmp/err")"
    [[ -f $tmp/xdg/replyguard/replay.sqlite ]] ||
        fail "XDG_DATA_HOME: no store file"
fi
store=${store:-memory:}

# The time trap, at its default of 5 seconds.
issue_digits
run verify --key "$key" --store "$store" "$token" "$(solve "$question")"
expect 3 too_fast "verify at once"

# Expiry.
issue_digits --ttl 1
sleep 2
run verify --key "$key" --store "$store" --min-solve 0 "$token" 0
expect 2 expired "verify an expired token"

# Binding: the right binding passes, another one is a forgery.
issue_digits --bind post-42
run verify --key "$key" --store "$store" --bind post-43 --min-solve 0 \
    "$token" "$(solve "$question")"
expect 5 forged "verify with another binding"
run verify --key "$key" --store "$store" --bind post-42 --min-solve 0 \
    "$token" "$(solve "$question")"
expect 0 pass "verify with the same binding"

# Tampering: one character inside the field tag changed.
issue_digits
pos=60
c=${token:pos:1}
[[ $c == A ]] && new=B || new=A
tampered=${token:0:pos}$new${token:pos+1}
run verify --key "$key" --store "$store" --min-solve 0 "$tampered" 1
expect 5 forged "verify a tampered token"

# Another key: forged.
run keygen --out "$tmp/other-key"
run verify --key "$tmp/other-key" --store "$store" --min-solve 0 "$token" 1
expect 5 forged "verify with another key"

run verify --key "$key" --store "$store" garbage 1
expect 65 malformed "verify garbage"
run verify --key "$key" --store "$store" "" 1
expect 65 malformed "verify an empty token"

# Usage errors.
run verify --key "$key" "$token"
expect 64 "" "verify without ANSWER"
run verify --key "$key" "$token" 1 2
expect 64 "" "verify with three arguments"
run verify "$token" 1
expect 64 "" "verify without a key"
run verify --key "$key" --min-solve x "$token" 1
expect 64 "" "verify --min-solve x"
run verify --key "$key" --min-solve -1 "$token" 1
expect 64 "" "verify --min-solve -1"
run verify --key "$key" --bogus "$token" 1
expect 64 "" "verify --bogus"
[[ $err == "captcha-check: "*"--bogus"* ]] || fail "--bogus: message '$err'"
run verify --key
expect 64 "" "verify --key without a value"

# Key file errors name the file and exit 66.
run verify --key "$tmp/missing" --store "$store" "$token" 1
expect 66 "" "verify with a missing key file"
[[ $err == "captcha-check: "*"$tmp/missing"* ]] ||
    fail "verify: missing key file not named: '$err'"
[[ $(printf '%s\n' "$err" | wc -l) -eq 1 ]] ||
    fail "verify: more than one line on stderr: '$err'"
run verify --key "$tmp/bad-key" --store "$store" "$token" 1
expect 66 "" "verify with a malformed key file"

# Store errors exit 74.
run verify --key "$key" --store "nosuch:thing" "$token" 1
expect 74 "" "verify with an unknown store scheme"
run verify --key "$key" --store "sqlite:$tmp/no/such/dir/x.sqlite" "$token" 1
expect 74 "" "verify with an unopenable store"

# --- demo ---------------------------------------------------------------
rc=0
printf 'q\n' | "$cc" demo >"$tmp/out" 2>"$tmp/err" || rc=$?
[[ $rc -eq 0 ]] || fail "demo, q: exit $rc: $(cat "$tmp/err")"
rc=0
printf '1\nseven\n' | "$cc" demo --min-solve 0 --style digits \
    >"$tmp/out" 2>"$tmp/err" || rc=$?
[[ $rc -eq 0 ]] || fail "demo to EOF: exit $rc: $(cat "$tmp/err")"
grep -q 'of 2 right' "$tmp/out" || fail "demo: no score: $(cat "$tmp/out")"
rc=0
"$cc" demo --locale de </dev/null >"$tmp/out" 2>"$tmp/err" || rc=$?
[[ $rc -eq 0 ]] || fail "demo, empty input: exit $rc"
run demo --locale xx
expect 64 "" "demo --locale xx"

# A demo round that answers right: read the question it shows through a
# FIFO, solve it, and answer.
mkfifo "$tmp/demo-in" "$tmp/demo-out"
"$cc" demo --min-solve 0 --style digits <"$tmp/demo-in" >"$tmp/demo-out" \
    2>"$tmp/err" &
demo_pid=$!
exec 3>"$tmp/demo-in" 4<"$tmp/demo-out"
IFS= read -r _ <&4 # the instructions
IFS= read -r _ <&4 # a blank line
IFS= read -r question <&4
printf '%s\nq\n' "$(solve "$question")" >&3
exec 3>&-
rest=$(cat <&4)
exec 4<&-
rc=0
wait "$demo_pid" || rc=$?
[[ $rc -eq 0 ]] || fail "demo round: exit $rc"
[[ $rest == *"Correct!"* ]] || fail "demo: '$question' answered: '$rest'"

[[ $failures -eq 0 ]]
