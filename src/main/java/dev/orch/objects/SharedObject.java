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

    /** The object is being destroyed: fail any pending calls. Called on the object's thread. */
    default void dispose() {
    }
}
