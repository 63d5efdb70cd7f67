#!/usr/bin/env python3
"""orch vs CPython's multiprocessing manager, in one run on this machine; builds nothing.

Starts `target/orch server`, measures its idle RSS, runs `target/orch bench` (1 client, then
N clients as separate processes), the CPython baseline (src/bench/py_manager_bench.py) with the
same scenarios, the raw TCP ping-pong floor (orch bench's tcp_pingpong), 1,000 held
connections, and the CLI round trip (`target/orch call NAME get`) with the plain JVM, an AppCDS
archive and, when Temurin 25 is installed, its AOT cache. Prints a markdown report on stdout.

The one-client scenarios run --rounds times, the three systems taking turns (orch's Java client,
orch's Python client, CPython), and each table shows the median round: on a shared VM a single
pass of one system can land in a slow minute of the host, and alternating rounds spread that
over all three. The per-round ratios are printed too.

  python3 src/bench/compare.py [--calls 20000] [--clients 4] [--connections 1000] [--rounds 3] [--settle S]
"""
import argparse
import json
import os
import platform
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
ORCH = os.path.join(ROOT, "target", "orch")
JAR = os.path.join(ROOT, "target", "quarkus-app", "quarkus-run.jar")
QUARKUS_CDS = os.path.join(ROOT, "target", "quarkus-app", "app-cds.jsa")
PY_BENCH = os.path.join(ROOT, "src", "bench", "py_manager_bench.py")
PY_ORCH_BENCH = os.path.join(ROOT, "src", "bench", "py_orch_bench.py")
JDK25 = "/usr/lib/jvm/temurin-25-jdk-amd64/bin/java"


def log(*a):
    print(*a, file=sys.stderr, flush=True)


def loadavg():
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


def rss_mb(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        pass
    return None


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def json_lines(out):
    res = []
    for line in out.splitlines():
        line = line.strip()
        if line.startswith("{"):
            res.append(json.loads(line))
    return res


def run(cmd, env, timeout=1800):
    log("$ " + " ".join(cmd))
    p = subprocess.run(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=timeout)
    if p.returncode != 0:
        log(p.stderr)
        raise SystemExit(f"failed ({p.returncode}): {' '.join(cmd)}")
    return p.stdout


def wall_ms(cmd, env, n):
    times = []
    for _ in range(n):
        t0 = time.perf_counter()
        subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
        times.append((time.perf_counter() - t0) * 1000)
    return round(statistics.median(times)), round(min(times))


def java_version(java):
    p = subprocess.run([java, "-version"], stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True)
    return p.stderr.splitlines()[1].strip() if p.stderr else "?"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--calls", type=int, default=20000)
    ap.add_argument("--clients", type=int, default=4)
    ap.add_argument("--connections", type=int, default=1000)
    ap.add_argument("--cli-runs", type=int, default=7)
    ap.add_argument("--rounds", type=int, default=3, help="one-client rounds; tables show the median")
    ap.add_argument("--settle", type=float, default=None,
                    help="passed to each `orch bench` (its default when absent: warm up until the JIT is quiet);"
                         " 0 for a quick run whose figures do not matter")
    a = ap.parse_args()
    settle = [] if a.settle is None else ["--settle", str(a.settle)]
    if a.rounds < 1:
        raise SystemExit("--rounds must be at least 1")
    if not os.access(ORCH, os.X_OK):
        raise SystemExit("target/orch missing: build first (mvn package -DskipTests)")
    work = tempfile.mkdtemp(prefix="orch-compare-")
    env = dict(os.environ, ORCH_HOME=work)
    env.pop("ORCH_AUTHKEY", None)
    env.pop("ORCH_AUTHKEY_FILE", None)
    env.pop("ORCH_JAVA_OPTS", None)
    env.pop("JAVA", None)
    env["ORCH_CDS"] = "off"  # each CLI variant below chooses its archive explicitly
    port = free_port()
    addr = f"127.0.0.1:{port}"
    env["ORCH_ADDRESS"] = addr
    load_start = loadavg()
    server = subprocess.Popen([ORCH, "server", "--listen", addr, "--object", "bench_value=Value:[1]"],
                              env=env, stdout=open(os.path.join(work, "server.log"), "w"), stderr=subprocess.STDOUT)
    report = {}
    try:
        deadline = time.time() + 60
        while True:
            if subprocess.run([ORCH, "types"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode == 0:
                break
            if time.time() > deadline or server.poll() is not None:
                raise SystemExit("server did not start; see " + os.path.join(work, "server.log"))
            time.sleep(0.2)
        time.sleep(2)
        report["rss_idle"] = rss_mb(server.pid)

        # CLI round trip: plain JVM, then AppCDS archives, then the Java 25 AOT cache.
        call = [ORCH, "call", "bench_value", "get"]
        cli = [("JDK 17, no CDS archive of the app (default CDS only)", wall_ms(call, env, a.cli_runs))]
        dyn = os.path.join(work, "orch-call.jsa")
        subprocess.run(["java", f"-XX:ArchiveClassesAtExit={dyn}", "-jar", JAR, "call", "bench_value", "get"],
                       env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if os.path.exists(dyn):
            e = dict(env, ORCH_JAVA_OPTS=f"-XX:SharedArchiveFile={dyn} -Xshare:on")
            cli.append(("JDK 17 + dynamic AppCDS trained on `orch call` (-XX:ArchiveClassesAtExit)", wall_ms(call, e, a.cli_runs)))
        if os.access(JDK25, os.X_OK):
            e25 = dict(env, JAVA=JDK25)
            cli.append(("Temurin 25, no AOT cache", wall_ms(call, e25, a.cli_runs)))
            aot = os.path.join(work, "orch-call.aot")
            subprocess.run([JDK25, f"-XX:AOTCacheOutput={aot}", "-jar", JAR, "call", "bench_value", "get"],
                           env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            if os.path.exists(aot):
                e = dict(e25, ORCH_JAVA_OPTS=f"-XX:AOTCache={aot}")
                cli.append(("Temurin 25 + AOT cache trained on `orch call` (-XX:AOTCacheOutput)", wall_ms(call, e, a.cli_runs)))
        report["cli"] = cli

        # The server is a fresh JVM: one untimed pass first so its JIT reaches steady state
        # (CPython's manager has nothing to warm). The CPU time it takes is reported.
        run([ORCH, "bench", "-o", "json", "--calls", str(a.calls), "--worker", "inproc", *settle,
             "--scenarios", "method,hosted_method,echo_1k,hosted_echo_1k,dict_set,create_proxy,pipelined"], env)
        # One-client rounds, the three systems taking turns; then held connections and N client
        # processes once.
        orch_rounds, pyc_rounds, py_rounds = [], [], []
        for i in range(a.rounds):
            log(f"round {i + 1} of {a.rounds}")
            orch_rounds.append(json_lines(run([ORCH, "bench", "-o", "json", "--calls", str(a.calls), "--clients", "1", *settle,
                                               "--scenarios", ONE_CLIENT], env)))
            # orch's Python client against the same server (issue: Python client at CPython's rate).
            pyc_rounds.append(json_lines(run([sys.executable, PY_ORCH_BENCH, "--calls", str(a.calls), "--clients", "1"], env)))
            # CPython's create_proxy makes about 6 objects/s (each decref opens a connection):
            # minutes per pass, so it runs in the first round only.
            py_rounds.append(json_lines(run([sys.executable, PY_BENCH, "--calls", str(a.calls), "--clients", "1",
                                             "--scenarios", "method,echo_1k,dict_set,queue_put_get"
                                             + (",create_proxy" if i == 0 else "")], env)))
        held = json_lines(run([ORCH, "bench", "-o", "json", "--scenarios", "connections",
                               "--connections", str(a.connections), "--server-pid", str(server.pid)], env))
        orch1 = median_rows(orch_rounds) + held
        pyc = median_rows(pyc_rounds)
        py1 = median_rows(py_rounds)
        report["rounds"] = (orch_rounds, pyc_rounds, py_rounds)
        orchn = json_lines(run([ORCH, "bench", "-o", "json", "--calls", str(a.calls), "--clients", str(a.clients), "--processes", *settle,
                                "--scenarios", "method,hosted_method,echo_1k,hosted_echo_1k,dict_set,tcp_pingpong"], env))
        report["rss_after"] = rss_mb(server.pid)
        pyn = json_lines(run([sys.executable, PY_BENCH, "--calls", str(a.calls), "--clients", str(a.clients),
                              "--scenarios", "method,echo_1k,dict_set"], env))
    finally:
        subprocess.run([ORCH, "shutdown"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            server.wait(15)
        except subprocess.TimeoutExpired:
            server.kill()
        shutil.rmtree(work, ignore_errors=True)
    load_end = loadavg()
    print_report(a, report, orch1, orchn, py1, pyn, pyc, load_start, load_end)


ONE_CLIENT = ("method,hosted_method,echo_1k,hosted_echo_1k,dict_set,queue_put_get,lock_acquire_release,"
              "create_proxy,pipelined,tcp_pingpong")


def median_rows(rounds):
    """Per (scenario, clients), the row of the round with the median rate (the lower middle for
    an even count), carrying every round's rate in "rounds"."""
    keys = []
    for rows in rounds:
        for r in rows:
            k = (r.get("scenario"), r.get("clients"))
            if k not in keys:
                keys.append(k)
    out = []
    for k in keys:
        rows = [r for rs in rounds for r in rs if (r.get("scenario"), r.get("clients")) == k]
        timed = sorted((r for r in rows if "calls_per_s" in r), key=lambda r: r["calls_per_s"])
        if not timed:
            out.append(rows[0])
            continue
        m = dict(timed[(len(timed) - 1) // 2])
        m["rounds"] = [r.get("calls_per_s") for r in rows]
        out.append(m)
    return out


def by(rows, scenario, clients):
    for r in rows:
        if r.get("scenario") == scenario and r.get("clients") == clients:
            return r
    return None


def fmt_rate(r):
    if r is None:
        return "—"
    if "skipped" in r:
        return "skipped: " + r["skipped"]
    return f"{r['calls_per_s']:,}"


def fmt_p99(r):
    return "—" if r is None or "skipped" in r else f"{r['p99_us']:,}"


def ratio(o, p):
    if o is None or p is None or "skipped" in o or "skipped" in p or not p.get("calls_per_s"):
        return "—", None
    x = o["calls_per_s"] / p["calls_per_s"]
    return f"{x:.2f}×", x


def print_report(a, rep, orch1, orchn, py1, pyn, pyc, load_start, load_end):
    n = a.clients
    print(f"Run {time.strftime('%Y-%m-%d %H:%M %Z')} on {platform.node()}: {os.cpu_count()} CPUs, "
          f"{platform.processor() or platform.machine()}; {java_version('java')}; Python {platform.python_version()}; "
          f"{a.calls} calls per client; load average {load_start} at start, {load_end} at end.\n")
    print("| scenario | clients | CPython calls/s | orch calls/s | ratio | CPython p99 µs | orch p99 µs |")
    print("| --- | --- | ---: | ---: | ---: | ---: | ---: |")
    rows = [("method", "method", 1, "method (orch: Value.get, server-side)"),
            ("hosted_method", "method", 1, "hosted_method (orch: hosted UtilityClass.capitalize; CPython: method)"),
            ("echo_1k", "echo_1k", 1, "echo_1k (orch: dict.setdefault, 1 KiB each way, server-side)"),
            ("hosted_echo_1k", "echo_1k", 1, "hosted_echo_1k (orch: hosted UtilityClass.echo; CPython: echo_1k)"),
            ("dict_set", "dict_set", 1, "dict_set"),
            ("queue_put_get", "queue_put_get", 1, "queue_put_get"),
            ("create_proxy", "create_proxy", 1, "create_proxy (orch: Value; CPython: UtilityClass)"),
            ("method", "method", n, "method (orch: Value.get)"),
            ("hosted_method", "method", n, "hosted_method (CPython: method)"),
            ("echo_1k", "echo_1k", n, "echo_1k (orch: dict.setdefault)"),
            ("hosted_echo_1k", "echo_1k", n, "hosted_echo_1k (CPython: echo_1k)"),
            ("dict_set", "dict_set", n, "dict_set")]
    ratios = {}
    for o_sc, p_sc, c, label in rows:
        o = by(orch1 if c == 1 else orchn, o_sc, c)
        p = by(py1 if c == 1 else pyn, p_sc, c)
        rt, x = ratio(o, p)
        ratios[(o_sc, c)] = x
        print(f"| {label} | {c}{' (processes)' if c > 1 else ''} | {fmt_rate(p)} | {fmt_rate(o)} | {rt} | {fmt_p99(p)} | {fmt_p99(o)} |")
    pipe = by(orch1, "pipelined", 1)
    lock = by(orch1, "lock_acquire_release", 1)
    print(f"| lock_acquire_release (orch only) | 1 | — | {fmt_rate(lock)} | — | — | {fmt_p99(lock)} |")
    tcp1 = by(orch1, "tcp_pingpong", 1)
    tcpn = by(orchn, "tcp_pingpong", n)
    print(f"| pipelined W={pipe.get('pipeline', '?') if pipe else '?'} (orch only) | 1 | — | {fmt_rate(pipe)} | — | — | {fmt_p99(pipe)} |")
    print(f"| floor: raw TCP ping-pong, 64 B | 1 | — | {fmt_rate(tcp1)} | — | — | {fmt_p99(tcp1)} |")
    print(f"| floor: raw TCP ping-pong, 64 B | {n} (processes) | — | {fmt_rate(tcpn)} | — | — | {fmt_p99(tcpn)} |")
    conn = by(orch1, "connections", 1)
    print()
    print("orch's Python client (`src/bench/py_orch_bench.py`, stdlib only) against the same server, 1 client:\n")
    print("| scenario | CPython calls/s | orch Python client calls/s | ratio | CPython p99 µs | orch Python p99 µs |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    py_rows = [("method", "method", "method (orch: Value.get, server-side)"),
               ("hosted_method", "method", "hosted_method (orch: UtilityClass hosted by a Python worker; CPython: method)"),
               ("echo_1k", "echo_1k", "echo_1k (orch: dict.setdefault, server-side)"),
               ("hosted_echo_1k", "echo_1k", "hosted_echo_1k (orch: Python-hosted UtilityClass.echo; CPython: echo_1k)"),
               ("dict_set", "dict_set", "dict_set"),
               ("queue_put_get", "queue_put_get", "queue_put_get"),
               ("create_proxy", "create_proxy", "create_proxy (UtilityClass on both)")]
    for o_sc, p_sc, label in py_rows:
        o = by(pyc, o_sc, 1)
        p = by(py1, p_sc, 1)
        rt, x = ratio(o, p)
        ratios[("python", o_sc)] = x
        print(f"| {label} | {fmt_rate(p)} | {fmt_rate(o)} | {rt} | {fmt_p99(p)} | {fmt_p99(o)} |")
    rounds = rep.get("rounds")
    if rounds and len(rounds[0]) > 1:
        o_r, pc_r, p_r = rounds
        print()
        print(f"Ratio to CPython in each of the {len(o_r)} rounds (the tables above show the median round):\n")
        print("| scenario | " + " | ".join(f"round {i + 1}" for i in range(len(o_r))) + " |")
        print("| --- |" + " ---: |" * len(o_r))
        for label, o_sc, p_sc, src in (("method", "method", "method", 0), ("echo_1k", "echo_1k", "echo_1k", 0),
                                       ("dict_set", "dict_set", "dict_set", 0),
                                       ("queue_put_get", "queue_put_get", "queue_put_get", 0),
                                       ("Python client: method", "method", "method", 1),
                                       ("Python client: echo_1k", "echo_1k", "echo_1k", 1),
                                       ("Python client: dict_set", "dict_set", "dict_set", 1),
                                       ("Python client: queue_put_get", "queue_put_get", "queue_put_get", 1)):
            cells = []
            for i in range(len(o_r)):
                mine = (o_r if src == 0 else pc_r)[i]
                cells.append(ratio(by(mine, o_sc, 1), by(p_r[i], p_sc, 1))[0])
            print(f"| {label} | " + " | ".join(cells) + " |")
        pipes = [by(r, "pipelined", 1) for r in o_r]
        print("| pipelined W=64 (calls/s) | " + " | ".join(fmt_rate(x) for x in pipes) + " |")
    print()
    print(f"Server RSS: {rep.get('rss_idle')} MB idle after start; "
          f"{conn.get('server_rss_mb') if conn else '?'} MB holding {conn.get('held') if conn else '?'} authenticated connections "
          f"(logins at {fmt_rate(conn)}/s); {rep.get('rss_after')} MB after the orch runs.\n")
    print("CLI round trip, `target/orch call bench_value get` wall time (median / best of "
          f"{a.cli_runs}):\n")
    print("| JVM | median ms | best ms |")
    print("| --- | ---: | ---: |")
    for label, (med, best) in rep["cli"]:
        print(f"| {label} | {med} | {best} |")
    print()
    m1 = by(orch1, "method", 1)
    floor = tcp1["calls_per_s"] if tcp1 and "calls_per_s" in tcp1 else None

    def check(name, ok, got):
        print(f"| {name} | {got} | {'met' if ok else 'MISSED'} |")
    print("| target | measured | |")
    print("| --- | --- | --- |")
    x = ratios.get(("method", 1))
    check("method 1 client ≥ 1.1× CPython", x is not None and x >= 1.1, f"{x:.2f}×" if x else "—")
    if m1 and floor:
        f = m1["calls_per_s"] / floor
        check("method 1 client ≥ 0.7× raw TCP ping-pong", f >= 0.7, f"{f:.2f}×")
    x = ratios.get(("method", n))
    check(f"method {n} clients ≥ 3× CPython", x is not None and x >= 3, f"{x:.2f}×" if x else "—")
    pr = pipe.get("calls_per_s", 0) if pipe else 0
    check("pipelined W=64 ≥ 200,000 calls/s", pr >= 200000, f"{pr:,}")
    cp = by(orch1, "create_proxy", 1)
    cpr = cp.get("calls_per_s", 0) if cp else 0
    check("create_proxy ≥ 5,000 objects/s", cpr >= 5000, f"{cpr:,}")
    for sc in ("echo_1k", "dict_set"):
        x = ratios.get((sc, 1))
        check(f"{sc} ≥ 1.2× CPython", x is not None and x >= 1.2, f"{x:.2f}×" if x else "—")
    x = ratios.get(("queue_put_get", 1))
    check("queue_put_get (Java client) ≥ 2× CPython", x is not None and x >= 2, f"{x:.2f}×" if x else "—")
    for o_sc, _, _ in py_rows:
        x = ratios.get(("python", o_sc))
        check(f"Python client {o_sc} ≥ 1× CPython", x is not None and x >= 1, f"{x:.2f}×" if x else "—")
    ri = rep.get("rss_idle") or 0
    check("server RSS ≤ 150 MB idle", 0 < ri <= 150, f"{ri} MB")
    rc = conn.get("server_rss_mb", 0) if conn else 0
    check(f"{a.connections} connections ≤ 300 MB", 0 < rc <= 300 and conn.get("held") == a.connections, f"{rc} MB")


if __name__ == "__main__":
    main()
