#!/usr/bin/env bash
# Compares the symbols libreplyguard.so exports with lib/replyguard.sym:
# nothing may leak beyond the version script, and nothing listed may be
# missing. Usage: check-symbols.sh LIBRARY VERSION_SCRIPT
set -euo pipefail
lib=$1 script=$2

exported=$(nm -D --defined-only "$lib" | awk '$2 ~ /^[TDBRV]$/ {print $3}' |
  sed 's/@.*//' | grep -v '^REPLYGUARD_' | sort -u)
listed=$(sed -n 's/^[[:space:]]*\(rg_[a-z0-9_]*\);.*/\1/p' "$script" | sort -u)

if [ "$exported" != "$listed" ]; then
  echo "exported symbols differ from $script:"
  diff <(echo "$listed") <(echo "$exported") || true
  exit 1
fi
echo "ok: $(echo "$exported" | wc -l) symbols match the version script"
