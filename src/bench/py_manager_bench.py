#!/usr/bin/env python3
"""orch's CPython baseline: multiprocessing.managers on the same scenarios as `orch bench`.

Follows /work/shared/anchors/py_manager_bench.py (CPython's manager bench): a BaseManager
server in a child process, clients in separate processes over loopback TCP, warm-up of
min(200, calls) calls, then one timed call at a time. Adds p999, a start barrier so the
clients' timed windows overlap, and `--address` to reuse a running manager.

Every CPython object lives in the manager process, so CPython's `method` (capitalize on
UtilityClass) corresponds to orch's `hosted_method` and its `echo_1k` to orch's `echo_1k`;
orch's `method` is a call on a server-side built-in object.

  python3 src/bench/py_manager_bench.py [--calls N] [--clients C] [--scenarios a,b]

One JSON line per scenario on stdout.
"""
import argparse
import json
import time
from multiprocessing.managers import SyncManager

from bench_common import SCENARIOS, ClientFailed, Utility, calls_for, run_clients, scenario_call, summarize, time_calls

AUTH = b"bench-secret"
SYSTEM = "cpython-multiprocessing-manager"


class BenchManager(SyncManager):
    pass


BenchManager.register("UtilityClass", Utility)


def client(addr, calls, warmup, scenario, barrier, out):
    m = BenchManager(address=addr, authkey=AUTH)
    m.connect()
    out.put(time_calls(scenario_call(m, scenario), calls, warmup, barrier))


def run(addr, calls, warmup, clients, scenario):
    res = run_clients(client, (addr, calls, warmup, scenario), clients)
    return summarize(SYSTEM, scenario, clients, calls, res)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--calls", type=int, default=20000)
    ap.add_argument("--warmup", type=int, default=200)
    ap.add_argument("--clients", type=int, default=1)
    ap.add_argument("--scenarios", default=SCENARIOS)
    a = ap.parse_args()
    scenarios = [sc for sc in a.scenarios.split(",") if sc]
    unknown = [sc for sc in scenarios if sc not in SCENARIOS.split(",")]
    if unknown or not scenarios:
        # Checked here: a client process failing on it would end the run halfway.
        ap.error(f"unknown scenario {', '.join(unknown)}; known: {SCENARIOS}" if unknown else "no scenario given")
    for name in ("calls", "clients"):
        if getattr(a, name) < 1:
            ap.error(f"--{name} must be at least 1")
    if a.warmup < 0:
        ap.error("--warmup must not be negative")
    m = BenchManager(address=("127.0.0.1", 0), authkey=AUTH)
    t0 = time.perf_counter()
    m.start()
    print(json.dumps({"system": SYSTEM, "scenario": "server_start",
                      "ms": round((time.perf_counter() - t0) * 1000, 1)}), flush=True)
    try:
        for sc in scenarios:
            print(json.dumps(run(m.address, calls_for(sc, a.calls), a.warmup, a.clients, sc)), flush=True)
    except ClientFailed as e:
        raise SystemExit(f"py_manager_bench.py: {e}")
    finally:
        m.shutdown()


if __name__ == "__main__":
    main()
