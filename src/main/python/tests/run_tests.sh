#!/bin/sh
# Runs the Python client's tests against a real orch server binary.
#   ORCH_BIN=target/orch src/main/python/tests/run_tests.sh   (from the repository root)
#   ORCH_BIN=target/orch src/main/python/tests/run_tests.sh tests.test_builtins   (some tests)
# Exits non-zero when a test fails. The Maven integration-test phase can call this script.
set -e
root=$(cd "$(dirname "$0")/../../../.." && pwd)
cd "$root"
export ORCH_BIN="${ORCH_BIN:-$root/target/orch}"
export PYTHONPATH="$root/src/main/python${PYTHONPATH:+:$PYTHONPATH}"
case "${1:-}" in
  tests.*)  # test names (tests.test_builtins, tests.test_builtins.ListTest…): run just those
    cd src/main/python
    exec "${PYTHON:-python3}" -m unittest "$@" ;;
esac
exec "${PYTHON:-python3}" -m unittest discover -s src/main/python/tests -t src/main/python "$@"
