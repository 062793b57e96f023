#!/usr/bin/env bash
# Tests the content-filter verbs of captcha-check end to end: train and
# classify over JSON Lines, bad lines, exit statuses, unlearning, the
# default model, standard input and the progress bar.
#
# Usage: test-cli-bayes.sh PATH-TO-captcha-check [SCRATCH-PARENT-DIR]
# Prints one line per failed check and exits 0 only when all pass (77, a
# skip, when this build has no sqlite: store, which the verbs need).
set -euo pipefail

cc=${1:?usage: test-cli-bayes.sh PATH-TO-captcha-check [SCRATCH-DIR]}
tmp=$(mktemp -d "${2:-${TMPDIR:-/tmp}}/rg-cli-bayes.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

# Nothing from the caller's environment may choose the model, and the
# default model must land in the scratch directory.
unset REPLYGUARD_DB REPLYGUARD_STORE REPLYGUARD_KEY_FILE XDG_DATA_HOME
export HOME=$tmp/home
mkdir "$HOME"

# shellcheck source=tests/cli-common.sh
source "$(dirname "$0")/cli-common.sh"

# expect STATUS DESCRIPTION: checks the last run's status.
expect() {
    [[ $rc -eq $1 ]] || fail "$2: exit $rc, wanted $1 (stderr '$err')"
}

# Does this build have the sqlite: store? The verbs refuse memory:, so
# without it there is nothing to test.
run keygen --out "$tmp/key"
run verify --key "$tmp/key" --store "sqlite:$tmp/probe.sqlite" AAAA 1
if [[ $rc -eq 74 && $err == *"lacks that feature"* ]]; then
    echo "note: sqlite store not built; skipping" >&2
    exit 77
fi

db=sqlite:$tmp/model.sqlite

# --- fixtures -----------------------------------------------------------
cat >"$tmp/spam.jsonl" <<'EOF'
{"body":"Buy cheap pills at http://pills.example.com"}
{"body":"Cheap viagra and cialis, no prescription needed, order at http://pills.example.com/order","author":"Pharma Deals"}
{"body":"Best online casino bonus! Free spins at http://casino.example.net","url":"http://casino.example.net"}
{"body":"Earn $5000 a week working from home, click http://money.example.org","email":"rich@money.example.org"}
{"body":"Cheap replica watches, best prices, visit http://watches.example.com"}
{"body":"Get a payday loan today, no credit check: http://loans.example.biz","author":"Loan Expert"}
{"body":"SEO services: rank #1 on Google fast, cheap backlinks http://seo.example.com"}
{"body":"Hot singles in your area waiting for you http://dating.example.info"}
{"body":"Buy followers and likes cheap http://followers.example.com","ip":"203.0.113.7"}
{"body":"Crypto investment doubles your bitcoin in 24 hours http://crypto.example.io"}
{"body":"Cheap pills online, discount pharmacy, buy now http://pharmacy.example.com"}
{"body":"Free casino chips and jackpot bonus, play now http://casino.example.net/bonus"}
{"body":"Lose weight fast with this miracle diet pill http://diet.example.com"}
{"body":"Make money online fast, no experience, click here http://money.example.org/join"}
{"body":"Discount cialis, cheap generic pills, fast shipping http://pills.example.com/cialis"}
{"body":"Nice post! Visit my site for cheap loans http://loans.example.biz/apply","url":"http://loans.example.biz"}
{"body":"Buy cheap essays and backlinks, best SEO http://seo.example.com/buy"}
{"body":"Win an iPhone now, click here to claim your prize http://prize.example.com"}
{"body":"Online pharmacy: cheap pills without prescription http://pharmacy.example.com/buy"}
{"body":"Casino bonus, free spins, cheap chips, win big http://casino.example.net/win"}
EOF
cat >"$tmp/ham.jsonl" <<'EOF'
{"body":"Great article, thanks for explaining the GCRA part","author":"Alice"}
{"body":"I had never understood token buckets before, this helped a lot"}
{"body":"Could you write a follow-up about rate limiting behind a proxy?","email":"bob@example.org"}
{"body":"The diagram of the replay guard made it click for me, thank you"}
{"body":"Small typo in the second paragraph: \"recieve\" should be \"receive\""}
{"body":"We use a similar approach at work, but with Redis instead of SQLite"}
{"body":"How does the challenge work for screen reader users?","author":"Carol"}
{"body":"Thanks, the explanation of the HMAC binding was very clear"}
{"body":"I disagree about the time trap; some people type really fast"}
{"body":"Does this also work when JavaScript is disabled in the browser?"}
{"body":"Interesting read, I shared it with my team","ip":"2001:db8::1"}
{"body":"What happens to the spent tokens after they expire?"}
{"body":"Great write-up on the SQLite WAL mode and crash safety"}
{"body":"Would love to see benchmarks against other spam filters"}
{"body":"The part about key rotation answered exactly my question, thanks"}
{"body":"My comment form got hammered by bots last week, will try this"}
{"body":"Clear and well explained, thanks for taking the time","author":"Dave"}
{"body":"Is there a Python binding I can use with Flask?"}
{"body":"I think the GCRA explanation could use one more example"}
{"body":"Thanks for the article, the accessibility section is really thoughtful"}
EOF
# Held out: never trained. Ids of both kinds, one beyond a double's
# precision, and one line without an id.
cat >"$tmp/test.jsonl" <<'EOF'
{"id":"s1","body":"Cheap pills and casino bonus, buy now at http://pills.example.com"}
{"id":2,"body":"Thanks for the great article, the GCRA explanation was very clear"}
{"id":"s3","body":"Free spins and cheap loans, click here http://casino.example.net/win"}
{"id":9007199254740993,"body":"Thanks, I shared the article about rate limiting with my team"}
{"id":-5,"body":"Hello"}
{"id":"\u00fcn\u00efc\u00f6de \"quoted\"","body":"caf\u00e9"}
{"body":"no id here"}
EOF

# check_output FILE SCRIPT: runs a Python check over the JSON Lines in FILE
# (a list `rows`); the script asserts.
check_output() {
    python3 -c '
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1], encoding="utf-8")]
for r in rows:
    assert set(r) <= {"id", "spamicity", "verdict", "clues"}, r
    assert isinstance(r["spamicity"], float), r
    assert 0 <= r["spamicity"] <= 1, r
    assert r["verdict"] in ("ham", "unsure", "spam"), r
exec(sys.argv[2])
' "$1" "$2"
}

# --- help and usage -----------------------------------------------------
for verb in train classify; do
    run "$verb" --help
    expect 0 "$verb --help"
    [[ $out == *"captcha-check $verb"* ]] || fail "$verb --help: no usage"
    run help "$verb"
    expect 0 "help $verb"
done
run --help
[[ $out == *train* && $out == *classify* ]] || fail "--help lacks the verbs"

run train --db "$db" "$tmp/spam.jsonl"
expect 64 "train without --spam or --ham"
run train --db "$db" --spam --ham "$tmp/spam.jsonl"
expect 64 "train --spam --ham"
run train --db "$db" --spam "$tmp/spam.jsonl" "$tmp/ham.jsonl"
expect 64 "train with two files"
run classify --db "$db" --spam "$tmp/test.jsonl"
expect 64 "classify --spam"
run classify --bogus
expect 64 "classify --bogus"
[[ $err == "captcha-check: "*"--bogus"* ]] || fail "--bogus: message '$err'"
run classify --db
expect 64 "classify --db without a value"
[[ ! -e $tmp/model.sqlite ]] || fail "usage errors created the model"

# A memory: model would die with the process: refused, however named.
run train --db memory: --spam "$tmp/spam.jsonl"
expect 64 "train --db memory:"
[[ $err == *"memory:"* ]] || fail "train --db memory: message '$err'"
run classify --db MEMORY:?tokens=10 "$tmp/test.jsonl"
expect 64 "classify --db MEMORY:"
rc=0
REPLYGUARD_DB=memory: "$cc" train --spam "$tmp/spam.jsonl" \
    >"$tmp/out" 2>"$tmp/err" || rc=$?
[[ $rc -eq 64 ]] || fail "REPLYGUARD_DB=memory: train: exit $rc"

# --- training -----------------------------------------------------------
run train --db "$db" --spam "$tmp/spam.jsonl"
expect 0 "train --spam"
[[ $out == "learned 20 comments as spam (model: 20 spam, 0 ham, "* ]] ||
    fail "train --spam: '$out'"
[[ -z $err ]] || fail "train --spam: stderr '$err'"
run train --db "$db" --ham - <"$tmp/ham.jsonl"
expect 0 "train --ham from stdin (-)"
[[ $out == "learned 20 comments as ham (model: 20 spam, 20 ham, "* ]] ||
    fail "train --ham: '$out'"

# --- classify -----------------------------------------------------------
run classify --db "$db" "$tmp/test.jsonl"
expect 0 "classify"
[[ -z $err ]] || fail "classify: stderr '$err'"
cp "$tmp/out" "$tmp/scores"
check_output "$tmp/scores" '
assert len(rows) == 7, rows
ids = [r.get("id") for r in rows]
assert ids == ["s1", 2, "s3", 9007199254740993, -5,
               "\u00fcn\u00efc\u00f6de \"quoted\"", None], ids
assert "id" not in rows[6], rows[6]
assert all("clues" not in r for r in rows), rows
s = [r["spamicity"] for r in rows]
assert s[0] > s[1] and s[0] > s[3], s
assert s[2] > s[1] and s[2] > s[3], s
assert rows[0]["verdict"] == "spam", rows[0]
assert rows[1]["verdict"] == "ham", rows[1]
assert rows[3]["verdict"] != "spam", rows[3]
' || fail "classify: $(cat "$tmp/scores")"
# The integer id is echoed digit for digit, not through a double.
grep -q '"id":9007199254740993,' "$tmp/scores" ||
    fail "classify: big id not exact: $(cat "$tmp/scores")"

# Training leaves a model image next to the file (PATH-image, named by
# the file); classifying without it (as after learning through the
# library) or with a damaged one gives the same output.
db_file=${db#sqlite:}
[[ -f $db_file-image ]] || fail "train wrote no model image"
cp "$db_file-image" "$tmp/image.saved"
head -c 100 "$tmp/image.saved" >"$db_file-image"
run classify --db "$db" "$tmp/test.jsonl"
expect 0 "classify with a damaged image"
cmp -s "$tmp/out" "$tmp/scores" || fail "classify with a damaged image differs"
rm "$db_file-image"
run classify --db "$db" "$tmp/test.jsonl"
expect 0 "classify without an image"
cmp -s "$tmp/out" "$tmp/scores" || fail "classify without an image differs"
cp "$tmp/image.saved" "$db_file-image"

# An image that cannot be written is a warning; the training stands.
cp "$db_file" "$tmp/warn.sqlite"
mkdir "$tmp/warn.sqlite-image"
run train --db "sqlite:$tmp/warn.sqlite" --ham "$tmp/ham.jsonl"
expect 0 "train with an unwritable image"
[[ $err == *"model image not written"* ]] ||
    fail "train with an unwritable image: stderr '$err'"
[[ $out == "learned 20 comments as ham (model: 20 spam, 40 ham, "* ]] ||
    fail "train with an unwritable image: '$out'"

# Standard input, with and without "-", and CRLF line ends.
run classify --db "$db" <"$tmp/test.jsonl"
cmp -s "$tmp/out" "$tmp/scores" || fail "classify from stdin differs"
run classify --db "$db" - <"$tmp/test.jsonl"
cmp -s "$tmp/out" "$tmp/scores" || fail "classify - differs"
sed 's/$/\r/' "$tmp/test.jsonl" >"$tmp/crlf.jsonl"
run classify --db "$db" "$tmp/crlf.jsonl"
expect 0 "classify CRLF lines"
cmp -s "$tmp/out" "$tmp/scores" || fail "classify of CRLF lines differs"

# A program may write one line and wait for its answer: classify flushes
# before it waits for input.
timeout 20 python3 -c '
import json, subprocess, sys
p = subprocess.Popen([sys.argv[1], "classify", "--db", sys.argv[2]],
                     stdin=subprocess.PIPE, stdout=subprocess.PIPE)
for i in range(3):
    p.stdin.write(b"{\"id\":%d,\"body\":\"cheap pills\"}\n" % i)
    p.stdin.flush()
    assert json.loads(p.stdout.readline())["id"] == i
p.stdin.close()
assert p.wait() == 0
' "$cc" "$db" || fail "classify as a coprocess"

# Empty input: nothing out, success.
run classify --db "$db" </dev/null
expect 0 "classify of nothing"
[[ -z $out ]] || fail "classify of nothing printed '$out'"

# --explain.
run classify --db "$db" --explain "$tmp/test.jsonl"
expect 0 "classify --explain"
cp "$tmp/out" "$tmp/explained"
check_output "$tmp/explained" '
assert len(rows) == 7
for r in rows:
    assert isinstance(r["clues"], list) and len(r["clues"]) <= 10, r
    for c in r["clues"]:
        assert set(c) == {"token", "p", "spam", "ham"}, c
        assert isinstance(c["token"], str) and c["token"], c
        assert 0 <= c["p"] <= 1, c
        assert isinstance(c["spam"], int) and c["spam"] >= 0, c
        assert isinstance(c["ham"], int) and c["ham"] >= 0, c
spam = rows[0]["clues"]
assert spam and spam[0]["p"] > 0.5, spam
assert any("pill" in c["token"] or "cheap" in c["token"] for c in spam), spam
ham = rows[1]["clues"]
assert ham and any(c["p"] < 0.5 for c in ham), ham
' || fail "classify --explain: $(head -c 2000 "$tmp/explained")"

# --- bad lines ----------------------------------------------------------
# Each bad line is reported as FILE:LINE and skipped; the good ones still
# get their output line, in order; the status is 65.
bad=$tmp/bad.jsonl
{
    echo '{"id":"g1","body":"Cheap pills here http://pills.example.com"}'
    echo 'not json at all'
    echo '["body","an array"]'
    echo '{"author":"no body"}'
    echo '{"body":42}'
    printf '{"body":"%s"}\n' "$(head -c 2097152 /dev/zero | tr '\0' a)"
    echo '{"body":"lone surrogate \ud800 here"}'
    echo ''
    echo '{"id":9,"body":"Thanks for the article"}'
    echo '{"body":"nul \u0000 inside"}'
    echo '{"body":"x","id":1.5}'
    echo '{"body":"x","url":5}'
    echo '{"body":"x","body":"y"}'
    printf '{"body":"caf\xff raw byte"}\n'
    printf '{"id":"last","body":"no newline at the end"}'
} >"$bad"
bad_lines="2 3 4 5 6 7 8 10 11 12 13 14"

# check_bad_lines NAME: stderr must report exactly $bad_lines of $bad.
check_bad_lines() {
    local got
    got=$(sed -n "s|^captcha-check: $bad:\([0-9]*\): .*|\1|p" "$tmp/err" |
        tr '\n' ' ')
    [[ $got == "$bad_lines " ]] ||
        fail "$1: reported lines '$got', wanted '$bad_lines': $(cat "$tmp/err")"
    [[ $(wc -l <"$tmp/err") -eq 12 ]] ||
        fail "$1: stderr is not one line per bad line: $(cat "$tmp/err")"
}

run classify --db "$db" "$bad"
expect 65 "classify with bad lines"
check_bad_lines "classify"
check_output "$tmp/out" '
assert [r.get("id") for r in rows] == ["g1", 9, "last"], rows
' || fail "classify with bad lines: output '$out'"
grep -q "^captcha-check: $bad:6: .*1 MiB" "$tmp/err" ||
    fail "the 2 MB line is not reported as too long: $(cat "$tmp/err")"

# A long input is scored in shares on several threads: the same scores
# as line by line, in input order, and its bad lines reported in order.
many=$tmp/many.jsonl
for i in $(seq 1 400); do
    case $((i % 50)) in
    7) echo 'not json' ;;
    19) echo '{"body":42}' ;;
    *) printf '{"id":%d,"body":"comment %d: cheap pills or thanks %d"}\n' \
        "$i" "$i" $((i % 13)) ;;
    esac
done >"$many"
run classify --db "$db" "$many"
expect 65 "classify of a long input"
cp "$tmp/out" "$tmp/many.out"
want_bad=$(awk '$0 == "not json" || $0 == "{\"body\":42}" {printf "%d ", NR}' \
    "$many")
got_bad=$(sed -n "s|^captcha-check: $many:\([0-9]*\): .*|\1|p" "$tmp/err" |
    tr '\n' ' ')
[[ $got_bad == "$want_bad" ]] ||
    fail "long input: bad lines '$got_bad', wanted '$want_bad'"
check_output "$tmp/many.out" '
ids = [r["id"] for r in rows]
assert len(ids) == 384 and ids == sorted(ids), ids[:20]
' || fail "long input: output not one line per good line, in order"
# From a pipe (no size known up front) the threads start with the first
# large batch instead: the same output.
rc=0
cat "$many" | "$cc" classify --db "$db" >"$tmp/piped.out" 2>/dev/null || rc=$?
[[ $rc -eq 65 ]] || fail "long input from a pipe: exit $rc, wanted 65"
cmp -s "$tmp/piped.out" "$tmp/many.out" ||
    fail "long input from a pipe scores differently"
for i in 1 2 200 399; do
    grep "\"id\":$i," "$tmp/many.out" >"$tmp/want.line"
    sed -n "${i}p" "$many" | "$cc" classify --db "$db" >"$tmp/one.line" ||
        fail "classify of line $i alone"
    cmp -s "$tmp/one.line" "$tmp/want.line" ||
        fail "long input: line $i scores differently alone"
done

# On one CPU there are no scoring threads: the same output.
if command -v taskset >/dev/null; then
    rc=0
    taskset -c 0 "$cc" classify --db "$db" "$many" >"$tmp/one-cpu.out" \
        2>/dev/null || rc=$?
    [[ $rc -eq 65 ]] || fail "long input on one CPU: exit $rc, wanted 65"
    cmp -s "$tmp/one-cpu.out" "$tmp/many.out" ||
        fail "long input on one CPU scores differently"
fi

# A long file is parsed while the model opens; a model that then fails
# is the one error reported: no bad line, no result.
cp "$db_file" "$tmp/broken.sqlite"
sqlite3 "$tmp/broken.sqlite" 'DROP TABLE bayes_totals' 2>/dev/null ||
    python3 -c 'import sqlite3, sys
c = sqlite3.connect(sys.argv[1]); c.execute("DROP TABLE bayes_totals")
c.commit()' "$tmp/broken.sqlite"
run classify --db "sqlite:$tmp/broken.sqlite" "$many"
expect 74 "classify of a long input with a broken model"
[[ -z $out ]] || fail "broken model: output '$out'"
[[ $(wc -l <"$tmp/err") -eq 1 && $err == *"broken.sqlite"* ]] ||
    fail "broken model: stderr '$err'"

run train --db "sqlite:$tmp/bad-model.sqlite" --spam "$bad"
expect 65 "train with bad lines"
check_bad_lines "train"
[[ $out == "learned 3 comments as spam "*"; 12 bad lines skipped" ]] ||
    fail "train with bad lines: '$out'"

# A line far beyond the limit is read through, never held: peak memory
# stays small. (The line is made outside Python so that Python stays small:
# a child's peak counts its memory from before exec too.)
{
    printf '{"body":"'
    head -c $((64 << 20)) /dev/zero | tr '\0' a
    printf '"}\n{"id":1,"body":"x"}\n'
} | python3 -c '
import resource, subprocess, sys
p = subprocess.run([sys.argv[1], "classify", "--db", sys.argv[2]],
                   capture_output=True)
assert p.returncode == 65, (p.returncode, p.stderr)
assert p.stdout.count(b"\n") == 1 and b"\"id\":1," in p.stdout, p.stdout
assert b"<stdin>:1: " in p.stderr, p.stderr
rss_mib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
assert rss_mib < 48, "peak RSS %.1f MiB for a 64 MiB line" % rss_mib
' "$cc" "$db" || fail "a 64 MiB line"

# --- unreadable input and model errors ----------------------------------
run classify --db "$db" "$tmp/missing.jsonl"
expect 66 "classify a missing file"
[[ $err == "captcha-check: $tmp/missing.jsonl: "* ]] ||
    fail "missing file not named: '$err'"
run classify --db "$db" "$tmp"
expect 66 "classify a directory"
run train --db "sqlite:$tmp/never.sqlite" --spam "$tmp/missing.jsonl"
expect 66 "train a missing file"
[[ ! -e $tmp/never.sqlite ]] || fail "train of a missing file made a model"
if [[ $(id -u) -ne 0 ]]; then
    cp "$tmp/test.jsonl" "$tmp/locked.jsonl"
    chmod 000 "$tmp/locked.jsonl"
    run classify --db "$db" "$tmp/locked.jsonl"
    expect 66 "classify an unreadable file"
fi

run classify --db "sqlite:$tmp/nope.sqlite" "$tmp/test.jsonl"
expect 74 "classify with a missing model"
[[ $err == *"$tmp/nope.sqlite"* ]] || fail "missing model not named: '$err'"
[[ ! -e $tmp/nope.sqlite ]] || fail "classify created a model"
run classify --db "nosuch:thing" "$tmp/test.jsonl"
expect 74 "classify --db nosuch:"
run train --db "sqlite:$tmp/no/such/dir/m.sqlite" --ham "$tmp/ham.jsonl"
expect 74 "train into an unopenable model"

# --- unlearning ---------------------------------------------------------
# Taking the spam back makes spam look less spammy; learning it again
# gives exactly the scores of before.
run train --db "$db" --spam --unlearn "$tmp/spam.jsonl"
expect 0 "train --spam --unlearn"
[[ $out == "unlearned 20 comments as spam (model: 0 spam, 20 ham, "* ]] ||
    fail "unlearn: '$out'"
run classify --db "$db" "$tmp/test.jsonl"
cp "$tmp/out" "$tmp/unlearned"
python3 -c '
import json, sys
a = [json.loads(l) for l in open(sys.argv[1])]
b = [json.loads(l) for l in open(sys.argv[2])]
assert b[0]["spamicity"] < a[0]["spamicity"], (a[0], b[0])
assert b[2]["spamicity"] < a[2]["spamicity"], (a[2], b[2])
' "$tmp/scores" "$tmp/unlearned" ||
    fail "unlearning changed nothing: $(cat "$tmp/unlearned")"
run train --db "$db" --spam "$tmp/spam.jsonl"
expect 0 "learn the spam again"
run classify --db "$db" "$tmp/test.jsonl"
cmp -s "$tmp/out" "$tmp/scores" ||
    fail "unlearn and relearn did not restore the scores: $out"

# Unlearning a comment that was never learned is a bad line; the others of
# the same batch are unlearned all the same.
{
    sed -n 1p "$tmp/ham.jsonl"
    echo '{"body":"zzyzx-never-learned qwxqwx"}'
} >"$tmp/unlearn.jsonl"
run train --db "$db" --ham --unlearn "$tmp/unlearn.jsonl"
expect 65 "unlearn a comment never learned"
[[ $err == "captcha-check: $tmp/unlearn.jsonl:2: "*"never learned"* ]] ||
    fail "unlearn never learned: '$err'"
[[ $out == "unlearned 1 comment as ham (model: 20 spam, 19 ham, "* ]] ||
    fail "unlearn never learned: '$out'"
sed -n 1p "$tmp/ham.jsonl" >"$tmp/relearn.jsonl"
run train --db "$db" --ham "$tmp/relearn.jsonl"
expect 0 "learn the ham again"
run classify --db "$db" "$tmp/test.jsonl"
cmp -s "$tmp/out" "$tmp/scores" || fail "the model did not come back: $out"

# --- the default model --------------------------------------------------
run train --spam "$tmp/spam.jsonl"
expect 0 "train with the default model"
[[ -f $HOME/.local/share/replyguard/model.sqlite ]] ||
    fail "default model: no ~/.local/share/replyguard/model.sqlite"
run classify "$tmp/test.jsonl"
expect 0 "classify with the default model"
rc=0
XDG_DATA_HOME=$tmp/xdg "$cc" train --ham "$tmp/ham.jsonl" \
    >"$tmp/out" 2>"$tmp/err" || rc=$?
[[ $rc -eq 0 && -f $tmp/xdg/replyguard/model.sqlite ]] ||
    fail "XDG_DATA_HOME: exit $rc, $(cat "$tmp/err")"
rc=0
REPLYGUARD_DB=sqlite:$tmp/env.sqlite "$cc" train --ham "$tmp/ham.jsonl" \
    >"$tmp/out" 2>"$tmp/err" || rc=$?
[[ $rc -eq 0 && -f $tmp/env.sqlite ]] ||
    fail "REPLYGUARD_DB: exit $rc, $(cat "$tmp/err")"

# --- many comments: batches and the progress bar ------------------------
python3 -c '
import json
for i in range(2345):
    print(json.dumps({"id": i, "body": "comment number %d about topic %d"
                      % (i, i % 37)}))
' >"$tmp/many.jsonl"
# Not a terminal: no progress, nothing on stderr.
run train --db "sqlite:$tmp/many.sqlite" --ham "$tmp/many.jsonl"
expect 0 "train 2345 comments"
[[ $out == "learned 2345 comments as ham (model: 0 spam, 2345 ham, "* ]] ||
    fail "train 2345: '$out'"
[[ -z $err ]] || fail "progress without a terminal: '$err'"
# A terminal: the bar is drawn, then wiped.
python3 -c '
import os, pty, subprocess, sys
master, slave = pty.openpty()
p = subprocess.Popen([sys.argv[1], "train", "--db", sys.argv[2], "--spam",
                      sys.argv[3]], stdout=subprocess.PIPE, stderr=slave)
os.close(slave)
data = b""
while True:
    try:
        chunk = os.read(master, 65536)
    except OSError:
        break
    if not chunk:
        break
    data += chunk
out = p.stdout.read()
assert p.wait() == 0, p.returncode
assert b"training: " in data and b" lines, " in data, data
assert b"/s" in data and b"%" in data, data
assert data.endswith(b"\r"), data[-200:]
last = data[:-1].rsplit(b"\r", 1)[-1]
assert last.strip(b" ") == b"", data[-200:]
assert out.startswith(b"learned 2345 comments as spam"), out
' "$cc" "sqlite:$tmp/many.sqlite" "$tmp/many.jsonl" ||
    fail "progress bar on a terminal"
# Few lines on a terminal: no bar.
python3 -c '
import os, pty, subprocess, sys
master, slave = pty.openpty()
p = subprocess.run([sys.argv[1], "train", "--db", sys.argv[2], "--spam",
                    sys.argv[3]], stdout=subprocess.PIPE, stderr=slave)
os.close(slave)
os.set_blocking(master, False)
try:
    data = os.read(master, 65536)
except (BlockingIOError, OSError):
    data = b""
assert p.returncode == 0 and data == b"", data
' "$cc" "sqlite:$tmp/few.sqlite" "$tmp/spam.jsonl" ||
    fail "progress bar for a few lines"

[[ $failures -eq 0 ]]
