package dev.orch.process;

import dev.orch.protocol.Timestamps;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * One entry of the supervisor's table: the spec, the current run and its history. Mutated only
 * on the supervisor's context; the pipe readers touch only {@link #ring}.
 */
final class ManagedProcess {
    final String id;
    final ProcessSpec spec;
    final String name;
    final LogRing ring;
    final long created;
    /** What the process started, escapees included; kept across runs. */
    final Lineage lineage = new Lineage();

    ProcessState state = ProcessState.STARTING;
    /** Bumped per launch, so events of an earlier run are recognised and ignored. */
    int generation;
    Process process;
    long pid = -1;
    /** With {@link #pid}, the run's identity: /proc start ticks, or start epoch ms without /proc. */
    long startTicks = -1;
    boolean grouped;
    Instant startedAt;
    long startedNanos;
    Integer exitCode;
    /** Why the last relaunch could not start (state failed, exitCode null); null otherwise. */
    String reason;
    int restarts;
    /** Restarts made by the policy since the last requested start: what maxRestarts bounds. */
    int autoRestarts;
    /** Consecutive quick exits, the backoff exponent. */
    int failures;
    boolean stopRequested;
    long backoffTimer = -1;
    long nextStartMillis;
    /** The stop in progress, if any. */
    Future<Void> stopping;
    /** Set by kill to make a stop in progress skip the rest of its grace period. */
    boolean escalate;
    List<Thread> readers = new ArrayList<>();

    ManagedProcess(String id, ProcessSpec spec, long logCapacity, long created) {
        this.id = id;
        this.spec = spec;
        this.name = spec.name() != null ? spec.name() : id;
        this.ring = new LogRing(logCapacity);
        this.created = created;
    }

    /** The current run, to signal. */
    Signals.Target target() {
        return new Signals.Target(pid, process, grouped, lineage);
    }

    boolean leaderAlive() {
        return process != null && process.isAlive();
    }

    /** The ps fields known without reading /proc. */
    JsonObject baseJson() {
        JsonObject j = new JsonObject().put("id", id).put("name", name).put("node", ProcessSpec.LOCAL)
                .put("pid", pid > 0 ? pid : null).put("state", state.wire()).put("restarts", restarts)
                .put("exitCode", exitCode).put("startedAt", Timestamps.millis(startedAt))
                .put("command", new JsonArray(new ArrayList<>(spec.command())))
                .put("restart", spec.restart().wire());
        if (reason != null) {
            j.put("reason", reason);
        }
        return j;
    }
}
