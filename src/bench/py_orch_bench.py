#!/usr/bin/env python3
"""The scenarios of CPython's manager benchmark (py_manager_bench.py), through orch's Python client.

Needs a running ``orch server``. A Python worker process started here hosts ``UtilityClass``;
client processes time proxy calls over loopback TCP. Prints one JSON line per scenario in the
same shape as py_manager_bench.py, with system "orch-python-client".

  PYTHONPATH=src/main/python python3 src/bench/py_orch_bench.py \\
      --address 127.0.0.1:55555 --authkey-file ~/.orch/authkey [--calls N] [--clients C]
"""
import argparse
import json
import os
import sys
import time
from multiprocessing import Event, Process

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "main", "python"))
import orch  # noqa: E402
from orch import _auth  # noqa: E402
from bench_common import (SCENARIOS, ClientFailed, Utility, calls_for, run_clients, scenario_call,  # noqa: E402
                          summarize, time_calls)

SYSTEM = "orch-python-client"
# Untimed calls first. CPython's script uses 200; orch's server is a JVM whose call path must be
# compiled by the JIT first, so a cold server would be measured instead of a warm one.
DEFAULT_WARMUP = 3000


class BenchManager(orch.Manager):
    pass


BenchManager.register("UtilityClass", Utility)


def worker(addr, key, ready, stop):
    m = BenchManager(address=addr, authkey=key, name="bench-worker")
    m.start_serving()
    ready.set()
    stop.wait()
    m.close()


# As in `orch bench`: `method` and `echo_1k` call server-side objects (one hop, like CPython's,
# whose UtilityClass runs in the manager process); `hosted_method` and `hosted_echo_1k` call
# CPython's UtilityClass methods on a type this script's Python worker hosts (one hop with
# direct calls, client -> worker and back; two through the server with ORCH_DIRECT=off).
SCENARIOS_HERE = SCENARIOS.replace("method,echo_1k,", "method,hosted_method,echo_1k,hosted_echo_1k,", 1)


def orch_call(m, scenario):
    if scenario == "method":
        v = m.Value("hello")
        return lambda: v.get()
    if scenario == "echo_1k":
        d = m.dict()
        blob = "x" * 1024
        return lambda: d.setdefault("k", blob)
    if scenario.startswith("hosted_"):
        return scenario_call(m, scenario[len("hosted_"):])
    return scenario_call(m, scenario)


def client(addr, key, calls, warmup, scenario, barrier, out):
    m = BenchManager(address=addr, authkey=key).connect()
    out.put(time_calls(orch_call(m, scenario), calls, warmup, barrier))
    m.close()


def run(addr, key, calls, warmup, clients, scenario):
    res = run_clients(client, (addr, key, calls, warmup, scenario), clients)
    return summarize(SYSTEM, scenario, clients, calls, res)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--address", default=None, help="HOST:PORT (default $ORCH_ADDRESS or "
                    "127.0.0.1:55555)")
    ap.add_argument("--authkey-file", default=None, help="default: as the CLI resolves it")
    ap.add_argument("--calls", type=int, default=20000)
    ap.add_argument("--warmup", type=int, default=DEFAULT_WARMUP, help="untimed calls per client first")
    ap.add_argument("--clients", type=int, default=1)
    ap.add_argument("--scenarios", default=SCENARIOS_HERE)
    a = ap.parse_args()
    unknown = [sc for sc in a.scenarios.split(",") if sc not in SCENARIOS_HERE.split(",")]
    if unknown:
        # Checked here: a client process failing on it would leave this one waiting.
        ap.error(f"unknown scenario {', '.join(unknown)}; known: {SCENARIOS_HERE}")
    addr = _auth.resolve_address(a.address)
    key = _auth.read_key_file(a.authkey_file) if a.authkey_file else _auth.resolve_authkey(None)
    ready, stop = Event(), Event()
    t0 = time.perf_counter()
    w = Process(target=worker, args=(addr, key, ready, stop), daemon=True)
    w.start()
    if not ready.wait(60):
        sys.exit("bench worker did not start")
    # The analogue of the anchor's server_start: here the server already runs, so this is the
    # time to start and register the hosting worker.
    print(json.dumps({"system": SYSTEM, "scenario": "worker_start",
                      "ms": round((time.perf_counter() - t0) * 1000, 1)}), flush=True)
    try:
        for sc in a.scenarios.split(","):
            print(json.dumps(run(addr, key, calls_for(sc, a.calls), a.warmup, a.clients, sc)), flush=True)
    except ClientFailed as e:
        raise SystemExit(f"py_orch_bench.py: {e}")
    finally:
        stop.set()
        w.join(10)


if __name__ == "__main__":
    main()
