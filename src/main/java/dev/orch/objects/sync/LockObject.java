package dev.orch.objects.sync;

import dev.orch.objects.Args;
import dev.orch.objects.Invocation;
import dev.orch.objects.ObjectContext;
import dev.orch.protocol.OrchException;

/**
 * {@code threading.Lock}: not re-entrant (a second acquire by the holder waits, as in Python), and
 * any session may release it. The holding session is remembered only so a disconnect frees it.
 */
final class LockObject extends SyncObject {
    static final String TYPEID = "Lock";

    private final LockCore lock;

    LockObject(ObjectContext context) {
        super(context);
        this.lock = new LockCore(context);
    }

    @Override
    protected Object call(Invocation call) {
        switch (call.method()) {
            case "acquire":
                return acquire(call);
            case "release":
                Args.bind(call);
                if (lock.owner() == null) {
                    throw OrchException.raised("RuntimeError", "release unlocked lock");
                }
                lock.releaseAll();
                return null;
            case "__repr__":
                Args.bind(call);
                return repr();
            default:
                throw noSuchMethod(TYPEID, call.method());
        }
    }

    private Object acquire(Invocation call) {
        Acquire a = Acquire.parse(call);
        if (lock.tryTake(call.session())) {
            return true;
        }
        if (a.immediate()) {
            return false;
        }
        lock.enqueue(new Waiter(call), a.timeoutMillis(), w -> w.call.reply(false));
        return PARKED;
    }

    @Override
    String repr() {
        return lock.repr(TYPEID, false);
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
