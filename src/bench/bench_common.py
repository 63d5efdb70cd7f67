"""What the two Python benchmark scripts share: the scenarios, the timing loop and the summary.

py_manager_bench.py runs them on CPython's multiprocessing manager, py_orch_bench.py on orch's
Python client; both print the same JSON line per scenario, so figures sit side by side.
"""
import sys
import time

SCENARIOS = "method,echo_1k,dict_set,queue_put_get,lock_acquire_release,create_proxy"


class Utility:
    """The hosted type of CPython's bench (the seed's UtilityClass, plus echo)."""

    def capitalize(self, name):
        return name.capitalize()

    def echo(self, payload):
        return payload


def scenario_call(m, scenario):
    """The zero-argument call one scenario times, on manager ``m`` (CPython's or orch's)."""
    if scenario == "method":
        u = m.UtilityClass()
        return lambda: u.capitalize("hello")
    if scenario == "echo_1k":
        u = m.UtilityClass()
        blob = "x" * 1024
        return lambda: u.echo(blob)
    if scenario == "dict_set":
        d = m.dict()
        return lambda: d.__setitem__("k", 1)
    if scenario == "queue_put_get":
        q = m.Queue()

        def put_get():
            q.put(1)
            q.get()
        return put_get
    if scenario == "lock_acquire_release":
        lock = m.Lock()

        def acquire_release():
            lock.acquire()
            lock.release()
        return acquire_release
    if scenario == "create_proxy":
        return lambda: m.UtilityClass()
    raise SystemExit("unknown scenario " + scenario)


def time_calls(fn, calls, warmup, barrier=None):
    """Warms up, waits at ``barrier`` (so clients' windows overlap), then times ``calls`` calls:
    returns (wall seconds, latencies in ns)."""
    for _ in range(min(warmup, calls)):
        fn()
    if barrier is not None:
        barrier.wait()
    lat = []
    t0 = time.perf_counter()
    for _ in range(calls):
        s = time.perf_counter_ns()
        fn()
        lat.append(time.perf_counter_ns() - s)
    return time.perf_counter() - t0, lat


class ClientFailed(Exception):
    """A client process exited without a result."""


def run_clients(client, args, clients, poll=0.5):
    """Runs ``client(*args, barrier, out)`` in ``clients`` processes; returns their (wall, latencies).

    A client that dies without a result (an exception, a signal) fails the run with ClientFailed
    at once: the others are stopped instead of being waited for at the barrier, or for ever."""
    import queue
    from multiprocessing import Barrier, Process, Queue
    out = Queue()
    barrier = Barrier(clients)
    ps = [Process(target=client, args=(*args, barrier, out)) for _ in range(clients)]
    for p in ps:
        p.start()
    res = []
    try:
        while len(res) < len(ps):
            try:
                res.append(out.get(timeout=poll))
                continue
            except queue.Empty:
                pass
            # A client that put its result and exited 0 has flushed it into the queue: only one
            # that exited otherwise, or every one exited with results still missing, is a failure.
            failed = [p for p in ps if p.exitcode not in (None, 0)]
            if failed:
                raise ClientFailed(f"bench client process {failed[0].pid} exited with code {failed[0].exitcode}"
                                   " (its error is above)")
            if all(p.exitcode is not None for p in ps):
                try:
                    res.append(out.get(timeout=poll))
                except queue.Empty:
                    raise ClientFailed(f"bench client processes exited with {len(ps) - len(res)} result(s) missing")
    finally:
        for p in ps:
            if p.is_alive() and len(res) < len(ps):
                p.terminate()
        for p in ps:
            p.join()
    return res


def calls_for(scenario, calls):
    """create_proxy makes a tenth of the calls, as CPython's script does."""
    return calls if scenario != "create_proxy" else max(1, calls // 10)


def _pct(lat, p):
    return round(lat[min(len(lat) - 1, int(len(lat) * p))] / 1000, 1)


def summarize(system, scenario, clients, calls, results):
    """One JSON-able result from every client's (wall, latencies)."""
    wall = max(r[0] for r in results)
    lat = sorted(x for r in results for x in r[1])
    return {
        "system": system,
        "python": sys.version.split()[0],
        "scenario": scenario,
        "clients": clients,
        "calls_per_client": calls,
        "calls_per_s": round(clients * calls / wall),
        "p50_us": _pct(lat, 0.50),
        "p99_us": _pct(lat, 0.99),
        "p999_us": _pct(lat, 0.999),
    }
