#!/usr/bin/env bash
# captcha-check on hostile input: every verb given what a stranger (or a
# careless script) can hand it: unknown verbs and options, missing values,
# numbers that overflow, are negative or carry junk, missing files,
# directories, binary garbage, key files of the wrong size or format, JSON
# Lines with every member of the wrong type, NUL bytes, bytes that are not
# UTF-8, 100,000 levels of nesting, a 100 MB line, CRLF, an empty input and
# a cut last line. Each case of the table says the exit status of
# docs/captcha-check.md and a fragment of the one-line error; after each,
# the model and the store must hold exactly what they held before (the
# verbs that learn or judge line by line are checked against what the
# documentation says they keep, after the table).
#
# Usage: test-cli-hostile.sh PATH-TO-captcha-check [SCRATCH-PARENT-DIR]
# Prints one line per failed check and exits 0 only when all pass.
set -euo pipefail

cc=${1:?usage: test-cli-hostile.sh PATH-TO-captcha-check [SCRATCH-DIR]}
cc=$(cd "$(dirname "$cc")" && pwd)/$(basename "$cc")
tmp=$(mktemp -d "${2:-${TMPDIR:-/tmp}}/rg-cli-hostile.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

# Nothing from the caller's environment may choose keys or stores, and the
# default store must land in the scratch directory.
unset REPLYGUARD_KEY_FILE REPLYGUARD_STORE REPLYGUARD_DB XDG_DATA_HOME
export HOME=$tmp/home
mkdir "$HOME"

# shellcheck source=tests/cli-common.sh
source "$(dirname "$0")/cli-common.sh"

# The cases name their files relative to the scratch directory.
cd "$tmp"

# The most memory a verb may use while it reads a 100 MB line: far below
# the line, so a tool that held it would fail.
MAX_RSS_KIB=$((64 * 1024))

# --- What the cases work on ---------------------------------------------

"$cc" keygen --id 7 --out key >/dev/null
db=sqlite:$tmp/model.sqlite
store=sqlite:$tmp/store.sqlite

cat >spam.jsonl <<'EOF'
{"id":1,"body":"Cheap pills online, buy now at http://pills.example.com"}
{"id":2,"body":"Casino bonus: win money fast at http://casino.example.net"}
EOF
cat >ham.jsonl <<'EOF'
{"id":3,"body":"Thanks for the article, the part about gardens was lovely"}
{"id":4,"body":"I disagree with the second point but enjoyed reading it"}
EOF
"$cc" train --db "$db" --spam spam.jsonl >/dev/null
"$cc" train --db "$db" --ham ham.jsonl >/dev/null

# A token spent, and a rate-limit key taken, in the store.
token=$("$cc" issue --key key --style digits --bind post-1 | sed -n 2p)
"$cc" verify --key key --store "$store" --bind post-1 --min-solve 0 \
    "$token" 0 >/dev/null || true
# One an hour, so that it does not rest (and is not purged) while the
# test runs.
"$cc" limit --store "$store" --name hostile --rate 1/h client-a >/dev/null
# A token left unspent: rejected inputs must not spend it.
fresh=$("$cc" issue --key key --style digits --bind post-1)
fresh_question=$(sed -n 1p <<<"$fresh")
fresh_token=$(sed -n 2p <<<"$fresh")

# snapshot FILE: everything the model and the store hold: the export, and
# every row of both files (the rate limits are in no export).
snapshot() {
    "$cc" export --db "$db" --store "$store" >"$1" 2>"$1.err" ||
        fail "snapshot: export failed: $(cat "$1.err")"
    python3 - "$tmp/model.sqlite" "$tmp/store.sqlite" >>"$1" <<'PY'
import sqlite3, sys
for path in sys.argv[1:]:
    db = sqlite3.connect("file:" + path + "?mode=ro", uri=True)
    for line in db.iterdump():
        print(line)
    db.close()
PY
}
snapshot golden

# unchanged WHAT: fails unless the model and the store hold what they held
# at the start. Files with the same bytes hold the same; files whose bytes
# changed (SQLite may fold its log into the file on close) are compared
# by what they hold.
files_sum() {
    cat model.sqlite model.sqlite-wal store.sqlite store.sqlite-wal \
        2>/dev/null | cksum
}
golden_sum=$(files_sum)
unchanged() {
    local sum
    sum=$(files_sum)
    [[ $sum == "$golden_sum" ]] && return 0
    snapshot after
    if cmp -s golden after; then
        golden_sum=$sum
    else
        fail "$1: the model or the store changed"
    fi
}

# --- Input files --------------------------------------------------------

# Binary garbage, the same every run.
python3 -c '
import random, sys
r = random.Random(7)
sys.stdout.buffer.write(bytes(r.randrange(256) for _ in range(65536)))
' >garbage
: >empty
mkdir adir

# Key files that are not key files.
keytext=$(sed -n 's/^7 sign //p' key)
printf '7 sign %s\n' "${keytext%?}" >key-short     # 42 characters
printf '7 sign %sA\n' "$keytext" >key-long         # 44 characters
printf '7 sign %s=\n' "$keytext" >key-padded
printf '7 verify %s\n' "$keytext" >key-nosigner
printf '7 sign %s\n8 sign %s\n' "$keytext" "$keytext" >key-twosigners
printf '7 sign %s\n7 verify %s\n' "$keytext" "$keytext" >key-sameid
printf '4294967296 sign %s\n' "$keytext" >key-bigid
printf '7\0sign %s\n' "$keytext" >key-nul
printf '7 sign %s\xff\n' "$keytext" >key-notutf8
head -c 70000 /dev/zero | tr '\0' '#' >key-huge
printf '\n7 sign %s\n' "$keytext" >>key-huge

# JSON Lines that are not comments; each line bad in its own way.
{
    printf '\n'
    printf '   \t\n'
    printf 'not json\n'
    printf '[]\n"a string"\n5\nnull\ntrue\n'
    printf '{"body":"a\\u0000b"}\n'       # an escaped NUL
    printf '{"body":"a\0b"}\n'            # a raw NUL inside a string
    printf '{"body":"ab"}\0\n'            # a raw NUL after the object
    printf '{"body":"\\ud800"}\n'         # a lone surrogate escape
    printf '{"body":"\xed\xa0\x80"}\n'    # a lone surrogate, raw
    printf '{"body":"\xc0\xaf"}\n'        # an overlong form
    printf '{"body":"\xe2\x82"}\n'        # a sequence cut short
    printf '{"body":"\xff"}\n'            # 0xFF
    printf '{"body":"x","body":"y"}\n'    # a key twice
    printf '{"body":"x"\n'                # cut short
    printf '{"body":"x"}}\n'              # trailing junk
    printf '{"body":"x","id":99999999999999999999}\n' # above 64 bits
} >badlines.jsonl
badlines=$(wc -l <badlines.jsonl)

python3 -c 'import sys; sys.stdout.write("[" * 100000 + "\n")' >deep.jsonl
python3 -c 'import sys; sys.stdout.write("{\"a\":" * 100000 + "\n")' \
    >deep-objects.jsonl
cp deep.jsonl deep-policy.json

# Exports that import must refuse whole.
header='{"replyguard":"export","version":1,"spam":1,"ham":1,"spam_words":2,"ham_words":2'
printf '%s}\n{"token":"a","spam":1,"ham":0}\nnot json\n' "$header" >export-badline.jsonl
printf '%s,"tokens":3}\n{"token":"a","spam":1,"ham":0}\n' "$header" >export-cut.jsonl
printf '%s}\n{"token":"a","spam":-1,"ham":0}\n' "$header" >export-negative.jsonl
printf '%s}\n{"token":"a","spam":4294967296,"ham":0}\n' "$header" >export-overflow.jsonl
printf '%s}\n{"token":"a","spam":1.5,"ham":0}\n' "$header" >export-real.jsonl
printf '%s}\n{"token":"","spam":1,"ham":0}\n' "$header" >export-emptytoken.jsonl
printf '%s}\n{"token":"%s","spam":1,"ham":0}\n' "$header" \
    "$(head -c 65 /dev/zero | tr '\0' t)" >export-longtoken.jsonl
printf '%s}\n{"token":"!!","base64":true,"spam":1,"ham":0}\n' "$header" \
    >export-base64.jsonl
printf '%s}\n{"token":"a","base64":"yes","spam":1,"ham":0}\n' "$header" \
    >export-base64type.jsonl
printf '%s}\n{"nonce":"00","expires_at":1}\n' "$header" >export-nonce.jsonl
printf '%s}\n{"nonce":"%s","expires_at":-1}\n' "$header" \
    "0123456789abcdef0123456789abcdef" >export-expiry.jsonl
printf '%s}\n{"token":"a","nonce":"x","spam":1,"ham":0}\n' "$header" \
    >export-both.jsonl
printf '%s}\n%s}\n' "$header" "$header" >export-twoheaders.jsonl
printf '{"replyguard":"export","version":2}\n' >export-v2.jsonl
printf '{"replyguard":"export","version":"1"}\n' >export-vstring.jsonl
printf '%s}\n{"token":"a\\u0000b","spam":1,"ham":0}\n' "$header" \
    >export-nul.jsonl
printf '%s}\r\n{"token":"a","spam":1,"ham":0}\r\nbad\r\n' "$header" \
    >export-crlf-bad.jsonl

# Policies that are not policies.
printf '{"on_spam":"maybe"}' >policy-action.json
printf '{"on_spam":1}' >policy-type.json
printf '{"failure_cost":0}' >policy-cost.json
printf '{"failure_cost":1001}' >policy-cost-big.json
printf '{"failure_cost":1.5}' >policy-cost-real.json
printf '{"rate_limit":{"rate":"1e3/s"}}' >policy-rate.json
printf '{"rate_limit":{"burst":-1}}' >policy-burst.json
printf '{"rate_limit":{"burst":1000001}}' >policy-burst-big.json
printf '{"rate_limit":{"rate":"0.000001/s","burst":1000000}}' \
    >policy-century.json
printf '{"escalation":{"step_s":4294967296}}' >policy-step.json
printf '{"limit_by":"everyone"}' >policy-limitby.json
printf '{"bogus":true}' >policy-unknown.json
printf '{"on_spam":"reject","on_spam":"accept"}' >policy-twice.json
printf '[]' >policy-array.json
printf '{"on_spam":"re\0ject"}' >policy-nul.json
python3 -c 'import sys; sys.stdout.write("{\"on_spam\":\"" + "a" * 70000 + "\"}")' \
    >policy-huge.json

# --- The table ------------------------------------------------------------

# t STATUS 'STDERR FRAGMENT' STDIN ARGS...: one case. STDIN is a file of
# the scratch directory, or - for none. Every case must leave the model and
# the store as they were.
C_STATUS=()
C_ERR=()
C_IN=()
C_ARGS=()
t() {
    C_STATUS+=("$1")
    C_ERR+=("$2")
    C_IN+=("$3")
    shift 3
    C_ARGS+=("$(printf '%q ' "$@")")
}

# Verbs, options and values.
t 64 "unknown verb 'frobnicate'" - frobnicate
t 64 "unknown option '--frobnicate'" - --frobnicate
t 64 "unknown verb" - "$(printf 'ver\xffify')"
t 64 "unknown option '--bogus'" - verify --bogus
t 64 "unknown option '-x'" - classify -x
t 64 "unknown option '--explain=1'" - classify --db "$db" --explain=1
t 64 "option '--key' needs a value" - verify --key
t 64 "option '--store' needs a value" - --store
t 64 "option '--db' needs a value" - train --spam --db
t 64 "wants at most one verb" - help verify extra
t 64 "no such verb" - help frobnicate
t 64 "unexpected argument 'extra'" - keygen extra
t 64 "--force only goes with --out" - keygen --force
t 64 "wants TOKEN and ANSWER, got 1" - verify --key key onlytoken
t 64 "wants TOKEN and ANSWER, got 3" - verify --key key a b c
t 64 "no key file" - verify "$fresh_token" 19
t 64 "wants exactly one of --spam and --ham" - train --db "$db" empty
t 64 "wants exactly one of --spam and --ham" - train --db "$db" --spam --ham empty
t 64 "wants at most one FILE, got 2" - classify --db "$db" empty empty
t 64 "wants one KEY, got 0" - limit --store "$store"
t 64 "wants one KEY, got 2" - limit --store "$store" a b
t 64 "wants both --from URL and --to URL" - migrate --from "$db"
t 64 "are the same store" - migrate --from "$db" --to "$db"
t 64 "unknown locale 'EN'" - issue --key key --locale EN
t 64 "unknown locale" - demo --locale "$(printf 'e\xffn')"
t 64 "--style wants words, digits or mixed" - issue --key key --style bold

# Numbers: overflow, negative, junk, empty, spaces, other bases.
for n in 4294967296 99999999999999999999 -1 +5 5x " 5" "" 0x10 1e3 5.0; do
    t 64 "--id wants a number from 0 to 4294967295" - keygen --id "$n"
    t 64 "--ttl wants seconds from 1 to 4294967295" - issue --key key --ttl "$n"
    t 64 "--min-solve wants seconds" - verify --key key --min-solve "$n" t 1
    t 64 "--min-solve wants seconds" - judge --key key --min-solve "$n"
    t 64 "--min-solve wants seconds" - demo --min-solve "$n"
    t 64 "--cost wants a number from 0 to 4294967295" - \
        limit --store "$store" --cost "$n" k
    t 64 "--burst wants a number from 0 to 1000000" - \
        limit --store "$store" --burst "$n" k
done
t 64 "--ttl wants seconds from 1" - issue --key key --ttl 0
t 64 "--min-solve wants seconds from 0 to 4294967294" - \
    verify --key key --min-solve 4294967295 t 1
t 64 "--burst wants a number from 0 to 1000000" - \
    limit --store "$store" --burst 1000001 k
for rate in 5 0/s 0.0/s -1/s +1/s .5/s 5./s 1e3/s 5/min 5/d 5/ /s 0.0000001/s \
    2000000000/s "5 /s" ""; do
    t 64 "--rate wants N/s, N/m or N/h" - limit --store "$store" --rate "$rate" k
done
t 64 "would take over 100 years" - \
    limit --store "$store" --rate 0.000001/s --burst 1000000 k
t 64 "--name wants at most 256 bytes" - \
    limit --store "$store" --name "$(head -c 257 /dev/zero | tr '\0' n)" k

# Stores and models: memory:, empty, malformed, missing, a directory,
# garbage, another program's database.
python3 -c '
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
db.execute("CREATE TABLE posts (id INTEGER, body TEXT)")
db.execute("INSERT INTO posts VALUES (1, ?)", ("hello",))
db.commit()
' other.sqlite
cp other.sqlite other.sqlite.orig
t 64 "a memory: store forgets everything" - limit --store memory: k
t 64 "a memory: model lives only as long" - train --db memory: --spam empty
t 64 "a memory: model would be empty" - judge --key key --db memory: empty
t 64 "--db memory: lives only as long" - export --db memory:
t 64 "--store memory: lives only as long" - import --db "$db" --store memory: empty
t 64 "--from memory: lives only as long" - migrate --from memory: --to "$db"
t 64 "store '': an empty URL" - verify --key key --store "" t 1
t 64 "model '': an empty URL" - train --db "" --spam empty
t 64 "model '': an empty URL" - classify --db "" empty
t 64 "store '': an empty URL" - --store "" limit k
t 74 "malformed or unsupported store URL" - verify --key key --store bogus: t 1
t 74 "malformed or unsupported store URL" - \
    verify --key key --store "memory:?capacity=0" t 1
t 74 "malformed or unsupported store URL" - \
    judge --key key --store "memory:?capacity=-1" spam.jsonl
t 74 "no such file" - classify --db "sqlite:$tmp/none.sqlite" empty
t 74 "no such file" - judge --key key --db "sqlite:$tmp/none.sqlite" empty
t 74 "no such file" - stats --db "sqlite:$tmp/none.sqlite"
t 74 "the store failed" - verify --key key --store "sqlite:$tmp/adir" t 1
t 74 "the store failed" - verify --key key --store "sqlite:$tmp/garbage" t 1
t 74 "the store failed" - classify --db "sqlite:$tmp/garbage" empty
t 74 "the store failed" - train --db "sqlite:$tmp/adir/x/y.sqlite" --spam spam.jsonl
t 74 "the store failed" - stats --db "sqlite:$tmp/garbage"
t 74 "the store failed" - train --db "sqlite:$tmp/other.sqlite" --spam spam.jsonl
t 74 "the store failed" - verify --key key --store "sqlite:$tmp/other.sqlite" t 1

# Files: missing, a directory, garbage, empty, unreadable names.
for verb in train classify judge import; do
    args=()
    case $verb in
    train) args=(--db "$db" --spam) ;;
    classify) args=(--db "$db") ;;
    judge) args=(--key key --store "$store") ;;
    import) args=(--db "$db" --store "$store") ;;
    esac
    t 66 "none.jsonl: No such file or directory" - "$verb" "${args[@]}" none.jsonl
    t 66 "adir: Is a directory" - "$verb" "${args[@]}" adir
    t 66 "No such file or directory" - "$verb" "${args[@]}" "$(printf 'n\xffo')"
    t 65 "garbage:1: " - "$verb" "${args[@]}" garbage
    t 65 "<stdin>:1: " garbage "$verb" "${args[@]}"
    t 65 "badlines.jsonl:1: empty line" - "$verb" "${args[@]}" badlines.jsonl
    t 65 "deep.jsonl:1: not valid JSON: maximum parsing depth" - \
        "$verb" "${args[@]}" deep.jsonl
    t 65 "<stdin>:1: not valid JSON: maximum parsing depth" deep-objects.jsonl \
        "$verb" "${args[@]}"
done
t 65 "empty: empty: not a replyguard export" - import --db "$db" empty
for f in export-badline export-negative export-overflow export-real \
    export-emptytoken export-longtoken export-base64 export-base64type \
    export-nonce export-expiry export-both export-twoheaders export-nul \
    export-crlf-bad; do
    t 65 "nothing imported" - import --db "$db" --store "$store" "$f.jsonl"
done
t 65 "the header says 3 tokens, the file holds 1" - \
    import --db "$db" export-cut.jsonl
t 65 "an export of version 2" - import --db "$db" export-v2.jsonl
t 65 "the header's \"version\" is a string" - import --db "$db" export-vstring.jsonl
t 65 "not a replyguard export" - import --db "$db" spam.jsonl

# Key files.
for k in none adir garbage empty key-short key-long key-padded key-nosigner \
    key-twosigners key-sameid key-bigid key-nul key-notutf8 key-huge; do
    case $k in
    none) err="none: No such file or directory" ;;
    key-sameid) err="the same key id appears twice" ;;
    *) err="not a valid key file" ;;
    esac
    t 66 "$err" - verify --key "$k" --store "$store" "$fresh_token" 1
    t 66 "$err" - issue --key "$k"
    t 66 "$err" - judge --key "$k" --store "$store" spam.jsonl
done
t 66 "$HOME/none: No such file or directory" - \
    --key "$HOME/none" verify --store "$store" "$fresh_token" 1

# Tokens and answers that verify must refuse without spending anything.
for tok in "" x "$(printf '%094d' 0 | tr 0 A)" "${fresh_token}A" \
    "${fresh_token%?}" "${fresh_token}==" "$(printf '\xff')" \
    "$(head -c 100000 /dev/zero | tr '\0' A)" "${fresh_token//_/+}" \
    "${fresh_token//-/+}"; do
    [[ $tok == "$fresh_token" ]] && continue
    t 65 "" - verify --key key --store "$store" --min-solve 0 --bind post-1 \
        -- "$tok" 19
done
t 5 "" - verify --key key --store "$store" --min-solve 0 --bind post-2 \
    "$fresh_token" 19
t 5 "" - verify --key key --store "$store" --min-solve 0 \
    --bind "$(printf 'post-1\xff')" "$fresh_token" 19
t 3 "" - verify --key key --store "$store" --min-solve 4294967294 \
    --bind post-1 "$fresh_token" 19

# Policies.
for p in policy-action policy-type policy-cost policy-cost-big \
    policy-cost-real policy-rate policy-burst policy-burst-big \
    policy-century policy-step policy-limitby policy-unknown policy-twice \
    policy-array policy-nul; do
    t 64 "$p.json" - judge --key key --store "$store" --policy "$p.json" \
        spam.jsonl
done
t 64 "deep-policy.json:1: not valid JSON: maximum parsing depth" - \
    judge --key key --store "$store" --policy deep-policy.json spam.jsonl
t 64 "policy-huge.json: larger than 65536 bytes" - \
    judge --key key --store "$store" --policy policy-huge.json spam.jsonl
t 66 "none.json: No such file or directory" - \
    judge --key key --store "$store" --policy none.json spam.jsonl
t 66 "adir: Is a directory" - \
    judge --key key --store "$store" --policy adir spam.jsonl
t 64 "garbage:1: not valid JSON" - \
    judge --key key --store "$store" --policy garbage spam.jsonl

# A take that never fits is refused and charges nothing.
t 1 "" - limit --store "$store" --name hostile --rate 1/h --cost 6 client-a
t 1 "" - limit --store "$store" --name hostile --rate 1/h --cost 4294967295 k

# Output files that cannot be made.
t 73 "adir: Is a directory" - export --db "$db" adir
t 73 "No such file or directory" - export --db "$db" "$tmp/none/out.jsonl"
t 73 "already exists" - keygen --out key
t 73 "No such file or directory" - keygen --out "$tmp/none/key"

# --- Running the table -------------------------------------------------------

for i in "${!C_STATUS[@]}"; do
    eval "args=(${C_ARGS[i]})"
    in=${C_IN[i]}
    [[ $in == - ]] && in=/dev/null
    rc=0
    "$cc" "${args[@]}" <"$in" >out 2>err || rc=$?
    what="case $i: captcha-check ${C_ARGS[i]:0:160}"
    [[ $rc -eq ${C_STATUS[i]} ]] ||
        fail "$what: exit $rc, wanted ${C_STATUS[i]} ($(head -c 300 err))"
    # The status is the answer for verdicts (65 for malformed, 5 forged):
    # an error is one line or more, each naming the tool.
    if [[ -s err ]]; then
        bad=$(grep -cv '^captcha-check: ' err || true)
        [[ $bad -eq 0 ]] || fail "$what: stderr lines not from captcha-check"
    fi
    if [[ -n ${C_ERR[i]} ]]; then
        grep -qF -- "${C_ERR[i]}" err ||
            fail "$what: stderr lacks '${C_ERR[i]}': $(head -c 300 err)"
    fi
    unchanged "$what"
done
cmp -s other.sqlite other.sqlite.orig ||
    fail "another program's database was changed"

# The fresh token was never spent: it passes now.
answer=$(python3 -c '
import re, sys
q = sys.argv[1]
for old, new in (("\u2212", "-"), ("\u00d7", "*"), ("plus", "+"),
                 ("minus", "-"), ("times", "*")):
    q = q.replace(old, " " + new + " ")
a, op, b = re.findall(r"\d+|[-+*]", q)
a, b = int(a), int(b)
print(a + b if op == "+" else a - b if op == "-" else a * b)
' "$fresh_question")
run verify --key key --store "$store" --bind post-1 --min-solve 0 \
    "$fresh_token" "$answer"
[[ $rc -eq 0 && $out == pass ]] ||
    fail "the fresh token: exit $rc, '$out' (spent by a rejected input?)"
# That spent it: what the stores hold now is the new reference.
snapshot golden
golden_sum=$(files_sum)

# --- Every member of the wrong type, line by line ------------------------

# One file per verb and member: a line for each wrong value, and every
# line reported with its number and the member's name.
check_members() { # VERB MEMBERS...
    local verb=$1 member n args
    shift
    case $verb in
    train) args=(train --db "$db" --ham) ;;
    classify) args=(classify --db "$db") ;;
    judge) args=(judge --key key --store "$store") ;;
    esac
    for member in "$@"; do
        n=$(python3 - members.jsonl "$member" <<'PY'
import json, sys
path, member = sys.argv[1:]
wrong = [5, -1, 1.5, True, False, [], ["x"], {}, {"a": "b"}]
if member == "id":
    wrong = [v for v in wrong if type(v) is not int]  # an id may be one
with open(path, "w") as f:
    for value in wrong:
        line = {"body": "x", "ip": "203.0.113.1"}
        line[member] = value
        f.write(json.dumps(line) + "\n")
print(len(wrong))
PY
)
        rc=0
        "$cc" "${args[@]}" members.jsonl >out 2>err || rc=$?
        [[ $rc -eq 65 ]] || fail "$verb, \"$member\" of the wrong type: exit $rc"
        got=$(grep -c "^captcha-check: members.jsonl:[0-9]*: \"$member\" is " \
            err || true)
        [[ $got -eq $n ]] ||
            fail "$verb, \"$member\": $got of $n lines reported: $(head -3 err)"
        if [[ $verb == train ]]; then
            grep -q "learned 0 comments as ham.*; $n bad lines skipped" out ||
                fail "train, \"$member\": '$(cat out)'"
        else
            [[ ! -s out ]] || fail "$verb, \"$member\": output for bad lines"
        fi
        unchanged "$verb, \"$member\""
    done
}
check_members train body author email url ip id
check_members classify body author email url ip id
check_members judge body author email url ip token answer honeypot binding id

# Every bad line of badlines.jsonl is reported, with its number.
for verb in train classify judge; do
    case $verb in
    train) args=(train --db "$db" --spam) ;;
    classify) args=(classify --db "$db") ;;
    judge) args=(judge --key key --store "$store") ;;
    esac
    rc=0
    "$cc" "${args[@]}" badlines.jsonl >out 2>err || rc=$?
    [[ $rc -eq 65 ]] || fail "$verb badlines: exit $rc"
    for ((n = 1; n <= badlines; n++)); do
        grep -q "^captcha-check: badlines.jsonl:$n: " err ||
            fail "$verb badlines: line $n not reported: $(head -c 400 err)"
    done
    [[ $(wc -l <err) -eq $badlines ]] ||
        fail "$verb badlines: $(wc -l <err) messages for $badlines lines"
done
unchanged "bad lines"

# --- A 100 MB line, and what memory reading it takes ------------------

# big.jsonl: a comment whose body is 100 MB, then a good one. It is read
# to its end, reported, and never held: the good line is still handled.
python3 - big.jsonl <<'PY'
import sys
with open(sys.argv[1], "wb") as f:
    f.write(b'{"ip":"203.0.113.2","body":"')
    block = b"a" * (1 << 20)
    for _ in range(100):
        f.write(block)
    f.write(b'"}\n{"ip":"203.0.113.3","body":"a short one"}\n')
PY
# big.export: an export whose second line is the 100 MB one.
python3 - big.export "$header" <<'PY'
import sys
with open(sys.argv[1], "wb") as f:
    f.write(sys.argv[2].encode() + b"}\n")
    f.write(b'{"spam":1,"ham":0,"token":"')
    block = b"t" * (1 << 20)
    for _ in range(100):
        f.write(block)
    f.write(b'"}\n')
PY
# big.answers: an answer of 100 MB for demo, then q.
python3 - big.answers <<'PY'
import sys
with open(sys.argv[1], "wb") as f:
    block = b"1" * (1 << 20)
    for _ in range(100):
        f.write(block)
    f.write(b"\nq\n")
PY

# rss STDIN-FILE ARGS...: runs captcha-check, leaving $rc, $out, $err and
# $rss (its peak resident memory, KiB).
rss() {
    local input=$1 line
    shift
    line=$(python3 - "$input" "$cc" "$@" <<'PY'
import resource, subprocess, sys
with open(sys.argv[1], "rb") as stdin, open("out", "wb") as out, \
        open("err", "wb") as err:
    rc = subprocess.call(sys.argv[2:], stdin=stdin, stdout=out, stderr=err)
print(rc, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
PY
)
    rc=${line% *}
    rss=${line#* }
    out=$(cat out)
    err=$(cat err)
}

cp model.sqlite big-model.sqlite
for verb in classify train judge; do
    case $verb in
    classify) args=(classify --db "sqlite:$tmp/big-model.sqlite") ;;
    train) args=(train --db "sqlite:$tmp/big-model.sqlite" --ham) ;;
    judge) args=(judge --key key --store "sqlite:$tmp/big-store.sqlite") ;;
    esac
    for how in stdin file; do
        if [[ $how == stdin ]]; then
            rss big.jsonl "${args[@]}"
            name="<stdin>"
        else
            rss /dev/null "${args[@]}" big.jsonl
            name=big.jsonl
        fi
        what="$verb of a 100 MB line ($how)"
        [[ $rc -eq 65 ]] || fail "$what: exit $rc ($err)"
        [[ $err == "captcha-check: $name:1: longer than 1 MiB" ]] ||
            fail "$what: stderr '$err'"
        [[ $rss -lt $MAX_RSS_KIB ]] || fail "$what: $rss KiB of memory"
        case $verb in
        classify) [[ $out == '{"spamicity":'* ]] || fail "$what: '$out'" ;;
        train)
            [[ $out == "learned 1 comment as ham"*"; 1 bad line skipped" ]] ||
                fail "$what: '$out'"
            ;;
        judge) [[ $out == '{"action":'* ]] || fail "$what: '$out'" ;;
        esac
    done
done
rss big.export import --db "$db" --store "$store"
[[ $rc -eq 65 ]] || fail "import of a 100 MB line: exit $rc"
[[ $err == *"big.export"*":2: longer than 1 MiB"* || $err == *"<stdin>:2: longer than 1 MiB"* ]] ||
    fail "import of a 100 MB line: '$err'"
[[ $rss -lt $MAX_RSS_KIB ]] || fail "import of a 100 MB line: $rss KiB"
rss big.answers demo --min-solve 0
[[ $rc -eq 65 ]] || fail "demo, a 100 MB answer: exit $rc ($err)"
[[ $err == "captcha-check: <stdin>:1: longer than 1 MiB" ]] ||
    fail "demo, a 100 MB answer: '$err'"
[[ $rss -lt $MAX_RSS_KIB ]] || fail "demo, a 100 MB answer: $rss KiB"
unchanged "the 100 MB lines"
rm -f big.jsonl big.export big.answers

# demo: a NUL byte would cut the answer short; the line is refused.
printf '19\0junk\nq\n' >nul-answer
rss nul-answer demo --min-solve 0
[[ $rc -eq 65 && $err == "captcha-check: <stdin>:1: a NUL byte" ]] ||
    fail "demo, a NUL in an answer: exit $rc, '$err'"

# --- Lines that are fine: CRLF, no final newline, empty input -------------

printf '{"body":"cheap pills"}\r\n{"body":"gardens"}' >crlf.jsonl
run classify --db "$db" crlf.jsonl
[[ $rc -eq 0 && $(wc -l <<<"$out") -eq 2 ]] ||
    fail "classify, CRLF and no final newline: exit $rc, '$out' ($err)"
run classify --db "$db" empty
[[ $rc -eq 0 && -z $out && -z $err ]] || fail "classify of nothing: exit $rc"
run judge --key key --store "$store" empty
[[ $rc -eq 0 && -z $out && -z $err ]] || fail "judge of nothing: exit $rc"
printf '\r\n' >cr.jsonl
run classify --db "$db" cr.jsonl
[[ $rc -eq 65 && $err == *"cr.jsonl:1: empty line"* ]] ||
    fail "a line of CR alone: exit $rc, '$err'"

# --- Partial progress, as documented -----------------------------------

# train learns the good lines of a file with bad ones, and only those.
cp model.sqlite part-a.sqlite
cp model.sqlite part-b.sqlite
{
    printf '{"body":"good one about gardens"}\n'
    printf '{"body":5}\n'
    printf '{"body":"another good one"}\n'
    printf '{"body":"\xff"}\n'
} >mixed.jsonl
printf '{"body":"good one about gardens"}\n{"body":"another good one"}\n' \
    >mixed-good.jsonl
run train --db "sqlite:$tmp/part-a.sqlite" --ham mixed.jsonl
[[ $rc -eq 65 && $out == *"learned 2 comments as ham"*"; 2 bad lines skipped" ]] ||
    fail "train of mixed lines: exit $rc, '$out'"
run train --db "sqlite:$tmp/part-b.sqlite" --ham mixed-good.jsonl
[[ $rc -eq 0 ]] || fail "train of the good lines: exit $rc"
"$cc" export --db "sqlite:$tmp/part-a.sqlite" >part-a.export
"$cc" export --db "sqlite:$tmp/part-b.sqlite" >part-b.export
cmp -s part-a.export part-b.export ||
    fail "train kept other than the good lines of a mixed file"

# judge decides the good lines of a file with bad ones: the good line's
# token is spent, the bad lines' are not.
t1=$("$cc" issue --key key --style digits --bind post-9)
t2=$("$cc" issue --key key --style digits --bind post-9)
tok1=$(sed -n 2p <<<"$t1")
tok2=$(sed -n 2p <<<"$t2")
{
    printf '{"id":1,"ip":"203.0.113.4","binding":"post-9","token":"%s","answer":"1"}\n' "$tok1"
    printf '{"id":2,"ip":"203.0.113.4","binding":"post-9","token":"%s","answer":5}\n' "$tok2"
    printf '{"id":3,"ip":"203.0.113.4","binding":"post-9","token":"%s","answer":"\xff"}\n' "$tok2"
} >judge-mixed.jsonl
cp store.sqlite judge-store.sqlite
run judge --key key --store "sqlite:$tmp/judge-store.sqlite" --min-solve 0 \
    judge-mixed.jsonl
[[ $rc -eq 65 && $(wc -l <<<"$out") -eq 1 && $out == '{"id":1,'* ]] ||
    fail "judge of mixed lines: exit $rc, '$out'"
run verify --key key --store "sqlite:$tmp/judge-store.sqlite" --bind post-9 \
    --min-solve 0 "$tok1" 1
[[ $rc -eq 4 ]] || fail "judge did not spend the good line's token: $rc"
run verify --key key --store "sqlite:$tmp/judge-store.sqlite" --bind post-9 \
    --min-solve 0 "$tok2" 1
[[ $rc -eq 0 || $rc -eq 1 ]] || fail "judge spent a bad line's token: $rc"

echo "${#C_STATUS[@]} cases"
if [[ $failures -gt 0 ]]; then
    echo "$failures check(s) failed"
    exit 1
fi
echo "all captcha-check hostile-input checks passed"
