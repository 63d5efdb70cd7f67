#!/bin/sh
# Runs the Python client's tests again on the oldest Python it supports (3.9), when this machine
# has one: python3.9 on the PATH, or a pyenv install. The Maven build runs them on python3 first;
# this catches syntax and library calls newer than 3.9 that python3 would accept.
# Prints what it runs or why it skips; exits non-zero when a test fails.
set -e
root=$(cd "$(dirname "$0")/../../../.." && pwd)
for candidate in python3.9 "${PYENV_ROOT:-$HOME/.pyenv}"/versions/3.9*/bin/python3.9; do
  if "$candidate" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 9))' >/dev/null 2>&1; then
    echo "Python client tests on $("$candidate" -V 2>&1) ($candidate)"
    PYTHON="$candidate" exec "$root/src/main/python/tests/run_tests.sh" "$@"
  fi
done
echo "Python client tests on 3.9: skipped, no Python 3.9 on this machine"
