package dev.orch.objects.sync;

import dev.orch.objects.Args;
import dev.orch.objects.Invocation;
import dev.orch.objects.ObjectContext;
import dev.orch.protocol.OrchException;
import java.util.List;

/**
 * {@code threading.Barrier} without an action. The party that completes the barrier answers every
 * parked party at once with its arrival index (0 for the first, {@code parties - 1} for the last,
 * as CPython). A timeout, {@code abort} or {@code reset} fails the parked parties with
 * {@code BrokenBarrierError}. A party whose session closes leaves the barrier: it no longer counts.
 */
final class BarrierObject extends SyncObject {
    static final String TYPEID = "Barrier";

    private final long parties;
    private final Double defaultTimeout;
    private final WaitQueue waiting;
    private boolean broken;

    BarrierObject(ObjectContext context, long parties, Double timeout) {
        super(context);
        if (parties < 1) {
            throw OrchException.raised("ValueError", "parties must be >= 1");
        }
        if (timeout != null && Double.isNaN(timeout)) {
            throw OrchException.raised("ValueError", "Invalid value NaN (not a number)");
        }
        this.parties = parties;
        this.defaultTimeout = timeout;
        this.waiting = new WaitQueue(context);
    }

    @Override
    protected Object call(Invocation call) {
        switch (call.method()) {
            case "wait":
                return await(call, Args.bind(call, "timeout").getSeconds(0));
            case "reset":
                Args.bind(call);
                // Parked parties see a broken barrier (Python: they raise), new ones start afresh.
                waiting.failAll(brokenError());
                broken = false;
                return null;
            case "abort":
                Args.bind(call);
                breakBarrier();
                return null;
            case "parties":
                Args.bind(call);
                return parties;
            case "n_waiting":
                Args.bind(call);
                return broken ? 0L : (long) waiting.liveCount();
            case "broken":
                Args.bind(call);
                return broken;
            case "__repr__":
                Args.bind(call);
                return repr();
            default:
                throw noSuchMethod(TYPEID, call.method());
        }
    }

    private Object await(Invocation call, Double timeout) {
        if (timeout == null) {
            timeout = defaultTimeout;
        }
        if (broken) {
            throw brokenError();
        }
        if (waiting.liveCount() + 1 >= parties) {
            List<Waiter> arrived = waiting.drainLive();
            for (int i = 0; i < arrived.size(); i++) {
                arrived.get(i).call.reply((long) i);
            }
            return (long) arrived.size();
        }
        // Python's wait_for with a timeout <= 0 gives up at once, breaking the barrier.
        long millis = timeout == null ? WaitQueue.FOREVER : Timeouts.millis(Math.max(0, timeout));
        if (millis == 0) {
            breakBarrier();
            throw brokenError();
        }
        waiting.park(new Waiter(call), millis, w -> {
            breakBarrier();
            w.call.fail(brokenError());
        });
        return PARKED;
    }

    private void breakBarrier() {
        broken = true;
        waiting.failAll(brokenError());
    }

    private static OrchException brokenError() {
        return OrchException.raised("BrokenBarrierError", "");
    }

    @Override
    String repr() {
        return broken ? "<Barrier: broken>" : "<Barrier: waiters=" + waiting.liveCount() + "/" + parties + ">";
    }

    @Override
    public void sessionClosed(String session) {
        waiting.dropSession(session);
    }

    @Override
    protected boolean cancelParked(String session, String callId) {
        // The party leaves, as one whose session closed: the barrier is not broken.
        return waiting.cancel(session, callId);
    }

    @Override
    protected void failParked(OrchException error) {
        waiting.failAll(error);
    }
}
