#!/usr/bin/env bash
# The three steps of replyguard from the shell: a key, a challenge (the
# question, then the token), and the verdict on an answer.
#
#   examples/shell/quickstart.sh [ANSWER]
set -euo pipefail
cd "$(mktemp -d)"
answer=${1:-19}

# quickstart: begin
captcha-check keygen --out site.key
challenge=$(captcha-check issue --key site.key --bind post-42)
head -n 1 <<<"$challenge"                       # the question, for the page
captcha-check verify --key site.key --bind post-42 --store memory: \
    --min-solve 0 "$(tail -n 1 <<<"$challenge")" "$answer" || true
# quickstart: end
