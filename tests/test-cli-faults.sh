#!/usr/bin/env bash
# captcha-check on a disk that fills and on a read-only file system.
#
# - Disk full, with `ulimit -f` (RLIMIT_FSIZE; SIGXFSZ ignored, so a write
#   past the limit fails with EFBIG instead of killing the process) while
#   train, import, verify and limit write a sqlite: file, at several
#   limits: each exits 74 (EX_IOERR, docs/captcha-check.md) with a message
#   naming the file, and afterwards the file passes PRAGMA integrity_check
#   and `captcha-check export` shows exactly what the tool acknowledged
#   (the batches train reported learned, the tokens import reported
#   added), and a token whose verify failed is still unspent.
# - Read-only: when root (who writes whatever the mode bits say), the
#   files' directory is bind-mounted read-only in a mount namespace of the
#   test's own (unshare --mount); otherwise the mode bits are taken away.
#   Every verb exits 74, those that only read too (a sqlite: file needs
#   write access even to be read, in WAL mode), and nothing changes.
# - When root, a real 1 MiB tmpfs, in a mount namespace of its own, filled
#   by train until it fails.
#
# Usage: test-cli-faults.sh PATH-TO-captcha-check [SCRATCH-PARENT-DIR]
# Prints one line per failed check and exits 0 only when all pass (77, a
# skip, when this build has no sqlite: store).
set -euo pipefail

cc=${1:?usage: test-cli-faults.sh PATH-TO-captcha-check [SCRATCH-DIR]}
cc=$(cd "$(dirname "$cc")" && pwd)/$(basename "$cc")
tmp=$(mktemp -d "${2:-${TMPDIR:-/tmp}}/rg-cli-faults.XXXXXX")
trap 'chmod -R u+w "$tmp" 2>/dev/null; rm -rf "$tmp"' EXIT

unset REPLYGUARD_DB REPLYGUARD_STORE REPLYGUARD_KEY_FILE XDG_DATA_HOME
export HOME=$tmp/home
mkdir "$HOME"

# shellcheck source=tests/cli-common.sh
source "$(dirname "$0")/cli-common.sh"

expect() {
    [[ $rc -eq $1 ]] || fail "$2: exit $rc, wanted $1 (stderr '$err')"
}

# run_limited KB ARGS...: runs captcha-check with files limited to KB
# KiB, as run does.
run_limited() {
    local kb=$1
    shift
    rc=0
    (
        trap '' XFSZ
        ulimit -f "$kb"
        exec "$cc" "$@"
    ) >"$tmp/out" 2>"$tmp/err" || rc=$?
    out=$(cat "$tmp/out")
    err=$(cat "$tmp/err")
}

# A failed write's message: the tool's name, the store's URL, the reason.
expect_store_error() {
    local url=$1 what=$2
    expect 74 "$what"
    [[ $err == *"captcha-check: "*"'$url'"*"the store failed"* ]] ||
        fail "$what: unclear message '$err'"
}

# integrity PATH: PRAGMA integrity_check is "ok" (python3's sqlite3:
# scripts/deps installs no sqlite3 shell).
integrity() {
    python3 - "$1" <<'PY' || fail "integrity_check of $1"
import sqlite3, sys
c = sqlite3.connect(sys.argv[1])
rows = c.execute("PRAGMA integrity_check").fetchall()
if rows != [("ok",)]:
    sys.exit(f"{sys.argv[1]}: integrity_check: {rows}")
PY
}

run keygen --out "$tmp/key"
run verify --key "$tmp/key" --store "sqlite:$tmp/probe.sqlite" AAAA 1
if [[ $rc -eq 74 && $err == *"lacks that feature"* ]]; then
    echo "note: sqlite store not built; skipping" >&2
    exit 77
fi

# --- fixtures -----------------------------------------------------------
# 3000 spam comments with words of their own (six batches of 500, each
# writing thousands of rows), and a little ham.
lines=3000
batch=500
python3 - "$tmp/spam.jsonl" "$tmp/ham.jsonl" "$lines" <<'PY'
import json, sys
with open(sys.argv[1], "w") as f:
    for i in range(int(sys.argv[3])):
        words = " ".join(f"w{i}x{k}" for k in range(12))
        f.write(json.dumps({"id": i, "body": f"cheap pills {words}"}) + "\n")
with open(sys.argv[2], "w") as f:
    for i in range(40):
        f.write(json.dumps({"body": f"thanks for the post number {i}"}) + "\n")
PY

# model_of N DIR: a model of the ham and the first N spam comments, made
# with no fault, in DIR/model.sqlite.
model_of() {
    mkdir -p "$2"
    "$cc" train --db "sqlite:$2/model.sqlite" --ham "$tmp/ham.jsonl" \
        >/dev/null
    if [[ $1 -gt 0 ]]; then
        head -n "$1" "$tmp/spam.jsonl" >"$2/spam.jsonl"
        "$cc" train --db "sqlite:$2/model.sqlite" --spam "$2/spam.jsonl" \
            >/dev/null
    fi
}

# export_of URL FILE: the model's export.
export_of() {
    "$cc" export --db "$1" "$2" >/dev/null 2>&1 ||
        fail "export of $1 failed"
}

# --- disk full: train ---------------------------------------------------
# A model of the ham, then the spam with the files limited: the WAL of
# the training grows past the limit at some batch.
model_of 0 "$tmp/base"
base_kb=$(($(stat -c %s "$tmp/base/model.sqlite") / 1024))
failed_runs=0
for extra in 64 300 700 1500 8000; do
    d=$tmp/train-$extra
    mkdir "$d"
    cp "$tmp/base/model.sqlite" "$d/"
    db=sqlite:$d/model.sqlite
    run_limited $((base_kb + extra)) train --db "$db" --spam "$tmp/spam.jsonl"
    learned=$(sed -n 's/^learned \([0-9]*\) comments as spam.*/\1/p' \
        <<<"$out")
    [[ -n $learned ]] || fail "train, limit +$extra KiB: no count in '$out'"
    if [[ $rc -ne 0 ]]; then
        failed_runs=$((failed_runs + 1))
        expect_store_error "$db" "train, limit +$extra KiB"
        [[ $learned -lt $lines ]] ||
            fail "train, limit +$extra KiB: failed but learned all"
    else
        [[ $learned -eq $lines ]] ||
            fail "train, limit +$extra KiB: exit 0 but learned $learned"
    fi
    echo "train with files limited to base + $extra KiB: exit $rc," \
        "learned $learned of $lines"
    # Whole batches only: each is one transaction.
    [[ $((learned % batch)) -eq 0 ]] ||
        fail "train, limit +$extra KiB: $learned is not whole batches"
    integrity "$d/model.sqlite"
    # Exactly what was acknowledged: the model of the first $learned.
    export_of "$db" "$d/got.jsonl"
    model_of "$learned" "$d/ref"
    export_of "sqlite:$d/ref/model.sqlite" "$d/want.jsonl"
    cmp -s "$d/got.jsonl" "$d/want.jsonl" ||
        fail "train, limit +$extra KiB: the model is not that of the" \
            "$learned comments acknowledged"
    run stats --db "$db"
    expect 0 "stats after train, limit +$extra KiB"
    [[ $out == *"health: ok"* ]] || fail "stats: '$out'"
    # The model goes on learning with room again.
    run train --db "$db" --ham "$tmp/ham.jsonl"
    expect 0 "train with room again, limit +$extra KiB"
done
[[ $failed_runs -ge 3 ]] || fail "train: only $failed_runs limits made it fail"

# --- disk full: import --------------------------------------------------
model_of "$lines" "$tmp/full"
export_of "sqlite:$tmp/full/model.sqlite" "$tmp/full.jsonl"
total=$(($(wc -l <"$tmp/full.jsonl") - 1))
failed_runs=0
for kb in 8 64 200 600 4000; do
    d=$tmp/import-$kb
    mkdir "$d"
    db=sqlite:$d/model.sqlite
    run_limited "$kb" import --db "$db" "$tmp/full.jsonl"
    if [[ $rc -eq 0 ]]; then
        added=$total
    else
        failed_runs=$((failed_runs + 1))
        expect_store_error "$db" "import, limit $kb KiB"
        added=$(sed -n 's/.* \([0-9]*\) of [0-9]* tokens were added.*/\1/p' \
            <<<"$err")
        added=${added:-0}
    fi
    echo "import with files limited to $kb KiB: exit $rc, $added of" \
        "$total tokens added"
    [[ -f $d/model.sqlite ]] || continue
    integrity "$d/model.sqlite"
    export_of "$db" "$d/got.jsonl"
    # The tokens of the batches acknowledged, and the totals only with
    # the last batch.
    if [[ $rc -eq 0 ]]; then
        cmp -s "$d/got.jsonl" "$tmp/full.jsonl" ||
            fail "import, limit $kb KiB: exit 0 but not the whole model"
    else
        python3 - "$d/got.jsonl" "$tmp/full.jsonl" "$added" <<'PY' ||
import json, sys
got = open(sys.argv[1]).read().splitlines()
full = open(sys.argv[2]).read().splitlines()
n = int(sys.argv[3])
head = json.loads(got[0])
assert (head["spam"], head["ham"], head["tokens"]) == (0, 0, n), head
assert got[1:] == full[1:1 + n], "token lines differ"
PY
            fail "import, limit $kb KiB: not the $added tokens acknowledged"
    fi
done
[[ $failed_runs -ge 3 ]] || fail "import: only $failed_runs limits made it fail"

# --- disk full: verify and limit ----------------------------------------
store=sqlite:$tmp/replay/replay.sqlite
mkdir "$tmp/replay"
issue_token() {
    "$cc" issue --key "$tmp/key" --style digits >"$tmp/issued"
    token=$(sed -n 2p "$tmp/issued")
}
issue_token
spent=$token
run verify --key "$tmp/key" --store "$store" --min-solve 0 "$spent" 1000
expect 1 "verify before the fault"
issue_token
run_limited 1 verify --key "$tmp/key" --store "$store" --min-solve 0 \
    "$token" 1000
expect_store_error "$store" "verify on a full disk"
[[ -z $out ]] || fail "verify on a full disk printed a verdict: '$out'"
# A token spent before is never a pass, full disk or not.
run_limited 1 verify --key "$tmp/key" --store "$store" --min-solve 0 \
    "$spent" 1000
[[ $rc -eq 4 || $rc -eq 74 ]] ||
    fail "a spent token on a full disk: exit $rc, wanted 4 or 74"
run_limited 1 limit --store "$store" --rate 1/m --burst 1 client-1
expect_store_error "$store" "limit on a full disk"
integrity "$tmp/replay/replay.sqlite"
# Nothing was spent or taken by the calls that failed.
run verify --key "$tmp/key" --store "$store" --min-solve 0 "$token" 1000
expect 1 "the token of the failed verify is still unspent"
run verify --key "$tmp/key" --store "$store" --min-solve 0 "$spent" 1000
expect 4 "the token spent before is still spent"
run limit --store "$store" --rate 1/m --burst 1 client-1
expect 0 "limit after the fault"
[[ $out == "allowed remaining=1 "* ]] ||
    fail "the failed take was charged: '$out'"

# --- read-only ----------------------------------------------------------
ro=$tmp/ro
mkdir "$ro"
model_of 500 "$ro"
rodb=sqlite:$ro/model.sqlite
rostore=sqlite:$ro/replay.sqlite
issue_token
"$cc" verify --key "$tmp/key" --store "$rostore" --min-solve 0 "$token" \
    1000 >/dev/null || [[ $? -eq 1 ]] || fail "verify before read-only"
"$cc" limit --store "$rostore" client-2 >/dev/null
issue_token
export_of "$rodb" "$tmp/ro-before.jsonl"
cp -a "$ro" "$tmp/ro-copy"

# The verbs, each one run on the files of the read-only directory; stdout,
# stderr and status go to $tmp/ro-N.{out,err,rc}.
cat >"$tmp/ro-verbs.sh" <<EOF
n=0
for args in "train --db $rodb --spam $tmp/spam.jsonl" \\
    "train --db $rodb --ham --unlearn $tmp/ham.jsonl" \\
    "import --db $rodb $tmp/full.jsonl" \\
    "verify --key $tmp/key --store $rostore --min-solve 0 $token 1000" \\
    "limit --store $rostore --burst 0 client-3" \\
    "train --db sqlite:$ro/new.sqlite --spam $tmp/spam.jsonl" \\
    "stats --db $rodb --store $rostore" \\
    "export --db $rodb $tmp/ro-export.jsonl" \\
    "classify --db $rodb $tmp/ham.jsonl"; do
    n=\$((n + 1))
    rc=0
    $cc \$args >"$tmp/ro-\$n.out" 2>"$tmp/ro-\$n.err" || rc=\$?
    echo "\$rc" >"$tmp/ro-\$n.rc"
done
EOF
if [[ $(id -u) -eq 0 ]]; then
    how="a read-only bind mount"
    unshare --mount bash -c "
        mount --make-rprivate / &&
        mount --bind '$ro' '$ro' &&
        mount -o remount,bind,ro '$ro' &&
        ! touch '$ro/probe' 2>/dev/null &&
        bash '$tmp/ro-verbs.sh'" ||
        fail "read-only: cannot mount read-only as root"
else
    how="mode bits"
    chmod a-w "$ro" "$ro"/*
    ! touch "$ro/probe" 2>/dev/null || fail "read-only: still writable"
    bash "$tmp/ro-verbs.sh"
    chmod u+w "$ro" "$ro"/*
fi
for n in 1 2 3 4 5 6 7 8 9; do
    [[ -f $tmp/ro-$n.rc ]] || {
        fail "read-only ($how): verb $n did not run"
        continue
    }
    rc=$(cat "$tmp/ro-$n.rc")
    err=$(cat "$tmp/ro-$n.err")
    [[ $rc -eq 74 ]] ||
        fail "read-only ($how): verb $n: exit $rc, wanted 74 ('$err')"
    [[ $err == *"captcha-check: "*"'sqlite:$ro/"*"the store failed"* ]] ||
        fail "read-only ($how): verb $n: unclear message '$err'"
done
# Nothing changed, not a byte, and all still works.
for f in model.sqlite replay.sqlite; do
    cmp -s "$ro/$f" "$tmp/ro-copy/$f" || fail "read-only: $f changed"
done
[[ ! -e $ro/new.sqlite ]] || fail "read-only: a new file was made"
integrity "$ro/model.sqlite"
integrity "$ro/replay.sqlite"
export_of "$rodb" "$tmp/ro-after.jsonl"
cmp -s "$tmp/ro-before.jsonl" "$tmp/ro-after.jsonl" ||
    fail "read-only: the model changed"
run verify --key "$tmp/key" --store "$rostore" --min-solve 0 "$token" 1000
expect 1 "read-only: the token is still unspent"
run limit --store "$rostore" --burst 0 client-3
expect 0 "read-only: the refused take was not charged"

# --- a real disk that fills (root only: mounting needs it) -------------
if [[ $(id -u) -eq 0 ]]; then
    small=$tmp/small
    mkdir "$small" "$tmp/small-copy"
    cp "$tmp/base/model.sqlite" "$tmp/small-base.sqlite"
    unshare --mount bash -c "
        mount --make-rprivate / &&
        mount -t tmpfs -o size=1m tmpfs '$small' &&
        cp '$tmp/small-base.sqlite' '$small/model.sqlite' &&
        { rc=0; '$cc' train --db 'sqlite:$small/model.sqlite' \
              --spam '$tmp/spam.jsonl' >'$tmp/small.out' \
              2>'$tmp/small.err' || rc=\$?; echo \$rc >'$tmp/small.rc'; } &&
        df -k '$small' | tail -1 >'$tmp/small.df' &&
        cp '$small/model.sqlite' '$tmp/small-copy/' &&
        { [ ! -e '$small/model.sqlite-wal' ] ||
          cp '$small/model.sqlite-wal' '$tmp/small-copy/'; }" ||
        fail "tmpfs: cannot mount a tmpfs as root"
    rc=$(cat "$tmp/small.rc" 2>/dev/null || echo none)
    out=$(cat "$tmp/small.out" 2>/dev/null || true)
    err=$(cat "$tmp/small.err" 2>/dev/null || true)
    expect_store_error "sqlite:$small/model.sqlite" "train on a full tmpfs"
    learned=$(sed -n 's/^learned \([0-9]*\) comments as spam.*/\1/p' \
        <<<"$out")
    [[ -n $learned && $learned -lt $lines && $((learned % batch)) -eq 0 ]] ||
        fail "train on a full tmpfs: learned '$learned' ('$out')"
    integrity "$tmp/small-copy/model.sqlite"
    export_of "sqlite:$tmp/small-copy/model.sqlite" "$tmp/small-got.jsonl"
    model_of "${learned:-0}" "$tmp/small-ref"
    export_of "sqlite:$tmp/small-ref/model.sqlite" "$tmp/small-want.jsonl"
    cmp -s "$tmp/small-got.jsonl" "$tmp/small-want.jsonl" ||
        fail "train on a full tmpfs: not the $learned comments acknowledged"
    echo "tmpfs of 1 MiB: train learned $learned of $lines comments, then" \
        "exit $rc; $(awk '{print $4}' "$tmp/small.df") KiB left"
fi

if [[ $failures -gt 0 ]]; then
    echo "$failures check(s) failed"
    exit 1
fi
echo "all checks passed (read-only by $how)"
