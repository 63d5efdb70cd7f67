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
import sys
import time
from multiprocessing import Barrier, Process, Queue
from multiprocessing.managers import SyncManager

AUTH = b"bench-secret"


class Utility:
    def capitalize(self, name):
        return name.capitalize()

    def echo(self, payload):
        return payload


class BenchManager(SyncManager):
    pass


BenchManager.register("UtilityClass", Utility)


def client(addr, calls, warmup, scenario, barrier, out):
    m = BenchManager(address=addr, authkey=AUTH)
    m.connect()
    if scenario == "method":
        u = m.UtilityClass()
        fn = lambda: u.capitalize("hello")
    elif scenario == "echo_1k":
        u = m.UtilityClass()
        blob = "x" * 1024
        fn = lambda: u.echo(blob)
    elif scenario == "dict_set":
        d = m.dict()
        fn = lambda: d.__setitem__("k", 1)
    elif scenario == "queue_put_get":
        q = m.Queue()

        def fn():
            q.put(1)
            q.get()
    elif scenario == "create_proxy":
        fn = lambda: m.UtilityClass()
    else:
        raise SystemExit("unknown scenario " + scenario)
    for _ in range(min(warmup, calls)):
        fn()
    barrier.wait()
    lat = []
    t0 = time.perf_counter()
    for _ in range(calls):
        s = time.perf_counter_ns()
        fn()
        lat.append(time.perf_counter_ns() - s)
    out.put((time.perf_counter() - t0, lat))


def pct(lat, p):
    return round(lat[min(len(lat) - 1, int(len(lat) * p))] / 1000, 1)


def run(addr, calls, warmup, clients, scenario):
    out = Queue()
    barrier = Barrier(clients)
    ps = [Process(target=client, args=(addr, calls, warmup, scenario, barrier, out)) for _ in range(clients)]
    for p in ps:
        p.start()
    res = [out.get() for _ in ps]
    for p in ps:
        p.join()
    wall = max(r[0] for r in res)
    lat = sorted(x for r in res for x in r[1])
    return {
        "system": "cpython-multiprocessing-manager",
        "python": sys.version.split()[0],
        "scenario": scenario,
        "clients": clients,
        "calls_per_client": calls,
        "calls_per_s": round(clients * calls / wall),
        "p50_us": pct(lat, 0.50),
        "p99_us": pct(lat, 0.99),
        "p999_us": pct(lat, 0.999),
    }


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--calls", type=int, default=20000)
    ap.add_argument("--warmup", type=int, default=200)
    ap.add_argument("--clients", type=int, default=1)
    ap.add_argument("--scenarios", default="method,echo_1k,dict_set,queue_put_get,create_proxy")
    a = ap.parse_args()
    m = BenchManager(address=("127.0.0.1", 0), authkey=AUTH)
    t0 = time.perf_counter()
    m.start()
    print(json.dumps({"system": "cpython-multiprocessing-manager", "scenario": "server_start",
                      "ms": round((time.perf_counter() - t0) * 1000, 1)}), flush=True)
    try:
        for sc in a.scenarios.split(","):
            calls = a.calls if sc != "create_proxy" else max(1, a.calls // 10)
            print(json.dumps(run(m.address, calls, a.warmup, a.clients, sc)), flush=True)
    finally:
        m.shutdown()


if __name__ == "__main__":
    main()
