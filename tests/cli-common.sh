# shellcheck shell=bash
# Shared by the captcha-check shell tests (sourced, not run): counting
# failures and running the tool. Expects $cc (the tool) and $tmp (a scratch
# directory) to be set.

failures=0
fail() {
    echo "FAIL: $*"
    failures=$((failures + 1))
}

# run ARGS...: runs captcha-check, leaving stdout, stderr and the exit
# status in $out, $err and $rc; never stops the script.
run() {
    rc=0
    "$cc" "$@" >"$tmp/out" 2>"$tmp/err" || rc=$?
    out=$(cat "$tmp/out")
    err=$(cat "$tmp/err")
}
