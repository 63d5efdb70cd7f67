#!/bin/sh
# Runs the Python client's tests on python3 and, at the same time, on the oldest Python the
# client supports (run_tests_on_oldest.sh): the Maven build calls this. Each run has servers of
# its own on free ports, and most of a run is spent waiting (timeouts, processes starting), so
# side by side they take little more than one. Each run's output is printed whole once both
# have ended; exits non-zero when either failed.
set -u
here=$(cd "$(dirname "$0")" && pwd)
out=$(mktemp -d "${TMPDIR:-/tmp}/orch-pytests-XXXXXX")
trap 'rm -rf "$out"' EXIT
"$here/run_tests.sh" "$@" >"$out/current" 2>&1 &
current=$!
"$here/run_tests_on_oldest.sh" "$@" >"$out/oldest" 2>&1 &
oldest=$!
wait "$current"; rc_current=$?
wait "$oldest"; rc_oldest=$?
echo "Python client tests on $(${PYTHON:-python3} -V 2>&1):"
cat "$out/current"
cat "$out/oldest"
[ "$rc_current" -eq 0 ] && [ "$rc_oldest" -eq 0 ]
