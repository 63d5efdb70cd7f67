package dev.orch.objects.sync;

import dev.orch.objects.Args;
import dev.orch.objects.Invocation;
import dev.orch.objects.ObjectContext;
import dev.orch.protocol.OrchException;

/** {@code threading.RLock}, re-entrant per session; only the owning session may release it. */
final class RLockObject extends SyncObject {
    static final String TYPEID = "RLock";

    private final LockCore lock;

    RLockObject(ObjectContext context) {
        super(context);
        this.lock = new LockCore(context);
    }

    @Override
    protected Object call(Invocation call) {
        switch (call.method()) {
            case "acquire":
                return acquire(lock, call);
            case "release":
                Args.bind(call);
                release(lock, call.session(), "cannot release un-acquired lock");
                return null;
            case "__repr__":
                Args.bind(call);
                return repr();
            default:
                throw noSuchMethod(TYPEID, call.method());
        }
    }

    /** A re-entrant acquire on {@code lock}; shared with Condition. */
    static Object acquire(LockCore lock, Invocation call) {
        Acquire a = Acquire.parse(call);
        String session = call.session();
        if (lock.isOwnedBy(session)) {
            lock.reenter();
            return true;
        }
        if (lock.tryTake(session)) {
            return true;
        }
        if (a.immediate()) {
            return false;
        }
        lock.enqueue(new Waiter(call), a.timeoutMillis(), w -> w.call.reply(false));
        return PARKED;
    }

    /** A re-entrant release on {@code lock}; shared with Condition. */
    static void release(LockCore lock, String session, String notOwned) {
        if (!lock.isOwnedBy(session)) {
            throw OrchException.raised("RuntimeError", notOwned);
        }
        lock.releaseOne();
    }

    @Override
    String repr() {
        return lock.repr(TYPEID, true);
    }

    @Override
    public void sessionClosed(String session) {
        lock.sessionClosed(session);
    }

    @Override
    protected boolean cancelParked(String session, String callId) {
        return lock.cancel(session, callId);
    }

    @Override
    protected void failParked(OrchException error) {
        lock.failAll(error);
    }
}
