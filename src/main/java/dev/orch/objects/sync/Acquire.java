package dev.orch.objects.sync;

import dev.orch.objects.Args;
import dev.orch.objects.Invocation;
import dev.orch.protocol.OrchException;

/**
 * The arguments of {@code Lock.acquire(blocking=True, timeout=-1)}, checked as CPython does.
 * {@code timeout=None} is accepted as "forever".
 */
record Acquire(boolean blocking, long timeoutMillis) {

    /** True when a busy lock should answer false at once rather than park. */
    boolean immediate() {
        return !blocking || timeoutMillis == 0;
    }

    static Acquire parse(Invocation call) {
        Args a = Args.bind(call, "blocking", "timeout");
        boolean blocking = a.getBool(0, true);
        Double timeout = a.getSeconds(1);
        double t = timeout == null ? -1 : timeout;
        if (Double.isNaN(t)) {
            throw OrchException.raised("ValueError", "Invalid value NaN (not a number)");
        }
        if (!blocking && t != -1) {
            throw OrchException.raised("ValueError", "can't specify a timeout for a non-blocking call");
        }
        if (t < 0 && t != -1) {
            throw OrchException.raised("ValueError", "timeout value must be a non-negative number");
        }
        return new Acquire(blocking, t == -1 ? WaitQueue.FOREVER : Timeouts.millis(t));
    }
}
