#!/usr/bin/env bash
# Builds programs against replyguard the ways its users do, from outside
# the build tree:
#  - installed: `meson install` into a scratch root, then every
#    examples/c/*.c compiled with only `pkg-config --cflags --libs
#    replyguard`, and once against the static library (`--static`);
#  - as a meson subproject: a small project that says
#    dependency('replyguard') and finds it in its subprojects/.
#
# Usage: consumers.sh BUILD-DIR SOURCE-DIR
set -euo pipefail
build=$(cd "${1:?usage: consumers.sh BUILD-DIR SOURCE-DIR}" && pwd)
src=$(cd "${2:?usage: consumers.sh BUILD-DIR SOURCE-DIR}" && pwd)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/rg-consumers.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
failures=0
fail() {
    echo "FAIL: $*" >&2
    failures=$((failures + 1))
}
cc=${CC:-cc}

# --- installed, found by pkg-config ------------------------------------
root=$tmp/root
meson install -C "$build" --destdir "$root" --no-rebuild --quiet \
    >"$tmp/install.log" 2>&1 || { cat "$tmp/install.log"; exit 1; }
pc=$(find "$root" -name replyguard.pc -print -quit)
[[ -n $pc ]] || { echo "no replyguard.pc installed" >&2; exit 1; }
export PKG_CONFIG_PATH=$(dirname "$pc") PKG_CONFIG_SYSROOT_DIR=$root
# With a sysroot, pkg-config puts it in front of the variables too.
libdir=$(pkg-config --variable=libdir replyguard)
cflags=$(pkg-config --cflags replyguard)
libs=$(pkg-config --libs replyguard)
# The static library with what it needs, never the shared one.
static_libs=$(pkg-config --static --libs replyguard |
    sed 's/-lreplyguard\b/-l:libreplyguard.a/')

for example in "$src"/examples/c/*.c; do
    name=$(basename "$example" .c)
    # shellcheck disable=SC2086
    if ! $cc $cflags "$example" $libs -o "$tmp/$name" 2>"$tmp/cc.log"; then
        fail "$name: does not build with pkg-config alone"
        cat "$tmp/cc.log" >&2
        continue
    fi
    # The installed library, not the build tree's, is the one it runs on.
    if ! ldd_out=$(LD_LIBRARY_PATH=$libdir ldd "$tmp/$name") ||
        ! grep -q "$libdir/libreplyguard.so" <<<"$ldd_out"; then
        fail "$name: not linked to the installed library"
    fi
    rc=0
    out=$(LD_LIBRARY_PATH=$libdir "$tmp/$name" 5 </dev/null) || rc=$?
    case $name in
    quickstart)
        [[ $rc -eq 0 && $out =~ \ (pass|wrong)$ ]] ||
            fail "quickstart: exit $rc, output '$out'" ;;
    minimal)
        [[ $rc -eq 2 && $out == *wrong ]] ||
            fail "minimal: exit $rc, output '$out'" ;;
    esac
done

# shellcheck disable=SC2086
if $cc $cflags "$src/examples/c/quickstart.c" $static_libs \
    -o "$tmp/quickstart-static" 2>"$tmp/cc.log"; then
    if LD_LIBRARY_PATH=/nonexistent ldd "$tmp/quickstart-static" |
        grep -q libreplyguard; then
        fail "static: still linked to the shared library"
    fi
    out=$("$tmp/quickstart-static" 5) ||
        fail "static: the program failed"
    [[ $out =~ \ (pass|wrong)$ ]] || fail "static: output '$out'"
else
    fail "quickstart does not build against the static library"
    cat "$tmp/cc.log" >&2
fi

# --- a meson subproject --------------------------------------------------
unset PKG_CONFIG_PATH PKG_CONFIG_SYSROOT_DIR
proj=$tmp/consumer
mkdir -p "$proj/subprojects"
ln -s "$src" "$proj/subprojects/replyguard"
cp "$src/examples/c/quickstart.c" "$proj/"
cat >"$proj/meson.build" <<'MESON'
project('consumer', 'c', meson_version: '>= 1.0')
replyguard = dependency('replyguard', fallback: 'replyguard',
  default_options: ['tests=disabled', 'tools=false', 'bench=false'])
executable('quickstart', 'quickstart.c', dependencies: replyguard)
MESON
if meson setup "$proj/build" "$proj" >"$tmp/sub.log" 2>&1 &&
    ninja -C "$proj/build" >>"$tmp/sub.log" 2>&1; then
    out=$("$proj/build/quickstart" 5) || fail "subproject: the program failed"
    [[ $out =~ \ (pass|wrong)$ ]] || fail "subproject: output '$out'"
else
    fail "the meson subproject does not build"
    tail -n 40 "$tmp/sub.log" >&2
fi

[[ $failures -eq 0 ]] || exit 1
echo "consumers: pkg-config (shared and static) and subproject builds work"
