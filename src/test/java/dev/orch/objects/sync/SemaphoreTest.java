package dev.orch.objects.sync;

import static dev.orch.objects.sync.SyncHarness.assertElapsed;
import static dev.orch.objects.sync.SyncHarness.assertRaises;
import static dev.orch.objects.sync.SyncHarness.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.orch.objects.SharedObject;
import dev.orch.protocol.OrchException;
import io.vertx.core.json.JsonObject;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

class SemaphoreTest extends SyncTestBase {

    @Test
    void permitsAndFifoWaiters() {
        SharedObject s = h.create("Semaphore", 2);
        assertEquals(true, await(h.call(s, "a", "acquire")));
        assertEquals(true, await(h.call(s, "b", "acquire")));
        CompletableFuture<Object> c = h.call(s, "c", "acquire");
        CompletableFuture<Object> d = h.call(s, "d", "acquire");
        CompletableFuture<Object> e = h.call(s, "e", "acquire");
        h.assertParked(c, d, e);
        assertEquals(false, await(h.call(s, "x", "acquire", false)));
        h.call(s, "a", "release");
        assertEquals(true, await(c));
        h.assertParked(d, e);
        h.callKw(s, "b", "release", new JsonObject().put("n", 2));
        assertEquals(true, await(d));
        assertEquals(true, await(e));
        assertEquals(false, await(h.call(s, "x", "acquire", false)));
    }

    @Test
    void defaultValueIsOne() {
        SharedObject s = h.create("Semaphore");
        assertEquals(true, await(h.call(s, "a", "acquire")));
        assertEquals(false, await(h.call(s, "a", "acquire", false)));
    }

    @Test
    void acquireTimesOut() {
        SharedObject s = h.create("Semaphore", 0);
        long t0 = System.nanoTime();
        assertEquals(false, await(h.call(s, "a", "acquire", true, 0.3)));
        assertElapsed(t0, 0.3);
        t0 = System.nanoTime();
        // Python gives up at once on a negative timeout (no ValueError).
        assertEquals(false, await(h.call(s, "a", "acquire", true, -1)));
        assertEquals(false, await(h.call(s, "a", "acquire", true, 0)));
        assertElapsed(t0, 0);
        assertEquals(0, h.activeTimers());
    }

    @Test
    void disconnectReturnsHeldPermitsAndWakesWaiters() {
        SharedObject s = h.create("Semaphore", 2);
        await(h.call(s, "a", "acquire"));
        await(h.call(s, "a", "acquire"));
        CompletableFuture<Object> b = h.call(s, "b", "acquire");
        CompletableFuture<Object> c = h.call(s, "c", "acquire", true, 30);
        CompletableFuture<Object> d = h.call(s, "d", "acquire");
        h.assertParked(b, c, d);
        h.closeSession(s, "a");
        assertEquals(true, await(b));
        assertEquals(true, await(c));
        h.assertParked(d);
    }

    @Test
    void releasedPermitsAreNotReturnedAgainOnDisconnect() {
        SharedObject s = h.create("Semaphore", 1);
        await(h.call(s, "a", "acquire"));
        await(h.call(s, "a", "release"));
        h.closeSession(s, "a");
        assertEquals(true, await(h.call(s, "b", "acquire", false)));
        assertEquals(false, await(h.call(s, "c", "acquire", false)));
    }

    @Test
    void aReleaseWhileNobodyHoldsAddsAPermitThatItsTakerHolds() {
        SharedObject s = h.create("Semaphore", 0);
        CompletableFuture<Object> a = h.call(s, "a", "acquire");
        await(h.call(s, "b", "release"));
        assertEquals(true, await(a));
        // b held nothing: closing it adds no permit.
        h.closeSession(s, "b");
        assertEquals(false, await(h.call(s, "c", "acquire", false)));
        // a still holds its permit: closing it gives it back.
        h.closeSession(s, "a");
        assertEquals(true, await(h.call(s, "c", "acquire", false)));
    }

    @Test
    void aReleaseBeyondOnesHoldingGivesBackAnotherHoldersPermit() {
        // As in Python, where a release returns any permit: b's release returns one of a's, so
        // a's disconnect returns only the other, and no more than two ever hold at once.
        SharedObject s = h.create("BoundedSemaphore", 2);
        await(h.call(s, "a", "acquire"));
        await(h.call(s, "a", "acquire"));
        await(h.call(s, "b", "release"));
        assertEquals(true, await(h.call(s, "c", "acquire", false)));
        h.closeSession(s, "a");
        assertEquals(true, await(h.call(s, "d", "acquire", false)));
        assertEquals(false, await(h.call(s, "e", "acquire", false)), "c and d hold both permits");
        // The same on a plain Semaphore: a's disconnect gives back one permit, not two.
        SharedObject p = h.create("Semaphore", 2);
        await(h.call(p, "a", "acquire"));
        await(h.call(p, "a", "acquire"));
        await(h.call(p, "b", "release"));
        await(h.call(p, "c", "acquire"));
        h.closeSession(p, "a");
        assertEquals(true, await(h.call(p, "d", "acquire", false)));
        assertEquals(false, await(h.call(p, "e", "acquire", false)));
    }

    @Test
    void deadWaiterGetsNoPermit() {
        SharedObject s = h.create("Semaphore", 0);
        CompletableFuture<Object> a = h.call(s, "a", "acquire");
        CompletableFuture<Object> b = h.call(s, "b", "acquire");
        h.assertParked(a, b);
        h.markDead("a");
        h.call(s, "r", "release");
        assertEquals(true, await(b));
        h.assertAbandoned(a);
    }

    @Test
    void boundedSemaphoreRejectsOverRelease() {
        SharedObject s = h.create("BoundedSemaphore", 1);
        assertRaises(h.call(s, "a", "release"), "ValueError", "Semaphore released too many times");
        await(h.call(s, "a", "acquire"));
        assertRaises(h.call(s, "a", "release", 2), "ValueError", "Semaphore released too many times");
        await(h.call(s, "a", "release"));
        assertEquals(true, await(h.call(s, "a", "acquire")));
    }

    @Test
    void boundedSemaphoreNeverExceedsItsValueAfterDisconnect() {
        SharedObject s = h.create("BoundedSemaphore", 1);
        await(h.call(s, "a", "acquire"));
        await(h.call(s, "b", "release"));
        h.closeSession(s, "a");
        assertEquals(true, await(h.call(s, "c", "acquire", false)));
        assertEquals(false, await(h.call(s, "d", "acquire", false)));
    }

    @Test
    void hugeReleasesNeverWrapAround() {
        SharedObject s = h.create("Semaphore", 1);
        long quarter = 1L << 61;
        for (int i = 0; i < 3; i++) {
            await(h.call(s, "a", "release", quarter));
        }
        assertRaises(h.call(s, "a", "release", quarter * 2), "OverflowError", "the semaphore's value would exceed 2**63-1");
        assertEquals(true, await(h.call(s, "a", "acquire", false)), "the value is still large, not negative");
        assertRaises(h.call(s, "a", "release", new java.math.BigInteger("1000000000000000000000000000000")),
                "OverflowError", "'n' must be between -2**63 and 2**63-1");
        OrchException e = assertThrows(OrchException.class,
                () -> h.create("Semaphore", new java.math.BigInteger("1000000000000000000000000000000")));
        assertEquals("OverflowError", e.name());

        SharedObject b = h.create("BoundedSemaphore", quarter * 2);
        assertRaises(h.call(b, "a", "release", quarter * 2), "ValueError", "Semaphore released too many times");
        assertEquals(true, await(h.call(b, "a", "acquire", false)));
    }

    @Test
    void badArguments() {
        SharedObject s = h.create("Semaphore", 1);
        assertRaises(h.call(s, "a", "acquire", false, 1), "ValueError", "can't specify timeout for non-blocking acquire");
        assertRaises(h.call(s, "a", "release", 0), "ValueError", "n must be one or more");
        assertRaises(h.call(s, "a", "release", "x"), "TypeError", null);
        OrchException e = assertThrows(OrchException.class, () -> h.create("Semaphore", -1));
        assertEquals("ValueError", e.name());
        assertEquals("semaphore initial value must be >= 0", e.detail());
        e = assertThrows(OrchException.class, () -> h.create("BoundedSemaphore", 1, 2));
        assertEquals("TypeError", e.name());
    }
}
