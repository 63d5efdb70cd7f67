package dev.orch.bench;

import java.time.Duration;

/** How much to run: calls per client, clients, pipeline depth, warm-up and the per-call timeout. */
public final class BenchSettings {
    public int calls = 20000;
    public int clients = 1;
    public int pipeline = 64;
    /** Warm-up calls per client before timing (CPython's bench uses min(200, calls)). */
    public int warmup = 200;
    /**
     * After the warm-up calls, keep calling until the JIT has finished no compilation for half a
     * second, for at most this long (zero: the warm-up calls only).
     */
    public Duration settle = Duration.ZERO;
    /** Connections opened by the {@code connections} scenario. */
    public int connections = 1000;
    /** Run each client as a separate OS process. */
    public boolean processes;
    /** Longest wait for one call (or one window of calls). */
    public Duration timeout = Duration.ofSeconds(30);
    /** The server's pid, to read its RSS; 0 when unknown. */
    public long serverPid;
    /**
     * Chain each call from the previous reply's callback (on the client's event loop) instead of
     * blocking a caller thread: isolates the cost of the client's two thread hand-offs per call.
     */
    public boolean chained;

    public long warmupFor(long calls) {
        return Math.min(warmup, calls);
    }
}
