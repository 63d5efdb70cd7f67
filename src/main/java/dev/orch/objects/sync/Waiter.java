package dev.orch.objects.sync;

import dev.orch.objects.Invocation;
import dev.orch.protocol.OrchException;

/**
 * A parked call. Besides the call it carries what the type needs to finish it later: the item a
 * {@code put} will enqueue, or the recursion depth and answer a lock grant restores.
 */
final class Waiter {
    static final long NO_TIMER = -1;

    final Invocation call;
    /** The item of a parked {@code put}. */
    Object item;
    /** The recursion depth to restore when a lock is granted to this waiter. */
    long depth = 1;
    /** The answer sent when a lock is granted to this waiter. */
    Object result = Boolean.TRUE;
    /** If set, the failure sent instead of {@link #result} when the lock is granted (a cancelled Condition wait). */
    OrchException failure;
    long timer = NO_TIMER;

    Waiter(Invocation call) {
        this.call = call;
    }

    String session() {
        return call.session();
    }
}
