package dev.orch.cli.common;

import java.time.Duration;

/**
 * Options given in seconds. A plain {@code < 0} test lets NaN through (every comparison with it is
 * false), and NaN then becomes 0 ms: a heartbeat of 0 marks every worker lost at once, a timeout of
 * 0 waits forever. So the check is written to reject NaN, and the conversion to reject what would
 * overflow the millisecond and nanosecond arithmetic downstream.
 */
public final class Seconds {
    /** One year: longer than any sensible interval, and far from overflowing nanoseconds times 3. */
    static final double MAX = 365 * 24 * 3600;

    private Seconds() {
    }

    /**
     * {@code seconds} as a Duration; a usage error unless it is a number from {@code min} to a
     * year, and 0 or at least a millisecond.
     */
    public static Duration of(String option, double seconds, double min) {
        if (Double.isNaN(seconds) || Double.isInfinite(seconds)) {
            throw CliException.usage(option + " must be a number of seconds, not " + seconds);
        }
        if (seconds < min) {
            throw CliException.usage(option + (min == 0 ? " must not be negative" : " must be at least " + min + " seconds"));
        }
        if (seconds > MAX) {
            throw CliException.usage(option + " must be at most " + (long) MAX + " seconds (a year)");
        }
        if (seconds > 0 && seconds < 0.001) {
            // It would round to 0 ms, which for --timeout means the opposite: wait forever.
            throw CliException.usage(option + " must be 0 or at least 0.001 seconds (a millisecond)");
        }
        return Duration.ofMillis(Math.round(seconds * 1000));
    }
}
