package dev.orch.process;

import dev.orch.client.OrchEnv;
import dev.orch.protocol.Addresses;
import dev.orch.protocol.ErrorCode;
import dev.orch.protocol.OrchException;
import dev.orch.protocol.Timestamps;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import org.jboss.logging.Logger;

/**
 * Runs and watches local child processes: spawn, restart with backoff, stop, kill, logs, ps.
 *
 * <p>All state changes happen on one Vert.x context (the caller's when constructed on a Vert.x
 * thread, else a new event-loop context), so the table needs no locks. Nothing blocking runs
 * there: starting a child, signalling it and reading {@code /proc} for {@code ps} go to worker
 * threads and hop back; exits arrive through {@link Process#onExit()}, without polling. Output is
 * drained by {@link PipeReader} threads into each process's {@link LogRing}. Lifecycle events are
 * published on {@link Addresses#EVENTS} (see {@code src/docs/EVENTS.md}).
 *
 * <p>Every method may be called from any thread and completes its future on the supervisor's
 * context. Processes are referred to by id ({@code p1}, {@code p2}…) or by name.
 */
public final class ProcessSupervisor {
    private static final Logger LOG = Logger.getLogger(ProcessSupervisor.class);

    /**
     * Settings.
     *
     * @param orchEnv      what every child gets to reach orch ({@link OrchEnv}): address, key file, TLS
     * @param backoff      restart delays
     * @param stopGrace    default time between SIGTERM and SIGKILL
     * @param logCapacity  bytes of output kept per process
     * @param historyLimit how many ended processes {@code ps all} remembers
     * @param lineageLook  how often, at least, running processes' trees are looked at for
     *                     descendants that left their group (see {@link LineageWatch})
     */
    public record Config(Map<String, String> orchEnv, Backoff backoff, Duration stopGrace,
            long logCapacity, int historyLimit, Duration lineageLook) {

        /**
         * No ORCH_ADDRESS/ORCH_AUTHKEY_FILE, 1 s..60 s backoff, 10 s grace, 1 MiB logs, 1000 ended
         * processes, trees looked at every 5 s.
         */
        public static Config defaults() {
            return new Config(Map.of(), Backoff.DEFAULT, Duration.ofSeconds(10), LogRing.DEFAULT_CAPACITY, 1000,
                    LineageWatch.DEFAULT_PERIOD);
        }

        /** Children reach orch at {@code address} with the key in {@code keyFile}. */
        public Config withOrch(String address, String keyFile) {
            return withOrchEnv(OrchEnv.reach(address, keyFile));
        }

        /** Children connect with TLS, trusting {@code ca} (null: the system's roots) when {@code tls}. */
        public Config withOrchTls(boolean tls, Path ca) {
            return withOrchEnv(OrchEnv.tls(tls, ca));
        }

        private Config withOrchEnv(Map<String, String> more) {
            Map<String, String> env = new LinkedHashMap<>(orchEnv);
            env.putAll(more);
            return new Config(Map.copyOf(env), backoff, stopGrace, logCapacity, historyLimit, lineageLook);
        }

        public Config withBackoff(Backoff b) {
            return new Config(orchEnv, b, stopGrace, logCapacity, historyLimit, lineageLook);
        }

        public Config withStopGrace(Duration grace) {
            return new Config(orchEnv, backoff, grace, logCapacity, historyLimit, lineageLook);
        }

        public Config withLogCapacity(long bytes) {
            return new Config(orchEnv, backoff, stopGrace, bytes, historyLimit, lineageLook);
        }

        public Config withHistoryLimit(int n) {
            return new Config(orchEnv, backoff, stopGrace, logCapacity, n, lineageLook);
        }

        public Config withLineageLook(Duration period) {
            return new Config(orchEnv, backoff, stopGrace, logCapacity, historyLimit, period);
        }
    }

    /** A process's log, as returned by {@link #logs(String)}. */
    public record Logs(String id, String name, LogRing ring) {
    }

    private static final long POLL_MS = 50;
    private static final long DRAIN_MS = 1000;

    private final Vertx vertx;
    private final Context ctx;
    private final Config config;
    private final Map<String, ManagedProcess> table = new LinkedHashMap<>();
    private final ArrayDeque<ManagedProcess> finished = new ArrayDeque<>();
    private final CpuMeter cpu = new CpuMeter();
    private final Map<String, Future<Void>> launching = new HashMap<>();
    private final LineageWatch lineageWatch;
    private int nextId = 1;
    private boolean closing;
    private Future<Void> closed;

    public ProcessSupervisor(Vertx vertx, Config config) {
        this.vertx = vertx;
        this.ctx = vertx.getOrCreateContext();
        this.config = config;
        this.lineageWatch = new LineageWatch(vertx, ctx, config.lineageLook(), this::runningLineages);
    }

    /** The context all state changes run on. */
    public Context context() {
        return ctx;
    }

    /** The time between SIGTERM and SIGKILL when a stop names none. */
    public Duration stopGrace() {
        return config.stopGrace();
    }

    /** Whether children get their own process group (util-linux {@code setsid} is present). */
    public static boolean usesProcessGroups() {
        return Launcher.groups();
    }

    /**
     * Starts a process. Completes with {@code {"id","name","pid"}} once it runs; fails with 400
     * (bad spec, command not found), 404 (unknown node), 409 (name taken) or 503 (closing).
     */
    public Future<JsonObject> spawn(ProcessSpec spec) {
        return onCtx(() -> {
            if (closing) {
                throw new OrchException(ErrorCode.SHUTTING_DOWN, "the supervisor is stopping");
            }
            if (spec.node() != null && !ProcessSpec.LOCAL.equals(spec.node())) {
                throw OrchException.notFound("no node named '" + spec.node() + "'");
            }
            if (spec.name() != null) {
                checkNameFree(spec.name(), null);
            }
            ManagedProcess mp = new ManagedProcess("p" + nextId++, spec, config.logCapacity(), System.nanoTime());
            table.put(mp.id, mp);
            return launch(mp, "started", true).map(v -> summary(mp));
        });
    }

    /**
     * The process table: live processes (starting, running, backoff), or with {@code all} also
     * ended ones, preceded by the server's own entry (id {@code "server"}). See PROTOCOL.md §10.
     */
    public Future<JsonArray> ps(boolean all) {
        return onCtx(() -> {
            List<Metrics.Row> rows = new ArrayList<>();
            for (ManagedProcess mp : table.values()) {
                if (all || mp.state.isLive()) {
                    rows.add(new Metrics.Row(mp.baseJson(), mp.state == ProcessState.RUNNING ? mp.pid : -1, mp.startTicks,
                            mp.lineage));
                }
            }
            List<Lineage> lineages = runningLineages();
            return ctx.executeBlocking(() -> {
                Map<Long, ProcStats.Stat> procs = ProcStats.AVAILABLE ? ProcStats.scan() : Map.of();
                // The scan is made anyway: it also serves to remember escapees, before they are
                // listed (an orphaned one is found only by being remembered).
                if (ProcStats.AVAILABLE) {
                    lineageWatch.looked(procs, lineages);
                }
                return Metrics.table(rows, cpu, procs);
            }, false);
        });
    }

    /** One process's ps fields without metrics; 404 if unknown. */
    public Future<JsonObject> describe(String ref) {
        return onCtx(() -> Future.succeededFuture(resolve(ref).baseJson()));
    }

    /** A process's log ring, to read or follow; 404 if unknown. */
    public Future<Logs> logs(String ref) {
        return onCtx(() -> {
            ManagedProcess mp = resolve(ref);
            return Future.succeededFuture(new Logs(mp.id, mp.name, mp.ring));
        });
    }

    /**
     * Stops a process: SIGTERM to its group, SIGKILL to what is left after {@code grace} (null for
     * the configured default). Completes, with the process's fields, once the process and its
     * group are gone. A process waiting in backoff is just marked stopped; an ended one is left as is.
     */
    public Future<JsonObject> stop(String ref, Duration grace) {
        long ms = (grace == null ? config.stopGrace() : grace).toMillis();
        return onCtx(() -> {
            ManagedProcess mp = resolve(ref);
            return stopProcess(mp, Math.max(0, ms)).map(v -> mp.baseJson());
        });
    }

    /** Stops a process with SIGKILL at once (also cutting short a stop in progress). */
    public Future<JsonObject> kill(String ref) {
        return stop(ref, Duration.ZERO);
    }

    /**
     * Stops the process if it runs (default grace) and starts it again, counting a restart; the
     * policy gets its whole {@code maxRestarts} allowance again.
     * Completes with {@code {"id","name","pid"}}; 409 if an ended process's name was taken since.
     */
    public Future<JsonObject> restart(String ref) {
        return onCtx(() -> {
            ManagedProcess mp = resolve(ref);
            if (closing) {
                throw new OrchException(ErrorCode.SHUTTING_DOWN, "the supervisor is stopping");
            }
            if (!mp.state.isLive()) {
                checkNameFree(mp.name, mp);
            }
            return stopProcess(mp, config.stopGrace().toMillis()).compose(v -> {
                if (!table.containsKey(mp.id) || mp.state.isLive()) {
                    throw new OrchException(ErrorCode.NAME_TAKEN, "Busy", "process " + mp.id + " was changed meanwhile");
                }
                checkNameFree(mp.name, mp);
                finished.remove(mp);
                mp.restarts++;
                mp.failures = 0;
                mp.autoRestarts = 0;
                return launch(mp, "restarted", false).map(x -> summary(mp));
            });
        });
    }

    /** Forgets an ended process (exited, failed, stopped) and returns its id; 409 {@code Busy} if it is live. */
    public Future<String> rm(String ref) {
        return onCtx(() -> {
            ManagedProcess mp = resolve(ref);
            if (mp.state.isLive() || mp.stopping != null) {
                throw new OrchException(ErrorCode.NAME_TAKEN, "Busy", "process " + mp.id + " is " + mp.state.wire() + "; stop it first");
            }
            table.remove(mp.id);
            launching.remove(mp.id);
            finished.remove(mp);
            mp.ring.close();
            return Future.succeededFuture(mp.id);
        });
    }

    /**
     * Stops every process as {@link #stop} does, refuses new ones, and completes when all are
     * gone. Idempotent.
     */
    public Future<Void> close() {
        return onCtx(() -> {
            if (closed == null) {
                closing = true;
                lineageWatch.close();
                List<Future<Void>> all = new ArrayList<>();
                for (ManagedProcess mp : new ArrayList<>(table.values())) {
                    all.add(stopProcess(mp, config.stopGrace().toMillis()));
                }
                closed = Future.join(all).transform(ar -> {
                    for (ManagedProcess mp : table.values()) {
                        mp.ring.close();
                    }
                    return Future.<Void>succeededFuture();
                });
            }
            return closed;
        });
    }

    // ---- lifecycle, all on ctx ----

    private Future<Void> launch(ManagedProcess mp, String kind, boolean initial) {
        int gen = ++mp.generation;
        mp.state = ProcessState.STARTING;
        mp.stopRequested = false;
        mp.escalate = false;
        mp.exitCode = null;
        mp.reason = null;
        mp.pid = -1;
        mp.process = null;
        Map<String, String> env = childEnv(mp);
        Future<Void> f = ctx.executeBlocking(() -> {
            // Relaunches too: a script deleted (or a cwd removed) since the spawn would otherwise
            // start setsid and setpriv, and end as their exit code 127 with setpriv's message in
            // the process's log.
            Launcher.check(mp.spec);
            return Launcher.start(mp.spec, env, false);
        }, false).transform(ar -> {
            if (gen != mp.generation || !table.containsKey(mp.id)) {
                if (ar.succeeded()) {
                    ar.result().destroyForcibly();
                }
                return Future.failedFuture(new OrchException(ErrorCode.NOT_FOUND, "process " + mp.id + " was removed"));
            }
            if (ar.failed()) {
                OrchException e = ar.cause() instanceof OrchException ? (OrchException) ar.cause()
                        : OrchException.badRequest("cannot start " + mp.spec.command().get(0) + ": " + ar.cause().getMessage());
                if (initial) {
                    table.remove(mp.id);
                    launching.remove(mp.id);
                    if (mp.id.equals("p" + (nextId - 1))) {
                        // Never listed, so its id goes to the next process, unless a spawn took
                        // the one after it meanwhile: ids stay in the order processes came.
                        nextId--;
                    }
                } else {
                    mp.state = ProcessState.FAILED;
                    mp.reason = e.detail();
                    publish("failed", mp, new JsonObject().put("reason", mp.reason));
                    // Not for the policy to retry: the command cannot start until someone fixes
                    // it, and then `restart` starts it.
                    noteFinished(mp);
                }
                return Future.failedFuture(e);
            }
            started(mp, ar.result(), gen, kind);
            return Future.succeededFuture();
        });
        launching.put(mp.id, f);
        return f;
    }

    private void started(ManagedProcess mp, Process p, int gen, String kind) {
        mp.process = p;
        mp.pid = p.pid();
        mp.grouped = Launcher.groups();
        ProcStats.Stat st = ProcStats.AVAILABLE ? ProcStats.stat(mp.pid) : null;
        mp.startTicks = st != null ? st.startTicks()
                : p.toHandle().info().startInstant().map(Instant::toEpochMilli).orElse(-1L);
        mp.lineage.started(mp.pid, mp.startTicks, mp.grouped);
        mp.startedAt = Instant.now();
        mp.startedNanos = System.nanoTime();
        mp.state = ProcessState.RUNNING;
        mp.readers = List.of(PipeReader.start(p.getInputStream(), mp.ring, false, "orch-out-" + mp.id),
                PipeReader.start(p.getErrorStream(), mp.ring, true, "orch-err-" + mp.id));
        List<Thread> readers = mp.readers;
        // Published first: for a child that has already exited, the exit's handlers can run
        // within the next line, on this very thread (drained's future completes before it gets
        // its listener, which then runs at once), and the start came after its own end.
        publish(kind, mp, null);
        p.onExit().whenComplete((x, t) -> drained(readers).onComplete(v -> exited(mp, gen)));
        lineageWatch.wake();
    }

    /**
     * Completes on ctx once the pipe readers have captured what the child wrote before it exited
     * (up to a pipe buffer may still be unread at exit), so that an ended process has its whole
     * log; bounded, as a descendant may keep the pipes open.
     */
    private Future<Void> drained(List<Thread> readers) {
        return ctx.executeBlocking(() -> {
            long deadline = System.nanoTime() + DRAIN_MS * 1_000_000L;
            for (Thread r : readers) {
                long left = (deadline - System.nanoTime()) / 1_000_000L;
                if (left > 0) {
                    r.join(left);
                }
            }
            return null;
        }, false);
    }

    private void exited(ManagedProcess mp, int gen) {
        if (gen != mp.generation || mp.state != ProcessState.RUNNING) {
            return;
        }
        int code = mp.process.exitValue();
        mp.exitCode = code;
        long ranMs = (System.nanoTime() - mp.startedNanos) / 1_000_000;
        if (mp.stopRequested) {
            mp.state = ProcessState.STOPPED;
            publish("stopped", mp, null);
            noteFinished(mp);
            return;
        }
        mp.state = code == 0 ? ProcessState.EXITED : ProcessState.FAILED;
        publish(code == 0 ? "exited" : "failed", mp, null);
        endLeftovers(mp).onComplete(v -> afterEnd(mp, ranMs, code));
    }

    /**
     * Stops what the process left running when it exited on its own (a script's background jobs
     * it did not wait for, in its group or escaped from it), as a stop would: SIGTERM, SIGKILL
     * after the grace period. Left alone they would run unwatched (no longer its descendants, so
     * not in ps) and a restart would start a second copy beside them. Any stop or restart
     * meanwhile waits for this, through {@code mp.stopping}.
     */
    private Future<Void> endLeftovers(ManagedProcess mp) {
        if (!ProcStats.AVAILABLE || mp.stopping != null) {
            return Future.succeededFuture();
        }
        return ctx.executeBlocking(() -> Signals.members(mp.target()).size(), false).transform(ar -> {
            if (ar.failed() || ar.result() == 0 || mp.stopping != null) {
                return Future.succeededFuture();
            }
            LOG.infof("process %s (%s) exited leaving %d process%s running: stopping them", mp.id, mp.name,
                    ar.result(), ar.result() == 1 ? "" : "es");
            Future<Void> f = new Terminator(mp, config.stopGrace().toMillis()).run().recover(e -> Future.succeededFuture());
            mp.stopping = f;
            f.onComplete(x -> mp.stopping = null);
            return f;
        });
    }

    /** Restarts after a backoff if the policy says so, else files the process as ended. */
    private void afterEnd(ManagedProcess mp, long ranMs, int code) {
        int max = mp.spec.maxRestarts();
        boolean policyRestarts = mp.spec.restart().restartsAfter(code) && (max < 0 || mp.autoRestarts < max);
        if (closing || mp.stopRequested || !policyRestarts) {
            if (mp.stopRequested && policyRestarts) {
                // A stop came while what the run left behind was being stopped: it cancels the
                // restart that was due, as a stop in backoff does.
                mp.state = ProcessState.STOPPED;
                publish("stopped", mp, null);
            }
            noteFinished(mp);
            return;
        }
        if (config.backoff().isStable(ranMs)) {
            mp.failures = 0;
        }
        long delay = config.backoff().delayMillis(mp.failures++);
        mp.state = ProcessState.BACKOFF;
        mp.nextStartMillis = System.currentTimeMillis() + delay;
        publish("backoff", mp, new JsonObject().put("delayMs", delay));
        int gen = mp.generation;
        mp.backoffTimer = vertx.setTimer(delay, t -> {
            mp.backoffTimer = -1;
            if (mp.state == ProcessState.BACKOFF && mp.generation == gen && !closing && table.containsKey(mp.id)) {
                mp.restarts++;
                mp.autoRestarts++;
                launch(mp, "restarted", false);
            }
        });
    }

    private Future<Void> stopProcess(ManagedProcess mp, long graceMs) {
        switch (mp.state) {
            case STARTING:
                Future<Void> l = launching.get(mp.id);
                return l == null ? Future.succeededFuture() : l.transform(ar -> stopProcess(mp, graceMs));
            case BACKOFF:
                vertx.cancelTimer(mp.backoffTimer);
                mp.backoffTimer = -1;
                mp.stopRequested = true;
                mp.state = ProcessState.STOPPED;
                publish("stopped", mp, null);
                noteFinished(mp);
                return Future.succeededFuture();
            case RUNNING:
                mp.stopRequested = true;
                if (graceMs == 0) {
                    mp.escalate = true;
                }
                if (mp.stopping == null) {
                    Future<Void> f = new Terminator(mp, graceMs).run();
                    mp.stopping = f;
                    f.onComplete(ar -> mp.stopping = null);
                }
                return mp.stopping;
            default:
                if (mp.stopping == null) {
                    return Future.succeededFuture();
                }
                // Ended on its own, and what it left running is being stopped (endLeftovers): the
                // stop also cancels the restart due after that, and a kill skips the rest of the grace.
                mp.stopRequested = true;
                if (graceMs == 0) {
                    mp.escalate = true;
                }
                return mp.stopping;
        }
    }

    /**
     * SIGTERM, then SIGKILL after the grace period, until the leader, its group and its escapees
     * are gone. The tree is looked at again before SIGKILL, for what was forked meanwhile.
     */
    private final class Terminator {
        private final ManagedProcess mp;
        private final long deadline;
        private final Promise<Void> done = Promise.promise();
        private List<Signals.Member> members = List.of();
        private boolean killed;

        Terminator(ManagedProcess mp, long graceMs) {
            this.mp = mp;
            this.deadline = System.nanoTime() + graceMs * 1_000_000L;
        }

        Future<Void> run() {
            killed = mp.escalate;
            String sig = killed ? "KILL" : "TERM";
            ctx.executeBlocking(() -> {
                Signals.Target t = mp.target();
                List<Signals.Member> m = Signals.members(t);
                Signals.send(t, sig, m);
                return m;
            }, false).onComplete(ar -> {
                members = ar.succeeded() ? ar.result() : List.of();
                vertx.setTimer(POLL_MS, t -> poll());
            });
            return done.future();
        }

        private void poll() {
            boolean timeUp = mp.escalate || System.nanoTime() >= deadline;
            boolean sendKill = timeUp && !killed;
            killed |= sendKill;
            List<Signals.Member> known = members;
            ctx.executeBlocking(() -> {
                boolean busy = mp.leaderAlive() || Signals.anyAlive(known);
                List<Signals.Member> now = known;
                if (busy && sendKill) {
                    Signals.Target t = mp.target();
                    now = Signals.union(known, Signals.members(t));
                    Signals.send(t, "KILL", now);
                } else if (!busy) {
                    mp.lineage.forgetGone(); // else an ended process would keep them listed in the GroupReaper
                }
                return busy ? now : null;
            }, false).onComplete(ar -> {
                boolean busy = ar.failed() || ar.result() != null;
                if (ar.succeeded() && ar.result() != null) {
                    members = ar.result();
                }
                // Wait for exited() too, so the stop is recorded before anyone restarts the process.
                if (!busy && mp.state != ProcessState.RUNNING) {
                    done.complete();
                } else if (killed && System.nanoTime() > deadline + 10_000_000_000L) {
                    done.fail(new OrchException(ErrorCode.TIMEOUT, "process " + mp.id + " survived SIGKILL"));
                } else {
                    vertx.setTimer(POLL_MS, t -> poll());
                }
            });
        }
    }

    private List<Lineage> runningLineages() {
        List<Lineage> out = new ArrayList<>();
        for (ManagedProcess mp : table.values()) {
            if (mp.state == ProcessState.RUNNING) {
                out.add(mp.lineage);
            }
        }
        return out;
    }

    private void noteFinished(ManagedProcess mp) {
        finished.remove(mp);
        finished.addLast(mp);
        while (finished.size() > config.historyLimit()) {
            ManagedProcess old = finished.removeFirst();
            if (!old.state.isLive() && old.stopping == null) {
                table.remove(old.id);
                launching.remove(old.id);
                old.ring.close();
            }
        }
    }

    private Map<String, String> childEnv(ManagedProcess mp) {
        Map<String, String> env = new LinkedHashMap<>(config.orchEnv());
        env.put("ORCH_PROCESS_ID", mp.id);
        return env;
    }

    private void publish(String kind, ManagedProcess mp, JsonObject extra) {
        JsonObject ev = new JsonObject().put("event", kind).put("time", Timestamps.millis(Instant.now()))
                .put("id", mp.id).put("name", mp.name).put("pid", mp.pid > 0 ? mp.pid : null)
                .put("state", mp.state.wire()).put("exitCode", mp.exitCode).put("restarts", mp.restarts);
        if (extra != null) {
            ev.mergeIn(extra);
        }
        vertx.eventBus().publish(Addresses.EVENTS, ev);
    }

    private static JsonObject summary(ManagedProcess mp) {
        return new JsonObject().put("id", mp.id).put("name", mp.name).put("pid", mp.pid);
    }

    private void checkNameFree(String name, ManagedProcess self) {
        for (ManagedProcess mp : table.values()) {
            if (mp != self && mp.state.isLive() && mp.name.equals(name)) {
                throw new OrchException(ErrorCode.NAME_TAKEN, "a process named '" + name + "' is " + mp.state.wire());
            }
        }
    }

    /** By id, else the live process with that name, else the latest ended one with that name. */
    private ManagedProcess resolve(String ref) {
        if (ref == null || ref.isEmpty()) {
            throw OrchException.badRequest("missing process id or name");
        }
        ManagedProcess mp = table.get(ref);
        if (mp != null) {
            return mp;
        }
        ManagedProcess latest = null;
        for (ManagedProcess p : table.values()) {
            if (p.name.equals(ref)) {
                if (p.state.isLive()) {
                    return p;
                }
                if (latest == null || p.created > latest.created) {
                    latest = p;
                }
            }
        }
        if (latest == null) {
            throw OrchException.notFound("no process '" + ref + "'");
        }
        return latest;
    }

    private <T> Future<T> onCtx(Supplier<Future<T>> action) {
        Promise<T> p = Promise.promise();
        ctx.runOnContext(v -> {
            try {
                action.get().onComplete(p);
            } catch (RuntimeException e) {
                p.fail(e);
            }
        });
        return p.future();
    }
}
