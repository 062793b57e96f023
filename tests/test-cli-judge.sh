#!/usr/bin/env bash
# Tests the deciding verbs of captcha-check end to end: judge over JSON
# Lines (every reason, policies, rate limits that persist, the content
# filter, bad lines, exit statuses) and limit.
#
# Usage: test-cli-judge.sh PATH-TO-captcha-check [SCRATCH-PARENT-DIR]
# Prints one line per failed check and exits 0 only when all pass (77, a
# skip, when this build has no sqlite: store, which the verbs need to keep
# anything from one run to the next).
set -euo pipefail

cc=${1:?usage: test-cli-judge.sh PATH-TO-captcha-check [SCRATCH-DIR]}
tmp=$(mktemp -d "${2:-${TMPDIR:-/tmp}}/rg-cli-judge.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

# Nothing from the caller's environment may choose keys, stores or models,
# and the default store must land in the scratch directory.
unset REPLYGUARD_KEY_FILE REPLYGUARD_STORE REPLYGUARD_DB XDG_DATA_HOME
export HOME=$tmp/home
mkdir "$HOME"

# shellcheck source=tests/cli-common.sh
source "$(dirname "$0")/cli-common.sh"

# expect STATUS DESCRIPTION: checks the last run's status.
expect() {
    [[ $rc -eq $1 ]] || fail "$2: exit $rc, wanted $1 (stderr '$err')"
}

key=$tmp/key
run keygen --out "$key"
expect 0 "keygen"

# Does this build have the sqlite: store?
run verify --key "$key" --store "sqlite:$tmp/probe.sqlite" AAAA 1
if [[ $rc -eq 74 && $err == *"lacks that feature"* ]]; then
    echo "note: sqlite store not built; skipping" >&2
    exit 77
fi

# Python, found once: a version manager's shim in front of it would cost
# a fraction of a second on each of the many checks.
py=$(python3 -c 'import sys; print(sys.executable)')

# solve QUESTION: sets $solved to the answer to a question issued with
# --style digits: numbers are digits, operators either symbols (+, U+2212,
# U+00D7) or English words. In bash, since it runs for every submission.
solve() {
    local q=$1
    q=${q//$'\xe2\x88\x92'/ - }
    q=${q//$'\xc3\x97'/ * }
    q=${q//plus/ + }
    q=${q//minus/ - }
    q=${q//times/ * }
    solved=0
    if [[ ! $q =~ ([0-9]+)[^-+*0-9]*([-+*])[^0-9]*([0-9]+) ]]; then
        fail "cannot solve '$1'"
        return
    fi
    local a=$((10#${BASH_REMATCH[1]})) b=$((10#${BASH_REMATCH[3]}))
    case ${BASH_REMATCH[2]} in
    +) solved=$((a + b)) ;;
    -) solved=$((a - b)) ;;
    *) solved=$((a * b)) ;;
    esac
}

# challenge BINDING [ISSUE-OPTION]...: issues a challenge bound to
# BINDING; sets $token and $answer (the right one).
challenge() {
    local binding=$1
    shift
    run issue --key "$key" --style digits --bind "$binding" "$@"
    [[ $rc -eq 0 ]] || fail "issue: exit $rc: $err"
    token=$(sed -n 2p "$tmp/out")
    solve "$(sed -n 1p "$tmp/out")"
    answer=$solved
}

# submission [KEY VALUE]...: one JSON line; values are strings, except a
# value that starts with '#', which is the JSON after it ("#42").
submission() {
    local line='' sep='' v
    while (($# >= 2)); do
        v=$2
        if [[ $v == '#'* ]]; then
            v=${v:1}
        else
            v=${v//\\/\\\\}
            v=\"${v//\"/\\\"}\"
        fi
        line+="$sep\"$1\":$v"
        sep=,
        shift 2
    done
    printf '{%s}\n' "$line"
}

# check FILE SCRIPT: runs a Python check over the JSON Lines in FILE (a
# list `rows`); every row must be a well-formed decision; the script
# asserts.
check() {
    "$py" -c '
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1], encoding="utf-8")]
names = ["honeypot", "captcha_wrong", "captcha_expired", "captcha_too_fast",
         "captcha_replayed", "captcha_forged", "captcha_malformed",
         "rate_limited", "spam", "unsure", "store_unavailable"]
for r in rows:
    assert set(r) - {"id"} == {"action", "reasons", "spamicity",
                               "retry_after_ms"}, r
    assert r["action"] in ("accept", "moderate", "reject"), r
    assert all(n in names for n in r["reasons"]), r
    order = [names.index(n) for n in r["reasons"]]
    assert order == sorted(set(order)), r
    assert r["spamicity"] is None or 0 <= r["spamicity"] <= 1, r
    assert isinstance(r["retry_after_ms"], int), r
    assert r["retry_after_ms"] >= 0, r
def decision(r, action, reasons):
    assert (r["action"], r["reasons"]) == (action, reasons), \
        (r, "wanted", action, reasons)
exec(sys.argv[2])
' "$1" "$2"
}

store=sqlite:$tmp/store.sqlite
# Most checks are about one layer: no rate limit gets in their way.
echo '{"rate_limit":null}' >"$tmp/no-limit.json"

# judge_with INPUT OPTION...: judges the lines of INPUT with the key and
# the store; the decisions are left in $tmp/out.
judge_with() {
    local input=$1
    shift
    run judge --key "$key" --store "$store" "$@" "$input"
}

# --- help and usage -----------------------------------------------------
for verb in judge limit; do
    for flag in --help -h; do
        run "$verb" "$flag"
        expect 0 "$verb $flag"
        [[ $out == "Usage: captcha-check $verb"* ]] ||
            fail "$verb $flag: no usage: '$out'"
    done
    run help "$verb"
    expect 0 "help $verb"
done
run --help
[[ $out == *judge* && $out == *limit* ]] || fail "--help lacks the verbs"

: >"$tmp/empty.jsonl"
run judge --key "$key" --store "$store" --bogus "$tmp/empty.jsonl"
expect 64 "judge --bogus"
[[ $err == "captcha-check: "*"--bogus"* ]] || fail "--bogus: message '$err'"
run judge --store "$store" "$tmp/empty.jsonl"
expect 64 "judge without a key"
run judge --key "$key" --store "$store" "$tmp/empty.jsonl" "$tmp/empty.jsonl"
expect 64 "judge with two files"
run judge --key "$key" --store "$store" --min-solve 1x "$tmp/empty.jsonl"
expect 64 "judge --min-solve 1x"
run judge --key "$key" --store "$store" --min-solve -1 "$tmp/empty.jsonl"
expect 64 "judge --min-solve -1"
run judge --key "$key" --store "$store" --db memory: "$tmp/empty.jsonl"
expect 64 "judge --db memory:"
run judge --key "$key" --store "$store" --policy
expect 64 "judge --policy without a value"
[[ $(printf '%s\n' "$err" | wc -l) -eq 1 ]] ||
    fail "a usage error is not one line: '$err'"

# --- fatal errors -------------------------------------------------------
run judge --key "$tmp/missing-key" --store "$store" "$tmp/empty.jsonl"
expect 66 "judge with a missing key file"
[[ $err == "captcha-check: $tmp/missing-key: "* ]] ||
    fail "missing key file not named: '$err'"
printf 'not a key file\n' >"$tmp/bad-key"
run judge --key "$tmp/bad-key" --store "$store" "$tmp/empty.jsonl"
expect 66 "judge with a malformed key file"
run judge --key "$key" --store "$store" "$tmp/missing.jsonl"
expect 66 "judge a missing input file"
[[ $err == *"$tmp/missing.jsonl"* ]] || fail "missing input not named: '$err'"
run judge --key "$key" --store "nosuch:thing" "$tmp/empty.jsonl"
expect 74 "judge with an unknown store scheme"
run judge --key "$key" --store "sqlite:$tmp/no/such/dir/s.sqlite" \
    "$tmp/empty.jsonl"
expect 74 "judge with an unopenable store"
run judge --key "$key" --store "$store" --db "sqlite:$tmp/no-model.sqlite" \
    "$tmp/empty.jsonl"
expect 74 "judge with a missing model"
[[ $err == *"$tmp/no-model.sqlite"* ]] || fail "missing model not named: '$err'"
[[ ! -e $tmp/no-model.sqlite ]] || fail "judge created an empty model"

# Empty input: nothing out, success.
judge_with "$tmp/empty.jsonl"
expect 0 "judge of nothing"
[[ -z $out && -z $err ]] || fail "judge of nothing: '$out' '$err'"

# --- the challenge ------------------------------------------------------
ip=203.0.113.10
{
    challenge post-1
    submission id right ip $ip binding post-1 token "$token" \
        answer "$answer" body "Nice post"
    right_token=$token right_answer=$answer
    challenge post-1
    submission id wrong ip $ip binding post-1 token "$token" \
        answer $((answer + 1))
    submission id replayed ip $ip binding post-1 token "$right_token" \
        answer "$right_answer"
    challenge post-1
    submission id other-binding ip $ip binding post-2 token "$token" \
        answer "$answer"
    challenge post-1
    pos=60
    c=${token:pos:1}
    [[ $c == A ]] && new=B || new=A
    submission id tampered ip $ip binding post-1 \
        token "${token:0:pos}$new${token:pos+1}" answer "$answer"
    submission id garbage ip $ip binding post-1 token garbage answer 1
    submission id no-token ip $ip binding post-1 answer 1
    challenge post-1
    submission id honeypot ip $ip binding post-1 token "$token" \
        answer "$answer" honeypot "https://spam.example"
} >"$tmp/captcha.jsonl"
judge_with "$tmp/captcha.jsonl" --min-solve 0 --policy "$tmp/no-limit.json"
expect 0 "judge the challenges"
[[ -z $err ]] || fail "judge the challenges: stderr '$err'"
cp "$tmp/out" "$tmp/captcha.out"
check "$tmp/captcha.out" '
assert [r["id"] for r in rows] == ["right", "wrong", "replayed",
    "other-binding", "tampered", "garbage", "no-token", "honeypot"], rows
decision(rows[0], "accept", [])
assert rows[0]["spamicity"] is None and rows[0]["retry_after_ms"] == 0
decision(rows[1], "reject", ["captcha_wrong"])
decision(rows[2], "reject", ["captcha_replayed"])
decision(rows[3], "reject", ["captcha_forged"])
decision(rows[4], "reject", ["captcha_forged"])
decision(rows[5], "reject", ["captcha_malformed"])
decision(rows[6], "reject", ["captcha_malformed"])
assert rows[7]["action"] == "reject" and "honeypot" in rows[7]["reasons"]
' || fail "judge the challenges: $(cat "$tmp/captcha.out")"

# A token spent in one run is spent in the next: the store persists.
submission id again ip $ip binding post-1 token "$right_token" \
    answer "$right_answer" >"$tmp/again.jsonl"
judge_with "$tmp/again.jsonl" --min-solve 0 --policy "$tmp/no-limit.json"
expect 0 "judge a token spent by another run"
check "$tmp/out" 'decision(rows[0], "reject", ["captcha_replayed"])' ||
    fail "replay across runs: $out"

# The time trap, at its default of 5 seconds, and expiry.
challenge post-1
submission id fast ip $ip binding post-1 token "$token" answer "$answer" \
    >"$tmp/fast.jsonl"
challenge post-1 --ttl 1
submission id late ip $ip binding post-1 token "$token" answer "$answer" \
    >"$tmp/late.jsonl"
judge_with "$tmp/fast.jsonl" --policy "$tmp/no-limit.json"
expect 0 "judge at once"
check "$tmp/out" 'decision(rows[0], "reject", ["captcha_too_fast"])' ||
    fail "too fast: $out"
sleep 2
judge_with "$tmp/late.jsonl" --policy "$tmp/no-limit.json" --min-solve 0
check "$tmp/out" 'decision(rows[0], "reject", ["captcha_expired"])' ||
    fail "expired: $out"

# Standard input, with and without "-"; a program may write one line and
# wait for its decision, since judge flushes before it waits for input.
challenge post-1
submission ip $ip binding post-1 token "$token" answer "$answer" \
    >"$tmp/stdin.jsonl"
run judge --key "$key" --store "$store" --min-solve 0 \
    --policy "$tmp/no-limit.json" <"$tmp/stdin.jsonl"
expect 0 "judge from stdin"
check "$tmp/out" '
decision(rows[0], "accept", [])
assert "id" not in rows[0], rows[0]
' || fail "judge from stdin: $out"
run judge --key "$key" --store "$store" --min-solve 0 \
    --policy "$tmp/no-limit.json" - <"$tmp/stdin.jsonl"
check "$tmp/out" 'decision(rows[0], "reject", ["captcha_replayed"])' ||
    fail "judge -: $out"
for i in 1 2 3; do
    challenge coprocess
    submission id "#$i" ip $ip binding coprocess token "$token" \
        answer "$answer"
done >"$tmp/coprocess.jsonl"
timeout 30 "$py" -c '
import json, subprocess, sys
p = subprocess.Popen(sys.argv[1:4] + ["--min-solve", "0", "--policy",
                     sys.argv[4]], stdin=subprocess.PIPE,
                     stdout=subprocess.PIPE)
for i, line in enumerate(open(sys.argv[5], "rb"), 1):
    p.stdin.write(line)
    p.stdin.flush()
    r = json.loads(p.stdout.readline())
    assert r["id"] == i and r["action"] == "accept", r
p.stdin.close()
assert p.wait() == 0
' "$cc" judge "--key=$key" "$tmp/no-limit.json" "$tmp/coprocess.jsonl" \
    </dev/null || fail "judge as a coprocess"

# --- ids and bad lines --------------------------------------------------
# Each bad line is reported as FILE:LINE and skipped; the good ones get
# their decision, in order, with the id as given; the status is 65.
bad=$tmp/bad.jsonl
{
    submission id '#9007199254740993' ip $ip token garbage
    echo 'not json'
    submission id s2 ip 'not an address' token garbage
    submission id s3 ip 203.0.113.999 token garbage
    echo '["an","array"]'
    submission id "s5 \"quoted\" caf$(printf '\303\251')" ip $ip token garbage
    submission id s6 ip $ip body '#5'
    submission id '#1.5' ip $ip
    submission id s8 ip 'fe80::1%eth0'
    submission id s9
    echo ''
    submission id '#-3' ip $ip token garbage
    submission id s12 ip $ip honeypot '#[]'
    printf '{"id":"s13","ip":"%s","body":"nul \\u0000 inside"}\n' $ip
    printf '{"id":"last","ip":"%s","token":"garbage"}' $ip
} >"$bad"
# A limiter that counts by client and never limits here: a line without
# an ip is then bad too, since it cannot be counted.
echo '{"rate_limit":{"rate":"1/s","burst":1000}}' >"$tmp/roomy.json"
judge_with "$bad" --policy "$tmp/roomy.json"
expect 65 "judge with bad lines"
got=$(sed -n "s|^captcha-check: $bad:\([0-9]*\): .*|\1|p" "$tmp/err" |
    tr '\n' ' ')
[[ $got == "2 3 4 5 7 8 9 10 11 13 14 " ]] ||
    fail "bad lines reported: '$got': $(cat "$tmp/err")"
[[ $(wc -l <"$tmp/err") -eq 11 ]] ||
    fail "stderr is not one line per bad line: $(cat "$tmp/err")"
grep -q "^captcha-check: $bad:3: .*\"ip\".*not an address" "$tmp/err" ||
    fail "a bad ip is not named: $(cat "$tmp/err")"
check "$tmp/out" '
ids = [r.get("id") for r in rows]
assert ids == [9007199254740993, "s5 \"quoted\" caf\u00e9", -3, "last"], ids
for r in rows:
    decision(r, "reject", ["captcha_malformed"])
' || fail "judge with bad lines: $(cat "$tmp/out")"
grep -q '^{"id":9007199254740993,' "$tmp/out" ||
    fail "a big id is not echoed digit for digit: $(cat "$tmp/out")"

# --- rate limits --------------------------------------------------------
# A burst of 2: three submissions from one client go through, the fourth
# is limited; another client is not; the clients of one IPv6 /64 count
# together, and another /64 apart.
cat >"$tmp/small-burst.json" <<'EOF'
{"rate_limit": {"rate": "1/h", "burst": 2}}
EOF
{
    for client in 198.51.100.7 198.51.100.7 198.51.100.7 198.51.100.7 \
        198.51.100.8 2001:db8:1::1 2001:db8:1::2 2001:db8:1:0:ffff::3 \
        2001:db8:1::4 2001:db8:2::1; do
        challenge limits
        submission id "$client" ip "$client" binding limits token "$token" \
            answer "$answer"
    done
} >"$tmp/limits.jsonl"
judge_with "$tmp/limits.jsonl" --min-solve 0 --policy "$tmp/small-burst.json"
expect 0 "judge a burst"
cp "$tmp/out" "$tmp/limits.out"
check "$tmp/limits.out" '
assert len(rows) == 10, rows
for r in rows[:3] + rows[4:8] + rows[9:]:
    decision(r, "accept", [])
    assert r["retry_after_ms"] == 0, r
for r in rows[3], rows[8]:
    decision(r, "reject", ["rate_limited"])
    assert 0 < r["retry_after_ms"] <= 3600 * 1000, r
' || fail "judge a burst: $(cat "$tmp/limits.out")"

# The limits persist in the store: the same client is still limited in
# the next run, another one is not.
{
    challenge limits
    submission id again ip 198.51.100.7 binding limits token "$token" \
        answer "$answer"
    challenge limits
    submission id fresh ip 198.51.100.9 binding limits token "$token" \
        answer "$answer"
} >"$tmp/limits2.jsonl"
judge_with "$tmp/limits2.jsonl" --min-solve 0 --policy "$tmp/small-burst.json"
check "$tmp/out" '
decision(rows[0], "reject", ["rate_limited"])
decision(rows[1], "accept", [])
' || fail "rate limits across runs: $out"

# The defaults limit each client to a burst of 4 (5 at once), with every
# other action of the library's default policy.
{
    for i in 1 2 3 4 5 6; do
        challenge defaults
        submission id "#$i" ip 192.0.2.66 binding defaults token "$token" \
            answer "$answer"
    done
} >"$tmp/defaults.jsonl"
judge_with "$tmp/defaults.jsonl" --min-solve 0
expect 0 "judge with the default policy"
check "$tmp/out" '
for r in rows[:5]:
    decision(r, "accept", [])
decision(rows[5], "reject", ["rate_limited"])
' || fail "the default rate limit: $out"

# A failed challenge costs failure_cost, so a client that guesses is
# limited sooner; with on_rate_limited moderate, it is held rather than
# refused, and the challenge is still checked.
cat >"$tmp/failures.json" <<'EOF'
{"rate_limit": {"rate": "1/h", "burst": 2}, "failure_cost": 3,
 "on_rate_limited": "moderate", "limit_by": "client"}
EOF
{
    challenge failures
    submission id wrong ip 192.0.2.77 binding failures token "$token" \
        answer $((answer + 1))
    challenge failures
    submission id right ip 192.0.2.77 binding failures token "$token" \
        answer "$answer"
} >"$tmp/failures.jsonl"
judge_with "$tmp/failures.jsonl" --min-solve 0 --policy "$tmp/failures.json"
expect 0 "judge with failure_cost"
check "$tmp/out" '
decision(rows[0], "reject", ["captcha_wrong"])
decision(rows[1], "moderate", ["rate_limited"])
' || fail "failure_cost: $out"

# Counting by binding: two clients on one post share its limit.
cat >"$tmp/by-binding.json" <<'EOF'
{"rate_limit": {"rate": "1/h", "burst": 0}, "limit_by": "binding"}
EOF
{
    challenge post-9
    submission id a ip 192.0.2.1 binding post-9 token "$token" \
        answer "$answer"
    challenge post-9
    submission id b ip 192.0.2.2 binding post-9 token "$token" \
        answer "$answer"
    challenge post-10
    submission id c ip 192.0.2.2 binding post-10 token "$token" \
        answer "$answer"
} >"$tmp/by-binding.jsonl"
judge_with "$tmp/by-binding.jsonl" --min-solve 0 --policy "$tmp/by-binding.json"
expect 0 "judge with limit_by binding"
check "$tmp/out" '
assert [r["action"] for r in rows] == ["accept", "reject", "accept"], rows
' || fail "limit_by binding: $out"

# The coarser IPv6 tiers: a /48 with room for two submissions limits the
# third from other /64s of the same /48.
cat >"$tmp/tiers.json" <<'EOF'
{"rate_limit": {"rate": "1/h", "burst": 10},
 "ipv6_56": null,
 "ipv6_48": {"rate": "1/h", "burst": 1}}
EOF
{
    for client in 2001:db8:77:1::1 2001:db8:77:2::1 2001:db8:77:3::1 \
        2001:db8:78::1 192.0.2.99; do
        challenge tiers
        submission id "$client" ip "$client" binding tiers token "$token" \
            answer "$answer"
    done
} >"$tmp/tiers.jsonl"
judge_with "$tmp/tiers.jsonl" --min-solve 0 --policy "$tmp/tiers.json"
expect 0 "judge with IPv6 tiers"
check "$tmp/out" '
assert [r["action"] for r in rows] == ["accept", "accept", "reject",
                                       "accept", "accept"], rows
assert rows[2]["reasons"] == ["rate_limited"], rows[2]
' || fail "IPv6 tiers: $out"

# Escalation: after a failure the client's minimum solve time grows by
# step_s, so an answer that was quick enough is too fast.
cat >"$tmp/escalation.json" <<'EOF'
{"rate_limit": null,
 "escalation": {"step_s": 60, "cap_s": 120, "rate": "1/h", "burst": 5}}
EOF
{
    challenge escalation
    submission id first ip 192.0.2.55 binding escalation token "$token" \
        answer "$answer"
    challenge escalation
    submission id wrong ip 192.0.2.55 binding escalation token "$token" \
        answer $((answer + 1))
    challenge escalation
    submission id after ip 192.0.2.55 binding escalation token "$token" \
        answer "$answer"
    challenge escalation
    submission id other ip 192.0.2.56 binding escalation token "$token" \
        answer "$answer"
} >"$tmp/escalation.jsonl"
judge_with "$tmp/escalation.jsonl" --min-solve 0 \
    --policy "$tmp/escalation.json"
expect 0 "judge with escalation"
check "$tmp/out" '
decision(rows[0], "accept", [])
decision(rows[1], "reject", ["captcha_wrong"])
decision(rows[2], "reject", ["captcha_too_fast"])
decision(rows[3], "accept", [])
' || fail "escalation: $out"

# --- the policy file ----------------------------------------------------
cat >"$tmp/lenient.json" <<'EOF'
{
  "on_captcha_wrong": "moderate",
  "on_honeypot": "accept",
  "rate_limit": null
}
EOF
{
    challenge lenient
    submission id wrong ip $ip binding lenient token "$token" \
        answer $((answer + 1))
    challenge lenient
    submission id honeypot ip $ip binding lenient token "$token" \
        answer "$answer" honeypot x
} >"$tmp/lenient.jsonl"
judge_with "$tmp/lenient.jsonl" --min-solve 0 --policy "$tmp/lenient.json"
expect 0 "judge with a lenient policy"
check "$tmp/out" '
decision(rows[0], "moderate", ["captcha_wrong"])
decision(rows[1], "accept", ["honeypot"])
' || fail "a policy that changes actions: $out"

# bad_policy NAME JSON [MESSAGE]: a policy file that is a usage error,
# reported on one line naming the file (and MESSAGE, when given).
bad_policy() {
    printf '%s\n' "$2" >"$tmp/bad-policy.json"
    run judge --key "$key" --store "$store" --policy "$tmp/bad-policy.json" \
        "$tmp/empty.jsonl"
    expect 64 "policy with $1"
    [[ $err == "captcha-check: judge: $tmp/bad-policy.json"* ]] ||
        fail "policy with $1: file not named: '$err'"
    [[ -z ${3:-} || $err == *"$3"* ]] ||
        fail "policy with $1: '$3' not in '$err'"
    [[ $(printf '%s\n' "$err" | wc -l) -eq 1 ]] ||
        fail "policy with $1: not one line: '$err'"
}
bad_policy "an unknown key" '{"on_spam":"reject","on_spamm":"reject"}' \
    '"on_spamm"'
bad_policy "an unknown nested key" '{"rate_limit":{"rate":"1/s","bust":2}}' \
    '"rate_limit.bust"'
bad_policy "an action of the wrong type" '{"on_spam":1}' '"on_spam"'
bad_policy "an unknown action" '{"on_spam":"delete"}' '"on_spam"'
bad_policy "a rate limit of the wrong type" '{"rate_limit":5}' '"rate_limit"'
bad_policy "a rate of the wrong type" '{"rate_limit":{"rate":5}}' \
    '"rate_limit.rate"'
bad_policy "a zero rate" '{"rate_limit":{"rate":"0/s"}}' '0/s'
bad_policy "a rate without a unit" '{"rate_limit":{"rate":"5"}}'
bad_policy "a burst out of range" '{"rate_limit":{"burst":1000001}}' \
    '"rate_limit.burst"'
bad_policy "a negative burst" '{"rate_limit":{"burst":-1}}'
bad_policy "a real burst" '{"rate_limit":{"burst":1.5}}'
bad_policy "failure_cost 0" '{"failure_cost":0}' '"failure_cost"'
bad_policy "failure_cost 1001" '{"failure_cost":1001}' '"failure_cost"'
bad_policy "an unknown limit_by" '{"limit_by":"post"}' '"limit_by"'
bad_policy "an escalation of the wrong type" '{"escalation":true}' \
    '"escalation"'
bad_policy "an escalation step of the wrong type" \
    '{"escalation":{"step_s":"10"}}' '"escalation.step_s"'
bad_policy "step_s outside escalation" '{"ipv6_56":{"step_s":10}}' \
    '"ipv6_56.step_s"'
bad_policy "an array" '["on_spam"]' 'not a JSON object'
bad_policy "a key given twice" '{"on_spam":"reject","on_spam":"accept"}'
bad_policy "broken JSON" '{"on_spam": "reject",
  "on_unsure": }' "bad-policy.json:2:"
bad_policy "a burst that takes a century" \
    '{"rate_limit":{"rate":"0.004/h","burst":1000000}}' '100 years'
bad_policy "a rate too slow" '{"rate_limit":{"rate":"0.001/h"}}' '0.001/h'
run judge --key "$key" --store "$store" --policy "$tmp/no-policy.json" \
    "$tmp/empty.jsonl"
expect 66 "judge with a missing policy file"
[[ $err == "captcha-check: $tmp/no-policy.json: "* ]] ||
    fail "missing policy file not named: '$err'"

# Every member at once, each in range.
cat >"$tmp/full.json" <<'EOF'
{
  "on_honeypot": "reject", "on_captcha_wrong": "reject",
  "on_captcha_expired": "reject", "on_captcha_too_fast": "reject",
  "on_captcha_replayed": "reject", "on_captcha_forged": "reject",
  "on_captcha_malformed": "reject", "on_rate_limited": "reject",
  "on_spam": "reject", "on_unsure": "moderate",
  "on_store_unavailable": "moderate",
  "rate_limit": {"rate": "0.5/m", "burst": 4},
  "limit_by": "client_binding", "failure_cost": 1000,
  "ipv6_56": {"rate": "10/h", "burst": 20},
  "ipv6_48": {"rate": "2.5/s", "burst": 100},
  "escalation": {"step_s": 10, "cap_s": 300, "rate": "1/h", "burst": 10}
}
EOF
challenge full
submission id full ip 2001:db8:99::1 binding full token "$token" \
    answer "$answer" >"$tmp/full.jsonl"
judge_with "$tmp/full.jsonl" --min-solve 0 --policy "$tmp/full.json"
expect 0 "judge with every policy member"
check "$tmp/out" 'decision(rows[0], "accept", [])' || fail "full policy: $out"

# --- the content filter -------------------------------------------------
cat >"$tmp/spam.jsonl" <<'EOF'
{"body":"Buy cheap pills at http://pills.example.com"}
{"body":"Cheap viagra and cialis, no prescription needed http://pills.example.com/order"}
{"body":"Best online casino bonus! Free spins at http://casino.example.net"}
{"body":"Earn $5000 a week working from home, click http://money.example.org"}
{"body":"Cheap replica watches, best prices, visit http://watches.example.com"}
{"body":"Discount cialis, cheap generic pills, fast shipping http://pills.example.com/cialis"}
{"body":"Online pharmacy: cheap pills without prescription http://pharmacy.example.com/buy"}
{"body":"Casino bonus, free spins, cheap chips, win big http://casino.example.net/win"}
EOF
cat >"$tmp/ham.jsonl" <<'EOF'
{"body":"Great article, thanks for explaining the GCRA part"}
{"body":"I had never understood token buckets before, this helped a lot"}
{"body":"Could you write a follow-up about rate limiting behind a proxy?"}
{"body":"The diagram of the replay guard made it click for me, thank you"}
{"body":"Thanks, the explanation of the HMAC binding was very clear"}
{"body":"Great write-up on the SQLite WAL mode and crash safety"}
{"body":"The part about key rotation answered exactly my question, thanks"}
{"body":"Thanks for the article, the accessibility section is really thoughtful"}
EOF
db=sqlite:$tmp/model.sqlite
run train --db "$db" --spam "$tmp/spam.jsonl"
expect 0 "train spam"
run train --db "$db" --ham "$tmp/ham.jsonl"
expect 0 "train ham"
{
    challenge filter
    submission id spam ip $ip binding filter token "$token" \
        answer "$answer" \
        body "Cheap pills and casino bonus, buy now at http://pills.example.com"
    challenge filter
    submission id ham ip $ip binding filter token "$token" \
        answer "$answer" \
        body "Thanks for the great article, the GCRA explanation was clear"
    challenge filter
    submission id unsure ip $ip binding filter token "$token" \
        answer "$answer" body "Cheap pills thanks"
    challenge filter
    submission id wrong ip $ip binding filter token "$token" \
        answer $((answer + 1)) body "Cheap pills at http://pills.example.com"
} >"$tmp/filter.jsonl"
judge_with "$tmp/filter.jsonl" --min-solve 0 --db "$db" \
    --policy "$tmp/no-limit.json"
expect 0 "judge with the content filter"
check "$tmp/out" '
decision(rows[0], "reject", ["spam"])
assert rows[0]["spamicity"] >= 0.9, rows[0]
decision(rows[1], "accept", [])
assert rows[1]["spamicity"] < 0.2, rows[1]
decision(rows[2], "moderate", ["unsure"])
assert 0.2 <= rows[2]["spamicity"] < 0.9, rows[2]
# A rejected submission is not scored.
decision(rows[3], "reject", ["captcha_wrong"])
assert rows[3]["spamicity"] is None, rows[3]
' || fail "the content filter: $(cat "$tmp/out")"
grep -q '"spamicity":0\.[0-9]\{6\},' "$tmp/out" ||
    fail "spamicity is not written with six decimals: $(cat "$tmp/out")"

# REPLYGUARD_DB stands in for --db, and REPLYGUARD_STORE for --store.
challenge filter
submission id env ip $ip binding filter token "$token" answer "$answer" \
    body "Buy cheap pills at http://pills.example.com" >"$tmp/env.jsonl"
rc=0
REPLYGUARD_DB=$db REPLYGUARD_STORE=$store "$cc" judge --key "$key" \
    --min-solve 0 --policy "$tmp/no-limit.json" "$tmp/env.jsonl" \
    >"$tmp/out" 2>"$tmp/err" || rc=$?
[[ $rc -eq 0 ]] || fail "judge with REPLYGUARD_DB: exit $rc: $(cat "$tmp/err")"
check "$tmp/out" 'decision(rows[0], "reject", ["spam"])' ||
    fail "REPLYGUARD_DB: $(cat "$tmp/out")"
judge_with "$tmp/env.jsonl" --min-solve 0 --policy "$tmp/no-limit.json"
check "$tmp/out" 'decision(rows[0], "reject", ["captcha_replayed"])' ||
    fail "REPLYGUARD_STORE was not the store used: $out"

# The default store keeps spent tokens and limits, as verify's does.
challenge default-store
submission id d ip $ip binding default-store token "$token" \
    answer "$answer" >"$tmp/default.jsonl"
run judge --key "$key" --min-solve 0 "$tmp/default.jsonl"
expect 0 "judge with the default store"
[[ -f $HOME/.local/share/replyguard/replay.sqlite ]] ||
    fail "default store: no ~/.local/share/replyguard/replay.sqlite"
run judge --key "$key" --min-solve 0 "$tmp/default.jsonl"
check "$tmp/out" 'decision(rows[0], "reject", ["captcha_replayed"])' ||
    fail "the default store did not keep the token: $out"

# --- limit --------------------------------------------------------------
lstore=sqlite:$tmp/limits.sqlite
# A burst of 2: three takes, each in a process of its own, then limited.
for i in 1 2 3; do
    run limit --store "$lstore" --rate 1/h --burst 2 client-a
    expect 0 "limit take $i"
    want="^allowed remaining=$((3 - i)) retry_after_ms=0 reset_after_ms="
    want+='[0-9]+$'
    [[ $out =~ $want ]] || fail "limit take $i: '$out'"
done
run limit --store "$lstore" --rate 1/h --burst 2 client-a
expect 1 "limit take 4"
want='^limited remaining=0 retry_after_ms=([0-9]+) reset_after_ms=[0-9]+$'
if [[ $out =~ $want ]]; then
    ((BASH_REMATCH[1] > 0 && BASH_REMATCH[1] <= 3600000)) ||
        fail "limit take 4: retry_after_ms ${BASH_REMATCH[1]}"
else
    fail "limit take 4: '$out'"
fi
# Another key, and the same key under another name, are not limited.
run limit --store "$lstore" --rate 1/h --burst 2 client-b
expect 0 "limit a fresh key"
run limit --store "$lstore" --rate 1/h --burst 2 --name other client-a
expect 0 "limit the same key under another name"
# Cost 0 looks without taking; a cost that fits is charged whole.
run limit --store "$lstore" --rate 1/h --burst 2 --cost 0 client-b
expect 0 "limit --cost 0"
[[ $out == "allowed remaining=2 "* ]] || fail "limit --cost 0: '$out'"
run limit --store "$lstore" --rate 1/h --burst 2 --cost 2 client-b
expect 0 "limit --cost 2"
[[ $out == "allowed remaining=0 "* ]] || fail "limit --cost 2: '$out'"
# A key is any bytes, the empty one too.
run limit --store "$lstore" --rate 1/h --burst 0 -- ""
expect 0 "limit an empty key"
run limit --store "$lstore" --rate 1/h --burst 0 -- ""
expect 1 "limit an empty key again"
run limit --store "$lstore" --rate 1/h --burst 0 -- "-dash $(printf '\303\251')"
expect 0 "limit a key that starts with a dash"

# --json, and a cost above the limit, which can never fit.
run limit --store "$lstore" --rate 1/h --burst 2 --json client-c
expect 0 "limit --json"
"$py" -c '
import json, sys
o = json.loads(sys.argv[1])
assert list(o) == ["allowed", "limit", "remaining", "retry_after_ms",
                   "reset_after_ms"], o
assert o["allowed"] is True and o["limit"] == 3 and o["remaining"] == 2, o
assert o["retry_after_ms"] == 0 and 0 < o["reset_after_ms"] <= 3600000, o
' "$out" || fail "limit --json: '$out'"
run limit --store "$lstore" --rate 1/h --burst 2 --json --cost 4 client-c
expect 1 "limit --cost above the limit"
"$py" -c '
import json, sys
o = json.loads(sys.argv[1])
assert o["allowed"] is False and o["retry_after_ms"] is None, o
assert o["remaining"] == 2, o
' "$out" || fail "limit --cost 4 --json: '$out'"
run limit --store "$lstore" --rate 1/h --burst 2 --cost 4 client-c
expect 1 "limit --cost above the limit, as text"
[[ $out == "limited remaining=2 retry_after_ms=never reset_after_ms="* ]] ||
    fail "limit --cost 4: '$out'"
run limit --store "$lstore" --rate 100/s --burst 0 --json fast
"$py" -c '
import json, sys
o = json.loads(sys.argv[1])
assert o["limit"] == 1 and 0 < o["reset_after_ms"] <= 10, o
' "$out" || fail "limit --rate 100/s: '$out'"

# REPLYGUARD_STORE, then the default store.
rc=0
REPLYGUARD_STORE=$lstore "$cc" limit --rate 1/h --burst 2 client-a \
    >"$tmp/out" 2>"$tmp/err" || rc=$?
[[ $rc -eq 1 ]] || fail "limit with REPLYGUARD_STORE: exit $rc"
rm -f "$HOME/.local/share/replyguard/replay.sqlite"
run limit --burst 0 client-d
expect 0 "limit with the default store"
[[ -f $HOME/.local/share/replyguard/replay.sqlite ]] ||
    fail "limit: no default store"
run limit --burst 0 client-d
expect 1 "limit with the default store, again"

# Usage errors.
for args in "--rate abc" "--rate 0/s" "--rate -1/s" "--rate 5" "--rate 5/x" \
    "--rate 1e3/s" "--rate ' 5/s'" "--rate 5./s" "--rate 5/sec" \
    "--rate 0.0000001/h" "--rate 2000000000/s" "--burst -1" \
    "--burst 1000001" "--burst x" "--cost -1" "--cost 4294967296" \
    "--bogus"; do
    eval "run limit --store \"\$lstore\" $args client-e"
    expect 64 "limit $args"
    [[ $err == "captcha-check: limit: "* && $(wc -l <"$tmp/err") -eq 1 ]] ||
        fail "limit $args: message '$err'"
done
run limit --store "$lstore" --rate 1/h
expect 64 "limit without a KEY"
run limit --store "$lstore" a b
expect 64 "limit with two KEYs"
run limit --store memory: client-e
expect 64 "limit --store memory:"
[[ $err == *"memory:"* ]] || fail "limit --store memory: message '$err'"
run limit --store 'MEMORY:?capacity=10' client-e
expect 64 "limit --store MEMORY:"
rc=0
REPLYGUARD_STORE=memory: "$cc" limit client-e >"$tmp/out" 2>"$tmp/err" ||
    rc=$?
[[ $rc -eq 64 ]] || fail "limit with REPLYGUARD_STORE=memory:: exit $rc"
run limit --store "$lstore" --rate 0.004/h --burst 1000000 client-e
expect 64 "limit with a burst that takes a century"
run limit --store "nosuch:thing" client-e
expect 74 "limit with an unknown store scheme"
run limit --store "sqlite:$tmp/no/such/dir/l.sqlite" client-e
expect 74 "limit with an unopenable store"

[[ $failures -eq 0 ]]
