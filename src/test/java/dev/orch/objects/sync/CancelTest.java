package dev.orch.objects.sync;

import static dev.orch.objects.sync.SyncHarness.await;
import static dev.orch.objects.sync.SyncHarness.awaitError;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.orch.objects.SharedObject;
import dev.orch.protocol.ErrorCode;
import dev.orch.protocol.OrchException;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

/** A session withdraws one of its parked calls: it ends as if never made, answered 499. */
class CancelTest extends SyncTestBase {

    private static void assertCancelled(CompletableFuture<Object> f) {
        OrchException e = awaitError(f);
        assertEquals(ErrorCode.CANCELLED, e.code(), "failure of the withdrawn call: " + e);
        assertEquals("Cancelled", e.name());
    }

    @Test
    void aCancelledGetTakesNoItemAndTheNextGetterGetsIt() {
        SharedObject q = h.create("Queue");
        CompletableFuture<Object> first = h.callWithId(q, "a", "r1", "get");
        CompletableFuture<Object> second = h.call(q, "b", "get");
        h.assertParked(first, second);
        assertTrue(h.cancel(q, "a", "r1"));
        assertCancelled(first);
        await(h.call(q, "c", "put", "item"));
        assertEquals("item", await(second));
        assertEquals(0L, await(h.call(q, "c", "qsize")));
        assertEquals(0, h.activeTimers(), "the withdrawn call's timer is still set");
    }

    @Test
    void aCancelledPutNeverEntersTheQueue() {
        SharedObject q = h.create("Queue", 1);
        await(h.call(q, "a", "put", 1));
        CompletableFuture<Object> put = h.callWithId(q, "a", "r2", "put", 2, true, 30);
        h.assertParked(put);
        assertTrue(h.cancel(q, "a", "r2"));
        assertCancelled(put);
        assertEquals(1L, await(h.call(q, "b", "get")));
        assertEquals(0L, await(h.call(q, "b", "qsize")), "the withdrawn put's item was queued");
        assertEquals(0, h.activeTimers());
    }

    @Test
    void onlyTheCallersOwnParkedCallIsWithdrawn() {
        SharedObject q = h.create("Queue");
        CompletableFuture<Object> get = h.callWithId(q, "a", "r1", "get");
        h.assertParked(get);
        assertFalse(h.cancel(q, "b", "r1"), "another session withdrew the call");
        assertFalse(h.cancel(q, "a", "r9"), "an unknown call was withdrawn");
        h.assertParked(get);
        await(h.call(q, "b", "put", "x"));
        assertEquals("x", await(get));
        assertFalse(h.cancel(q, "a", "r1"), "an answered call was withdrawn");
    }

    @Test
    void aCancelledAcquireNeverTakesTheLock() {
        for (String type : new String[] {"Lock", "RLock"}) {
            SharedObject l = h.create(type);
            await(h.call(l, "owner", "acquire"));
            CompletableFuture<Object> a = h.callWithId(l, "a", "r1", "acquire");
            CompletableFuture<Object> b = h.call(l, "b", "acquire");
            h.assertParked(a, b);
            assertTrue(h.cancel(l, "a", "r1"), type);
            assertCancelled(a);
            await(h.call(l, "owner", "release"));
            assertEquals(true, await(b), type + ": the next waiter did not get the lock");
        }
    }

    @Test
    void aCancelledSemaphoreAcquireLeavesThePermitToTheNext() {
        SharedObject s = h.create("Semaphore", 0);
        CompletableFuture<Object> a = h.callWithId(s, "a", "r1", "acquire");
        CompletableFuture<Object> b = h.call(s, "b", "acquire");
        h.assertParked(a, b);
        assertTrue(h.cancel(s, "a", "r1"));
        assertCancelled(a);
        await(h.call(s, "c", "release"));
        assertEquals(true, await(b));
    }

    @Test
    void aCancelledEventWaitIsNotWokenBySet() {
        SharedObject e = h.create("Event");
        CompletableFuture<Object> w = h.callWithId(e, "a", "r1", "wait", 30);
        h.assertParked(w);
        assertTrue(h.cancel(e, "a", "r1"));
        assertCancelled(w);
        await(h.call(e, "b", "set"));
        assertEquals(0, h.activeTimers());
    }

    @Test
    void aCancelledJoinLeavesTheTasksCounted() {
        SharedObject q = h.create("JoinableQueue");
        await(h.call(q, "a", "put", 1));
        CompletableFuture<Object> join = h.callWithId(q, "a", "r1", "join");
        CompletableFuture<Object> get = h.callWithId(q, "a", "r2", "get");
        assertEquals(1L, await(get));
        h.assertParked(join);
        assertFalse(h.cancel(q, "a", "r2"), "an answered get was withdrawn");
        assertTrue(h.cancel(q, "a", "r1"));
        assertCancelled(join);
        CompletableFuture<Object> again = h.call(q, "b", "join");
        h.assertParked(again);
        await(h.call(q, "a", "task_done"));
        await(again);
    }

    @Test
    void aCancelledBarrierPartyLeavesWithoutBreakingIt() {
        SharedObject b = h.create("Barrier", 2);
        CompletableFuture<Object> a = h.callWithId(b, "a", "r1", "wait");
        h.assertParked(a);
        assertEquals(1L, await(h.call(b, "x", "n_waiting")));
        assertTrue(h.cancel(b, "a", "r1"));
        assertCancelled(a);
        assertEquals(0L, await(h.call(b, "x", "n_waiting")));
        assertEquals(false, await(h.call(b, "x", "broken")));
        CompletableFuture<Object> c = h.call(b, "c", "wait");
        h.assertParked(c);
        await(h.call(b, "d", "wait"));
        await(c);
    }

    @Test
    void aCancelledConditionWaitReturnsHoldingTheLock() {
        SharedObject c = h.create("Condition");
        await(h.call(c, "a", "acquire"));
        CompletableFuture<Object> w = h.callWithId(c, "a", "r1", "wait");
        h.assertParked(w);
        await(h.call(c, "b", "acquire"));
        assertTrue(h.cancel(c, "a", "r1"));
        // As in Python, the wait ends only once it holds the lock again.
        h.assertParked(w);
        assertFalse(h.cancel(c, "a", "r1"), "a wait taking its lock back was withdrawn");
        await(h.call(c, "b", "notify"));
        await(h.call(c, "b", "release"));
        assertCancelled(w);
        assertEquals(false, await(h.call(c, "b", "acquire", false)), "the cancelled wait returned without the lock");
        await(h.call(c, "a", "release"));
        assertEquals(true, await(h.call(c, "b", "acquire", false)));
    }

    @Test
    void aQueuedConditionAcquireIsWithdrawn() {
        SharedObject c = h.create("Condition");
        await(h.call(c, "a", "acquire"));
        CompletableFuture<Object> b = h.callWithId(c, "b", "r1", "acquire");
        h.assertParked(b);
        assertTrue(h.cancel(c, "b", "r1"));
        assertCancelled(b);
        await(h.call(c, "a", "release"));
        assertEquals(true, await(h.call(c, "c", "acquire", false)));
    }

    @Test
    void nothingIsWithdrawnFromADestroyedObject() {
        SharedObject q = h.create("Queue");
        CompletableFuture<Object> get = h.callWithId(q, "a", "r1", "get");
        h.assertParked(get);
        h.dispose(q);
        assertEquals(ErrorCode.NOT_FOUND, awaitError(get).code());
        assertFalse(h.cancel(q, "a", "r1"));
    }
}
