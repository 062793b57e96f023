#!/usr/bin/env bash
# Runs one test program under valgrind's memcheck, for `meson test --setup
# valgrind` (tests/meson.build), which passes the valgrind options, then
# the program and its arguments. Fails (status 3, unless the test failed
# of itself) on any error and any leak that memcheck reports.
#
# Every process writes a log of its own. The test process's counts in
# full. A child that a test forks runs replyguard's code too, and its
# errors count as well; but it leaves through _exit() with what its parent
# had allocated still allocated, lost to it alone, so its leaks do not.
#
# Usage: valgrind.sh [VALGRIND-OPTION...] -- PROGRAM [ARGUMENT...]
set -u

opts=()
while [ $# -gt 0 ] && [ "$1" != "--" ]; do
  opts+=("$1")
  shift
done
[ $# -gt 1 ] || { echo "usage: valgrind.sh [OPTION...] -- PROGRAM" >&2; exit 2; }
shift

logs=$(mktemp -d "${TMPDIR:-/tmp}/replyguard-valgrind.XXXXXX") || exit 2
trap 'rm -rf "$logs"' EXIT
trap 'exit 143' TERM INT

# In the background, to learn its pid: the test process's log is the one
# named after it.
valgrind "${opts[@]}" --log-file="$logs/%p" "$@" &
main=$!
wait "$main"
rc=$?

# errors LOG: the errors in a log's summary; leaks LOG: the leaks in it
# (each leak reported is one of those errors).
errors() {
  sed -n 's/.*ERROR SUMMARY: \([0-9,]*\) error.*/\1/p' "$1" | tr -d , |
    tail -n 1
}
leaks() {
  grep -cE 'are (definitely|indirectly|possibly) lost in loss record' "$1"
}

found=0
for log in "$logs"/*; do
  [ -e "$log" ] || continue
  n=$(errors "$log")
  if [ -z "$n" ]; then
    # No summary: the process was killed, or exec'd another program.
    continue
  fi
  if [ "$log" = "$logs/$main" ]; then
    what="the test process"
  else
    n=$((n - $(leaks "$log")))
    what="a child of the test process (pid ${log##*/})"
  fi
  if [ "$n" -gt 0 ]; then
    echo "valgrind: $n error(s) in $what:" >&2
    cat "$log" >&2
    found=1
  fi
done

if [ "$rc" -eq 0 ] && [ "$found" -ne 0 ]; then
  exit 3
fi
exit "$rc"
