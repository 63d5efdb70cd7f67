package dev.orch.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.orch.client.OrchClient;
import dev.orch.client.RemoteObject;
import dev.orch.protocol.ErrorCode;
import dev.orch.protocol.OrchException;
import dev.orch.testing.Poll;
import dev.orch.testing.RawClient;
import dev.orch.testing.TestServer;
import dev.orch.testing.TestServerExtension;
import io.vertx.core.VertxOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Shared objects stored in shared objects (PROTOCOL.md §5, "References"): a holder keeps its
 * referents alive, answers hand out references the receiving session owns, and a referent goes
 * once nothing holds it. Two event loops, so that holders and referents live on different threads.
 */
class ReferencesTest {
    @RegisterExtension
    static final TestServerExtension server = TestServerExtension.perClass(c -> c.eventLoops(2));
    static OrchClient client;

    @BeforeAll
    static void connect() {
        client = server.sharedClient();
    }

    private static JsonObject listing(String id) {
        return client.objects().stream().map(o -> (JsonObject) o).filter(o -> o.getString("id").equals(id))
                .findFirst().orElse(null);
    }

    private static void awaitGone(String id) {
        Poll.until(Duration.ofSeconds(10), "object " + id + " to be destroyed", () -> listing(id) == null);
    }

    private static OrchException code(ErrorCode expected, org.junit.jupiter.api.function.Executable call) {
        OrchException e = assertThrows(OrchException.class, call);
        assertEquals(expected, e.code(), e.getMessage());
        return e;
    }

    @Test
    void aDictKeepsAListAliveAndHandsOutWorkingReferences() {
        RemoteObject d = client.create("dict");
        RemoteObject l = client.create("list");
        d.call("__setitem__", "x", l);
        client.release(l);
        assertEquals(1, listing(l.id()).getInteger("refs"), "the dict's hold");

        Object read = d.call("__getitem__", "x");
        assertInstanceOf(JsonObject.class, read);
        assertEquals(l.id(), ((JsonObject) read).getString("orch.ref"));
        assertEquals("list", ((JsonObject) read).getString("typeid"));
        RemoteObject again = client.adopt(read);
        again.call("append", 7);
        Poll.until(Duration.ofSeconds(10), "the answer's reference to be the session's", () -> listing(l.id()).getInteger("refs") == 2);

        // Another session reads it too, and its reference goes with it.
        try (OrchClient other = server.client()) {
            RemoteObject theirs = other.adopt(other.lookupId(d.id()).call("get", "x"));
            assertEquals(new JsonArray().add(7), theirs.call("__getitem__", new JsonObject()));
            Poll.until(Duration.ofSeconds(10), "the other session's reference", () -> listing(l.id()).getInteger("refs") == 3);
        }
        Poll.until(Duration.ofSeconds(10), "the other session's references to go", () -> listing(l.id()).getInteger("refs") == 2);

        d.call("__delitem__", "x");
        Poll.until(Duration.ofSeconds(10), "the dict's hold to go", () -> listing(l.id()).getInteger("refs") == 1);
        assertEquals(1L, ((Number) again.call("__len__")).longValue());
        client.release(again);
        awaitGone(l.id());
        client.release(d);
    }

    @Test
    void aHandleAnywhereInAnArgumentGoesAsAReference() {
        RemoteObject d = client.create("dict");
        RemoteObject e = client.create("Event");
        d.call("__setitem__", "pair", java.util.List.of(e, java.util.Map.of("again", e)));
        client.release(e);
        assertEquals(2, listing(e.id()).getInteger("refs"));
        JsonArray pair = (JsonArray) d.call("__getitem__", "pair");
        RemoteObject first = client.adopt(pair.getValue(0));
        RemoteObject second = client.adopt(pair.getJsonObject(1).getValue("again"));
        first.call("set");
        assertEquals(true, second.call("is_set"));
        client.release(first);
        client.release(second);
        client.release(d);
        awaitGone(e.id());
    }

    @Test
    void aReleasedObjectIsGoneFromTheNextRequestsView() throws Exception {
        // Sent back to back: the manager answers them in order, and the release's destroy comes first.
        for (int i = 0; i < 5; i++) {
            try (RawClient raw = server.raw()) {
                raw.login(TestServer.KEY);
                String id = raw.manager(new JsonObject().put("op", "create").put("typeid", "dict"))
                        .getJsonObject("body").getString("id");
                // One write, so that the server reads both in one go.
                raw.writeRaw(frames(
                        new JsonObject().put("type", "send").put("address", "orch.manager").put("replyAddress", "rel")
                                .put("body", new JsonObject().put("op", "release").put("id", id)),
                        new JsonObject().put("type", "send").put("address", "orch.manager").put("replyAddress", "list")
                                .put("body", new JsonObject().put("op", "objects"))));
                JsonObject objects = raw.read();
                while (!"list".equals(objects.getString("address"))) {
                    objects = raw.read();
                }
                assertFalse(objects.getJsonObject("body").getJsonArray("objects").stream()
                        .anyMatch(o -> id.equals(((JsonObject) o).getString("id"))), objects.encode());
            }
        }
    }

    /** Hosted by a Java worker: writes into the shared dict whose reference it is given. */
    public static final class Filler {
        private final OrchClient worker;

        Filler(OrchClient worker) {
            this.worker = worker;
        }

        public String fill(JsonObject ref) {
            RemoteObject d = worker.lookupId(ref.getString("orch.ref"));
            d.call("__setitem__", "by", "java");
            worker.release(d);
            return d.typeid();
        }
    }

    @Test
    void aJavaWorkerLooksUpAReferenceItIsGiven() {
        try (OrchClient worker = server.client()) {
            worker.host("Filler", () -> new Filler(worker), Filler.class);
            RemoteObject filler = client.create("Filler");
            RemoteObject d = client.create("dict");
            assertEquals("dict", filler.call("fill", d));
            assertEquals("java", d.call("__getitem__", "by"));
            assertEquals(1, listing(d.id()).getInteger("refs"), "the worker let go of its reference");
            client.release(filler);
            client.release(d);
        }
    }

    private static byte[] frames(JsonObject... frames) {
        java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
        for (JsonObject f : frames) {
            byte[] json = f.encode().getBytes(java.nio.charset.StandardCharsets.UTF_8);
            bytes.writeBytes(java.nio.ByteBuffer.allocate(4).putInt(json.length).array());
            bytes.writeBytes(json);
        }
        return bytes.toByteArray();
    }

    @Test
    void destroyingTheHolderLetsGoOfWhatItHolds() {
        RemoteObject inner = client.create("dict");
        RemoteObject outer = client.create("list", new JsonArray().add(inner.ref()).add(new JsonArray().add(inner.ref())));
        client.release(inner);
        assertEquals(2, listing(inner.id()).getInteger("refs"), "held twice by one list");
        client.release(outer);
        awaitGone(inner.id());
    }

    @Test
    void everyBuiltinContainerHolds() {
        RemoteObject target = client.create("Event");
        RemoteObject value = client.create("Value", target);
        RemoteObject ns = client.create("Namespace");
        ns.call("__setattr__", "e", target);
        RemoteObject q = client.create("Queue");
        q.call("put", target);
        client.release(target);
        assertEquals(3, listing(target.id()).getInteger("refs"));

        RemoteObject viaQueue = client.adopt(q.call("get"));
        assertEquals(false, viaQueue.call("is_set"));
        client.adopt(value.call("get")).call("set");
        assertEquals(true, client.adopt(ns.call("__getattr__", "e")).call("is_set"));
        client.release(value);
        client.release(ns);
        client.release(q);
        Poll.until(Duration.ofSeconds(10), "only the three adopted references left",
                () -> listing(target.id()).getInteger("refs") == 3);
    }

    @Test
    void aReferenceToNothingChangesNothing() {
        RemoteObject d = client.create("dict");
        code(ErrorCode.NOT_FOUND, () -> d.call("__setitem__", "y", new JsonObject().put("orch.ref", "no-such-id")));
        assertEquals(0L, ((Number) d.call("__len__")).longValue());
        OrchException bad = code(ErrorCode.BAD_REQUEST, () -> d.call("__setitem__", "y", new JsonObject().put("orch.ref", 5)));
        assertTrue(bad.getMessage().contains("orch.ref"), bad.getMessage());
        RemoteObject gone = client.create("list");
        client.release(gone);
        code(ErrorCode.NOT_FOUND, () -> client.create("list", new JsonArray().add(gone.ref())));
        client.release(d);
    }

    @Test
    void aDeletedNamedReferentComesBackBare() {
        RemoteObject named = client.create("refs-named", "list", new JsonArray(), new JsonObject());
        RemoteObject d = client.create("dict");
        d.call("__setitem__", "n", named);
        assertEquals("list", client.adopt(d.call("__getitem__", "n")).typeid());
        client.delete("refs-named");
        Object bare = d.call("__getitem__", "n");
        assertEquals(new JsonObject().put("orch.ref", named.id()), bare);
        code(ErrorCode.NOT_FOUND, () -> client.adopt(bare));
        client.release(d);
    }

    @Test
    void aQueueHandsAReferenceToAParkedGetterAndAnotherSession() throws Exception {
        RemoteObject q = client.create("Queue");
        RemoteObject item = client.create("dict");
        try (OrchClient consumer = server.client()) {
            RemoteObject theirQ = consumer.lookupId(q.id());
            var parked = theirQ.callAsync("get");
            Poll.until(Duration.ofSeconds(10), "the get to park", () -> {
                return ((Number) q.call("qsize")).intValue() == 0 && !parked.isDone();
            });
            q.call("put", item);
            client.release(item);
            RemoteObject got = consumer.adopt(parked.get());
            got.call("__setitem__", "from", "consumer");
            Poll.until(Duration.ofSeconds(10), "the consumer's reference", () -> listing(item.id()) != null
                    && listing(item.id()).getInteger("refs") == 1);
        }
        awaitGone(item.id());
        client.release(q);
    }

    @Test
    void anItemWhoseGetterDiedGoesBackWithItsReference() throws Exception {
        // As DeadCallerTest plays it: one loop held busy while the put and then the getter's end
        // arrive, so the answer carrying the reference is queued for a connection that closes.
        try (TestServer s = TestServer.start(new VertxOptions().setEventLoopPoolSize(1), c -> c.eventLoops(1));
                OrchClient owner = s.client(); RawClient getter = s.raw()) {
            RemoteObject q = owner.create("Queue");
            RemoteObject item = owner.create("list");
            getter.login(TestServer.KEY);
            getter.send(q.address(), "g1", new JsonObject().put("method", "get"));
            Poll.until(Duration.ofSeconds(10), "the get to park", () -> {
                try {
                    return ((Number) getter.request(q.address(), new JsonObject().put("method", "qsize"))
                            .getJsonObject("body").getValue("result")).intValue() == 0;
                } catch (java.io.IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            });
            CountDownLatch held = new CountDownLatch(1);
            s.vertx.nettyEventLoopGroup().next().execute(() -> {
                held.countDown();
                sleep(700);
            });
            assertTrue(held.await(10, TimeUnit.SECONDS));
            var put = q.callAsync("put", item);
            Thread.sleep(200);
            getter.close();
            put.get(10, TimeUnit.SECONDS);
            owner.release(item);
            Poll.until(Duration.ofSeconds(10), "the item to come back to the queue", () -> ((Number) q.call("qsize")).intValue() == 1);
            RemoteObject back = owner.adopt(q.call("get_nowait"));
            assertEquals(item.id(), back.id());
            assertEquals(0L, ((Number) back.call("__len__")).longValue());
            owner.release(back);
            Poll.until(Duration.ofSeconds(10), "the item to go", () -> owner.objects().stream()
                    .noneMatch(o -> ((JsonObject) o).getString("id").equals(item.id())));
        }
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Test
    void containsAndRemoveCompareReferencesById() {
        RemoteObject a = client.create("dict");
        RemoteObject l = client.create("list", new JsonArray().add(a.ref()).add(1));
        assertEquals(true, l.call("__contains__", a));
        assertEquals(0L, ((Number) l.call("index", a)).longValue());
        l.call("remove", a);
        assertEquals("[1]", ((JsonArray) l.call("__getitem__", new JsonObject())).encode());
        client.release(l);
        assertNull(listing(l.id()));
        assertEquals(1, listing(a.id()).getInteger("refs"));
        client.release(a);
        assertFalse(listing(a.id()) != null);
    }
}
