package dev.orch.process;

import java.time.Duration;

/**
 * Exponential restart delay: {@code base}, doubling per consecutive failure up to {@code cap}.
 * A run that lasted at least {@code stable} resets the sequence, so a process that crashes once a
 * day restarts after {@code base}, while a crash loop settles at one start per {@code cap}.
 */
public final class Backoff {
    /** The production policy: 1 s doubling to 60 s, reset after 60 s of stable running. */
    public static final Backoff DEFAULT = new Backoff(Duration.ofSeconds(1), Duration.ofSeconds(60), Duration.ofSeconds(60));

    private final long baseMs;
    private final long capMs;
    private final long stableMs;

    public Backoff(Duration base, Duration cap, Duration stable) {
        if (base.isNegative() || base.isZero() || cap.compareTo(base) < 0 || stable.isNegative()) {
            throw new IllegalArgumentException("need 0 < base <= cap and stable >= 0");
        }
        this.baseMs = base.toMillis();
        this.capMs = cap.toMillis();
        this.stableMs = stable.toMillis();
    }

    /** Delay before the restart that follows {@code failures} consecutive quick exits (0 = the first). */
    public long delayMillis(int failures) {
        long d = baseMs;
        for (int i = 0; i < failures && d < capMs; i++) {
            d *= 2;
        }
        return Math.min(d, capMs);
    }

    /** Whether a run of {@code ranMillis} was long enough to forget earlier failures. */
    public boolean isStable(long ranMillis) {
        return ranMillis >= stableMs;
    }

    public long baseMillis() {
        return baseMs;
    }

    public long capMillis() {
        return capMs;
    }

    public long stableMillis() {
        return stableMs;
    }
}
