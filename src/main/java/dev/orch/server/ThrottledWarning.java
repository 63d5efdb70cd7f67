package dev.orch.server;

import org.jboss.logging.Logger;

/**
 * A warning that a flood could repeat thousands of times a second (refused logins, connections
 * closed before login): logged at most once per period, with how many times it happened since
 * the last line, so an operator sees an attack without the log becoming one.
 */
final class ThrottledWarning {
    private static final long DEFAULT_PERIOD_NANOS = 10_000_000_000L;

    private final Logger log;
    private final long periodNanos;
    private long count;
    private long lastLogged;

    ThrottledWarning(Logger log) {
        this(log, DEFAULT_PERIOD_NANOS);
    }

    ThrottledWarning(Logger log, long periodNanos) {
        this.log = log;
        this.periodNanos = periodNanos;
        this.lastLogged = System.nanoTime() - periodNanos;
    }

    /**
     * Counts one more; logs {@code format} (its last argument the count since the last line) if
     * the period has passed. Thread-safe: connections on every event loop report here.
     */
    synchronized void occurred(String format, Object... args) {
        count++;
        long now = System.nanoTime();
        if (now - lastLogged >= periodNanos) {
            Object[] withCount = java.util.Arrays.copyOf(args, args.length + 1);
            withCount[args.length] = count;
            log.warnf(format, withCount);
            lastLogged = now;
            count = 0;
        }
    }
}
