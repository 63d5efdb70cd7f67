package dev.orch.objects.sync;

import static dev.orch.objects.sync.SyncHarness.assertElapsed;
import static dev.orch.objects.sync.SyncHarness.assertRaises;
import static dev.orch.objects.sync.SyncHarness.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.orch.objects.SharedObject;
import dev.orch.protocol.OrchException;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

class BarrierTest extends SyncTestBase {

    @Test
    void indicesFollowArrivalOrderAndTheBarrierIsReusable() {
        SharedObject b = h.create("Barrier", 3);
        assertEquals(3L, await(h.call(b, "x", "parties")));
        for (int round = 0; round < 2; round++) {
            CompletableFuture<Object> a = h.call(b, "a", "wait");
            h.assertParked(a);
            assertEquals(1L, await(h.call(b, "x", "n_waiting")));
            CompletableFuture<Object> c = h.call(b, "c", "wait");
            h.assertParked(a, c);
            assertEquals(2L, await(h.call(b, "d", "wait")));
            assertEquals(0L, await(a));
            assertEquals(1L, await(c));
            assertEquals(0L, await(h.call(b, "x", "n_waiting")));
            assertEquals(false, await(h.call(b, "x", "broken")));
        }
    }

    @Test
    void singlePartyPassesAtOnce() {
        SharedObject b = h.create("Barrier", 1);
        assertEquals(0L, await(h.call(b, "a", "wait")));
    }

    @Test
    void timeoutBreaksTheBarrierForEveryone() {
        SharedObject b = h.create("Barrier", 3);
        CompletableFuture<Object> a = h.call(b, "a", "wait");
        h.assertParked(a);
        long t0 = System.nanoTime();
        assertRaises(h.call(b, "c", "wait", 0.3), "BrokenBarrierError", "");
        assertElapsed(t0, 0.3);
        assertRaises(a, "BrokenBarrierError", "");
        assertEquals(true, await(h.call(b, "x", "broken")));
        assertEquals(0L, await(h.call(b, "x", "n_waiting")));
        assertRaises(h.call(b, "a", "wait"), "BrokenBarrierError", "");
        await(h.call(b, "x", "reset"));
        assertEquals(false, await(h.call(b, "x", "broken")));
        CompletableFuture<Object> a2 = h.call(b, "a", "wait");
        CompletableFuture<Object> c2 = h.call(b, "c", "wait");
        assertEquals(2L, await(h.call(b, "d", "wait")));
        assertEquals(0L, await(a2));
        assertEquals(1L, await(c2));
        assertEquals(0, h.activeTimers());
    }

    @Test
    void defaultTimeoutFromTheConstructor() {
        SharedObject b = h.create("Barrier", 2, 0.25);
        long t0 = System.nanoTime();
        assertRaises(h.call(b, "a", "wait"), "BrokenBarrierError", "");
        assertElapsed(t0, 0.25);
        assertEquals(true, await(h.call(b, "x", "broken")));
    }

    @Test
    void zeroTimeoutBreaksAtOnceUnlessLast() {
        SharedObject b = h.create("Barrier", 2);
        CompletableFuture<Object> a = h.call(b, "a", "wait");
        assertEquals(1L, await(h.call(b, "c", "wait", 0)));
        assertEquals(0L, await(a));
        long t0 = System.nanoTime();
        assertRaises(h.call(b, "a", "wait", 0), "BrokenBarrierError", "");
        assertElapsed(t0, 0);
        assertEquals(true, await(h.call(b, "x", "broken")));
    }

    @Test
    void abortBreaksWaitersAndLaterCalls() {
        SharedObject b = h.create("Barrier", 3);
        CompletableFuture<Object> a = h.call(b, "a", "wait", 30);
        h.assertParked(a);
        await(h.call(b, "x", "abort"));
        assertRaises(a, "BrokenBarrierError", "");
        assertEquals(true, await(h.call(b, "x", "broken")));
        assertRaises(h.call(b, "c", "wait"), "BrokenBarrierError", "");
        assertEquals(0, h.activeTimers());
    }

    @Test
    void resetFailsCurrentWaitersAndStartsAfresh() {
        SharedObject b = h.create("Barrier", 2);
        CompletableFuture<Object> a = h.call(b, "a", "wait");
        h.assertParked(a);
        await(h.call(b, "x", "reset"));
        assertRaises(a, "BrokenBarrierError", "");
        assertEquals(false, await(h.call(b, "x", "broken")));
        CompletableFuture<Object> c = h.call(b, "c", "wait");
        h.assertParked(c);
        assertEquals(1L, await(h.call(b, "d", "wait")));
        assertEquals(0L, await(c));
    }

    @Test
    void aDisconnectedPartyNoLongerCounts() {
        SharedObject b = h.create("Barrier", 2);
        CompletableFuture<Object> a = h.call(b, "a", "wait");
        h.assertParked(a);
        h.closeSession(b, "a");
        assertEquals(0L, await(h.call(b, "x", "n_waiting")));
        CompletableFuture<Object> c = h.call(b, "c", "wait");
        h.assertParked(c);
        assertEquals(1L, await(h.call(b, "d", "wait")));
        assertEquals(0L, await(c));
        h.assertAbandoned(a);
    }

    @Test
    void deadPartyIsNotCountedEvenBeforeTheObjectIsTold() {
        SharedObject b = h.create("Barrier", 2);
        CompletableFuture<Object> a = h.call(b, "a", "wait");
        h.assertParked(a);
        h.markDead("a");
        h.assertParked(h.call(b, "c", "wait"));
    }

    @Test
    void badArguments() {
        OrchException e = assertThrows(OrchException.class, () -> h.create("Barrier", 0));
        assertEquals("ValueError", e.name());
        e = assertThrows(OrchException.class, () -> h.create("Barrier"));
        assertEquals("TypeError", e.name());
        e = assertThrows(OrchException.class, () -> h.create("Barrier", 2, "soon"));
        assertEquals("TypeError", e.name());
        SharedObject b = h.create("Barrier", 2);
        assertRaises(h.call(b, "a", "wait", "x"), "TypeError", null);
        assertRaises(h.call(b, "a", "parties", 1), "TypeError", null);
    }
}
