#!/usr/bin/env bash
# Fails when lib/, tools/ or examples/ call a function this project bans
# (STYLE.md): sprintf, strcpy and strcat write past buffers they cannot
# see; atoi cannot report a bad number; rand is neither random nor
# thread-safe; gets is always a bug; strtok keeps hidden state.
#
# Usage: banned.sh SOURCE-DIR
set -euo pipefail
src=${1:?usage: banned.sh SOURCE-DIR}
pattern='\b(sprintf|strcpy|strcat|atoi|rand|gets|strtok)[[:space:]]*\('
# Comments may name them (this very list does); code may not. Lines that
# start a comment ("/*", "*", "//") are left out.
hits=$(grep -rnE "$pattern" "$src/lib" "$src/tools" "$src/examples" \
    --include='*.c' --include='*.h' |
    grep -vE '^[^:]+:[0-9]+:[[:space:]]*(/\*|\*|//)' || true)
if [[ -n $hits ]]; then
    echo "banned functions called:" >&2
    echo "$hits" >&2
    exit 1
fi
echo "no banned function in lib/, tools/ or examples/"
