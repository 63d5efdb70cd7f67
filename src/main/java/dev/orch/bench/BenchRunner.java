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
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
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
        long expected = s == Scenario.CONNECTIONS ? settings.connections : (long) s.callsFor(settings.calls) * clients;
        AtomicLong done = new AtomicLong();
        progress.start(s.id() + " (" + index + "/" + count + ")", expected, done);
        try {
            if (s == Scenario.CONNECTIONS) {
                return new BenchResult(s, List.of(connections(done)), 1, false);
            }
            if (s == Scenario.TCP_PINGPONG) {
                try (TcpEcho echo = new TcpEcho()) {
                    return new BenchResult(s, clients(s, "127.0.0.1:" + echo.port(), done), settings.pipeline, settings.processes);
                }
            }
            return new BenchResult(s, clients(s, config.address(), done), settings.pipeline, settings.processes);
        } finally {
            progress.stop();
        }
    }

    private List<ClientResult> clients(Scenario s, String address, AtomicLong done) throws Exception {
        int n = Math.max(1, settings.clients);
        if (settings.processes) {
            return childClients(s, address, n);
        }
        CyclicBarrier barrier = new CyclicBarrier(n);
        ClientRun.StartGate gate = () -> barrier.await(settings.timeout.toMillis() * 4, TimeUnit.MILLISECONDS);
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

    /** {@code n} child processes, each one client; they start timing together on "go". */
    private List<ClientResult> childClients(Scenario s, String address, int n) throws Exception {
        List<String> cmd = new ArrayList<>(requireSelf());
        cmd.addAll(List.of("bench-worker", "client", "--scenario", s.id(), "--calls", String.valueOf(settings.calls),
                "--pipeline", String.valueOf(settings.pipeline), "--warmup", String.valueOf(settings.warmup),
                "--settle", String.valueOf(settings.settle.toMillis() / 1000.0),
                "--address", address, "--timeout", String.valueOf(settings.timeout.toSeconds())));
        List<WorkerProcess> ps = new ArrayList<>();
        try {
            for (int i = 0; i < n; i++) {
                ps.add(new WorkerProcess(cmd, childEnv()));
            }
            for (WorkerProcess p : ps) {
                p.expect("ready", settings.timeout.toMillis() * 4);
            }
            for (WorkerProcess p : ps) {
                p.send("go");
            }
            // Results only once every client's timed calls are over (see ChildMain.handshake).
            for (WorkerProcess p : ps) {
                p.expect("done", settings.timeout.toMillis() * 20);
            }
            for (WorkerProcess p : ps) {
                p.send("report");
            }
            List<ClientResult> out = new ArrayList<>();
            for (WorkerProcess p : ps) {
                out.add(ClientResult.fromJson(p.readLine(settings.timeout.toMillis() * 4)));
            }
            return out;
        } finally {
            ps.forEach(WorkerProcess::close);
        }
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
            if (hosted(c)) {
                worker = () -> { };
                return;
            }
            if (workerInProcess) {
                OrchClient w = OrchClient.connect(new ClientConfig().host(config.host()).port(config.port())
                        .authKey(config.authKey()).tls(config.tls(), config.tlsCa()).name("orch-bench-worker"));
                w.host(Scenario.UTILITY, Utility.EXPOSED, (a, k) -> new Utility());
                worker = w;
            } else {
                List<String> cmd = new ArrayList<>(requireSelf());
                cmd.addAll(List.of("bench-worker", "host", "--address", config.address(),
                        "--timeout", String.valueOf(settings.timeout.toSeconds())));
                WorkerProcess p = new WorkerProcess(cmd, childEnv());
                worker = p;
                p.expect("ready", settings.timeout.toMillis() * 4);
            }
            long deadline = System.nanoTime() + settings.timeout.toNanos();
            while (!hosted(c)) {
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("the UtilityClass worker did not register its type");
                }
                Thread.sleep(20);
            }
        }
    }

    private static boolean hosted(OrchClient c) {
        JsonArray types = c.types();
        for (int i = 0; i < types.size(); i++) {
            if (Scenario.UTILITY.equals(types.getJsonObject(i).getString("typeid"))) {
                return true;
            }
        }
        return false;
    }

    private List<String> requireSelf() {
        if (selfCommand == null || selfCommand.isEmpty()) {
            throw new IllegalStateException("cannot find this program's command line to start child processes");
        }
        return selfCommand;
    }

    /** Children get the key through a private temporary file, and this process's TLS settings. */
    private Map<String, String> childEnv() throws IOException {
        if (keyFile == null) {
            keyFile = Files.createTempFile("orch-bench-key-", "",
                    PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
            byte[] k = config.authKey();
            byte[] withNl = java.util.Arrays.copyOf(k, k.length + 1);
            withNl[k.length] = '\n';
            Files.write(keyFile, withNl);
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
