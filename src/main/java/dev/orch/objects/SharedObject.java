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

    /**
     * Whether {@link #undelivered} may take back an answer to {@code method}: a connection keeps
     * track of these answers until they are written, and of no others.
     */
    static boolean mayGiveBack(String method) {
        return method.equals("get") || method.equals("get_nowait");
    }

    /**
     * The session withdraws its call {@code callId} (see {@link Invocation#id}). If that call is
     * parked, it ends as if never made and is answered now with 499 {@code Cancelled}; a wait
     * that must take a lock back first (a Condition's) is answered once it has. False when no
     * such call is parked: it was answered already, or it is not one that waits. Called on the
     * object's thread.
     */
    default boolean cancel(String session, String callId) {
        return false;
    }

    /**
     * Hands {@code sink} every value this object keeps that may hold references to other
     * objects (PROTOCOL.md §5): its state, and values waiting to enter it (a parked put's item).
     * The server counts the references in them after each call on an object that has been sent
     * one, and keeps their referents alive. Called on the object's thread.
     */
    default void forEachStored(java.util.function.Consumer<Object> sink) {
    }

    /** What a call may do to the values {@link #forEachStored} hands out. */
    enum StoredChange {
        /** Stores nothing and drops nothing (reads, reordering). */
        NONE,
        /** Drops nothing; may store (some of) its arguments. */
        GROWS,
        /** Anything. */
        ANY
    }

    /**
     * What a call of {@code method} may do to the stored values: the server counts the
     * references in them again after a call only when it may have dropped one or stored one
     * (a call without references in its arguments that drops nothing stores none), so reads
     * and plain appends stay cheap on a large object that holds references. When unsure, ANY.
     */
    default StoredChange storedChange(String method) {
        return StoredChange.ANY;
    }

    /** The object is being destroyed: fail any pending calls. Called on the object's thread. */
    default void dispose() {
    }
}
