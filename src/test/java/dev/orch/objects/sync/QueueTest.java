package dev.orch.objects.sync;

import static dev.orch.objects.sync.SyncHarness.assertElapsed;
import static dev.orch.objects.sync.SyncHarness.assertRaises;
import static dev.orch.objects.sync.SyncHarness.await;
import static dev.orch.objects.sync.SyncHarness.awaitError;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.orch.objects.SharedObject;
import dev.orch.protocol.OrchException;
import io.vertx.core.json.JsonObject;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

class QueueTest extends SyncTestBase {

    @Test
    void putAndGetInOrderWithSizes() {
        SharedObject q = h.create("Queue", 2);
        assertEquals(true, await(h.call(q, "a", "empty")));
        assertNull(await(h.call(q, "a", "put", "x")));
        assertNull(await(h.call(q, "a", "put_nowait", 2)));
        assertEquals(2L, await(h.call(q, "a", "qsize")));
        assertEquals(true, await(h.call(q, "a", "full")));
        assertEquals(false, await(h.call(q, "a", "empty")));
        assertEquals("x", await(h.call(q, "b", "get")));
        assertEquals(2L, await(h.call(q, "b", "get_nowait")));
        assertEquals(0L, await(h.call(q, "b", "qsize")));
    }

    @Test
    void noneIsAnItemLikeAnyOther() {
        SharedObject q = h.create("Queue", 1);
        assertNull(await(h.call(q, "a", "put", (Object) null)));
        assertEquals(1L, await(h.call(q, "a", "qsize")));
        // A put of None parked on a full queue enters it when room comes, losing nothing.
        CompletableFuture<Object> parked = h.call(q, "b", "put", null, true, 5);
        h.assertParked(parked);
        assertNull(await(h.call(q, "c", "get")));
        assertNull(await(parked));
        assertEquals(1L, await(h.call(q, "c", "qsize")));
        assertNull(await(h.call(q, "c", "get_nowait")));
        h.undelivered(q, "get", null);
        assertEquals(1L, await(h.call(q, "c", "qsize")), "an undelivered None goes back too");
        assertNull(await(h.call(q, "c", "get")));
        assertRaises(h.call(q, "c", "get_nowait"), "Empty", null);
    }

    @Test
    void anUndeliveredItemGoesBackToTheHeadOfTheQueue() {
        SharedObject q = h.create("Queue");
        h.call(q, "p", "put", 1);
        h.call(q, "p", "put", 2);
        assertEquals(1L, await(h.call(q, "gone", "get")));
        h.undelivered(q, "get", 1L);
        assertEquals(2L, await(h.call(q, "b", "qsize")));
        assertEquals(1L, await(h.call(q, "b", "get")));
        assertEquals(2L, await(h.call(q, "d", "get")));
        // A parked getter receives a returned item at once.
        CompletableFuture<Object> waiting = h.call(q, "c", "get");
        h.assertParked(waiting);
        h.undelivered(q, "get", "back");
        assertEquals("back", await(waiting));
        h.undelivered(q, "qsize", 5L);
        assertEquals(0L, await(h.call(q, "e", "qsize")), "only gets are given back");
    }

    @Test
    void anItemGivenBackToAFullQueueGoesPastItsBoundButAdmitsNoPutUntilBelowIt() {
        SharedObject q = h.create("Queue", 1);
        h.call(q, "p", "put", "head");
        CompletableFuture<Object> putter = h.call(q, "p", "put", "next");
        h.assertParked(putter);
        assertEquals("head", await(h.call(q, "gone", "get")));
        assertNull(await(putter), "the get made room for the parked putter");
        h.undelivered(q, "get", "head");
        // Nothing is lost: the queue holds one item more than its bound, at the head.
        assertEquals(2L, await(h.call(q, "b", "qsize")));
        assertEquals(true, await(h.call(q, "b", "full")));
        assertRaises(h.call(q, "b", "put_nowait", "x"), "Full", "");
        CompletableFuture<Object> later = h.call(q, "b", "put", "later");
        h.assertParked(later);
        assertEquals("head", await(h.call(q, "c", "get")));
        h.assertParked(later); // still at the bound
        assertEquals("next", await(h.call(q, "c", "get")));
        assertNull(await(later));
        assertEquals("later", await(h.call(q, "c", "get")));
    }

    @Test
    void parkedGettersAreServedInArrivalOrder() {
        SharedObject q = h.create("Queue");
        CompletableFuture<Object> a = h.call(q, "a", "get");
        CompletableFuture<Object> b = h.call(q, "b", "get");
        CompletableFuture<Object> c = h.call(q, "c", "get");
        h.assertParked(a, b, c);
        h.call(q, "p", "put", 1);
        h.call(q, "p", "put", 2);
        h.call(q, "p", "put", 3);
        assertEquals(1L, await(a));
        assertEquals(2L, await(b));
        assertEquals(3L, await(c));
        assertEquals(0, h.activeTimers());
    }

    @Test
    void parkedPuttersKeepTheirTurnOnAFullQueue() {
        SharedObject q = h.create("Queue", 1);
        await(h.call(q, "p", "put", 1));
        CompletableFuture<Object> p2 = h.call(q, "a", "put", 2);
        CompletableFuture<Object> p3 = h.call(q, "b", "put", 3);
        h.assertParked(p2, p3);
        assertRaises(h.call(q, "c", "put_nowait", 4), "Full", "");
        assertEquals(1L, await(h.call(q, "g", "get")));
        assertNull(await(p2));
        h.assertParked(p3);
        assertEquals(2L, await(h.call(q, "g", "get")));
        assertNull(await(p3));
        assertEquals(3L, await(h.call(q, "g", "get")));
        assertRaises(h.call(q, "g", "get_nowait"), "Empty", "");
    }

    @Test
    void getTimesOutWithEmpty() {
        SharedObject q = h.create("Queue");
        long t0 = System.nanoTime();
        assertRaises(h.callKw(q, "a", "get", new JsonObject().put("timeout", 0.3)), "Empty", "");
        assertElapsed(t0, 0.3);
        assertEquals(0, h.activeTimers());
    }

    @Test
    void putTimesOutWithFull() {
        SharedObject q = h.create("Queue", 1);
        await(h.call(q, "a", "put", "x"));
        long t0 = System.nanoTime();
        assertRaises(h.call(q, "a", "put", "y", true, 0.25), "Full", "");
        assertElapsed(t0, 0.25);
        assertEquals(1L, await(h.call(q, "a", "qsize")));
    }

    @Test
    void timeoutZeroIsNonBlocking() {
        SharedObject q = h.create("Queue", 1);
        long t0 = System.nanoTime();
        assertRaises(h.call(q, "a", "get", true, 0), "Empty", "");
        assertRaises(h.call(q, "a", "get", false), "Empty", "");
        // Python ignores the timeout of a non-blocking call.
        assertRaises(h.call(q, "a", "get", false, -1), "Empty", "");
        await(h.call(q, "a", "put", 1));
        assertRaises(h.call(q, "a", "put", 2, true, 0), "Full", "");
        assertElapsed(t0, 0);
        assertEquals(0, h.activeTimers());
    }

    @Test
    void negativeTimeoutIsValueError() {
        SharedObject q = h.create("Queue", 1);
        assertRaises(h.call(q, "a", "get", true, -0.5), "ValueError", "'timeout' must be a non-negative number");
        assertRaises(h.call(q, "a", "put", 1, true, -1), "ValueError", "'timeout' must be a non-negative number");
        // Unbounded: Python never checks the put timeout, as the put never waits.
        SharedObject u = h.create("Queue");
        assertNull(await(h.call(u, "a", "put", 1, true, -1)));
    }

    @Test
    void deadGetterDoesNotConsumeAnItem() {
        SharedObject q = h.create("Queue");
        CompletableFuture<Object> dead = h.call(q, "a", "get");
        CompletableFuture<Object> live = h.call(q, "b", "get", true, 30);
        h.assertParked(dead, live);
        h.markDead("a");
        await(h.call(q, "p", "put", "item"));
        assertEquals("item", await(live));
        h.assertAbandoned(dead);
        assertEquals(0L, await(h.call(q, "p", "qsize")));
        assertEquals(0, h.activeTimers());
    }

    @Test
    void closedSessionsGetIsDroppedAndTakesNothing() {
        SharedObject q = h.create("Queue");
        CompletableFuture<Object> g = h.call(q, "a", "get", true, 30);
        h.assertParked(g);
        h.closeSession(q, "a");
        assertEquals(0, h.activeTimers());
        await(h.call(q, "p", "put", "item"));
        assertEquals(1L, await(h.call(q, "p", "qsize")));
        h.assertAbandoned(g);
    }

    @Test
    void closedSessionsPutDoesNotEnqueue() {
        SharedObject q = h.create("Queue", 1);
        await(h.call(q, "p", "put", 1));
        CompletableFuture<Object> p = h.call(q, "a", "put", 2);
        h.assertParked(p);
        h.closeSession(q, "a");
        assertEquals(1L, await(h.call(q, "g", "get")));
        assertEquals(0L, await(h.call(q, "g", "qsize")));
    }

    @Test
    void disposeFailsParkedCalls() {
        SharedObject q = h.create("Queue");
        CompletableFuture<Object> g = h.call(q, "a", "get", true, 30);
        h.assertParked(g);
        h.dispose(q);
        OrchException e = awaitError(g);
        assertEquals(404, e.code().code());
        assertEquals("NotFound", e.name());
        assertEquals("the object was destroyed", e.detail());
        assertEquals(0, h.activeTimers());
        assertEquals(404, awaitError(h.call(q, "a", "qsize")).code().code());
    }

    @Test
    void badArguments() {
        SharedObject q = h.create("Queue");
        assertRaises(h.call(q, "a", "put"), "TypeError", null);
        assertRaises(h.call(q, "a", "get", true, 1, 2), "TypeError", null);
        assertRaises(h.callKw(q, "a", "get", new JsonObject().put("wait", 1)), "TypeError", null);
        assertRaises(h.call(q, "a", "get", true, "soon"), "TypeError", null);
        assertRaises(h.call(q, "a", "qsize", 1), "TypeError", null);
        assertRaises(h.call(q, "a", "task_done", 1), "TypeError", null);
        OrchException e = assertThrows(OrchException.class, () -> h.create("Queue", "big"));
        assertEquals("TypeError", e.name());
    }
}
