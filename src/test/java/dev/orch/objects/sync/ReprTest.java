package dev.orch.objects.sync;

import static dev.orch.objects.sync.SyncHarness.assertRaises;
import static dev.orch.objects.sync.SyncHarness.await;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.orch.objects.SharedObject;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

/** {@code __repr__} of every sync type: its state as Python's repr() shows it (SYNC.md). */
class ReprTest extends SyncTestBase {

    private String repr(SharedObject o) {
        return (String) await(h.call(o, "x", "__repr__"));
    }

    @Test
    void lockShowsWhetherItIsLocked() {
        SharedObject l = h.create("Lock");
        assertEquals("<unlocked Lock object>", repr(l));
        await(h.call(l, "a", "acquire"));
        assertEquals("<locked Lock object>", repr(l));
        await(h.call(l, "b", "release")); // any session may release a Lock
        assertEquals("<unlocked Lock object>", repr(l));
    }

    @Test
    void rlockShowsItsOwnerAndCount() {
        SharedObject l = h.create("RLock");
        assertEquals("<unlocked RLock object owner=None count=0>", repr(l));
        await(h.call(l, "a", "acquire"));
        await(h.call(l, "a", "acquire"));
        assertEquals("<locked RLock object owner='a' count=2>", repr(l));
        CompletableFuture<Object> b = h.call(l, "b", "acquire");
        h.assertParked(b);
        assertEquals("<locked RLock object owner='a' count=2>", repr(l), "a parked acquirer changes nothing");
        await(h.call(l, "a", "release"));
        assertEquals("<locked RLock object owner='a' count=1>", repr(l));
        await(h.call(l, "a", "release"));
        assertEquals(true, await(b));
        assertEquals("<locked RLock object owner='b' count=1>", repr(l));
        h.closeSession(l, "b");
        assertEquals("<unlocked RLock object owner=None count=0>", repr(l));
    }

    @Test
    void semaphoreShowsItsValue() {
        SharedObject s = h.create("Semaphore", 2);
        assertEquals("<Semaphore: value=2>", repr(s));
        await(h.call(s, "a", "acquire"));
        await(h.call(s, "a", "acquire"));
        assertEquals("<Semaphore: value=0>", repr(s));
        CompletableFuture<Object> parked = h.call(s, "b", "acquire");
        h.assertParked(parked);
        assertEquals("<Semaphore: value=0>", repr(s));
        await(h.call(s, "a", "release", 3));
        assertEquals(true, await(parked));
        assertEquals("<Semaphore: value=2>", repr(s));
    }

    @Test
    void boundedSemaphoreShowsValueOverItsBound() {
        SharedObject s = h.create("BoundedSemaphore", 2);
        assertEquals("<BoundedSemaphore: value=2/2>", repr(s));
        await(h.call(s, "a", "acquire"));
        assertEquals("<BoundedSemaphore: value=1/2>", repr(s));
        assertEquals("<BoundedSemaphore: value=1/1>", repr(h.create("BoundedSemaphore")));
    }

    @Test
    void eventShowsItsFlag() {
        SharedObject e = h.create("Event");
        assertEquals("<Event: unset>", repr(e));
        await(h.call(e, "a", "set"));
        assertEquals("<Event: set>", repr(e));
        await(h.call(e, "a", "clear"));
        assertEquals("<Event: unset>", repr(e));
    }

    @Test
    void conditionShowsItsLockAndItsWaiters() {
        SharedObject c = h.create("Condition");
        assertEquals("<Condition(<unlocked RLock object owner=None count=0>, 0)>", repr(c));
        await(h.call(c, "a", "acquire"));
        CompletableFuture<Object> waiting = h.call(c, "a", "wait");
        h.assertParked(waiting);
        assertEquals("<Condition(<unlocked RLock object owner=None count=0>, 1)>", repr(c), "wait frees the lock");
        await(h.call(c, "b", "acquire"));
        await(h.call(c, "b", "acquire"));
        assertEquals("<Condition(<locked RLock object owner='b' count=2>, 1)>", repr(c));
        await(h.call(c, "b", "notify"));
        // Notified, the waiter queues for the lock: no longer one of the condition's waiters.
        assertEquals("<Condition(<locked RLock object owner='b' count=2>, 0)>", repr(c));
        await(h.call(c, "b", "release"));
        await(h.call(c, "b", "release"));
        assertEquals(true, await(waiting));
        assertEquals("<Condition(<locked RLock object owner='a' count=1>, 0)>", repr(c));
    }

    @Test
    void barrierShowsItsWaitersOrThatItIsBroken() {
        SharedObject b = h.create("Barrier", 3);
        assertEquals("<Barrier: waiters=0/3>", repr(b));
        CompletableFuture<Object> first = h.call(b, "a", "wait");
        h.assertParked(first);
        assertEquals("<Barrier: waiters=1/3>", repr(b));
        await(h.call(b, "c", "abort"));
        assertRaises(first, "BrokenBarrierError", "");
        assertEquals("<Barrier: broken>", repr(b));
        await(h.call(b, "c", "reset"));
        assertEquals("<Barrier: waiters=0/3>", repr(b));
    }

    @Test
    void queuesShowTheirSizesNotTheirItems() {
        SharedObject q = h.create("Queue", 10);
        assertEquals("<Queue object: qsize=0 maxsize=10>", repr(q));
        for (int i = 0; i < 3; i++) {
            await(h.call(q, "a", "put", "item-" + i));
        }
        assertEquals("<Queue object: qsize=3 maxsize=10>", repr(q));
        await(h.call(q, "a", "get"));
        assertEquals("<Queue object: qsize=2 maxsize=10>", repr(q));
        assertEquals("<Queue object: qsize=0 maxsize=0>", repr(h.create("Queue")), "unbounded");
        assertEquals("<Queue object: qsize=0 maxsize=0>", repr(h.create("Queue", -5)), "unbounded too");
        SharedObject jq = h.create("JoinableQueue", 2);
        await(h.call(jq, "a", "put", 1));
        assertEquals("<JoinableQueue object: qsize=1 maxsize=2>", repr(jq));
    }

    @Test
    void reprTakesNoArguments() {
        for (String typeid : List.of("Queue", "JoinableQueue", "Lock", "RLock", "Semaphore", "BoundedSemaphore",
                "Event", "Condition")) {
            SharedObject o = h.create(typeid);
            assertRaises(h.call(o, "a", "__repr__", 1), "TypeError", null);
        }
        assertRaises(h.call(h.create("Barrier", 2), "a", "__repr__", 1), "TypeError", null);
    }
}
