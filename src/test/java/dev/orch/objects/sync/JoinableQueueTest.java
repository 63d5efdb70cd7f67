package dev.orch.objects.sync;

import static dev.orch.objects.sync.SyncHarness.assertElapsed;
import static dev.orch.objects.sync.SyncHarness.assertRaises;
import static dev.orch.objects.sync.SyncHarness.await;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.orch.objects.SharedObject;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

class JoinableQueueTest extends SyncTestBase {

    @Test
    void joinWaitsForEveryTaskDone() {
        SharedObject q = h.create("JoinableQueue");
        assertEquals(true, await(h.call(q, "a", "join")));
        await(h.call(q, "a", "put", 1));
        await(h.call(q, "a", "put", 2));
        CompletableFuture<Object> j1 = h.call(q, "b", "join");
        CompletableFuture<Object> j2 = h.call(q, "c", "join", 30);
        await(h.call(q, "w", "get"));
        await(h.call(q, "w", "task_done"));
        h.assertParked(j1, j2);
        await(h.call(q, "w", "get"));
        await(h.call(q, "w", "task_done"));
        assertEquals(true, await(j1));
        assertEquals(true, await(j2));
        assertEquals(0, h.activeTimers());
        assertRaises(h.call(q, "w", "task_done"), "ValueError", "task_done() called too many times");
    }

    @Test
    void aPlainQueueJoinsToo() {
        SharedObject q = h.create("Queue");
        await(h.call(q, "a", "put", 1));
        CompletableFuture<Object> j = h.call(q, "b", "join");
        assertEquals(1L, await(h.call(q, "w", "get")));
        h.assertParked(j);
        await(h.call(q, "w", "task_done"));
        assertEquals(true, await(j));
        assertEquals(true, await(h.call(q, "c", "join", 0)), "nothing unfinished: join answers at once");
        assertRaises(h.call(q, "w", "task_done"), "ValueError", "task_done() called too many times");
    }

    @Test
    void parkedPutCountsAsATaskWhenItEntersTheQueue() {
        SharedObject q = h.create("JoinableQueue", 1);
        await(h.call(q, "a", "put", 1));
        CompletableFuture<Object> p = h.call(q, "a", "put", 2);
        h.assertParked(p);
        await(h.call(q, "w", "get"));
        await(p);
        await(h.call(q, "w", "task_done"));
        CompletableFuture<Object> j = h.call(q, "b", "join");
        h.assertParked(j);
        await(h.call(q, "w", "get"));
        await(h.call(q, "w", "task_done"));
        assertEquals(true, await(j));
    }

    @Test
    void joinTimesOutWithFalse() {
        SharedObject q = h.create("JoinableQueue");
        await(h.call(q, "a", "put", 1));
        long t0 = System.nanoTime();
        assertEquals(false, await(h.call(q, "a", "join", 0.3)));
        assertElapsed(t0, 0.3);
        assertEquals(false, await(h.call(q, "a", "join", 0)));
        assertRaises(h.call(q, "a", "join", -1), "ValueError", "'timeout' must be a non-negative number");
    }

    @Test
    void taskDoneOnFreshQueueIsValueError() {
        SharedObject q = h.create("JoinableQueue");
        assertRaises(h.call(q, "a", "task_done"), "ValueError", "task_done() called too many times");
        assertRaises(h.call(q, "a", "task_done", 1), "TypeError", null);
    }

    @Test
    void closedSessionsJoinIsDropped() {
        SharedObject q = h.create("JoinableQueue");
        await(h.call(q, "a", "put", 1));
        CompletableFuture<Object> j = h.call(q, "b", "join", 30);
        h.assertParked(j);
        h.closeSession(q, "b");
        assertEquals(0, h.activeTimers());
        await(h.call(q, "a", "get"));
        await(h.call(q, "a", "task_done"));
        h.assertAbandoned(j);
    }
}
