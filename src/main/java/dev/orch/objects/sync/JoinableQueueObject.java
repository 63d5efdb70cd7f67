package dev.orch.objects.sync;

import dev.orch.objects.Args;
import dev.orch.objects.Invocation;
import dev.orch.objects.ObjectContext;
import dev.orch.protocol.OrchException;

/**
 * {@code queue.Queue} with {@code task_done} and {@code join}. Unlike Python, {@code join} takes a
 * timeout and answers true when every task is done, false if the timeout passed first.
 */
final class JoinableQueueObject extends QueueObject {
    static final String TYPEID = "JoinableQueue";

    private final WaitQueue joiners;
    private long unfinished;

    JoinableQueueObject(ObjectContext context, long maxsize) {
        super(context, maxsize);
        this.joiners = new WaitQueue(context);
    }

    @Override
    protected String typeid() {
        return TYPEID;
    }

    @Override
    protected Object call(Invocation call) {
        switch (call.method()) {
            case "task_done":
                Args.bind(call);
                taskDone();
                return null;
            case "join":
                return join(call, Args.bind(call, "timeout").getSeconds(0));
            default:
                return super.call(call);
        }
    }

    @Override
    protected void enqueue(Object item) {
        super.enqueue(item);
        unfinished++;
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

    @Override
    public void sessionClosed(String session) {
        super.sessionClosed(session);
        joiners.dropSession(session);
    }

    @Override
    protected boolean cancelParked(String session, String callId) {
        return super.cancelParked(session, callId) || joiners.cancel(session, callId);
    }

    @Override
    protected void failParked(OrchException error) {
        super.failParked(error);
        joiners.failAll(error);
    }
}
