package dev.orch.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.orch.client.OrchClient;
import dev.orch.client.RemoteObject;
import dev.orch.protocol.Addresses;
import dev.orch.protocol.ErrorCode;
import dev.orch.protocol.OrchException;
import dev.orch.testing.RawClient;
import dev.orch.testing.TestServer;
import dev.orch.testing.TestServerExtension;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A worker-hosted object released or deleted while others call it, and a worker that leaves
 * while a create is in flight: every call ends, with its result, 404 or 410; never 504, never
 * a hang.
 */
class ReleaseRaceTest {
    @RegisterExtension
    static final TestServerExtension server = TestServerExtension.perClass();

    /** However long a call may take to end here: each is answered in milliseconds. */
    private static final long BOUND_MS = 10_000;
    private static final int WINDOW = 256;
    private static final AtomicInteger ROUNDS = new AtomicInteger();
    private static final JsonObject PING = new JsonObject().put("method", "ping");

    /** Calls go through the server, the route under test, not to the worker directly. */
    private static OrchClient client() {
        return OrchClient.connect(server.clientConfig().direct("off"));
    }

    @Test
    void callsRacingAReleaseOrADeleteEndWithTheirResultOr404() throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(2);
        try (OrchClient worker = client(); OrchClient owner = client(); OrchClient a = client(); OrchClient b = client()) {
            worker.host("Racy", List.of("ping"), (args, kwargs) -> (method, x, y, session) -> "pong");
            int[] outcomes = new int[2];
            for (int round = 0; round < 16; round++) {
                race(owner, round % 2 == 1, "Racy", List.of(a, b), pool, outcomes);
            }
            assertTrue(outcomes[0] > 0 && outcomes[1] > 0, outcomes[0] + " answered, " + outcomes[1] + " not found");
        } finally {
            pool.shutdownNow();
        }
    }

    /**
     * A worker that, as the Java and Python ones do, forgets an object at its release, and so
     * would leave a call that came after unanswered: the server hands it none.
     */
    @Test
    void aWorkerIsToldOfTheReleaseOnlyAfterEveryCallItIsHanded() throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(2);
        Set<String> late = ConcurrentHashMap.newKeySet();
        try (OrchClient owner = client(); OrchClient a = client(); OrchClient b = client(); RawClient worker = server.raw()) {
            worker.login(TestServer.KEY);
            worker.write(new JsonObject().put("type", "register").put("address", Addresses.host(worker.session))
                    .put("replyAddress", "reg"));
            assertEquals("reg", worker.read().getString("address"));
            worker.manager(new JsonObject().put("op", "host").put("typeid", "Told").put("exposed", new JsonArray().add("ping")));
            Thread serving = new Thread(() -> serve(worker, late), "raw-worker");
            serving.setDaemon(true);
            serving.start();
            int[] outcomes = new int[2];
            for (int round = 0; round < 8; round++) {
                race(owner, round % 2 == 1, "Told", List.of(a, b), pool, outcomes);
            }
            assertTrue(outcomes[0] > 0 && outcomes[1] > 0, outcomes[0] + " answered, " + outcomes[1] + " not found");
            assertEquals(Set.of(), late, "objects called after their release");
        } finally {
            pool.shutdownNow();
        }
    }

    /** Builds and answers as a worker does; records the objects it was called on after their release. */
    private static void serve(RawClient worker, Set<String> late) {
        Set<String> released = new HashSet<>();
        try {
            for (JsonObject f = worker.read(); f != null; f = worker.read()) {
                String address = f.getString("address", "");
                JsonObject body = f.getValue("body") instanceof JsonObject ? f.getJsonObject("body") : new JsonObject();
                if (address.equals(Addresses.host(worker.session)) && "create".equals(body.getString("op"))) {
                    String id = body.getString("id");
                    worker.write(new JsonObject().put("type", "register").put("address", Addresses.object(id)));
                    worker.send(f.getString("replyAddress"), null, new JsonObject().put("id", id));
                } else if (address.equals(Addresses.host(worker.session)) && "release".equals(body.getString("op"))) {
                    released.add(body.getString("id"));
                } else if (address.startsWith(Addresses.OBJECT_PREFIX) && f.getString("replyAddress") != null) {
                    String id = address.substring(Addresses.OBJECT_PREFIX.length());
                    if (released.contains(id)) {
                        late.add(id); // and, like a real worker, no answer
                    } else {
                        worker.send(f.getString("replyAddress"), null, new JsonObject().put("result", "pong"));
                    }
                }
            }
        } catch (IOException e) {
            // The test closed the connection.
        }
    }

    /**
     * One round: {@code owner} makes an object of {@code typeid}, the {@code callers} call it
     * from threads of {@code pool}, and it is released (deleted, when {@code named}) under them.
     * Every call must end with its result or 404; counts them into {@code outcomes}.
     */
    private static void race(OrchClient owner, boolean named, String typeid, List<OrchClient> callers,
            ExecutorService pool, int[] outcomes) throws Exception {
        RemoteObject o = named ? owner.named(typeid.toLowerCase() + ROUNDS.incrementAndGet(), typeid, new JsonArray())
                : owner.create(typeid);
        AtomicInteger sent = new AtomicInteger();
        CountDownLatch gone = new CountDownLatch(1);
        List<Future<List<CompletableFuture<Object>>>> bursts = new ArrayList<>();
        for (OrchClient c : callers) {
            bursts.add(pool.submit(() -> callUntilAfter(c, o.address(), sent, gone)));
        }
        while (sent.get() < 100) {
            Thread.onSpinWait();
        }
        if (named) {
            owner.delete(o.name());
        } else {
            owner.release(o);
        }
        gone.countDown();
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(BOUND_MS);
        for (Future<List<CompletableFuture<Object>>> burst : bursts) {
            for (CompletableFuture<Object> call : burst.get(BOUND_MS, TimeUnit.MILLISECONDS)) {
                outcomes[outcome(call, deadline) == null ? 0 : 1]++;
            }
        }
        // Once the release is answered, a new call finds no route at once.
        OrchException after = assertThrows(OrchException.class, () -> callers.get(0).request(o.address(), PING));
        assertEquals(ErrorCode.NOT_FOUND, after.code(), after.getMessage());
    }

    /**
     * Sends pipelined calls until {@code gone} and 50 more, up to {@link #WINDOW} in flight (well
     * under the server's limit per connection): many are queued on their way when the object goes.
     */
    private static List<CompletableFuture<Object>> callUntilAfter(OrchClient c, String address, AtomicInteger sent,
            CountDownLatch gone) {
        List<CompletableFuture<Object>> calls = new ArrayList<>();
        int after = 0;
        while (after < 50 && calls.size() < 20_000) {
            if (gone.getCount() == 0) {
                after++;
            }
            if (calls.size() >= WINDOW) {
                try {
                    calls.get(calls.size() - WINDOW).get(BOUND_MS, TimeUnit.MILLISECONDS);
                } catch (Exception e) {
                    // Its outcome is judged with the others'.
                }
            }
            calls.add(c.requestAsync(address, PING));
            sent.incrementAndGet();
        }
        return calls;
    }

    /** Null for the call's result, its error if that is 404; fails the test on anything else. */
    private static OrchException outcome(CompletableFuture<Object> call, long deadline) throws InterruptedException {
        try {
            Object r = call.get(Math.max(1, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
            assertEquals(new JsonObject().put("result", "pong"), r);
            return null;
        } catch (TimeoutException e) {
            return fail("a call on an object being released did not end within " + BOUND_MS + " ms");
        } catch (ExecutionException e) {
            if (e.getCause() instanceof OrchException && ((OrchException) e.getCause()).code() == ErrorCode.NOT_FOUND) {
                return (OrchException) e.getCause();
            }
            return fail("a call on an object being released failed otherwise than with 404: " + e.getCause());
        }
    }

    @Test
    void aWorkerThatLeavesWhileItBuildsTheObjectGives410() throws Exception {
        CountDownLatch building = new CountDownLatch(1);
        CountDownLatch never = new CountDownLatch(1);
        OrchClient worker = client();
        try (OrchClient user = client()) {
            worker.host("Stalled", List.of("ping"), (args, kwargs) -> {
                building.countDown();
                try {
                    never.await(BOUND_MS, TimeUnit.MILLISECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                return (method, x, y, session) -> "pong";
            });
            CompletableFuture<Object> create = user.createAsync(null, "Stalled", null, null);
            assertTrue(building.await(BOUND_MS, TimeUnit.MILLISECONDS));
            worker.close();
            ExecutionException e = assertThrows(ExecutionException.class, () -> create.get(BOUND_MS, TimeUnit.MILLISECONDS));
            assertEquals(ErrorCode.HOST_GONE, ((OrchException) e.getCause()).code(), e.getCause().getMessage());
            assertFalse(user.objects().stream().anyMatch(o -> "Stalled".equals(((JsonObject) o).getString("typeid"))));
        } finally {
            never.countDown();
            worker.close();
        }
    }

    @Test
    void createsRacingTheirWorkersDisconnectEndWith410OrAnObjectThatAnswers410() throws Exception {
        int gone = 0;
        try (OrchClient user = client()) {
            for (int round = 0; round < 45; round++) {
                String typeid = "Fleeting" + round;
                CompletableFuture<Object> create;
                try (RawClient worker = server.raw()) {
                    worker.login(TestServer.KEY);
                    worker.write(new JsonObject().put("type", "register").put("address", Addresses.host(worker.session))
                            .put("replyAddress", "reg"));
                    assertEquals("reg", worker.read().getString("address"));
                    assertEquals(typeid, worker.manager(new JsonObject().put("op", "host").put("typeid", typeid)
                            .put("exposed", new JsonArray().add("ping"))).getJsonObject("body").getString("typeid"));
                    create = user.createAsync(null, typeid, null, null);
                    // Gone as the request comes, once it has come, or just after answering it.
                    if (round % 3 != 0) {
                        JsonObject request = worker.read();
                        if (round % 3 == 2) {
                            String id = request.getJsonObject("body").getString("id");
                            worker.write(new JsonObject().put("type", "register").put("address", Addresses.object(id)));
                            worker.send(request.getString("replyAddress"), null, new JsonObject().put("id", id));
                        }
                    }
                    worker.abort();
                }
                try {
                    JsonObject made = (JsonObject) create.get(BOUND_MS, TimeUnit.MILLISECONDS);
                    assertEquals(2, round % 3, "only a worker that answered gives an object");
                    OrchException e = assertThrows(OrchException.class, () -> user.request(made.getString("address"), PING));
                    assertEquals(ErrorCode.HOST_GONE, e.code(), e.getMessage());
                    user.request(Addresses.MANAGER, new JsonObject().put("op", "release").put("id", made.getString("id")));
                } catch (ExecutionException e) {
                    OrchException oe = (OrchException) e.getCause();
                    if (oe.code() == ErrorCode.HOST_GONE) {
                        gone++;
                    } else {
                        // The create came after the worker's types went with it.
                        assertEquals(ErrorCode.NOT_FOUND, oe.code(), oe.getMessage());
                        assertTrue(oe.detail().startsWith("unknown typeid"), oe.getMessage());
                    }
                }
            }
        }
        assertTrue(gone > 0, "no create met its worker's end");
    }
}
