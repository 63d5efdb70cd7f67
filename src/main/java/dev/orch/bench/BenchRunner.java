package dev.orch.bench;

import dev.orch.client.ClientConfig;
import dev.orch.client.OrchClient;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import org.HdrHistogram.Histogram;

/**
 * Runs scenarios against a server: each client on its own connection, in threads of this process
 * or (with {@link BenchSettings#processes}) as child processes of the orch binary. Starts the
 * UtilityClass worker when a hosted scenario needs it and nobody hosts it yet.
 */
public final class BenchRunner implements AutoCloseable {
    private final Vertx vertx;
    private final ClientConfig config;
    private final BenchSettings settings;
    private List<String> selfCommand;
    private boolean workerInProcess = true;
    private Progress progress = Progress.NONE;
    private AutoCloseable worker;
    /** Where the UtilityClass worker runs: process, inproc or existing; null before one is needed. */
    private String workerKind;
    /** Whether the hosted type's worker takes direct calls and this bench's clients make them. */
    private Boolean direct;
    private Path keyFile;

    public BenchRunner(Vertx vertx, ClientConfig config, BenchSettings settings) {
        this.vertx = vertx;
        this.config = config;
        this.settings = settings;
    }

    /**
     * The command that runs this orch binary (e.g. {@code [java, -jar, quarkus-run.jar]}): needed
     * for {@code --processes} and for a worker in its own process.
     */
    public BenchRunner selfCommand(List<String> command, boolean workerAsProcess) {
        this.selfCommand = command;
        this.workerInProcess = !workerAsProcess;
        return this;
    }

    public BenchRunner progress(Progress p) {
        this.progress = p;
        return this;
    }

    public List<BenchResult> run(List<Scenario> scenarios, Consumer<BenchResult> each) throws Exception {
        List<BenchResult> all = new ArrayList<>();
        int i = 0;
        for (Scenario s : scenarios) {
            i++;
            BenchResult r = run(s, i, scenarios.size());
            all.add(r);
            if (each != null) {
                each.accept(r);
            }
        }
        return all;
    }

    public BenchResult run(Scenario s) throws Exception {
        return run(s, 1, 1);
    }

    private BenchResult run(Scenario s, int index, int count) throws Exception {
        if (s.hosted()) {
            ensureWorker();
        }
        int clients = s == Scenario.CONNECTIONS ? 1 : Math.max(1, settings.clients);
        long expected = s == Scenario.CONNECTIONS ? settings.connections : saturatedProduct(s.callsFor(settings.calls), clients);
        // Timed calls so far: counted here by client threads, reported by client processes.
        AtomicLong done = new AtomicLong();
        List<WorkerProcess> children = new java.util.concurrent.CopyOnWriteArrayList<>();
        AtomicBoolean timing = new AtomicBoolean(s == Scenario.CONNECTIONS);
        progress.start(s.id() + " (" + index + "/" + count + ")", expected,
                () -> done.get() + children.stream().mapToLong(WorkerProcess::progress).sum(), timing::get);
        BenchResult r;
        try {
            if (s == Scenario.CONNECTIONS) {
                r = new BenchResult(s, List.of(connections(done)), 1, false);
            } else if (s == Scenario.TCP_PINGPONG) {
                try (TcpEcho echo = new TcpEcho()) {
                    r = new BenchResult(s, clients(s, "127.0.0.1:" + echo.port(), done, children, timing), 1, settings.processes);
                }
            } else {
                int window = (int) Math.min(settings.pipeline, s.callsFor(settings.calls));
                r = new BenchResult(s, clients(s, config.address(), done, children, timing), window, settings.processes);
            }
        } finally {
            progress.stop();
        }
        return r.mode(chains(s), s.hosted() ? direct : null, s.hosted() ? workerKind : null);
    }

    /** {@code a * b}, or Long.MAX_VALUE past it (a count for the progress line only). */
    static long saturatedProduct(long a, long b) {
        try {
            return Math.multiplyExact(a, b);
        } catch (ArithmeticException e) {
            return Long.MAX_VALUE;
        }
    }

    /** Whether {@code --chained} applies to a scenario: calls one at a time on an orch connection. */
    private boolean chains(Scenario s) {
        return settings.chained && s != Scenario.PIPELINED && s != Scenario.TCP_PINGPONG && s != Scenario.CONNECTIONS;
    }

    /**
     * How long clients may take from their start to "ready": a client process's JVM start and
     * login (up to a minute on a loaded machine, whatever --timeout says), then its warm-up
     * calls and the JIT's settling.
     */
    private long readyMillis() {
        return settings.settle.toMillis() + startMillis();
    }

    /** A minute for a child JVM to start and say something, or four call timeouts if longer. */
    private long startMillis() {
        return Math.max(60_000, quietMillis());
    }

    /** The longest a client process may stay silent once started (it reports every second). */
    private long quietMillis() {
        return Math.max(10_000, Math.min(Long.MAX_VALUE / 8, settings.timeout.toMillis()) * 4);
    }

    private List<ClientResult> clients(Scenario s, String address, AtomicLong done, List<WorkerProcess> children,
            AtomicBoolean timing) throws Exception {
        int n = Math.max(1, settings.clients);
        if (settings.processes) {
            return childClients(s, address, n, children, timing);
        }
        CyclicBarrier barrier = new CyclicBarrier(n, () -> timing.set(true));
        ClientRun.StartGate gate = () -> barrier.await(readyMillis(), TimeUnit.MILLISECONDS);
        ExecutorService pool = Executors.newFixedThreadPool(n, r -> {
            Thread t = new Thread(r, "bench-client");
            t.setDaemon(true);
            return t;
        });
        try {
            List<Future<ClientResult>> fs = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                fs.add(pool.submit(() -> {
                    ClientRun run = new ClientRun(settings, done);
                    if (s == Scenario.TCP_PINGPONG) {
                        int colon = address.lastIndexOf(':');
                        return run.pingPong(address.substring(0, colon), Integer.parseInt(address.substring(colon + 1)), gate);
                    }
                    try (OrchClient c = OrchClient.connect(config)) {
                        return run.run(s, c, gate);
                    } catch (Exception e) {
                        barrier.reset();
                        throw e;
                    }
                }));
            }
            List<ClientResult> out = new ArrayList<>();
            for (Future<ClientResult> f : fs) {
                try {
                    out.add(f.get());
                } catch (java.util.concurrent.ExecutionException e) {
                    Throwable c = e.getCause();
                    throw c instanceof Exception ? (Exception) c : e;
                }
            }
            return out;
        } finally {
            pool.shutdownNow();
        }
    }

    /**
     * {@code n} child processes, each one client; they start timing together on "go". The first
     * of them to fail ends the scenario, and the others are stopped with it.
     */
    private List<ClientResult> childClients(Scenario s, String address, int n, List<WorkerProcess> ps,
            AtomicBoolean timing) throws Exception {
        List<String> cmd = new ArrayList<>(requireSelf());
        cmd.addAll(List.of("bench-worker", "client", "--scenario", s.id(), "--calls", String.valueOf(settings.calls),
                "--pipeline", String.valueOf(settings.pipeline), "--warmup", String.valueOf(settings.warmup),
                "--settle", seconds(settings.settle.toMillis()),
                "--address", address, "--timeout", seconds(settings.timeout.toMillis()),
                "--progress-ms", progress.shown() ? "250" : "1000"));
        if (settings.chained) {
            cmd.add("--chained");
        }
        Object signal = new Object();
        try {
            Map<String, String> env = childEnv();
            for (int i = 0; i < n; i++) {
                ps.add(new WorkerProcess(cmd, env, signal));
            }
            // The first line within startMillis (JVM start), then a line every second at least.
            WorkerProcess.expectAll(ps, "ready", startMillis(), quietMillis());
            for (WorkerProcess p : ps) {
                p.send("go");
            }
            timing.set(true);
            // Results only once every client's timed calls are over (see ChildMain.ParentLink).
            WorkerProcess.expectAll(ps, "done", startMillis(), quietMillis());
            for (WorkerProcess p : ps) {
                p.send("report");
            }
            List<ClientResult> out = new ArrayList<>();
            for (WorkerProcess p : ps) {
                out.add(ClientResult.fromJson(p.nextLine(quietMillis())));
            }
            return out;
        } finally {
            WorkerProcess.closeAll(ps);
        }
    }

    /** Milliseconds as exact decimal seconds, for a child's options. */
    private static String seconds(long millis) {
        return java.math.BigDecimal.valueOf(millis, 3).toPlainString();
    }

    /** The {@code connections} scenario: log in N clients at once (32 at a time), hold them, read the server's RSS. */
    private ClientResult connections(AtomicLong done) throws Exception {
        int n = Math.max(1, settings.connections);
        Histogram h = ClientResult.newHistogram();
        List<OrchClient> held = java.util.Collections.synchronizedList(new ArrayList<>());
        ExecutorService pool = Executors.newFixedThreadPool(32);
        JsonObject extra = new JsonObject();
        if (settings.serverPid > 0) {
            extra.put("server_rss_mb_before", ServerRss.megabytes(settings.serverPid));
        }
        long t0 = System.nanoTime();
        try {
            List<Future<?>> fs = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                fs.add(pool.submit(() -> {
                    long s0 = System.nanoTime();
                    held.add(OrchClient.connect(config));
                    long d = System.nanoTime() - s0;
                    synchronized (h) {
                        h.recordValue(Math.min(ClientResult.MAX_NANOS, d));
                    }
                    done.incrementAndGet();
                    return null;
                }));
            }
            for (Future<?> f : fs) {
                f.get(settings.timeout.toMillis(), TimeUnit.MILLISECONDS);
            }
            long wall = System.nanoTime() - t0;
            // Every connection is authenticated; hold them a moment, and prove they work.
            List<CompletableFuture<Object>> pings = new ArrayList<>();
            for (OrchClient c : held) {
                pings.add(c.requestAsync(dev.orch.protocol.Addresses.MANAGER, new JsonObject().put("op", "types")));
            }
            CompletableFuture.allOf(pings.toArray(new CompletableFuture[0])).get(settings.timeout.toMillis(), TimeUnit.MILLISECONDS);
            Thread.sleep(1000);
            extra.put("held", held.size());
            if (settings.serverPid > 0) {
                extra.put("server_rss_mb", ServerRss.megabytes(settings.serverPid));
            }
            return new ClientResult(n, wall, h, extra);
        } finally {
            pool.shutdownNow();
            held.parallelStream().forEach(OrchClient::close);
        }
    }

    private void ensureWorker() throws Exception {
        if (worker != null) {
            return;
        }
        try (OrchClient c = OrchClient.connect(config)) {
            if (hosted(c) != null) {
                worker = () -> { };
                workerKind = "existing";
                direct = direct(hosted(c));
                return;
            }
            if (workerInProcess) {
                workerKind = "inproc";
                OrchClient w = OrchClient.connect(new ClientConfig().host(config.host()).port(config.port())
                        .authKey(config.authKey()).tls(config.tls(), config.tlsCa()).name("orch-bench-worker"));
                w.host(Scenario.UTILITY, Utility.EXPOSED, (a, k) -> new Utility());
                worker = w;
            } else {
                workerKind = "process";
                List<String> cmd = new ArrayList<>(requireSelf());
                cmd.addAll(List.of("bench-worker", "host", "--address", config.address(),
                        "--timeout", seconds(settings.timeout.toMillis())));
                WorkerProcess p = new WorkerProcess(cmd, childEnv(), new Object());
                worker = p;
                // It prints nothing until it hosts the type: a JVM start, a login and a request.
                p.expect("ready", startMillis() + quietMillis(), quietMillis());
            }
            long deadline = System.nanoTime() + settings.timeout.toNanos();
            JsonObject type;
            while ((type = hosted(c)) == null) {
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("the UtilityClass worker did not register its type");
                }
                Thread.sleep(20);
            }
            direct = direct(type);
        }
    }

    /** The UtilityClass type's description, or null when nobody hosts it. */
    private static JsonObject hosted(OrchClient c) {
        JsonArray types = c.types();
        for (int i = 0; i < types.size(); i++) {
            if (Scenario.UTILITY.equals(types.getJsonObject(i).getString("typeid"))) {
                return types.getJsonObject(i);
            }
        }
        return null;
    }

    /** Whether the clients call the type's worker directly: it offers direct calls, and they make them. */
    private boolean direct(JsonObject type) {
        boolean enabled;
        try {
            enabled = config.directMode().enabled();
        } catch (IllegalArgumentException e) {
            enabled = false; // the connection would have failed already
        }
        return enabled && dev.orch.protocol.DirectOffer.fromDescription(type) != null;
    }

    private List<String> requireSelf() {
        if (selfCommand == null || selfCommand.isEmpty()) {
            throw new IllegalStateException("cannot find this program's command line to start child processes");
        }
        return selfCommand;
    }

    /**
     * Children get the key through a private temporary file ({@link dev.orch.auth.AuthKeys#privateCopy}:
     * removed by {@link #close}, at the JVM's exit, SIGTERM and SIGINT included, and after a
     * SIGKILL by the next orch process that makes a copy), and this process's TLS settings.
     */
    private Map<String, String> childEnv() throws IOException {
        if (keyFile == null) {
            byte[] k = config.authKey();
            // A newline after the key, as in a key file: read back, the key is exactly what it was.
            byte[] withNl = java.util.Arrays.copyOf(k, k.length + 1);
            withNl[k.length] = '\n';
            keyFile = dev.orch.auth.AuthKeys.privateCopy(withNl);
        }
        Map<String, String> env = new java.util.HashMap<>();
        env.put(dev.orch.auth.AuthKeys.ENV_KEY_FILE, keyFile.toString());
        env.put(dev.orch.auth.AuthKeys.ENV_KEY, "");
        // The children connect as this process does, whatever they inherit.
        env.put(dev.orch.client.OrchEnv.TLS_CA, "");
        env.put(dev.orch.client.OrchEnv.TLS, "0");
        env.putAll(dev.orch.client.OrchEnv.tls(config.tls(), config.tlsCa()));
        return env;
    }

    @Override
    public void close() {
        if (worker != null) {
            try {
                worker.close();
            } catch (Exception e) {
                // Best effort.
            }
            worker = null;
        }
        if (keyFile != null) {
            try {
                Files.deleteIfExists(keyFile);
            } catch (IOException e) {
                // Temp file; the OS cleans it.
            }
        }
    }

    static String utf8(byte[] b) {
        return new String(b, StandardCharsets.UTF_8);
    }
}
