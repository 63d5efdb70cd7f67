package dev.orch.objects.sync;

import static dev.orch.objects.sync.SyncHarness.assertElapsed;
import static dev.orch.objects.sync.SyncHarness.assertRaises;
import static dev.orch.objects.sync.SyncHarness.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import dev.orch.objects.SharedObject;
import io.vertx.core.json.JsonObject;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

class LockTest extends SyncTestBase {

    @Test
    void acquireReleaseAndReleaseByAnotherSession() {
        SharedObject l = h.create("Lock");
        assertEquals(true, await(h.call(l, "a", "acquire")));
        assertEquals(false, await(h.call(l, "b", "acquire", false)));
        // As in Python, a plain Lock may be released by someone else.
        assertNull(await(h.call(l, "b", "release")));
        assertRaises(h.call(l, "a", "release"), "RuntimeError", "release unlocked lock");
        assertEquals(true, await(h.call(l, "b", "acquire", false)));
    }

    @Test
    void waitersGetTheLockInArrivalOrderAndNewcomersDoNotJump() {
        SharedObject l = h.create("Lock");
        await(h.call(l, "a", "acquire"));
        CompletableFuture<Object> b = h.call(l, "b", "acquire");
        CompletableFuture<Object> c = h.call(l, "c", "acquire", true, 30);
        CompletableFuture<Object> d = h.call(l, "d", "acquire");
        h.assertParked(b, c, d);
        h.call(l, "a", "release");
        assertEquals(true, await(b));
        h.assertParked(c, d);
        assertEquals(false, await(h.call(l, "e", "acquire", false)));
        h.call(l, "b", "release");
        assertEquals(true, await(c));
        assertEquals(0, h.activeTimers());
        h.call(l, "c", "release");
        assertEquals(true, await(d));
    }

    @Test
    void acquireTimesOut() {
        SharedObject l = h.create("Lock");
        await(h.call(l, "a", "acquire"));
        long t0 = System.nanoTime();
        assertEquals(false, await(h.callKw(l, "b", "acquire", new JsonObject().put("timeout", 0.3))));
        assertElapsed(t0, 0.3);
        // Not re-entrant: the holder's own second acquire waits too.
        t0 = System.nanoTime();
        assertEquals(false, await(h.call(l, "a", "acquire", true, 0.2)));
        assertElapsed(t0, 0.2);
        t0 = System.nanoTime();
        assertEquals(false, await(h.call(l, "b", "acquire", true, 0)));
        assertElapsed(t0, 0);
        assertEquals(0, h.activeTimers());
    }

    @Test
    void timedOutWaiterDoesNotGetTheLockLater() {
        SharedObject l = h.create("Lock");
        await(h.call(l, "a", "acquire"));
        assertEquals(false, await(h.call(l, "b", "acquire", true, 0.05)));
        CompletableFuture<Object> c = h.call(l, "c", "acquire");
        h.call(l, "a", "release");
        assertEquals(true, await(c));
    }

    @Test
    void disconnectReleasesTheLockToTheNextWaiter() {
        SharedObject l = h.create("Lock");
        await(h.call(l, "a", "acquire"));
        CompletableFuture<Object> b = h.call(l, "b", "acquire");
        h.assertParked(b);
        h.closeSession(l, "a");
        assertEquals(true, await(b));
        assertEquals(false, await(h.call(l, "c", "acquire", false)));
    }

    @Test
    void deadWaiterIsSkipped() {
        SharedObject l = h.create("Lock");
        await(h.call(l, "a", "acquire"));
        CompletableFuture<Object> b = h.call(l, "b", "acquire");
        CompletableFuture<Object> c = h.call(l, "c", "acquire");
        h.assertParked(b, c);
        h.markDead("b");
        h.call(l, "a", "release");
        assertEquals(true, await(c));
        h.assertAbandoned(b);
    }

    @Test
    void closingAWaitersSessionDropsItsAcquire() {
        SharedObject l = h.create("Lock");
        await(h.call(l, "a", "acquire"));
        CompletableFuture<Object> b = h.call(l, "b", "acquire", true, 30);
        h.assertParked(b);
        h.closeSession(l, "b");
        assertEquals(0, h.activeTimers());
        await(h.call(l, "a", "release"));
        assertEquals(true, await(h.call(l, "c", "acquire", false)));
        h.assertAbandoned(b);
    }

    @Test
    void badArguments() {
        SharedObject l = h.create("Lock");
        assertRaises(h.call(l, "a", "acquire", false, 1), "ValueError", "can't specify a timeout for a non-blocking call");
        assertRaises(h.call(l, "a", "acquire", true, -2), "ValueError", "timeout value must be a non-negative number");
        assertRaises(h.call(l, "a", "acquire", true, 1, 3), "TypeError", null);
        assertRaises(h.call(l, "a", "acquire", true, "x"), "TypeError", null);
        assertRaises(h.call(l, "a", "release", 1), "TypeError", null);
        // -1 is Python's "forever", allowed with blocking=True.
        assertEquals(true, await(h.call(l, "a", "acquire", true, -1)));
    }

    @Test
    void disposeFailsParkedAcquires() {
        SharedObject l = h.create("Lock");
        await(h.call(l, "a", "acquire"));
        CompletableFuture<Object> b = h.call(l, "b", "acquire", true, 30);
        h.dispose(l);
        assertEquals("NotFound", SyncHarness.awaitError(b).name());
        assertEquals(0, h.activeTimers());
    }
}
