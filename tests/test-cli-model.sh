#!/usr/bin/env bash
# Tests the verbs of captcha-check that look after the stores: stats,
# export, import and migrate; and what every verb shares: --version, and
# the global options before the verb.
#
# Usage: test-cli-model.sh PATH-TO-captcha-check [SCRATCH-PARENT-DIR]
# Prints one line per failed check and exits 0 only when all pass (77, a
# skip, when this build has no sqlite: store, which the tests need). With
# RG_TEST_REDIS_URL set (redis://HOST:PORT/DB), migrate is also tried into
# that Redis, under a prefix of its own that is deleted afterwards.
set -euo pipefail

cc=${1:?usage: test-cli-model.sh PATH-TO-captcha-check [SCRATCH-DIR]}
tmp=$(mktemp -d "${2:-${TMPDIR:-/tmp}}/rg-cli-model.XXXXXX")
redis_cleanup=
cleanup() {
    [[ -z $redis_cleanup ]] || eval "$redis_cleanup" || true
    rm -rf "$tmp"
}
trap cleanup EXIT

# Nothing from the caller's environment may choose a model, store or key,
# and the defaults must land in the scratch directory.
unset REPLYGUARD_DB REPLYGUARD_STORE REPLYGUARD_KEY_FILE XDG_DATA_HOME
export HOME=$tmp/home
mkdir "$HOME"

# shellcheck source=tests/cli-common.sh
source "$(dirname "$0")/cli-common.sh"

# expect STATUS DESCRIPTION: checks the last run's status.
expect() {
    [[ $rc -eq $1 ]] || fail "$2: exit $rc, wanted $1 (stderr '$err')"
}

run keygen --out "$tmp/key"
run verify --key "$tmp/key" --store "sqlite:$tmp/probe.sqlite" AAAA 1
if [[ $rc -eq 74 && $err == *"lacks that feature"* ]]; then
    echo "note: sqlite store not built; skipping" >&2
    exit 77
fi

# --- fixtures -----------------------------------------------------------
cat >"$tmp/spam.jsonl" <<'EOF'
{"body":"Buy cheap pills at http://pills.example.com"}
{"body":"Cheap viagra and cialis, no prescription needed, order at http://pills.example.com/order","author":"Pharma Deals"}
{"body":"Best online casino bonus! Free spins at http://casino.example.net","url":"http://casino.example.net"}
{"body":"Earn $5000 a week working from home, click http://money.example.org","email":"rich@money.example.org"}
{"body":"Cheap replica watches, best prices, visit http://watches.example.com"}
{"body":"Get a payday loan today, no credit check: http://loans.example.biz","author":"Loan Expert"}
{"body":"Hot singles in your area waiting for you http://dating.example.info"}
{"body":"Crypto investment doubles your bitcoin in 24 hours http://crypto.example.io"}
EOF
cat >"$tmp/ham.jsonl" <<'EOF'
{"body":"Great article, thanks for explaining the GCRA part","author":"Alice"}
{"body":"I had never understood token buckets before, this helped a lot"}
{"body":"Could you write a follow-up about rate limiting behind a proxy?","email":"bob@example.org"}
{"body":"The diagram of the replay guard made it click for me, thank you"}
{"body":"Caf\u00e9 cr\u00e8me and na\u00efve r\u00e9sum\u00e9s: accents survive, thanks"}
{"body":"We use a similar approach at work, but with Redis instead of SQLite"}
EOF
cat >"$tmp/test.jsonl" <<'EOF'
{"id":1,"body":"Cheap pills and casino bonus, buy now at http://pills.example.com"}
{"id":2,"body":"Thanks for the great article, the GCRA explanation was very clear"}
{"id":3,"body":"caf\u00e9 r\u00e9sum\u00e9"}
{"id":4,"body":"Hello"}
EOF

db=sqlite:$tmp/model.sqlite
run train --db "$db" --spam "$tmp/spam.jsonl"
expect 0 "train --spam"
run train --db "$db" --ham "$tmp/ham.jsonl"
expect 0 "train --ham"
tokens=$(sed -n 's/.*, \([0-9]*\) tokens)$/\1/p' <<<"$out")
[[ $tokens -gt 50 ]] || fail "train: no token count in '$out'"

# json_check FILE SCRIPT: runs a Python check over the one JSON object in
# FILE (as `d`); the script asserts.
json_check() {
    python3 -c '
import json, sys
d = json.load(open(sys.argv[1], encoding="utf-8"))
exec(sys.argv[2])
' "$1" "$2"
}

# --- help and version ---------------------------------------------------
for verb in stats export import migrate; do
    run "$verb" --help
    expect 0 "$verb --help"
    [[ $out == *"captcha-check $verb"* ]] || fail "$verb --help: no usage"
    run help "$verb"
    expect 0 "help $verb"
done
run --version
version=$out
[[ $version == "captcha-check "* ]] || fail "--version: '$version'"
run --help
verbs=$(sed -n '/^Verbs:/,/^$/s/^  \([a-z][a-z]*\)  .*/\1/p' <<<"$out")
[[ $verbs == *stats* && $verbs == *migrate* ]] || fail "--help lacks verbs"
for verb in $verbs; do
    run "$verb" --version
    [[ $rc -eq 0 && $out == "$version" ]] ||
        fail "$verb --version: exit $rc, '$out', wanted '$version'"
done

# --- stats --------------------------------------------------------------
run stats --db "$db"
expect 0 "stats"
for want in "model: $db" "  spam comments: 8" "  ham comments: 6" \
    "  tokens: $tokens" "  health: ok (quick_check)" "store: none"; do
    grep -qxF "$want" "$tmp/out" || fail "stats: no line '$want' in '$out'"
done
run stats --db "$db" --json
expect 0 "stats --json"
cp "$tmp/out" "$tmp/stats.json"
json_check "$tmp/stats.json" "
m = d['model']
assert m['url'] == '$db' and m['backend'] == 'sqlite', m
assert (m['spam'], m['ham'], m['tokens']) == (8, 6, $tokens), m
assert m['spam_words'] > 8 and m['ham_words'] > 6, m
assert m['health'] == 'ok' and m['checked'] is True, m
assert m['file_bytes'] > 0 and m['ping_ms'] is None, m
assert d['store'] is None, d
" || fail "stats --json: $out"

# Nothing to report: no model and no store by default.
run stats
expect 74 "stats with nothing there"
[[ $err == *"nothing to report"* ]] || fail "stats with nothing: '$err'"
[[ ! -e $HOME/.local/share/replyguard ]] ||
    fail "stats created the data directory"
run stats --db "sqlite:$tmp/none.sqlite"
expect 74 "stats of a missing model"
[[ ! -e $tmp/none.sqlite ]] || fail "stats created a model"
run stats --db memory:
expect 64 "stats --db memory:"
run stats extra
expect 64 "stats with an argument"

# A damaged file: quick_check (or the open) finds it; exit 74.
cp "${db#sqlite:}" "$tmp/damaged.sqlite"
python3 -c '
import os, sys
p = sys.argv[1]
n = os.path.getsize(p)
with open(p, "r+b") as f:
    for page in range(4096, n, 4096):
        f.seek(page + 8)
        f.write(b"\xff" * 64)
' "$tmp/damaged.sqlite"
run stats --db "sqlite:$tmp/damaged.sqlite"
expect 74 "stats of a damaged model"
[[ $err == *"$tmp/damaged.sqlite"* ]] || fail "damaged: stderr '$err'"

# --- export and import --------------------------------------------------
run export --db "$db"
expect 0 "export to stdout"
cp "$tmp/out" "$tmp/model.export"
python3 -c '
import json, sys
lines = open(sys.argv[1], encoding="utf-8").read().split("\n")
assert lines[-1] == "", "no final newline"
rows = [json.loads(l) for l in lines[:-1]]
h = rows[0]
assert h == {"replyguard": "export", "version": 1, "spam": 8, "ham": 6,
             "spam_words": h["spam_words"], "ham_words": h["ham_words"],
             "tokens": int(sys.argv[2])}, h
toks = rows[1:]
assert len(toks) == h["tokens"], (len(toks), h)
for t in toks:
    assert set(t) == {"token", "spam", "ham"}, t
    assert t["spam"] + t["ham"] > 0, t
keys = [t["token"].encode("utf-8") for t in toks]
assert keys == sorted(keys), "tokens not in byte order"
assert any("\u00e9" in t["token"] for t in toks), "no accented token"
' "$tmp/model.export" "$tokens" ||
    fail "export: $(head -c 600 "$tmp/model.export")"

run classify --db "$db" "$tmp/test.jsonl"
cp "$tmp/out" "$tmp/scores"

db2=sqlite:$tmp/model2.sqlite
run import --db "$db2" "$tmp/model.export"
expect 0 "import into an empty model"
want="imported $tokens tokens (model: 8 spam, 6 ham, $tokens tokens)"
[[ $out == "$want" ]] ||
    fail "import: '$out'"
run classify --db "$db2" "$tmp/test.jsonl"
cmp -s "$tmp/out" "$tmp/scores" || fail "imported model classifies otherwise"
run stats --db "$db2" --json
json_check "$tmp/out" "
a = json.load(open('$tmp/stats.json'))['model']
b = d['model']
for k in ('spam', 'ham', 'spam_words', 'ham_words', 'tokens', 'health'):
    assert a[k] == b[k], (k, a[k], b[k])
" || fail "imported model's stats differ: $out"
run export --db "$db2"
cmp -s "$tmp/out" "$tmp/model.export" || fail "export of the import differs"

# From standard input, with and without "-"; importing again adds.
db3=sqlite:$tmp/model3.sqlite
run import --db "$db3" <"$tmp/model.export"
expect 0 "import from stdin"
run import --db "$db3" - <"$tmp/model.export"
expect 0 "import - again"
want="imported $tokens tokens (model: 16 spam, 12 ham, $tokens tokens)"
[[ $out == "$want" ]] ||
    fail "import twice does not add: '$out'"

# Tokens that are not UTF-8 travel in base64, and come back the same.
cat >"$tmp/b64.export" <<'EOF'
{"replyguard":"export","version":1,"spam":1,"ham":1,"spam_words":2,"ham_words":1,"tokens":3}
{"token":"a\"b\\c","spam":1,"ham":0}
{"token":"zé","spam":0,"ham":1}
{"token":"//4=","base64":true,"spam":1,"ham":0}
EOF
run import --db "sqlite:$tmp/b64.sqlite" "$tmp/b64.export"
expect 0 "import of base64 tokens"
run export --db "sqlite:$tmp/b64.sqlite"
cmp -s "$tmp/out" "$tmp/b64.export" ||
    fail "base64 round trip: $(cat "$tmp/out")"

# To a FILE: a summary on stdout, mode 0600.
run export --db "$db" "$tmp/file.export"
expect 0 "export to a file"
want="exported $tokens tokens (8 spam, 6 ham comments) and 0 spent tokens"
[[ $out == "$want to $tmp/file.export" ]] ||
    fail "export to a file: '$out'"
cmp -s "$tmp/file.export" "$tmp/model.export" || fail "export to a file differs"
[[ $(stat -c %a "$tmp/file.export") == 600 ]] || fail "export file not 0600"

run export --db "sqlite:$tmp/nope.sqlite"
expect 74 "export of a missing model"
[[ ! -e $tmp/nope.sqlite ]] || fail "export created a model"
run export --db "$db" "$tmp/no/such/dir/x.export"
expect 73 "export to an uncreatable file"
run export --db memory:
expect 64 "export --db memory:"
run export --db "$db" a b
expect 64 "export with two files"

# --- bad input ----------------------------------------------------------
# Every bad line is reported as FILE:LINE; nothing is imported.
bad=$tmp/bad.export
{
    head -1 "$tmp/model.export"
    echo '{"token":"fine","spam":1,"ham":0}'
    echo 'not json'
    echo '{"token":"x","spam":1}'
    echo '{"token":"x","spam":-1,"ham":0}'
    echo '{"token":"x","spam":4294967296,"ham":0}'
    echo '{"token":"","spam":1,"ham":0}'
    printf '{"token":"%s","spam":1,"ham":0}\n' "$(printf 'a%.0s' {1..65})"
    echo '{"token":"!!","base64":true,"spam":1,"ham":0}'
    echo '{"token":"x","nonce":"00","spam":1,"ham":0}'
    echo '{"nonce":"xyz","expires_at":1}'
    echo '{"nonce":"000102030405060708090a0b0c0d0e0f","expires_at":-1}'
    echo '{"spam":1,"ham":1}'
    echo '{"replyguard":"export","version":1}'
} >"$bad"
bad_lines="3 4 5 6 7 8 9 10 11 12 13 14"
run import --db "sqlite:$tmp/bad.sqlite" "$bad"
expect 65 "import of bad lines"
got=$(sed -n "s|^captcha-check: $bad:\([0-9]*\): .*|\1|p" "$tmp/err" |
    tr '\n' ' ')
[[ $got == "$bad_lines " ]] ||
    fail "bad lines: reported '$got', wanted '$bad_lines': $err"
[[ $err == *"$bad: 12 bad lines; nothing imported"* ]] ||
    fail "bad lines: no summary: '$err'"
[[ ! -e $tmp/bad.sqlite ]] || fail "a bad file created the model"

# The header: missing, of another version, not the first line; an empty
# file; a file cut short. All refused with 65, naming the file.
run import --db "sqlite:$tmp/bad.sqlite" "$tmp/spam.jsonl"
expect 65 "import without a header"
[[ $err == "captcha-check: $tmp/spam.jsonl:1: not a replyguard export"* ]] ||
    fail "no header: '$err'"
sed '1s/"version":1/"version":2/' "$tmp/model.export" >"$tmp/v2.export"
run import --db "sqlite:$tmp/bad.sqlite" "$tmp/v2.export"
expect 65 "import of version 2"
[[ $err == "captcha-check: $tmp/v2.export:1: an export of version 2;"* ]] ||
    fail "version 2: '$err'"
run import --db "sqlite:$tmp/bad.sqlite" </dev/null
expect 65 "import of nothing"
[[ $err == *"<stdin>: empty"* ]] || fail "empty: '$err'"
head -5 "$tmp/model.export" >"$tmp/cut.export"
run import --db "sqlite:$tmp/bad.sqlite" "$tmp/cut.export"
expect 65 "import of a file cut short"
[[ $err == *"the header says $tokens tokens, the file holds 4"* ]] ||
    fail "cut short: '$err'"
[[ ! -e $tmp/bad.sqlite ]] || fail "a refused file created the model"
run import --db "sqlite:$tmp/bad.sqlite" "$tmp/missing.export"
expect 66 "import of a missing file"
run import --db memory: "$tmp/model.export"
expect 64 "import --db memory:"

# --- spent tokens -------------------------------------------------------
store=sqlite:$tmp/spent.sqlite
run issue --key "$tmp/key" --style digits --json
echo "$out" >"$tmp/issued.json"
token=$(python3 -c '
import json, sys
print(json.load(open(sys.argv[1]))["token"])' "$tmp/issued.json")
run verify --key "$tmp/key" --store "$store" --min-solve 0 "$token" 0
[[ $rc -le 1 ]] || fail "verify: exit $rc, '$err'"
run export --db "$db" --store "$store"
expect 0 "export with spent tokens"
tail -n +$((tokens + 2)) "$tmp/out" >"$tmp/nonces"
python3 -c '
import base64, json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
issued = json.load(open(sys.argv[2]))
t = issued["token"]
raw = base64.urlsafe_b64decode(t + "=" * (-len(t) % 4))
assert len(rows) == 1, rows
assert rows[0]["nonce"] == raw[21:37].hex(), (rows, raw[21:37].hex())
# Spent until the token expires, plus the clock skew it tolerates.
assert rows[0]["expires_at"] == issued["expires_at"] + 60, rows
' "$tmp/nonces" "$tmp/issued.json" ||
    fail "exported nonce: $(cat "$tmp/nonces")"
cp "$tmp/out" "$tmp/full.export"

# The global --store, before the verb, does the same.
run --store "$store" export --db "$db"
cmp -s "$tmp/out" "$tmp/full.export" || fail "export with a global --store"
run --store="$store" export --db "$db"
cmp -s "$tmp/out" "$tmp/full.export" || fail "export with --store="
# A verb's own option wins over the global one.
run --store "sqlite:$tmp/other.sqlite" export --db "$db" --store "$store"
cmp -s "$tmp/out" "$tmp/full.export" || fail "the verb's --store lost"
rc=0
REPLYGUARD_STORE=$store "$cc" export --db "$db" >"$tmp/out" 2>"$tmp/err" ||
    rc=$?
cmp -s "$tmp/out" "$tmp/full.export" || fail "export with REPLYGUARD_STORE"

run stats --db "$db" --store "$store"
expect 0 "stats with a store"
grep -qxF "  spent tokens: 1" "$tmp/out" || fail "stats: spent: '$out'"
run limit --store "$store" some-client
expect 0 "limit"
run stats --store "$store" --json
json_check "$tmp/out" "
s = d['store']
assert (s['spent'], s['limit_keys']) == (1, 1), s
assert s['health'] == 'ok', s
" || fail "stats --json of the store: $out"

# Imported into another store, the token is spent there too; the global
# --store and --key name them.
store2=sqlite:$tmp/spent2.sqlite
run import --db "sqlite:$tmp/model4.sqlite" --store "$store2" \
    "$tmp/full.export"
expect 0 "import with spent tokens"
[[ $out == *" and 1 spent token (0 already spent, 0 expired)" ]] ||
    fail "import of spent tokens: '$out'"
run --store "$store2" --key "$tmp/key" verify --min-solve 0 "$token" 0
[[ $rc -eq 4 && $out == replayed ]] ||
    fail "global --store verify: exit $rc, '$out', '$err'"
rc=0
REPLYGUARD_KEY_FILE=$tmp/key "$cc" --store "$store2" verify --min-solve 0 \
    "$token" 0 >"$tmp/out" 2>"$tmp/err" || rc=$?
[[ $rc -eq 4 ]] || fail "REPLYGUARD_KEY_FILE verify: exit $rc"
run import --db "sqlite:$tmp/model4.sqlite" --store "$store2" \
    "$tmp/full.export"
[[ $out == *" and 0 spent tokens (1 already spent, 0 expired)" ]] ||
    fail "import of spent tokens again: '$out'"
# Without a store they are left out, with a warning.
run import --db "sqlite:$tmp/model5.sqlite" "$tmp/full.export"
expect 0 "import of spent tokens without a store"
[[ $err == *"1 spent tokens left out"* ]] || fail "no warning: '$err'"
# An expired one is not imported.
{
    echo '{"replyguard":"export","version":1,"spam":0,"ham":0,'\
'"spam_words":0,"ham_words":0,"tokens":0}'
    echo '{"nonce":"000102030405060708090a0b0c0d0e0f","expires_at":1000}'
} >"$tmp/expired.export"
run import --db "sqlite:$tmp/model5.sqlite" --store "$store2" \
    "$tmp/expired.export"
[[ $out == *" and 0 spent tokens (0 already spent, 1 expired)" ]] ||
    fail "import of an expired token: '$out'"

# --- migrate ------------------------------------------------------------
run migrate --from "$db" --to "sqlite:$tmp/migrated.sqlite"
expect 0 "migrate sqlite -> sqlite"
want="migrated $tokens tokens (8 spam, 6 ham comments) and 0 spent tokens"
[[ $out == "$want"*"; the totals match" ]] ||
    fail "migrate: '$out'"
run export --db "sqlite:$tmp/migrated.sqlite"
cmp -s "$tmp/out" "$tmp/model.export" || fail "migrated model differs"
run classify --db "sqlite:$tmp/migrated.sqlite" "$tmp/test.jsonl"
cmp -s "$tmp/out" "$tmp/scores" || fail "migrated model classifies otherwise"
run migrate --from "$store" --to "sqlite:$tmp/migrated-store.sqlite"
expect 0 "migrate of a store"
want=" and 1 spent token (0 already spent, 0 expired) "
[[ $out == "migrated 0 tokens "*"$want"* ]] ||
    fail "migrate of a store: '$out'"
run --key "$tmp/key" verify --store "sqlite:$tmp/migrated-store.sqlite" \
    --min-solve 0 "$token" 0
[[ $rc -eq 4 ]] || fail "token not spent after migrate: exit $rc"

run migrate --from "$db" --to "$db"
expect 64 "migrate into itself"
run migrate --from "$db"
expect 64 "migrate without --to"
run migrate --from memory: --to "$db"
expect 64 "migrate --from memory:"
run migrate --from "sqlite:$tmp/absent.sqlite" --to "sqlite:$tmp/m6.sqlite"
expect 74 "migrate from a missing file"
[[ ! -e $tmp/absent.sqlite && ! -e $tmp/m6.sqlite ]] ||
    fail "migrate from a missing file created one"

# Into Redis, when one is given: the export from it is the same file.
if [[ -n ${RG_TEST_REDIS_URL:-} ]]; then
    prefix=rgtest-cli-model-$$-$RANDOM
    sep='?'
    [[ $RG_TEST_REDIS_URL == *'?'* ]] && sep='&'
    redis=$RG_TEST_REDIS_URL${sep}prefix=$prefix
    if command -v redis-cli >/dev/null; then
        redis_cleanup="redis-cli -u '${RG_TEST_REDIS_URL%%\?*}' --scan \
            --pattern '$prefix:*' | xargs -r redis-cli \
            -u '${RG_TEST_REDIS_URL%%\?*}' del >/dev/null"
    fi
    run migrate --from "$db" --to "$redis"
    expect 0 "migrate sqlite -> redis"
    run migrate --from "$store" --to "$redis"
    expect 0 "migrate a store -> redis"
    run export --db "$redis" --store "$redis"
    expect 0 "export from redis"
    cmp -s "$tmp/out" "$tmp/full.export" ||
        fail "redis export differs: $(diff "$tmp/out" "$tmp/full.export" |
            head -5)"
    run stats --db "$redis" --store "$redis" --json
    json_check "$tmp/out" "
m, s = d['model'], d['store']
assert m['backend'] == 'redis' and m['tokens'] == $tokens, m
assert m['ping_ms'] is not None and s['spent'] == 1, d
" || fail "stats of redis: $out"
    run --key "$tmp/key" --store "$redis" verify --min-solve 0 "$token" 0
    [[ $rc -eq 4 ]] || fail "token not spent in redis: exit $rc"
else
    echo "note: RG_TEST_REDIS_URL unset; migrate to redis not tested" >&2
fi

[[ $failures -eq 0 ]]
