package dev.orch.process;

import dev.orch.client.ClientConfig;
import dev.orch.client.OrchClient;
import dev.orch.client.OrchEnv;
import dev.orch.protocol.OrchException;
import dev.orch.protocol.Timestamps;
import io.vertx.core.Context;
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
import org.jboss.logging.Logger;

/**
 * {@code orch connect -- CMD}: runs CMD as a worker attached to a server. CMD gets the
 * environment of a spawned child; its output is echoed locally and reported to the server
 * ({@code output}), its metrics go with each heartbeat, its exit is reported ({@code exit}) and
 * becomes our exit code. Signals are forwarded with {@link #signal}. PROTOCOL.md §11.
 *
 * <p>What CMD starts is treated as the server treats a spawned process's (PROTOCOL.md §10): its
 * group and its <em>escapees</em> (descendants that left the group, see {@link Lineage}),
 * remembered at each heartbeat and every few seconds ({@link LineageWatch}) so that they are
 * found after their parent died, get every forwarded signal, and are stopped when CMD ends.
 */
public final class WorkerRunner extends AttachedLink {
    private static final Logger LOG = Logger.getLogger(WorkerRunner.class);
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
    private final Lineage lineage = new Lineage();
    private final Duration stopGrace;
    private final Context ctx;
    private final LineageWatch watch;
    /** When CMD started; until then, when this runner did (an entry's start before CMD runs). */
    private volatile Instant startedAt = Instant.now();
    private volatile String id;
    private volatile Process process;
    /** A signal that came before CMD was running (see {@link #signal}); guarded by this. */
    private String early;
    private volatile long startTicks = -1;
    private volatile boolean stopRequested;
    /** A stop signal came to {@code orch connect} itself (see {@link #received}). */
    private volatile boolean stoppingLocally;
    private final java.util.concurrent.atomic.AtomicBoolean killScheduled = new java.util.concurrent.atomic.AtomicBoolean();
    private long sentSeq;

    /**
     * @param orchAddress the {@code ORCH_ADDRESS} CMD gets
     * @param keyFile     the {@code ORCH_AUTHKEY_FILE} CMD gets; CMD also gets this worker's TLS
     *                    settings ({@code ORCH_TLS_CA} or {@code ORCH_TLS})
     */
    public WorkerRunner(Vertx vertx, ClientConfig config, String name, Map<String, String> labels, List<String> command,
            String orchAddress, String keyFile, PrintStream out, PrintStream err) {
        this(vertx, config, name, labels, command, orchAddress, keyFile, out, err, Duration.ofSeconds(10));
    }

    /**
     * As the other constructor, with the time what CMD leaves running when it ends gets between
     * SIGTERM and SIGKILL.
     */
    public WorkerRunner(Vertx vertx, ClientConfig config, String name, Map<String, String> labels, List<String> command,
            String orchAddress, String keyFile, PrintStream out, PrintStream err, Duration stopGrace) {
        super(vertx, config);
        this.stopGrace = stopGrace;
        this.ctx = vertx.getOrCreateContext();
        this.watch = new LineageWatch(vertx, ctx, LineageWatch.DEFAULT_PERIOD, this::runningLineage);
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
    /** The signals that stop orch connect itself while it attaches, with their numbers. */
    private static final Map<String, Integer> STOPS = Map.of("HUP", 1, "INT", 2, "TERM", 15);

    /** A stop signal that came while attaching, before CMD was started. */
    private static final class StoppedBeforeStart extends Exception {
        final int exitCode;

        StoppedBeforeStart(int exitCode) {
            super("stopped before the command started", null, false, false);
            this.exitCode = exitCode;
        }
    }

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
        try {
            awaitFirst(connectLimit);
        } catch (StoppedBeforeStart stopped) {
            return stopped.exitCode;
        }
        java.util.Map<String, String> env = new java.util.LinkedHashMap<>(OrchEnv.reach(orchAddress, keyFile));
        env.putAll(OrchEnv.tls(tlsToServer, tlsCa));
        env.put("ORCH_PROCESS_ID", id);
        ProcessSpec spec = new ProcessSpec(null, command, Map.of(), null, RestartPolicy.NEVER, 0, null);
        Process p;
        try {
            Launcher.check(spec);
            // Used like CMD itself: what is piped to orch connect reaches CMD.
            p = Launcher.start(spec, env, Launcher.stdinIsPipeOrFile());
            startedAt = Instant.now();
        } catch (Exception e) {
            report(127, e.getMessage());
            throw e;
        }
        ProcStats.Stat st = ProcStats.AVAILABLE ? ProcStats.stat(p.pid()) : null;
        startTicks = st != null ? st.startTicks() : -1;
        lineage.started(p.pid(), startTicks, Launcher.groups());
        String pending;
        synchronized (this) {
            process = p;
            pending = early;
        }
        if (pending != null) {
            signal(pending);
        }
        ctx.runOnContext(v -> watch.wake());
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
        ctx.runOnContext(v -> watch.close());
        // Before joining the readers: a leftover may hold CMD's stdout open.
        endLeftovers(target(p));
        o.join(5000);
        e.join(5000);
        report(code, null);
        return code;
    }

    /**
     * Forwards a signal (TERM, INT, HUP, KILL…) to CMD, its process group and its escapees (looked
     * for now, and those remembered). After CMD has ended, to what it left running while that is
     * being stopped: a KILL (the server's, after its grace) cuts the stop short.
     */
    public void signal(String sig) {
        Process p;
        synchronized (this) {
            p = process;
            if (p == null) {
                // Still attaching (a server that is down, say): a stop ends orch connect without
                // starting CMD, as Ctrl-C would end the command itself.
                Integer number = STOPS.get(sig);
                if (number != null && abandonFirst(new StoppedBeforeStart(128 + number))) {
                    return;
                }
                // Just started and not yet recorded: CMD gets the signal as soon as it is, or a
                // SIGTERM now would be lost and CMD run on.
                early = sig;
                return;
            }
        }
        if (!p.isAlive() && !ProcStats.AVAILABLE) {
            return;
        }
        Signals.Target t = target(p);
        Signals.send(t, sig, Signals.members(t));
    }

    /**
     * A signal {@code orch connect} itself received: forwarded as {@link #signal} does. After a
     * SIGTERM (a pod being stopped, say), CMD still running after the grace gets SIGKILL, as the
     * server does for a process it stops: otherwise a CMD that ignores SIGTERM would keep
     * {@code orch connect} running until someone kills both.
     */
    public void received(String sig) {
        stoppingLocally = true;
        signal(sig);
        if ("TERM".equals(sig) && !killScheduled.getAndSet(true)) {
            Thread t = new Thread(() -> {
                try {
                    Thread.sleep(stopGrace.toMillis());
                } catch (InterruptedException e) {
                    return;
                }
                Process p = process;
                if (p != null && p.isAlive()) {
                    signal("KILL");
                }
            }, "orch-stop-grace");
            t.setDaemon(true);
            t.start();
        }
    }

    private Signals.Target target(Process p) {
        return new Signals.Target(p.pid(), p, Launcher.groups(), lineage);
    }

    /** For the {@link LineageWatch}: CMD's lineage while CMD runs. */
    private List<Lineage> runningLineage() {
        Process p = process;
        return p != null && p.isAlive() ? List.of(lineage) : List.of();
    }

    /**
     * Stops what CMD left running when it ended, in its group or escaped from it, as the server
     * does for a spawned process: SIGTERM, SIGKILL after the grace. Left alone it would run on
     * unwatched once orch connect is gone. Blocking.
     */
    private void endLeftovers(Signals.Target t) throws InterruptedException {
        if (!ProcStats.AVAILABLE) {
            return;
        }
        List<Signals.Member> left = Signals.members(t);
        if (!left.isEmpty()) {
            LOG.debugf("%s exited leaving %d process%s running: stopping them", command.get(0), left.size(),
                    left.size() == 1 ? "" : "es");
            Signals.send(t, "TERM", left);
            if (!awaitGone(left, stopGrace)) {
                // Again, for what was forked meanwhile.
                left = Signals.union(left, Signals.members(t));
                Signals.send(t, "KILL", left);
                awaitGone(left, Duration.ofSeconds(10));
            }
        }
        lineage.forgetGone(); // else they would stay listed in the GroupReaper
    }

    private static boolean awaitGone(List<Signals.Member> members, Duration limit) throws InterruptedException {
        long deadline = System.nanoTime() + limit.toNanos();
        while (Signals.anyAlive(members)) {
            if (System.nanoTime() >= deadline) {
                return false;
            }
            Thread.sleep(50);
        }
        return true;
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
        // startedAt too: the attach said when orch connect started, which may be long before CMD
        // (a server that took a while to come up), and ps counts a worker's uptime from it.
        JsonObject hb = new JsonObject().put("op", "heartbeat").put("id", id).put("pid", pid() > 0 ? pid() : null)
                .put("startedAt", Timestamps.millis(startedAt));
        long pid = pid();
        if (pid > 0 && process.isAlive()) {
            Map<Long, ProcStats.Stat> procs = ProcStats.AVAILABLE ? ProcStats.scan() : Map.of();
            if (ProcStats.AVAILABLE) {
                // The scan serves to remember escapees too (and so the watch need not look again).
                watch.looked(procs, List.of(lineage));
            }
            JsonArray t = Metrics.table(List.of(new Metrics.Row(new JsonObject(), pid, startTicks, lineage)), cpu, procs);
            JsonObject row = t.getJsonObject(1);
            hb.put("cpuPercent", row.getValue("cpuPercent")).put("rssBytes", row.getValue("rssBytes"))
                    .put("children", row.getJsonArray("children"));
        }
        // Lines produced while disconnected go out with the first heartbeat after reconnecting.
        vertx.runOnContext(v -> flush());
        return hb;
    }

    /**
     * Flushes the output and reports the exit (waiting up to 10 s for a connection, 2 s when
     * stopped by a signal: whoever sent it is waiting for this process to end), then detaches.
     */
    private void report(int code, String error) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(stoppingLocally ? 2 : 10);
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
