package dev.orch.objects.sync;

import static dev.orch.objects.sync.SyncHarness.assertElapsed;
import static dev.orch.objects.sync.SyncHarness.assertRaises;
import static dev.orch.objects.sync.SyncHarness.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.orch.objects.SharedObject;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class EventTest extends SyncTestBase {

    @Test
    void setWakesWaitersAndClearResets() {
        SharedObject e = h.create("Event");
        assertEquals(false, await(h.call(e, "a", "is_set")));
        CompletableFuture<Object> w = h.call(e, "a", "wait");
        h.assertParked(w);
        await(h.call(e, "b", "set"));
        assertEquals(true, await(w));
        assertEquals(true, await(h.call(e, "a", "is_set")));
        assertEquals(true, await(h.call(e, "a", "wait", 0)));
        await(h.call(e, "b", "clear"));
        assertEquals(false, await(h.call(e, "a", "is_set")));
        h.assertParked(h.call(e, "a", "wait"));
    }

    @Test
    void waitTimesOutWithFalse() {
        SharedObject e = h.create("Event");
        long t0 = System.nanoTime();
        assertEquals(false, await(h.call(e, "a", "wait", 0.3)));
        assertElapsed(t0, 0.3);
        t0 = System.nanoTime();
        assertEquals(false, await(h.call(e, "a", "wait", 0)));
        assertEquals(false, await(h.call(e, "a", "wait", -5)));
        assertEquals(false, await(h.call(e, "a", "wait", false)), "a bool is an int in Python: False is 0 s");
        assertElapsed(t0, 0);
        assertEquals(0, h.activeTimers());
        t0 = System.nanoTime();
        assertEquals(false, await(h.call(e, "a", "wait", true)), "and True is 1 s");
        assertElapsed(t0, 1.0);
    }

    @Test
    void tenThousandWaitersReleasedByOneSet() throws Exception {
        SharedObject e = h.create("Event");
        List<CompletableFuture<Object>> waits = new ArrayList<>();
        for (int i = 0; i < 10_000; i++) {
            // Half with a timeout, so one set must also cancel 5,000 timers.
            waits.add(i % 2 == 0 ? h.call(e, "s" + i, "wait") : h.call(e, "s" + i, "wait", 60));
        }
        h.assertParked(waits.get(0), waits.get(9_999));
        assertEquals(5_000, h.activeTimers());
        long t0 = System.nanoTime();
        h.call(e, "setter", "set");
        CompletableFuture.allOf(waits.toArray(new CompletableFuture[0])).get(10, TimeUnit.SECONDS);
        double seconds = (System.nanoTime() - t0) / 1e9;
        for (CompletableFuture<Object> w : waits) {
            assertEquals(true, w.getNow(null));
        }
        assertEquals(0, h.activeTimers());
        assertTrue(seconds < 2.0, "one set took " + seconds + " s");
    }

    @Test
    void closedSessionsWaitIsDropped() {
        SharedObject e = h.create("Event");
        CompletableFuture<Object> w = h.call(e, "a", "wait", 30);
        h.closeSession(e, "a");
        assertEquals(0, h.activeTimers());
        await(h.call(e, "b", "set"));
        h.assertAbandoned(w);
    }

    @Test
    void badArguments() {
        SharedObject e = h.create("Event");
        assertRaises(h.call(e, "a", "wait", "later"), "TypeError", null);
        assertRaises(h.call(e, "a", "set", 1), "TypeError", null);
        assertRaises(h.call(e, "a", "wait", Double.NaN), "ValueError", null);
    }
}
