package dev.orch.process;

import io.vertx.core.Context;
import io.vertx.core.Vertx;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

/**
 * Looks at the running processes' trees now and then, so that an escapee (see {@link Lineage})
 * is remembered while it is still a descendant: if its parent dies before the process is stopped,
 * parentage no longer leads to it. A look is one {@link ProcStats#scan() scan of /proc}, on a
 * worker thread; none is made while no process runs, or when a {@code ps} has just looked. The
 * period grows where a scan is costly (many processes), so that looking takes at most about
 * 0.5% of one CPU.
 *
 * <p>Used by the {@link ProcessSupervisor} for its processes and by the {@link WorkerRunner} for
 * its command. Scheduling ({@link #wake()}, {@link #close()}) happens on the owner's context.
 */
final class LineageWatch {
    /** How often trees are looked at, where a scan is cheap. */
    static final Duration DEFAULT_PERIOD = Duration.ofSeconds(5);
    /** The period is at least this many times what the last scan took. */
    private static final long COST_FACTOR = 200;

    private final Vertx vertx;
    private final Context ctx;
    private final long minPeriodMs;
    private final Supplier<List<Lineage>> running;
    private long periodMs;
    private long timer = -1;
    private boolean closed;
    private volatile long lastLookNanos = System.nanoTime();

    /** @param running the lineages of the running processes, called on {@code ctx} */
    LineageWatch(Vertx vertx, Context ctx, Duration period, Supplier<List<Lineage>> running) {
        this.vertx = vertx;
        this.ctx = ctx;
        this.minPeriodMs = Math.max(1, period.toMillis());
        this.periodMs = minPeriodMs;
        this.running = running;
    }

    /** A process started: looks are scheduled if none is. */
    void wake() {
        if (timer < 0 && !closed && ProcStats.AVAILABLE) {
            timer = vertx.setTimer(periodMs, t -> tick());
        }
    }

    /** No more looks. */
    void close() {
        closed = true;
        if (timer >= 0) {
            vertx.cancelTimer(timer);
            timer = -1;
        }
    }

    /** Gives {@code procs}, a scan just made (for ps), to {@code lineages}. Blocking: any thread. */
    void looked(Map<Long, ProcStats.Stat> procs, List<Lineage> lineages) {
        for (Lineage l : lineages) {
            l.look(procs);
        }
        lastLookNanos = System.nanoTime();
    }

    private void tick() {
        timer = -1;
        List<Lineage> lineages = running.get();
        if (closed || lineages.isEmpty()) {
            return;
        }
        long sinceMs = (System.nanoTime() - lastLookNanos) / 1_000_000L;
        if (sinceMs < periodMs) {
            timer = vertx.setTimer(periodMs - sinceMs, t -> tick());
            return;
        }
        ctx.executeBlocking(() -> {
            long t0 = System.nanoTime();
            looked(ProcStats.scan(), lineages);
            return (System.nanoTime() - t0) / 1_000_000L;
        }, false).onComplete(ar -> {
            if (ar.succeeded()) {
                periodMs = Math.max(minPeriodMs, COST_FACTOR * ar.result());
            }
            wake();
        });
    }
}
