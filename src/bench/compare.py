#!/usr/bin/env python3
"""orch vs CPython's multiprocessing manager, in one run on this machine; builds nothing.

Starts `orch server` (target/orch, or the binary --orch names), measures its idle RSS, runs
`orch bench` (1 client, then N clients as separate processes), the CPython baseline
(src/bench/py_manager_bench.py) with the same scenarios, the raw TCP ping-pong floor (orch
bench's tcp_pingpong), 1,000 held connections, and the CLI round trip (`orch call NAME get`)
with the plain JVM, an AppCDS archive and, when Temurin 25 is installed, its AOT cache. Prints
a markdown report on stdout.

The one-client scenarios run --rounds times, the three systems taking turns (orch's Java client,
orch's Python client, CPython): on a shared VM a single pass of one system can land in a slow
minute of the host, and alternating rounds spread that over all three. Each row comparing two
systems shows its median round: the round whose ratio (orch / CPython, both measured in that
round) is the median of the row's per-round ratios (the lower middle for an even count), with
both systems' calls/s and p99 from that same round. A row of one system alone shows the round
with its median calls/s. The per-round ratios are printed too. (Reports made before 2026-11-27
took each system's median round separately and divided them: a ratio of no round.)

A step that fails (a command exiting non-zero) ends the run: the report of what was measured
until then is still printed, then the script exits 1 saying which step failed.

  python3 src/bench/compare.py [--orch PATH] [--calls 20000] [--clients 4] [--connections 1000]
                               [--cli-runs 7] [--rounds 3] [--settle S]

--orch (default $ORCH_BIN, else target/orch of this checkout) picks the orch binary to measure:
another build's launcher, or a native executable (then the CLI rows for JVM options are left out).
orch's Python client and the CPython scripts are always this checkout's.
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
DEFAULT_ORCH = os.path.join(ROOT, "target", "orch")
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


class StepFailed(Exception):
    """A command of the run failed; what was measured before it is still reported."""


def run(cmd, env, timeout=1800):
    log("$ " + " ".join(cmd))
    try:
        p = subprocess.run(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        raise StepFailed(f"timed out after {timeout} s: {' '.join(cmd)}")
    except OSError as e:
        raise StepFailed(f"cannot run {cmd[0]}: {e.strerror or e}")
    if p.returncode != 0:
        log(p.stderr)
        raise StepFailed(f"failed ({p.returncode}): {' '.join(cmd)}")
    return p.stdout


def wall_ms(cmd, env, n):
    times = []
    for _ in range(n):
        t0 = time.perf_counter()
        if subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode != 0:
            raise StepFailed(f"failed: {' '.join(cmd)}")
        times.append((time.perf_counter() - t0) * 1000)
    return round(statistics.median(times)), round(min(times))


def java_version(java):
    p = subprocess.run([java, "-version"], stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True)
    return p.stderr.splitlines()[1].strip() if p.stderr else "?"


def usage_error(msg):
    """One line on stderr and exit 2, before anything has run."""
    print(f"compare.py: {msg}", file=sys.stderr)
    raise SystemExit(2)


def parse_args(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--orch", default=None,
                    help="the orch binary to measure (default: $ORCH_BIN, else target/orch of this checkout)")
    ap.add_argument("--calls", type=int, default=20000)
    ap.add_argument("--clients", type=int, default=4)
    ap.add_argument("--connections", type=int, default=1000)
    ap.add_argument("--cli-runs", type=int, default=7)
    ap.add_argument("--rounds", type=int, default=3, help="one-client rounds; tables show the median")
    ap.add_argument("--settle", type=float, default=None,
                    help="passed to each `orch bench` (its default when absent: warm up until the JIT is quiet);"
                         " 0 for a quick run whose figures do not matter")
    a = ap.parse_args(argv)
    # Every argument checked before anything runs: a bad one found after the rounds loses them.
    for name in ("calls", "clients", "connections", "cli_runs", "rounds"):
        if getattr(a, name) < 1:
            usage_error(f"--{name.replace('_', '-')} must be at least 1, not {getattr(a, name)}")
    if a.settle is not None and not 0 <= a.settle < float("inf"):
        usage_error(f"--settle must be a number of seconds, 0 or more, not {a.settle}")
    a.orch = os.path.abspath(a.orch or os.environ.get("ORCH_BIN") or DEFAULT_ORCH)
    if not os.path.isfile(a.orch) or not os.access(a.orch, os.X_OK):
        usage_error(f"{a.orch}: no orch executable there (build first: ./mvnw package -DskipTests; or name one"
                    " with --orch or ORCH_BIN)")
    return a


def main():
    a = parse_args()
    orch = a.orch
    # The JVM build: the launcher script beside its fast-jar (a native executable has none).
    jar = os.path.join(os.path.dirname(orch), "quarkus-app", "quarkus-run.jar")
    settle = [] if a.settle is None else ["--settle", str(a.settle)]
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
    report = {"orch": orch}
    # What was measured so far; a failed step leaves the rest empty, and the report says so.
    orch_rounds, pyc_rounds, py_rounds, held, orchn, pyn = [], [], [], [], [], []
    failure = None
    # The server writes ORCH_READY_FILE once it takes logins. (Polling with `orch types` started
    # a JVM every turn, on the CPUs the starting server needed.)
    ready = os.path.join(work, "server.ready")
    server = subprocess.Popen([orch, "server", "--listen", addr, "--object", "bench_value=Value:[1]"],
                              env=dict(env, ORCH_READY_FILE=ready),
                              stdout=open(os.path.join(work, "server.log"), "w"), stderr=subprocess.STDOUT)
    try:
        deadline = time.time() + 60
        while True:
            if os.path.exists(ready) and open(ready).read().count("\n") >= 2:  # address, pid
                break
            if time.time() > deadline or server.poll() is not None:
                with open(os.path.join(work, "server.log")) as f:
                    log(f.read())
                raise StepFailed("the orch server did not start (its log is above)")
            time.sleep(0.2)
        time.sleep(2)
        report["rss_idle"] = rss_mb(server.pid)

        # CLI round trip: plain JVM, then AppCDS archives, then the Java 25 AOT cache.
        call = [orch, "call", "bench_value", "get"]
        cli = [("JDK 17, no CDS archive of the app (default CDS only)" if os.path.exists(jar)
                else "this orch binary", wall_ms(call, env, a.cli_runs))]
        report["cli"] = cli
        if os.path.exists(jar):
            dyn = os.path.join(work, "orch-call.jsa")
            subprocess.run(["java", f"-XX:ArchiveClassesAtExit={dyn}", "-jar", jar, "call", "bench_value", "get"],
                           env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            if os.path.exists(dyn):
                e = dict(env, ORCH_JAVA_OPTS=f"-XX:SharedArchiveFile={dyn} -Xshare:on")
                cli.append(("JDK 17 + dynamic AppCDS trained on `orch call` (-XX:ArchiveClassesAtExit)", wall_ms(call, e, a.cli_runs)))
            if os.access(JDK25, os.X_OK):
                e25 = dict(env, JAVA=JDK25)
                cli.append(("Temurin 25, no AOT cache", wall_ms(call, e25, a.cli_runs)))
                aot = os.path.join(work, "orch-call.aot")
                subprocess.run([JDK25, f"-XX:AOTCacheOutput={aot}", "-jar", jar, "call", "bench_value", "get"],
                               env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                if os.path.exists(aot):
                    e = dict(e25, ORCH_JAVA_OPTS=f"-XX:AOTCache={aot}")
                    cli.append(("Temurin 25 + AOT cache trained on `orch call` (-XX:AOTCacheOutput)", wall_ms(call, e, a.cli_runs)))

        # The server is a fresh JVM: one untimed pass first so its JIT reaches steady state
        # (CPython's manager has nothing to warm). The CPU time it takes is reported.
        run([orch, "bench", "-o", "json", "--calls", str(a.calls), "--worker", "inproc", *settle,
             "--scenarios", "method,hosted_method,echo_1k,hosted_echo_1k,dict_set,create_proxy,pipelined"], env)
        # One-client rounds, the three systems taking turns; then held connections and N client
        # processes once. A round's rows are kept only once all three systems have run it.
        report["rounds"] = (orch_rounds, pyc_rounds, py_rounds)
        for i in range(a.rounds):
            log(f"round {i + 1} of {a.rounds}")
            o = json_lines(run([orch, "bench", "-o", "json", "--calls", str(a.calls), "--clients", "1", *settle,
                                "--scenarios", ONE_CLIENT], env))
            # orch's Python client against the same server (issue: Python client at CPython's rate).
            pc = json_lines(run([sys.executable, PY_ORCH_BENCH, "--calls", str(a.calls), "--clients", "1"], env))
            # CPython's create_proxy makes about 6 objects/s (each decref opens a connection):
            # minutes per pass, so it runs in the first round only.
            p = json_lines(run([sys.executable, PY_BENCH, "--calls", str(a.calls), "--clients", "1",
                                "--scenarios", "method,echo_1k,dict_set,queue_put_get,lock_acquire_release"
                                + (",create_proxy" if i == 0 else "")], env))
            orch_rounds.append(o)
            pyc_rounds.append(pc)
            py_rounds.append(p)
        held.extend(json_lines(run([orch, "bench", "-o", "json", "--scenarios", "connections",
                                    "--connections", str(a.connections), "--server-pid", str(server.pid)], env)))
        orchn.extend(json_lines(run([orch, "bench", "-o", "json", "--calls", str(a.calls), "--clients", str(a.clients),
                                     "--processes", *settle,
                                     "--scenarios", "method,hosted_method,echo_1k,hosted_echo_1k,dict_set,tcp_pingpong"], env)))
        report["rss_after"] = rss_mb(server.pid)
        pyn.extend(json_lines(run([sys.executable, PY_BENCH, "--calls", str(a.calls), "--clients", str(a.clients),
                                   "--scenarios", "method,echo_1k,dict_set"], env)))
    except StepFailed as e:
        failure = str(e)
    finally:
        subprocess.run([orch, "shutdown"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            server.wait(15)
        except subprocess.TimeoutExpired:
            server.kill()
        shutil.rmtree(work, ignore_errors=True)
    load_end = loadavg()
    if failure:
        report["failure"] = failure
    print_report(a, report, orch_rounds, pyc_rounds, py_rounds, held, orchn, pyn, load_start, load_end)
    if failure:
        sys.stdout.flush()
        print(f"compare.py: {failure}", file=sys.stderr)
        raise SystemExit(1)


ONE_CLIENT = ("method,hosted_method,echo_1k,hosted_echo_1k,dict_set,queue_put_get,lock_acquire_release,"
              "create_proxy,pipelined,tcp_pingpong")


def timed(r):
    return r is not None and "skipped" not in r and r.get("calls_per_s") is not None


def median_rows(rounds):
    """One system's rows: per (scenario, clients), the row of the round with the median rate (the
    lower middle for an even count), carrying every round's rate in "rounds"."""
    keys = []
    for rows in rounds:
        for r in rows:
            k = (r.get("scenario"), r.get("clients"))
            if k not in keys:
                keys.append(k)
    out = []
    for k in keys:
        rows = [r for rs in rounds for r in rs if (r.get("scenario"), r.get("clients")) == k]
        ordered = sorted((r for r in rows if timed(r)), key=lambda r: r["calls_per_s"])
        if not ordered:
            out.append(rows[0])
            continue
        m = dict(ordered[(len(ordered) - 1) // 2])
        m["rounds"] = [r.get("calls_per_s") for r in rows]
        out.append(m)
    return out


def median_round(o_rounds, p_rounds, o_sc, p_sc, clients=1):
    """The median round of a two-system row: of the rounds in which both systems measured (o_sc
    in o_rounds[i], p_sc in p_rounds[i]), the one whose ratio o / p is the median (the lower middle
    for an even count). Returns (o row, p row, ratio) of that one round; when no round has both,
    each system's median-rate row (or None) and no ratio."""
    both = []
    for i in range(min(len(o_rounds), len(p_rounds))):
        o, p = by(o_rounds[i], o_sc, clients), by(p_rounds[i], p_sc, clients)
        if timed(o) and timed(p) and p["calls_per_s"]:
            both.append((o["calls_per_s"] / p["calls_per_s"], i, o, p))
    if not both:
        return by(median_rows(o_rounds), o_sc, clients), by(median_rows(p_rounds), p_sc, clients), None
    both.sort(key=lambda t: (t[0], t[1]))
    x, _, o, p = both[(len(both) - 1) // 2]
    return o, p, x


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
    if not timed(o) or not timed(p) or not p["calls_per_s"]:
        return "—", None
    x = o["calls_per_s"] / p["calls_per_s"]
    return f"{x:.2f}×", x


def fmt_ratio(x):
    return "—" if x is None else f"{x:.2f}×"


def print_report(a, rep, orch_rounds, pyc_rounds, py_rounds, held, orchn, pyn, load_start, load_end):
    n = a.clients
    orch1 = median_rows(orch_rounds) + held
    print(f"Run {time.strftime('%Y-%m-%d %H:%M %Z')} on {platform.node()}: {os.cpu_count()} CPUs, "
          f"{platform.processor() or platform.machine()}; {java_version('java')}; Python {platform.python_version()}; "
          f"{a.calls} calls per client; load average {load_start} at start, {load_end} at end"
          + (f"; orch binary {rep['orch']}" if rep.get("orch") else "") + ".\n")
    if rep.get("failure"):
        print(f"**Incomplete run**: {rep['failure']}. What was measured before it follows; "
              "'—' marks what was not.\n")
    rounds_done = len(orch_rounds)
    print(f"One-client rows: the median of {rounds_done} round{'s' if rounds_done != 1 else ''} (for a row comparing "
          "two systems, the round whose ratio is the median; both figures from that round).\n")
    print("| scenario | clients | CPython calls/s | orch calls/s | ratio | CPython p99 µs | orch p99 µs |")
    print("| --- | --- | ---: | ---: | ---: | ---: | ---: |")
    rows = [("method", "method", 1, "method (orch: Value.get, server-side)"),
            ("hosted_method", "method", 1, "hosted_method (orch: hosted UtilityClass.capitalize; CPython: method)"),
            ("echo_1k", "echo_1k", 1, "echo_1k (orch: dict.setdefault, 1 KiB each way, server-side)"),
            ("hosted_echo_1k", "echo_1k", 1, "hosted_echo_1k (orch: hosted UtilityClass.echo; CPython: echo_1k)"),
            ("dict_set", "dict_set", 1, "dict_set"),
            ("queue_put_get", "queue_put_get", 1, "queue_put_get"),
            ("lock_acquire_release", "lock_acquire_release", 1, "lock_acquire_release"),
            ("create_proxy", "create_proxy", 1, "create_proxy (orch: Value; CPython: UtilityClass)"),
            ("method", "method", n, "method (orch: Value.get)"),
            ("hosted_method", "method", n, "hosted_method (CPython: method)"),
            ("echo_1k", "echo_1k", n, "echo_1k (orch: dict.setdefault)"),
            ("hosted_echo_1k", "echo_1k", n, "hosted_echo_1k (CPython: echo_1k)"),
            ("dict_set", "dict_set", n, "dict_set")]
    ratios = {}
    for o_sc, p_sc, c, label in rows:
        if c == 1:
            o, p, x = median_round(orch_rounds, py_rounds, o_sc, p_sc)
        else:
            o, p = by(orchn, o_sc, c), by(pyn, p_sc, c)
            x = ratio(o, p)[1]
        ratios[(o_sc, c)] = x
        print(f"| {label} | {c}{' (processes)' if c > 1 else ''} | {fmt_rate(p)} | {fmt_rate(o)} | {fmt_ratio(x)} "
              f"| {fmt_p99(p)} | {fmt_p99(o)} |")
    pipe = by(orch1, "pipelined", 1)
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
               ("lock_acquire_release", "lock_acquire_release", "lock_acquire_release (Lock on both)"),
               ("create_proxy", "create_proxy", "create_proxy (UtilityClass on both)")]
    for o_sc, p_sc, label in py_rows:
        o, p, x = median_round(pyc_rounds, py_rounds, o_sc, p_sc)
        ratios[("python", o_sc)] = x
        print(f"| {label} | {fmt_rate(p)} | {fmt_rate(o)} | {fmt_ratio(x)} | {fmt_p99(p)} | {fmt_p99(o)} |")
    if rounds_done > 1:
        o_r, pc_r, p_r = orch_rounds, pyc_rounds, py_rounds
        print()
        print(f"Ratio to CPython in each of the {len(o_r)} rounds (each row above shows the round whose ratio is "
              "the median of these):\n")
        print("| scenario | " + " | ".join(f"round {i + 1}" for i in range(len(o_r))) + " |")
        print("| --- |" + " ---: |" * len(o_r))
        for label, o_sc, p_sc, src in (("method", "method", "method", 0), ("echo_1k", "echo_1k", "echo_1k", 0),
                                       ("dict_set", "dict_set", "dict_set", 0),
                                       ("queue_put_get", "queue_put_get", "queue_put_get", 0),
                                       ("lock_acquire_release", "lock_acquire_release", "lock_acquire_release", 0),
                                       ("Python client: method", "method", "method", 1),
                                       ("Python client: echo_1k", "echo_1k", "echo_1k", 1),
                                       ("Python client: dict_set", "dict_set", "dict_set", 1),
                                       ("Python client: queue_put_get", "queue_put_get", "queue_put_get", 1),
                                       ("Python client: lock_acquire_release", "lock_acquire_release",
                                        "lock_acquire_release", 1)):
            cells = []
            for i in range(len(o_r)):
                mine = o_r if src == 0 else pc_r
                cells.append(ratio(by(mine[i] if i < len(mine) else [], o_sc, 1),
                                   by(p_r[i] if i < len(p_r) else [], p_sc, 1))[0])
            print(f"| {label} | " + " | ".join(cells) + " |")
        pipes = [by(r, "pipelined", 1) for r in o_r]
        print("| pipelined W=64 (calls/s) | " + " | ".join(fmt_rate(x) for x in pipes) + " |")
    print()
    print(f"Server RSS: {rep.get('rss_idle', '?')} MB idle after start; "
          f"{conn.get('server_rss_mb') if conn else '?'} MB holding {conn.get('held') if conn else '?'} authenticated connections "
          f"(logins at {fmt_rate(conn)}/s); {rep.get('rss_after', '?')} MB after the orch runs.\n")
    print("CLI round trip, `orch call bench_value get` wall time (median / best of "
          f"{a.cli_runs}):\n")
    print("| JVM | median ms | best ms |")
    print("| --- | ---: | ---: |")
    for label, (med, best) in rep.get("cli", []):
        print(f"| {label} | {med} | {best} |")
    print()

    def check(name, ok, got):
        """A target's row; 'not measured' when the figure is missing (a step failed)."""
        if got is None:
            print(f"| {name} | — | not measured |")
        else:
            print(f"| {name} | {got} | {'met' if ok else 'MISSED'} |")

    def check_ratio(name, x, least):
        check(name, x is not None and x >= least, None if x is None else fmt_ratio(x))
    print("| target | measured | |")
    print("| --- | --- | --- |")
    check_ratio("method 1 client ≥ 1.1× CPython", ratios.get(("method", 1)), 1.1)
    # method against the floor: both orch figures of one round, the median of those ratios.
    check_ratio("method 1 client ≥ 0.7× raw TCP ping-pong", median_round(orch_rounds, orch_rounds, "method", "tcp_pingpong")[2], 0.7)
    check_ratio(f"method {n} clients ≥ 3× CPython", ratios.get(("method", n)), 3)
    pr = pipe.get("calls_per_s") if timed(pipe) else None
    check("pipelined W=64 ≥ 200,000 calls/s", pr is not None and pr >= 200000, None if pr is None else f"{pr:,}")
    cp = by(orch1, "create_proxy", 1)
    cpr = cp.get("calls_per_s") if timed(cp) else None
    check("create_proxy ≥ 5,000 objects/s", cpr is not None and cpr >= 5000, None if cpr is None else f"{cpr:,}")
    for sc in ("echo_1k", "dict_set"):
        check_ratio(f"{sc} ≥ 1.2× CPython", ratios.get((sc, 1)), 1.2)
    check_ratio("queue_put_get (Java client) ≥ 2× CPython", ratios.get(("queue_put_get", 1)), 2)
    for o_sc, _, _ in py_rows:
        check_ratio(f"Python client {o_sc} ≥ 1× CPython", ratios.get(("python", o_sc)), 1)
    ri = rep.get("rss_idle")
    check("server RSS ≤ 150 MB idle", ri is not None and 0 < ri <= 150, None if ri is None else f"{ri} MB")
    rc = conn.get("server_rss_mb") if conn else None
    check(f"{a.connections} connections ≤ 300 MB", rc is not None and 0 < rc <= 300 and conn.get("held") == a.connections,
          None if rc is None else f"{rc} MB")


if __name__ == "__main__":
    main()
