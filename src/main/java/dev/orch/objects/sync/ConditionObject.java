package dev.orch.objects.sync;

import dev.orch.objects.Args;
import dev.orch.objects.Invocation;
import dev.orch.objects.ObjectContext;
import dev.orch.protocol.OrchException;

/**
 * {@code threading.Condition} over its own RLock. {@code wait} frees the lock fully and parks; once
 * notified (or timed out) the waiter queues for the lock again and is answered only when it holds
 * the lock back at its former recursion depth.
 */
final class ConditionObject extends SyncObject {
    static final String TYPEID = "Condition";

    private final LockCore lock;
    private final WaitQueue waiting;

    ConditionObject(ObjectContext context) {
        super(context);
        this.lock = new LockCore(context);
        this.waiting = new WaitQueue(context);
    }

    @Override
    protected Object call(Invocation call) {
        switch (call.method()) {
            case "acquire":
                return RLockObject.acquire(lock, call);
            case "release":
                Args.bind(call);
                RLockObject.release(lock, call.session(), "cannot release un-acquired lock");
                return null;
            case "wait":
                return await(call);
            case "notify":
                notify(call, Args.bind(call, "n").getLong(0, 1));
                return null;
            case "notify_all":
                Args.bind(call);
                notify(call, Long.MAX_VALUE);
                return null;
            case "__repr__":
                Args.bind(call);
                return repr();
            default:
                throw noSuchMethod(TYPEID, call.method());
        }
    }

    private Object await(Invocation call) {
        Double timeout = Args.bind(call, "timeout").getSeconds(0);
        if (!lock.isOwnedBy(call.session())) {
            throw OrchException.raised("RuntimeError", "cannot wait on un-acquired lock");
        }
        long millis = timeout == null ? WaitQueue.FOREVER : Timeouts.millis(Math.max(0, timeout));
        Waiter w = new Waiter(call);
        w.depth = lock.depth();
        lock.releaseAll();
        if (millis == 0) {
            // Python still releases and re-acquires the lock before reporting the timeout.
            w.result = false;
            lock.acquireOrEnqueue(w);
        } else {
            waiting.park(w, millis, this::timedOut);
        }
        return PARKED;
    }

    private void timedOut(Waiter w) {
        w.result = false;
        lock.acquireOrEnqueue(w);
    }

    private void notify(Invocation call, long n) {
        if (!lock.isOwnedBy(call.session())) {
            throw OrchException.raised("RuntimeError", "cannot notify on un-acquired lock");
        }
        for (long i = 0; i < n; i++) {
            Waiter w = waiting.pollLive();
            if (w == null) {
                break;
            }
            w.result = true;
            // The notifier holds the lock, so this only queues the waiter behind other acquirers.
            lock.acquireOrEnqueue(w);
        }
    }

    /** Python's {@code <Condition(LOCK, WAITERS)>}: waiters parked in {@code wait}, not yet notified. */
    @Override
    String repr() {
        return "<Condition(" + lock.repr(RLockObject.TYPEID, true) + ", " + waiting.liveCount() + ")>";
    }

    @Override
    public void sessionClosed(String session) {
        waiting.dropSession(session);
        lock.sessionClosed(session);
    }

    @Override
    protected boolean cancelParked(String session, String callId) {
        Waiter w = waiting.find(session, callId);
        if (w == null) {
            return lock.cancel(session, callId);
        }
        // Python's wait returns holding the lock whatever ends it, so the cancelled wait takes
        // the lock back first and is answered Cancelled once it holds it.
        waiting.remove(w);
        w.failure = cancelled();
        lock.acquireOrEnqueue(w);
        return true;
    }

    @Override
    protected void failParked(OrchException error) {
        waiting.failAll(error);
        lock.failAll(error);
    }
}
