package dev.orch.objects.sync;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** The index that lets a cancel find its waiter: every way a waiter leaves the queue unindexes it. */
class WaitQueueTest extends SyncTestBase {
    private final AtomicInteger doubleAnswers = new AtomicInteger();

    private Waiter waiter(String session, String id) {
        return new Waiter(new SyncHarness.TestCall("get", new JsonArray(), new JsonObject(), session, id, doubleAnswers));
    }

    @Test
    void everyWayOutOfTheQueueForgetsTheCall() throws Exception {
        WaitQueue q = h.onContext(() -> new WaitQueue(h));
        Waiter timed = waiter("a", "t");
        Waiter first = waiter("a", "p");
        Waiter other = waiter("b", "d");
        Waiter cancelled = waiter("a", "c");
        Waiter dead = waiter("x", "x");
        Waiter last = waiter("a", "z");
        h.onContext(() -> {
            q.park(timed, 30, w -> w.call.reply(false));
            for (Waiter w : List.of(first, other, cancelled, dead, last)) {
                q.park(w);
            }
            return null;
        });
        assertEquals(6, (int) h.onContext(q::indexedCalls));
        assertSame(first, h.onContext(() -> q.find("a", "p")));
        assertNull(h.onContext(() -> q.find("b", "p")), "found another session's call");

        assertEquals(false, SyncHarness.await(((SyncHarness.TestCall) timed.call).future));
        h.sync();
        assertNull(h.onContext(() -> q.find("a", "t")), "a timed-out waiter is still indexed");
        assertSame(first, h.onContext(q::pollLive));
        h.onContext(() -> {
            q.dropSession("b");
            return null;
        });
        assertTrue(h.onContext(() -> q.cancel("a", "c")));
        h.markDead("x");
        assertEquals(1, (int) h.onContext(q::liveCount));
        assertEquals(List.of(last), h.onContext(q::drainLive));
        assertEquals(0, (int) h.onContext(q::indexedCalls), "waiters gone from the queue are still indexed");
    }
}
