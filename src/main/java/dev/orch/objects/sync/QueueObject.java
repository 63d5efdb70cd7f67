package dev.orch.objects.sync;

import dev.orch.objects.Args;
import dev.orch.objects.Invocation;
import dev.orch.objects.ObjectContext;
import dev.orch.objects.SharedObject;
import dev.orch.protocol.OrchException;
import java.util.ArrayDeque;

/**
 * {@code queue.Queue}, with {@code task_done} and {@code join} as Python's has them (SyncManager's
 * {@code Queue} and {@code JoinableQueue} are both {@code queue.Queue}). Parked getters and
 * putters are served in arrival order; an item goes to a parked getter only if its session is
 * still alive, so a vanished caller never consumes one. Invariant between calls: no live getter
 * is parked while items are queued, and no live putter while there is room. {@code join} takes a
 * timeout, unlike Python's, and answers true when every task is done, false if the timeout
 * passed first.
 */
class QueueObject extends SyncObject {
    static final String TYPEID = "Queue";

    private final long maxsize;
    /** Python's None as an item: an {@code ArrayDeque} takes no nulls. */
    private static final Object NONE = new Object();

    private final ArrayDeque<Object> items = new ArrayDeque<>();
    private final WaitQueue getters;
    private final WaitQueue putters;
    private final WaitQueue joiners;
    /** Items put and not yet marked done by {@code task_done}. */
    private long unfinished;

    QueueObject(ObjectContext context, long maxsize) {
        super(context);
        this.maxsize = maxsize;
        this.getters = new WaitQueue(context);
        this.putters = new WaitQueue(context);
        this.joiners = new WaitQueue(context);
    }

    protected String typeid() {
        return TYPEID;
    }

    @Override
    protected Object call(Invocation call) {
        switch (call.method()) {
            case "put": {
                Args a = Args.bind(call, "item", "block", "timeout");
                return put(call, a.get(0), a.getBool(1, true), a.getSeconds(2));
            }
            case "put_nowait":
                return put(call, Args.bind(call, "item").get(0), false, null);
            case "get": {
                Args a = Args.bind(call, "block", "timeout");
                return get(call, a.getBool(0, true), a.getSeconds(1));
            }
            case "get_nowait":
                Args.bind(call);
                return get(call, false, null);
            case "qsize":
                Args.bind(call);
                return (long) items.size();
            case "empty":
                Args.bind(call);
                return items.isEmpty();
            case "full":
                Args.bind(call);
                return isFull();
            case "task_done":
                Args.bind(call);
                taskDone();
                return null;
            case "join":
                return join(call, Args.bind(call, "timeout").getSeconds(0));
            case "__repr__":
                Args.bind(call);
                return repr();
            default:
                throw noSuchMethod(typeid(), call.method());
        }
    }

    private boolean isFull() {
        return maxsize > 0 && items.size() >= maxsize;
    }

    /** Python's rules: block=False ignores the timeout; None waits forever; negative is an error. */
    private static long waitMillis(boolean block, Double timeout) {
        if (!block) {
            return 0;
        }
        if (timeout == null) {
            return WaitQueue.FOREVER;
        }
        if (timeout < 0) {
            throw OrchException.raised("ValueError", "'timeout' must be a non-negative number");
        }
        return Timeouts.millis(timeout);
    }

    private Object put(Invocation call, Object item, boolean block, Double timeout) {
        // Python checks the timeout only for a bounded queue: an unbounded put never waits.
        long millis = maxsize > 0 ? waitMillis(block, timeout) : 0;
        if (!isFull() && !putters.hasLive()) {
            enqueue(item);
            settle();
            return null;
        }
        if (millis == 0) {
            throw OrchException.raised("Full", "");
        }
        Waiter w = new Waiter(call);
        w.item = item;
        putters.park(w, millis, t -> t.call.fail(OrchException.raised("Full", "")));
        return PARKED;
    }

    private Object get(Invocation call, boolean block, Double timeout) {
        long millis = waitMillis(block, timeout);
        if (!items.isEmpty() && !getters.hasLive()) {
            Object item = take();
            settle();
            return item;
        }
        if (millis == 0) {
            throw OrchException.raised("Empty", "");
        }
        getters.park(new Waiter(call), millis, t -> t.call.fail(OrchException.raised("Empty", "")));
        return PARKED;
    }

    /** Adds an item to the queue, one more unfinished task. */
    private void enqueue(Object item) {
        items.add(item == null ? NONE : item);
        unfinished++;
    }

    private Object take() {
        Object item = items.poll();
        return item == NONE ? null : item;
    }

    private void taskDone() {
        if (unfinished <= 0) {
            throw OrchException.raised("ValueError", "task_done() called too many times");
        }
        if (--unfinished == 0) {
            for (Waiter w : joiners.drainLive()) {
                w.call.reply(true);
            }
        }
    }

    private Object join(Invocation call, Double timeout) {
        if (timeout != null && timeout < 0) {
            throw OrchException.raised("ValueError", "'timeout' must be a non-negative number");
        }
        if (unfinished == 0) {
            return true;
        }
        long millis = timeout == null ? WaitQueue.FOREVER : Timeouts.millis(timeout);
        if (millis == 0) {
            return false;
        }
        joiners.park(new Waiter(call), millis, w -> w.call.reply(false));
        return PARKED;
    }

    /** Moves items to parked getters and parked putters' items into free room until neither can. */
    private void settle() {
        while (true) {
            if (!items.isEmpty()) {
                Waiter g = getters.pollLive();
                if (g != null) {
                    g.call.reply(take());
                    continue;
                }
            }
            if (!isFull()) {
                Waiter p = putters.pollLive();
                if (p != null) {
                    enqueue(p.item);
                    p.call.reply(null);
                    continue;
                }
            }
            return;
        }
    }

    /** Sizes only: the items may be many and large. An unbounded queue shows {@code maxsize=0}. */
    @Override
    String repr() {
        return "<" + typeid() + " object: qsize=" + items.size() + " maxsize=" + Math.max(0, maxsize) + ">";
    }

    @Override
    public void undelivered(String method, Object result) {
        if (SharedObject.mayGiveBack(method)) {
            // Back at the head, as if never taken; the unfinished-task count was never decremented.
            items.addFirst(result == null ? NONE : result);
            settle();
        }
    }

    private static final java.util.Set<String> READS = java.util.Set.of(
            "qsize", "empty", "full", "task_done", "join", "__repr__", "__str__");

    @Override
    public StoredChange storedChange(String method) {
        // A put hands its item to a getter or stores it: it drops nothing.
        return READS.contains(method) ? StoredChange.NONE
                : method.equals("put") || method.equals("put_nowait") ? StoredChange.GROWS : StoredChange.ANY;
    }

    @Override
    public void forEachStored(java.util.function.Consumer<Object> sink) {
        items.forEach(sink);
        putters.forEach(w -> sink.accept(w.item));
    }

    @Override
    public void sessionClosed(String session) {
        getters.dropSession(session);
        putters.dropSession(session);
        joiners.dropSession(session);
    }

    @Override
    protected boolean cancelParked(String session, String callId) {
        return getters.cancel(session, callId) || putters.cancel(session, callId) || joiners.cancel(session, callId);
    }

    @Override
    protected void failParked(OrchException error) {
        getters.failAll(error);
        putters.failAll(error);
        joiners.failAll(error);
    }
}
