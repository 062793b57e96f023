#!/usr/bin/env bash
# Fuzzes one libFuzzer target for a while, on a scratch copy of its seed
# corpus, and fails on any crash, leak, timeout or running out of memory.
#
# Usage: run-fuzzer.sh FUZZER SEEDS WORKDIR SECONDS [LIBFUZZER-OPTION...]
#
# SEEDS is a target's seed corpus, tests/fuzz/NAME; tests/fuzz/NAME.dict,
# when there is one, is its libFuzzer dictionary, and tests/fuzz/NAME.options
# holds more options for it, one a line (-max_len=4096 unless it says).
# WORKDIR is emptied first; then it holds corpus/ (the seeds and whatever
# the run adds), artifacts/ (a reproducer of each failure) and log
# (libFuzzer's output). The seed corpus itself is never written.
set -uo pipefail
fuzzer=${1:?usage: run-fuzzer.sh FUZZER SEEDS WORKDIR SECONDS [OPTION...]}
seeds=${2:?}
work=${3:?}
seconds=${4:?}
shift 4

rm -rf "$work"
mkdir -p "$work/corpus" "$work/artifacts" || exit 1
cp "$seeds"/* "$work/corpus/" || exit 1

options=(-max_len=4096)
[ -f "$seeds.dict" ] && options+=("-dict=$seeds.dict")
if [ -f "$seeds.options" ]; then
    while read -r line; do
        [ -n "$line" ] && options+=("$line")
    done <"$seeds.options"
fi

# Undefined behaviour stops the run like any other crash.
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}
"$fuzzer" -max_total_time="$seconds" -timeout=25 -rss_limit_mb=2048 \
    -error_exitcode=1 -timeout_exitcode=1 -print_final_stats=1 \
    -artifact_prefix="$work/artifacts/" "${options[@]}" "$@" "$work/corpus" \
    >"$work/log" 2>&1
rc=$?

found=$(find "$work/artifacts" -type f | wc -l)
grep -aE '^(#[0-9]+[[:space:]]+DONE|stat::)' "$work/log"
if [ "$rc" -ne 0 ] || [ "$found" -ne 0 ]; then
    tail -n 80 "$work/log"
    echo "$(basename "$fuzzer") failed (exit status $rc); reproducers:"
    find "$work/artifacts" -type f
    exit 1
fi
exit 0
