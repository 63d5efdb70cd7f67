package dev.orch.objects.sync;

import dev.orch.objects.Args;
import dev.orch.objects.Invocation;
import dev.orch.objects.ObjectContext;
import dev.orch.protocol.OrchException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code threading.Semaphore}. Each session's holding (permits it acquired and nobody has given
 * back) is counted so a disconnect can give it back. A release beyond the releaser's own holding
 * is allowed, as in Python, where any release gives back any permit: the excess reduces the other
 * sessions' holdings, oldest holder first, so a disconnect never returns a permit twice (nor lets
 * a {@code BoundedSemaphore} admit more holders than its value).
 */
class SemaphoreObject extends SyncObject {
    static final String TYPEID = "Semaphore";

    private final WaitQueue waiters;
    /** Holdings by session, in the order sessions first came to hold (oldest first). */
    private final Map<String, Long> held = new LinkedHashMap<>();
    protected final long initial;
    protected long value;

    SemaphoreObject(ObjectContext context, long value) {
        super(context);
        if (value < 0) {
            throw OrchException.raised("ValueError", "semaphore initial value must be >= 0");
        }
        this.waiters = new WaitQueue(context);
        this.initial = value;
        this.value = value;
    }

    protected String typeid() {
        return TYPEID;
    }

    @Override
    protected Object call(Invocation call) {
        switch (call.method()) {
            case "acquire":
                return acquire(call);
            case "release":
                release(call.session(), Args.bind(call, "n").getLong(0, 1));
                return null;
            case "__repr__":
                Args.bind(call);
                return repr();
            default:
                throw noSuchMethod(typeid(), call.method());
        }
    }

    private Object acquire(Invocation call) {
        Args a = Args.bind(call, "blocking", "timeout");
        boolean blocking = a.getBool(0, true);
        Double timeout = a.getSeconds(1);
        if (!blocking && timeout != null) {
            throw OrchException.raised("ValueError", "can't specify timeout for non-blocking acquire");
        }
        if (value > 0 && !waiters.hasLive()) {
            take(call.session());
            return true;
        }
        // A negative timeout gives up at once in Python (no ValueError), like timeout 0.
        long millis = timeout == null ? WaitQueue.FOREVER : Timeouts.millis(Math.max(0, timeout));
        if (!blocking || millis == 0) {
            return false;
        }
        waiters.park(new Waiter(call), millis, w -> w.call.reply(false));
        return PARKED;
    }

    private void take(String session) {
        value--;
        held.merge(session, 1L, Long::sum);
    }

    /** Checks a release of {@code n} permits before anything changes. */
    protected void checkRelease(long n) {
        if (n < 1) {
            throw OrchException.raised("ValueError", "n must be one or more");
        }
        if (n > Long.MAX_VALUE - value) {
            throw OrchException.raised("OverflowError", "the semaphore's value would exceed 2**63-1");
        }
    }

    private void release(String session, long n) {
        checkRelease(n);
        long excess = n - debit(session, n);
        if (excess > 0) {
            // In Python any release gives back any permit: the rest comes off other holders, oldest first.
            for (String holder : List.copyOf(held.keySet())) {
                excess -= debit(holder, excess);
                if (excess == 0) {
                    break;
                }
            }
        }
        value += n;
        serve();
    }

    /** Takes up to {@code n} permits off {@code holder}'s holding; returns how many. */
    private long debit(String holder, long n) {
        Long mine = held.get(holder);
        if (mine == null) {
            return 0;
        }
        long d = Math.min(mine, n);
        if (d == mine) {
            held.remove(holder);
        } else {
            held.put(holder, mine - d); // an existing key keeps its place in the order
        }
        return d;
    }

    /** Hands free permits to parked acquirers, oldest first. */
    private void serve() {
        while (value > 0) {
            Waiter w = waiters.pollLive();
            if (w == null) {
                return;
            }
            take(w.session());
            w.call.reply(true);
        }
    }

    @Override
    String repr() {
        return "<" + typeid() + ": value=" + value + ">";
    }

    @Override
    public void sessionClosed(String session) {
        waiters.dropSession(session);
        Long mine = held.remove(session);
        if (mine != null) {
            value = returned(value, mine);
            serve();
        }
    }

    /** The value after a closed session's holding comes back. */
    protected long returned(long value, long holding) {
        return value > Long.MAX_VALUE - holding ? Long.MAX_VALUE : value + holding;
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
