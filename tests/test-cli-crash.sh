#!/usr/bin/env bash
# Crash safety of training: `captcha-check train` on a SQLite model is
# killed with SIGKILL at 50 random moments. After each kill the model must
# pass PRAGMA integrity_check and hold every comment of every training the
# tool acknowledged (exit 0), plus whole batches of the killed one and
# never part of a batch: each batch is one transaction.
#
# Usage: test-cli-crash.sh PATH-TO-captcha-check
set -euo pipefail
cc=${1:?usage: test-cli-crash.sh PATH-TO-captcha-check}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/rg-cli-crash.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
unset REPLYGUARD_DB REPLYGUARD_STORE REPLYGUARD_KEY_FILE

lines=3000 # six batches of 500 (tools/cli-bayes.c, BATCH_COMMENTS)
batch=500
db=$tmp/model.sqlite
# Comments with words of their own, so that each batch writes many rows
# and a kill often lands inside one.
python3 - "$tmp/spam.jsonl" "$lines" <<'PY'
import json, sys
with open(sys.argv[1], "w") as f:
    for i in range(int(sys.argv[2])):
        words = " ".join(f"w{i}x{k}" for k in range(12))
        f.write(json.dumps({"id": i, "body": f"cheap pills {words}"}) + "\n")
PY

# The model's spam count, after checking the file is whole.
count() {
    python3 - "$db" <<'PY'
import sqlite3, sys
c = sqlite3.connect(sys.argv[1])
ok = c.execute("PRAGMA integrity_check").fetchone()[0]
if ok != "ok":
    sys.exit(f"integrity_check: {ok}")
row = c.execute("SELECT spam FROM bayes_totals WHERE id = 0").fetchone()
print(row[0] if row else 0)
PY
}

"$cc" train --db "sqlite:$db" --ham "$tmp/spam.jsonl" >/dev/null
before=0
killed=0
for round in $(seq 1 50); do
    "$cc" train --db "sqlite:$db" --spam "$tmp/spam.jsonl" >/dev/null 2>&1 &
    pid=$!
    # A moment somewhere in the run, or after it: 0 to 399 ms.
    sleep "$(printf '0.%03d' $((RANDOM % 400)))"
    kill -KILL "$pid" 2>/dev/null || true
    rc=0
    { wait "$pid"; } 2>/dev/null || rc=$?
    after=$(count) || { echo "FAIL: round $round: $after" >&2; exit 1; }
    delta=$((after - before))
    if [[ $rc -eq 0 ]]; then
        # Acknowledged: all of it is there.
        [[ $delta -eq $lines ]] || {
            echo "FAIL: round $round: exit 0 but $delta of $lines learned" >&2
            exit 1
        }
    else
        killed=$((killed + 1))
        [[ $delta -ge 0 && $delta -le $lines && $((delta % batch)) -eq 0 ]] ||
            {
                echo "FAIL: round $round: killed, $delta learned" \
                    "(not whole batches)" >&2
                exit 1
            }
    fi
    before=$after
done
# The model still opens and learns after all that.
"$cc" train --db "sqlite:$db" --spam "$tmp/spam.jsonl" >/dev/null
[[ $(count) -eq $((before + lines)) ]] || {
    echo "FAIL: the model does not learn after the kills" >&2
    exit 1
}
echo "50 rounds, $killed killed mid-run: the model stayed whole each time"
# Most rounds must really be killed while training, or this proved little.
[[ $killed -ge 10 ]] || {
    echo "FAIL: only $killed of 50 rounds were killed mid-run" >&2
    exit 1
}
