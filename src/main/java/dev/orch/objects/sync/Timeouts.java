package dev.orch.objects.sync;

import dev.orch.protocol.OrchException;

/** Converts Python timeouts (seconds, as floats) to timer delays. */
final class Timeouts {
    /** Beyond this a timeout is as good as forever (and would overflow a timer). */
    private static final double MAX_MILLIS = 1e15;

    private Timeouts() {
    }

    /**
     * Milliseconds for a non-negative timeout in seconds, rounded up so a waiter never gives up
     * early; {@link WaitQueue#FOREVER} for absurdly large ones.
     */
    static long millis(double seconds) {
        if (Double.isNaN(seconds)) {
            throw OrchException.raised("ValueError", "Invalid value NaN (not a number)");
        }
        double ms = Math.ceil(seconds * 1000.0);
        if (ms >= MAX_MILLIS) {
            return WaitQueue.FOREVER;
        }
        return Math.max(0, (long) ms);
    }
}
