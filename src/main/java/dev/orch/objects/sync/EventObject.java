package dev.orch.objects.sync;

import dev.orch.objects.Args;
import dev.orch.objects.Invocation;
import dev.orch.objects.ObjectContext;
import dev.orch.protocol.OrchException;

/** {@code threading.Event}: {@code set} answers every parked {@code wait} in one pass. */
final class EventObject extends SyncObject {
    static final String TYPEID = "Event";

    private final WaitQueue waiters;
    private boolean flag;

    EventObject(ObjectContext context) {
        super(context);
        this.waiters = new WaitQueue(context);
    }

    @Override
    protected Object call(Invocation call) {
        switch (call.method()) {
            case "set":
                Args.bind(call);
                flag = true;
                for (Waiter w : waiters.drainLive()) {
                    w.call.reply(true);
                }
                return null;
            case "clear":
                Args.bind(call);
                flag = false;
                return null;
            case "is_set":
                Args.bind(call);
                return flag;
            case "wait":
                return await(call);
            case "__repr__":
                Args.bind(call);
                return repr();
            default:
                throw noSuchMethod(TYPEID, call.method());
        }
    }

    private Object await(Invocation call) {
        Double timeout = Args.bind(call, "timeout").getSeconds(0);
        if (flag) {
            return true;
        }
        long millis = timeout == null ? WaitQueue.FOREVER : Timeouts.millis(Math.max(0, timeout));
        if (millis == 0) {
            return false;
        }
        // On timeout the flag is false: a set in the meantime would have answered the waiter.
        waiters.park(new Waiter(call), millis, w -> w.call.reply(false));
        return PARKED;
    }

    @Override
    String repr() {
        return "<Event: " + (flag ? "set" : "unset") + ">";
    }

    @Override
    public void sessionClosed(String session) {
        waiters.dropSession(session);
    }

    @Override
    protected boolean cancelParked(String session, String callId) {
        return waiters.cancel(session, callId);
    }

    @Override
    protected void failParked(OrchException error) {
        waiters.failAll(error);
    }
}
