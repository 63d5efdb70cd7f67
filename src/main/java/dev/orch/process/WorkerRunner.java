package dev.orch.process;

import dev.orch.client.ClientConfig;
import dev.orch.client.OrchClient;
import dev.orch.client.OrchEnv;
import dev.orch.protocol.OrchException;
import dev.orch.protocol.Timestamps;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.OutputStream;
import java.io.PrintStream;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * {@code orch connect -- CMD}: runs CMD as a worker attached to a server. CMD gets the
 * environment of a spawned child; its output is echoed locally and reported to the server
 * ({@code output}), its metrics go with each heartbeat, its exit is reported ({@code exit}) and
 * becomes our exit code. Signals are forwarded with {@link #signal}. PROTOCOL.md §11.
 */
public final class WorkerRunner extends AttachedLink {
    private static final int BATCH = 500;

    private final String name;
    private final JsonObject labels;
    private final List<String> command;
    private final String orchAddress;
    private final String keyFile;
    private final boolean tlsToServer;
    private final java.nio.file.Path tlsCa;
    private final PrintStream out;
    private final PrintStream err;
    private final LogRing ring = new LogRing(LogRing.DEFAULT_CAPACITY);
    private final CpuMeter cpu = new CpuMeter();
    private final Instant startedAt = Instant.now();
    private volatile String id;
    private volatile Process process;
    private volatile long startTicks = -1;
    private volatile boolean stopRequested;
    private long sentSeq;

    /**
     * @param orchAddress the {@code ORCH_ADDRESS} CMD gets
     * @param keyFile     the {@code ORCH_AUTHKEY_FILE} CMD gets; CMD also gets this worker's TLS
     *                    settings ({@code ORCH_TLS_CA} or {@code ORCH_TLS})
     */
    public WorkerRunner(Vertx vertx, ClientConfig config, String name, Map<String, String> labels, List<String> command,
            String orchAddress, String keyFile, PrintStream out, PrintStream err) {
        super(vertx, config);
        this.name = name;
        this.labels = new JsonObject();
        labels.forEach(this.labels::put);
        this.command = List.copyOf(command);
        this.orchAddress = orchAddress;
        this.keyFile = keyFile;
        this.tlsToServer = config.tls();
        this.tlsCa = config.tlsCa();
        this.out = out;
        this.err = err;
    }

    /** CMD cannot be started; {@link #exitCode()} is what a shell exits with for it. */
    public static final class CommandException extends Exception {
        private final int exitCode;

        CommandException(int exitCode, String message) {
            super(message);
            this.exitCode = exitCode;
        }

        /** 127 when the command is not found, 126 when it is found but cannot be executed. */
        public int exitCode() {
            return exitCode;
        }
    }

    /**
     * Fails unless {@code command} can be started here. Done before attaching: a command that
     * can never run would otherwise leave a failed worker entry for something that never started.
     */
    public static void checkCommand(List<String> command) throws CommandException {
        if (command.get(0).isEmpty()) {
            throw new CommandException(127, "command not found: ''");
        }
        Launcher.Unrunnable u = Launcher.unrunnable(new ProcessSpec(null, command, Map.of(), null, RestartPolicy.NEVER, 0, null));
        if (u != null) {
            throw new CommandException(u.exitCode(), u.message());
        }
    }

    /** The id the server gave this worker. */
    public String id() {
        return id;
    }

    /** CMD's pid, or -1 before it starts. */
    public long pid() {
        Process p = process;
        return p == null ? -1 : p.pid();
    }

    @Override
    protected JsonObject attach(OrchClient c) throws Exception {
        // Without a name, the id of an earlier attach (if any) gets this worker its entry back.
        JsonObject body = new JsonObject().put("op", "attach").put("kind", Fleet.WORKER).put("name", name)
                .put("id", name == null ? id : null)
                .put("pid", pid()).put("host", hostname()).put("command", new JsonArray(new java.util.ArrayList<>(command)))
                .put("labels", labels).put("startedAt", Timestamps.millis(startedAt));
        c.serve(hostAddress(c), this::onServerRequest);
        JsonObject reply = (JsonObject) c.request(ProcessEndpoint.ADDRESS, body);
        id = reply.getString("id");
        synchronized (this) {
            if (!reply.getBoolean("reattached", false)) {
                sentSeq = 0; // a new server (or a new entry) has none of our output: send what the ring holds
            }
        }
        return reply;
    }

    private CompletableFuture<Object> onServerRequest(Object body) {
        JsonObject b = body instanceof JsonObject ? (JsonObject) body : new JsonObject();
        if ("signal".equals(b.getString("op"))) {
            String sig = b.getString("signal", "TERM");
            if (!sig.matches("[A-Z0-9]+")) {
                throw OrchException.badRequest("bad signal");
            }
            stopRequested = true;
            return CompletableFuture.supplyAsync(() -> {
                signal(sig);
                return new JsonObject().put("signalled", true);
            });
        }
        return CompletableFuture.failedFuture(OrchException.badRequest("unknown op '" + b.getString("op") + "'"));
    }

    /**
     * Attaches (retrying until {@code connectLimit}), runs CMD and waits for it; returns its exit
     * code (128+N for signal N). Throws if the first attach fails.
     */
    public int run(Duration connectLimit) throws Exception {
        start();
        awaitFirst(connectLimit);
        java.util.Map<String, String> env = new java.util.LinkedHashMap<>(OrchEnv.reach(orchAddress, keyFile));
        env.putAll(OrchEnv.tls(tlsToServer, tlsCa));
        env.put("ORCH_PROCESS_ID", id);
        ProcessSpec spec = new ProcessSpec(null, command, Map.of(), null, RestartPolicy.NEVER, 0, null);
        Process p;
        try {
            Launcher.check(spec);
            // Used like CMD itself: what is piped to orch connect reaches CMD.
            p = Launcher.start(spec, env, Launcher.stdinIsPipeOrFile());
        } catch (Exception e) {
            report(127, e.getMessage());
            throw e;
        }
        process = p;
        ProcStats.Stat st = ProcStats.AVAILABLE ? ProcStats.stat(p.pid()) : null;
        startTicks = st != null ? st.startTicks() : -1;
        ring.snapshot(0, 0, new LogRing.Follower() {
            @Override
            public void lines(List<LogLine> lines) {
                echo(lines);
                flush();
            }
        });
        Thread o = PipeReader.start(p.getInputStream(), ring, false, "orch-worker-out");
        Thread e = PipeReader.start(p.getErrorStream(), ring, true, "orch-worker-err");
        sendHeartbeatNow();
        int code = p.waitFor();
        o.join(5000);
        e.join(5000);
        report(code, null);
        return code;
    }

    /** Forwards a signal (TERM, INT, HUP, KILL…) to CMD and its process group. */
    public void signal(String sig) {
        Process p = process;
        if (p == null || !p.isAlive()) {
            return;
        }
        if (!(Launcher.groups() && Launcher.signalGroup(p.pid(), sig))) {
            if ("KILL".equals(sig)) {
                p.destroyForcibly();
            } else {
                p.destroy();
            }
        }
    }

    private void echo(List<LogLine> lines) {
        for (LogLine l : lines) {
            PrintStream s = l.stderr() ? err : out;
            synchronized (s) {
                s.write(l.bytes(), 0, l.bytes().length);
                if (l.eol()) {
                    s.write('\n');
                }
            }
        }
        out.flush();
        err.flush();
    }

    /** Sends the lines the server has not had yet, if connected. */
    private synchronized void flush() {
        OrchClient c = client();
        if (c == null || id == null) {
            return;
        }
        List<LogLine> pending = ring.snapshot(ProcessEndpoint.MAX_TAIL, sentSeq, null);
        for (int i = 0; i < pending.size(); i += BATCH) {
            List<LogLine> part = pending.subList(i, Math.min(pending.size(), i + BATCH));
            JsonArray arr = new JsonArray();
            part.forEach(l -> arr.add(l.toJson()));
            c.requestAsync(ProcessEndpoint.ADDRESS, new JsonObject().put("op", "output").put("id", id).put("lines", arr));
            sentSeq = part.get(part.size() - 1).seq();
        }
    }

    private void sendHeartbeatNow() {
        CompletableFuture<Object> f = request(heartbeat());
        if (f != null) {
            f.exceptionally(x -> null);
        }
        flush();
    }

    @Override
    protected JsonObject heartbeat() {
        JsonObject hb = new JsonObject().put("op", "heartbeat").put("id", id).put("pid", pid() > 0 ? pid() : null);
        long pid = pid();
        if (pid > 0 && process.isAlive()) {
            JsonArray t = Metrics.table(List.of(new Metrics.Row(new JsonObject(), pid, startTicks)), cpu);
            JsonObject row = t.getJsonObject(1);
            hb.put("cpuPercent", row.getValue("cpuPercent")).put("rssBytes", row.getValue("rssBytes"))
                    .put("children", row.getJsonArray("children"));
        }
        // Lines produced while disconnected go out with the first heartbeat after reconnecting.
        vertx.runOnContext(v -> flush());
        return hb;
    }

    /** Flushes the output and reports the exit (waiting up to 10 s for a connection), then detaches. */
    private void report(int code, String error) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (client() == null && System.nanoTime() < deadline) {
            try {
                Thread.sleep(100); // waiting for the reconnect loop, bounded
            } catch (InterruptedException e) {
                break;
            }
        }
        flush();
        CompletableFuture<Object> f = request(new JsonObject().put("op", "exit").put("id", id).put("exitCode", code)
                .put("stopped", stopRequested).put("error", error));
        if (f != null) {
            try {
                f.get(5, TimeUnit.SECONDS);
            } catch (Exception e) {
                // The server is gone: nothing more to tell it.
            }
        }
        close();
    }

    /** Where output goes when not echoed: nowhere. */
    static PrintStream nullStream() {
        return new PrintStream(OutputStream.nullOutputStream());
    }
}
