package dev.orch.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.orch.client.OrchClient;
import dev.orch.client.RemoteObject;
import dev.orch.protocol.ErrorCode;
import dev.orch.protocol.OrchException;
import dev.orch.testing.RawClient;
import dev.orch.testing.TestServer;
import dev.orch.testing.TestServerExtension;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The sync types through a real socket: every blocking call's timeout, and many parked waiters. */
class SyncOverTheWireTest {
    @RegisterExtension
    static final TestServerExtension server = TestServerExtension.perClass();
    static OrchClient client;

    @BeforeAll
    static void connect() {
        client = server.sharedClient();
    }

    private static JsonObject timeout(double seconds) {
        return new JsonObject().put("timeout", seconds);
    }

    /** Runs a blocking call with a 0.3 s server-side timeout and checks it took about that long. */
    private static Object timed(RemoteObject o, String method, JsonArray args, JsonObject kwargs) {
        long t0 = System.nanoTime();
        try {
            return o.call(method, args, kwargs);
        } finally {
            long ms = (System.nanoTime() - t0) / 1_000_000;
            assertTrue(ms >= 270, method + " returned after " + ms + " ms, before its timeout");
            assertTrue(ms < 5_000, method + " took " + ms + " ms");
        }
    }

    private static void raises(String name, Runnable call) {
        OrchException e = assertThrows(OrchException.class, call::run);
        assertEquals(ErrorCode.REMOTE, e.code());
        assertEquals(name, e.name());
    }

    @Test
    void everyBlockingCallTimesOutOnTheServer() {
        JsonArray none = new JsonArray();
        RemoteObject q = client.create("Queue", 1);
        raises("Empty", () -> timed(q, "get", none, timeout(0.3)));
        q.call("put", 1);
        raises("Full", () -> timed(q, "put", new JsonArray().add(2), timeout(0.3)));

        RemoteObject jq = client.create("JoinableQueue");
        jq.call("put", "task");
        assertEquals(false, timed(jq, "join", none, timeout(0.3)));

        RemoteObject lock = client.create("Lock");
        RemoteObject rlock = client.create("RLock");
        RemoteObject sem = client.create("Semaphore", 1);
        try (OrchClient other = server.client()) {
            other.lookupId(lock.id()).call("acquire");
            other.lookupId(rlock.id()).call("acquire");
            other.lookupId(sem.id()).call("acquire");
            assertEquals(false, timed(lock, "acquire", none, timeout(0.3)));
            assertEquals(false, timed(rlock, "acquire", none, timeout(0.3)));
            assertEquals(false, timed(sem, "acquire", none, timeout(0.3)));
        }

        RemoteObject ev = client.create("Event");
        assertEquals(false, timed(ev, "wait", none, timeout(0.3)));

        RemoteObject cond = client.create("Condition");
        cond.call("acquire");
        assertEquals(false, timed(cond, "wait", none, timeout(0.3)));
        cond.call("release");

        RemoteObject barrier = client.create("Barrier", 2);
        raises("BrokenBarrierError", () -> timed(barrier, "wait", none, timeout(0.3)));
        assertEquals(true, barrier.call("broken"));
    }

    @Test
    void aParkedCallIsWithdrawnByItsCallerAlone() throws Exception {
        RemoteObject q = client.create("Queue");
        try (RawClient raw = server.raw(); RawClient other = server.raw()) {
            raw.login(TestServer.KEY);
            other.login(TestServer.KEY);
            raw.send(q.address(), "g1", new JsonObject().put("method", "get"));
            assertEquals(false, other.request(q.address(), new JsonObject().put("cancel", "g1")).getJsonObject("body")
                    .getValue("result"), "another session withdrew the call");
            assertEquals(400, raw.request(q.address(), new JsonObject().put("cancel", 1)).getInteger("failureCode"));
            // Both a call and a cancel: neither runs (the put would have answered g1, the cancel withdrawn it).
            JsonObject both = raw.request(q.address(), new JsonObject().put("method", "put")
                    .put("args", new JsonArray().add("both")).put("cancel", "g1"));
            assertEquals(400, both.getInteger("failureCode"), both.encode());
            raw.send(q.address(), "c1", new JsonObject().put("cancel", "g1"));
            JsonObject withdrawn = null;
            JsonObject cancelled = null;
            for (int i = 0; i < 2; i++) {
                JsonObject f = raw.read();
                if ("g1".equals(f.getString("address"))) {
                    withdrawn = f;
                } else {
                    cancelled = f;
                }
            }
            assertEquals("err", withdrawn.getString("type"));
            assertEquals(499, withdrawn.getInteger("failureCode"));
            assertEquals("Cancelled", withdrawn.getString("name"));
            assertEquals(true, cancelled.getJsonObject("body").getValue("result"));
            assertEquals(false, raw.request(q.address(), new JsonObject().put("cancel", "g1")).getJsonObject("body")
                    .getValue("result"), "a call was withdrawn twice");
            q.call("put", "item");
            assertEquals(1, ((Number) q.call("qsize")).intValue(), "the withdrawn get took the item");
        }
    }

    @Test
    void tenThousandWaitersOnOneEventNeedNoThreads() throws Exception {
        RemoteObject ev = client.create("Event");
        List<OrchClient> clients = new ArrayList<>();
        List<CompletableFuture<Object>> waits = new ArrayList<>();
        int threadsBefore = Thread.activeCount();
        try {
            for (int c = 0; c < 4; c++) {
                OrchClient oc = server.client();
                clients.add(oc);
                RemoteObject mine = oc.lookupId(ev.id());
                for (int i = 0; i < 2_500; i++) {
                    waits.add(mine.callAsync("wait"));
                }
                // Once this answers on the same connection and object thread, all 2,500 are parked.
                assertEquals(false, mine.call("is_set"));
            }
            int threadsParked = Thread.activeCount();
            assertTrue(threadsParked - threadsBefore < 50,
                    "10,000 parked calls added " + (threadsParked - threadsBefore) + " threads");
            assertTrue(waits.stream().noneMatch(CompletableFuture::isDone));
            long t0 = System.nanoTime();
            ev.call("set");
            CompletableFuture.allOf(waits.toArray(new CompletableFuture[0])).get(30, TimeUnit.SECONDS);
            assertTrue(waits.stream().allMatch(w -> Boolean.TRUE.equals(w.join())));
            System.out.printf("10,000 waiters released in %d ms%n", (System.nanoTime() - t0) / 1_000_000);
        } finally {
            clients.forEach(OrchClient::close);
        }
    }

    @Test
    void javaWrappersForQueuesAndLocks() throws Exception {
        dev.orch.client.RemoteQueue q = client.queue("wrapped-q", 1);
        assertEquals(q.object().id(), client.queue("wrapped-q", 1).object().id(), "second call finds the same queue");
        q.put("a");
        assertEquals(false, q.offer("b", java.time.Duration.ofMillis(100)));
        assertEquals(1, q.size());
        assertEquals("a", q.poll(java.time.Duration.ofSeconds(1)));
        assertEquals(null, q.poll(java.time.Duration.ofMillis(100)));
        CompletableFuture<Object> later = q.takeAsync();
        q.put("c");
        assertEquals("c", later.get(5, TimeUnit.SECONDS));
        dev.orch.client.RemoteLock lock = client.lock("wrapped-lock");
        try (dev.orch.client.RemoteLock.Held held = lock.hold()) {
            try (OrchClient other = server.client()) {
                assertEquals(false, other.lock("wrapped-lock").tryLock(java.time.Duration.ofMillis(100)));
            }
        }
        assertEquals(true, lock.tryLock(java.time.Duration.ofMillis(100)));
        lock.unlock();
        assertThrows(IllegalArgumentException.class, () -> client.lookup("wrapped-q").asLock());
        client.delete("wrapped-q");
        client.delete("wrapped-lock");
    }

    @Test
    void aLockIsReleasedWhenItsHolderDisconnects() throws Exception {
        RemoteObject lock = client.create("Lock");
        OrchClient holder = server.client();
        holder.lookupId(lock.id()).call("acquire");
        CompletableFuture<Object> waiting = lock.callAsync("acquire");
        assertEquals(false, lock.call("acquire", false));
        holder.close();
        assertEquals(true, waiting.get(10, TimeUnit.SECONDS));
        assertThrows(OrchException.class, () -> lock.call("acquire", new JsonArray(), new JsonObject().put("bogus", 1)));
    }
}
