#!/bin/sh
# orch vs CPython's manager, and the loopback floor, in one run; builds nothing (see compare.py).
#   src/bench/compare.sh [--calls N] [--clients N] [--connections N] [--rounds N]
exec python3 "$(dirname "$0")/compare.py" "$@"
