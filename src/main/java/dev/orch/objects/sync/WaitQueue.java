package dev.orch.objects.sync;

import dev.orch.objects.ObjectContext;
import dev.orch.protocol.OrchException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * A FIFO of parked calls with their timeout timers. Waiters whose session is gone or whose call was
 * already answered are "dead": they are skipped and dropped, never served. Removal is O(1) (a
 * linked set), so many waiters timing out stay cheap.
 */
final class WaitQueue {
    /** Timeout meaning "wait forever". */
    static final long FOREVER = -1;

    private final ObjectContext context;
    private final LinkedHashSet<Waiter> waiters = new LinkedHashSet<>();
    /** The waiters a caller may cancel (those with a call id), so a cancel costs no scan. */
    private final Map<CallKey, Waiter> byCall = new HashMap<>();

    private record CallKey(String session, String id) {
    }

    WaitQueue(ObjectContext context) {
        this.context = context;
        context.whenStopping(this::failAll);
    }

    /**
     * Parks a waiter at the tail. After {@code timeoutMillis} (unless {@link #FOREVER}) it is
     * removed and, if still live, handed to {@code onTimeout}.
     */
    void park(Waiter w, long timeoutMillis, Consumer<Waiter> onTimeout) {
        waiters.add(w);
        String id = w.call.id();
        if (id != null) {
            byCall.put(new CallKey(w.session(), id), w);
        }
        if (timeoutMillis != FOREVER) {
            w.timer = context.setTimer(Math.max(1, timeoutMillis), () -> {
                w.timer = Waiter.NO_TIMER;
                if (waiters.remove(w)) {
                    unindex(w);
                    if (isLive(w)) {
                        onTimeout.accept(w);
                    }
                }
            });
        }
    }

    private void unindex(Waiter w) {
        String id = w.call.id();
        if (id != null) {
            byCall.remove(new CallKey(w.session(), id), w);
        }
    }

    /** Parks a waiter with no timeout. */
    void park(Waiter w) {
        park(w, FOREVER, null);
    }

    boolean isLive(Waiter w) {
        return !w.call.isDone() && context.isSessionAlive(w.session());
    }

    /** Removes and returns the first live waiter (its timer cancelled), dropping dead ones; or null. */
    Waiter pollLive() {
        Iterator<Waiter> it = waiters.iterator();
        while (it.hasNext()) {
            Waiter w = it.next();
            it.remove();
            unindex(w);
            cancelTimer(w);
            if (isLive(w)) {
                return w;
            }
            abandon(w);
        }
        return null;
    }

    /** True if a live waiter is parked; drops the dead ones in front of it. */
    /** Every waiter still parked, live or not, in arrival order. */
    void forEach(Consumer<Waiter> action) {
        waiters.forEach(action);
    }

    boolean hasLive() {
        Iterator<Waiter> it = waiters.iterator();
        while (it.hasNext()) {
            Waiter w = it.next();
            if (isLive(w)) {
                return true;
            }
            it.remove();
            unindex(w);
            cancelTimer(w);
            abandon(w);
        }
        return false;
    }

    /** Removes every waiter; returns the live ones in arrival order, timers cancelled. */
    List<Waiter> drainLive() {
        List<Waiter> live = new ArrayList<>(waiters.size());
        for (Waiter w : waiters) {
            cancelTimer(w);
            if (isLive(w)) {
                live.add(w);
            } else {
                abandon(w);
            }
        }
        waiters.clear();
        byCall.clear();
        return live;
    }

    /** Number of live waiters; drops the dead ones. */
    int liveCount() {
        int n = 0;
        Iterator<Waiter> it = waiters.iterator();
        while (it.hasNext()) {
            Waiter w = it.next();
            if (isLive(w)) {
                n++;
            } else {
                it.remove();
                unindex(w);
                cancelTimer(w);
                abandon(w);
            }
        }
        return n;
    }

    /** The live waiter parked for the session's call {@code callId}, or null. */
    Waiter find(String session, String callId) {
        if (callId == null) {
            return null;
        }
        Waiter w = byCall.get(new CallKey(session, callId));
        return w != null && isLive(w) ? w : null;
    }

    /** Removes {@code w} (found with {@link #find}) without answering it; its timer is cancelled. */
    void remove(Waiter w) {
        if (waiters.remove(w)) {
            unindex(w);
            cancelTimer(w);
        }
    }

    /**
     * Withdraws the session's parked call {@code callId}: it leaves the queue and is answered 499
     * {@code Cancelled}. False if no such call is parked here.
     */
    boolean cancel(String session, String callId) {
        Waiter w = find(session, callId);
        if (w == null) {
            return false;
        }
        remove(w);
        w.call.fail(SyncObject.cancelled());
        return true;
    }

    /** Calls indexed for {@link #find}: as many as parked waiters with an id (tests check none leak). */
    int indexedCalls() {
        return byCall.size();
    }

    /** Drops every waiter of a closed session (see {@link #abandon}). */
    void dropSession(String session) {
        Iterator<Waiter> it = waiters.iterator();
        while (it.hasNext()) {
            Waiter w = it.next();
            if (w.session().equals(session)) {
                it.remove();
                unindex(w);
                cancelTimer(w);
                abandon(w);
            }
        }
    }

    /**
     * Ends the call of a waiter dropped because its session closed. Nobody reads the answer, but
     * a call from another event loop waits for one on the event bus, and its reply handler holds
     * the closed connection (its socket and buffers) until answered: with no timeout, for ever.
     */
    private static void abandon(Waiter w) {
        if (!w.call.isDone()) {
            w.call.fail(SyncObject.cancelled());
        }
    }

    /** Fails every live waiter and empties the queue. */
    void failAll(OrchException error) {
        for (Waiter w : drainLive()) {
            w.call.fail(error);
        }
    }

    private void cancelTimer(Waiter w) {
        if (w.timer != Waiter.NO_TIMER) {
            context.cancelTimer(w.timer);
            w.timer = Waiter.NO_TIMER;
        }
    }
}
