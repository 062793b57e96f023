#!/usr/bin/env bash
# Runs the browser tests: the example blog's comment form in the Debian
# Chromium (headless), driven by playwright-core, which never downloads a
# browser of its own.
#
# Usage: run.sh PATH-TO-replyguard-blog [ARTEFACTS-DIR]
# Screenshots go to ARTEFACTS-DIR, else $RG_BROWSER_ARTEFACTS, else
# meson-logs/browser in the build directory (when run by meson test).
# Exits 77 (skipped) when Chromium or Node.js is not installed.
set -euo pipefail

blog=${1:?usage: run.sh PATH-TO-replyguard-blog [ARTEFACTS-DIR]}
here=$(cd "$(dirname "$0")" && pwd)
chromium=${RG_CHROMIUM:-/usr/bin/chromium}

if [[ ! -x $chromium ]]; then
    echo "browser: $chromium is not installed (scripts/deps installs it)" >&2
    exit 77
fi
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
    echo "browser: node and npm are not installed" >&2
    exit 77
fi
blog=$(cd "$(dirname "$blog")" && pwd)/$(basename "$blog")

artefacts=${2:-${RG_BROWSER_ARTEFACTS:-}}
if [[ -z $artefacts ]]; then
    if [[ -n ${MESON_BUILD_ROOT:-} ]]; then
        artefacts=$MESON_BUILD_ROOT/meson-logs/browser
    else
        artefacts=$(dirname "$(dirname "$(dirname "$blog")")")/meson-logs/browser
    fi
fi
mkdir -p "$artefacts"
artefacts=$(cd "$artefacts" && pwd)

# playwright-core from the lock file; it has no browser to download, and
# is told not to try.
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1
if [[ ! -d $here/node_modules/playwright-core ]]; then
    (cd "$here" && npm ci --no-audit --no-fund --loglevel=error) >&2
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/rg-browser.XXXXXX")
pid=
cleanup() {
    if [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null; then
        kill "$pid"
        wait "$pid" 2>/dev/null || true
    fi
    rm -rf "$tmp"
}
trap cleanup EXIT

# A key file of one signing key (docs/key-file.md), a free port and a
# password of our own.
node -e 'process.stdout.write(`1 sign ${require("crypto").randomBytes(32).toString("base64url")}\n`)' \
    >"$tmp/key"
chmod 600 "$tmp/key"
port=$(node -e 'const s = require("net").createServer().listen(0, "127.0.0.1", () => { console.log(s.address().port); s.close(); })')
password=$(node -e 'console.log(require("crypto").randomBytes(12).toString("base64url"))')
min_solve=2

REPLYGUARD_BLOG_PASSWORD=$password "$blog" \
    --listen "127.0.0.1:$port" --db "$tmp/blog.db" --key "$tmp/key" \
    --min-solve "$min_solve" --style words >"$tmp/blog.log" 2>&1 &
pid=$!

# Wait for it to answer.
for _ in $(seq 100); do
    if ! kill -0 "$pid" 2>/dev/null; then
        echo "browser: replyguard-blog exited:" >&2
        cat "$tmp/blog.log" >&2
        exit 1
    fi
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
        break
    fi
    sleep 0.1
done

export RG_BLOG_EXE=$blog RG_BLOG_URL=http://127.0.0.1:$port \
    RG_BLOG_PASSWORD=$password RG_MIN_SOLVE=$min_solve \
    RG_ARTEFACTS=$artefacts RG_TMP=$tmp RG_CHROMIUM=$chromium
status=0
(cd "$here" && node --test --test-reporter=spec blog.test.js) || status=$?
if [[ $status -ne 0 ]]; then
    echo "--- replyguard-blog's log" >&2
    tail -n 50 "$tmp/blog.log" >&2
fi
echo "browser: screenshots in $artefacts"
exit "$status"
