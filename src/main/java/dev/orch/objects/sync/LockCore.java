package dev.orch.objects.sync;

import dev.orch.objects.Json;
import dev.orch.objects.ObjectContext;
import dev.orch.protocol.OrchException;
import java.util.function.Consumer;

/**
 * The state shared by Lock, RLock and Condition: an owning session, a recursion depth and a FIFO
 * of waiting acquirers. Whoever releases hands the lock straight to the first live waiter, so a
 * newcomer can never overtake a parked call.
 */
final class LockCore {
    private final WaitQueue waiters;
    private String owner;
    private long depth;

    LockCore(ObjectContext context) {
        this.waiters = new WaitQueue(context);
    }

    /** The owning session, or null when free. */
    String owner() {
        return owner;
    }

    long depth() {
        return depth;
    }

    /**
     * Python's lock repr without the address: {@code <locked Lock object>}, or for a re-entrant
     * lock {@code <locked RLock object owner='SESSION' count=2>} ({@code owner=None count=0} when free).
     */
    String repr(String kind, boolean reentrant) {
        String state = owner == null ? "<unlocked " : "<locked ";
        if (!reentrant) {
            return state + kind + " object>";
        }
        return state + kind + " object owner=" + Json.repr(owner) + " count=" + depth + ">";
    }

    boolean isOwnedBy(String session) {
        return session.equals(owner);
    }

    /** Takes the lock now if it is free and nobody is queued for it. */
    boolean tryTake(String session) {
        if (owner == null && !waiters.hasLive()) {
            owner = session;
            depth = 1;
            return true;
        }
        return false;
    }

    /** One more level for the current owner. */
    void reenter() {
        depth++;
    }

    /**
     * Queues an acquirer. When it reaches the head of the queue and the lock is free it becomes the
     * owner with {@code w.depth} and is answered {@code w.result}.
     */
    void enqueue(Waiter w, long timeoutMillis, Consumer<Waiter> onTimeout) {
        waiters.park(w, timeoutMillis, onTimeout);
    }

    /** Grants {@code w} at once if that is fair, otherwise queues it with no timeout. */
    void acquireOrEnqueue(Waiter w) {
        if (owner == null && !waiters.hasLive()) {
            grant(w);
        } else {
            waiters.park(w);
        }
    }

    /** Drops one level; at zero the lock passes to the next waiter. */
    void releaseOne() {
        if (--depth <= 0) {
            releaseAll();
        }
    }

    /** Frees the lock whatever its depth and hands it on. */
    void releaseAll() {
        owner = null;
        depth = 0;
        Waiter next = waiters.pollLive();
        if (next != null) {
            grant(next);
        }
    }

    private void grant(Waiter w) {
        owner = w.session();
        depth = w.depth;
        if (w.failure != null) {
            w.call.fail(w.failure);
        } else {
            w.call.reply(w.result);
        }
    }

    /**
     * Withdraws the session's queued {@code acquire} {@code callId}. A Condition wait queued to
     * take the lock back is not withdrawn: it returns holding the lock, as Python's does.
     */
    boolean cancel(String session, String callId) {
        Waiter w = waiters.find(session, callId);
        if (w == null || !"acquire".equals(w.call.method())) {
            return false;
        }
        waiters.remove(w);
        w.call.fail(SyncObject.cancelled());
        return true;
    }

    /** Drops the session's queued acquires and frees the lock if it held it. */
    void sessionClosed(String session) {
        waiters.dropSession(session);
        if (session.equals(owner)) {
            releaseAll();
        }
    }

    void failAll(OrchException error) {
        waiters.failAll(error);
    }
}
