package dev.orch.objects;

/**
 * One shared object owned by the server. Every method of an instance runs on the same event-loop
 * thread (its {@link ObjectContext}), one at a time, so implementations need no locking; they must
 * never block that thread. A call that has to wait keeps its {@link Invocation} and answers later.
 */
public interface SharedObject {
    /** Handles one call; must answer it now or later with {@code reply} or {@code fail}. */
    void invoke(Invocation call);

    /**
     * The session has disconnected: release what it owns (locks, permits) and drop its pending
     * calls. Called on the object's thread.
     */
    default void sessionClosed(String session) {
    }

    /**
     * The answer to {@code method} could not be delivered: its caller disconnected while the
     * answer was on its way. Give back what the call took (a queue puts the item back first in
     * line), so nothing is lost. Called on the object's thread.
     */
    default void undelivered(String method, Object result) {
    }

    /** The object is being destroyed: fail any pending calls. Called on the object's thread. */
    default void dispose() {
    }
}
