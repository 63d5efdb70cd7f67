#!/bin/sh
# Runs the Python client's tests against a real orch server binary.
#   ORCH_BIN=target/orch src/main/python/tests/run_tests.sh   (from the repository root)
# Exits non-zero when a test fails. The Maven integration-test phase can call this script.
set -e
root=$(cd "$(dirname "$0")/../../../.." && pwd)
cd "$root"
export ORCH_BIN="${ORCH_BIN:-$root/target/orch}"
export PYTHONPATH="$root/src/main/python${PYTHONPATH:+:$PYTHONPATH}"
exec "${PYTHON:-python3}" -m unittest discover -s src/main/python/tests -t src/main/python "$@"
