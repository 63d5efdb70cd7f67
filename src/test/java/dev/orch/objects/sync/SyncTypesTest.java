package dev.orch.objects.sync;

import static dev.orch.objects.sync.SyncHarness.await;
import static dev.orch.objects.sync.SyncHarness.awaitError;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.orch.objects.SharedObject;
import dev.orch.objects.SharedType;
import dev.orch.protocol.OrchException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

class SyncTypesTest extends SyncTestBase {

    @Test
    void registersEveryTypeInOrderWithItsExposedMethods() {
        List<String> ids = new ArrayList<>();
        for (SharedType t : h.registry().all()) {
            ids.add(t.typeid());
        }
        assertEquals(List.of("Queue", "JoinableQueue", "Lock", "RLock", "Semaphore", "BoundedSemaphore", "Event",
                "Condition", "Barrier"), ids);
        // Both are queue.Queue in Python's SyncManager, task_done and join included.
        for (String id : List.of("Queue", "JoinableQueue")) {
            assertEquals(List.of("put", "get", "put_nowait", "get_nowait", "qsize", "empty", "full", "task_done", "join",
                    "__repr__"), h.registry().get(id).exposed(), id);
        }
        for (String id : List.of("Lock", "RLock", "Semaphore", "BoundedSemaphore")) {
            assertEquals(List.of("acquire", "release", "__repr__"), h.registry().get(id).exposed(), id);
        }
        assertEquals(List.of("set", "clear", "is_set", "wait", "__repr__"), h.registry().get("Event").exposed());
        assertEquals(List.of("acquire", "release", "wait", "notify", "notify_all", "__repr__"),
                h.registry().get("Condition").exposed());
        assertEquals(List.of("wait", "reset", "abort", "parties", "n_waiting", "broken", "__repr__"),
                h.registry().get("Barrier").exposed());
    }

    @Test
    void disposeFailsParkedCallsOfEveryType() {
        List<CompletableFuture<Object>> parked = new ArrayList<>();
        List<SharedObject> objects = new ArrayList<>();
        SharedObject q = h.create("Queue");
        parked.add(h.call(q, "a", "get", true, 30));
        objects.add(q);
        SharedObject jq = h.create("JoinableQueue");
        await(h.call(jq, "a", "put", 1));
        parked.add(h.call(jq, "a", "join", 30));
        objects.add(jq);
        for (String id : List.of("Lock", "RLock")) {
            SharedObject l = h.create(id);
            await(h.call(l, "a", "acquire"));
            parked.add(h.call(l, "b", "acquire", true, 30));
            objects.add(l);
        }
        for (String id : List.of("Semaphore", "BoundedSemaphore")) {
            SharedObject s = h.create(id, 0);
            parked.add(h.call(s, "b", "acquire", true, 30));
            objects.add(s);
        }
        SharedObject e = h.create("Event");
        parked.add(h.call(e, "a", "wait", 30));
        objects.add(e);
        SharedObject c = h.create("Condition");
        await(h.call(c, "a", "acquire"));
        parked.add(h.call(c, "a", "wait", 30));
        objects.add(c);
        SharedObject b = h.create("Barrier", 2);
        parked.add(h.call(b, "a", "wait", 30));
        objects.add(b);

        h.assertParked(parked.toArray(new CompletableFuture[0]));
        assertEquals(parked.size(), h.activeTimers());
        for (SharedObject o : objects) {
            h.dispose(o);
        }
        for (CompletableFuture<Object> f : parked) {
            OrchException err = awaitError(f);
            assertEquals(404, err.code().code());
            assertEquals("NotFound", err.name());
            assertEquals("the object was destroyed", err.detail());
        }
        assertEquals(0, h.activeTimers());
    }

    @Test
    void unknownMethodIsNotFound() {
        SharedObject l = h.create("Lock");
        OrchException e = awaitError(h.call(l, "a", "locked"));
        assertEquals(404, e.code().code());
    }
}
