package dev.orch.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

import dev.orch.testing.Poll;
import dev.orch.testing.RawClient;
import dev.orch.testing.TestServer;
import dev.orch.testing.TestServerExtension;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A {@code send} whose {@code replyAddress} names a request of the same connection still in
 * flight is refused with 409 {@code Conflict} (PROTOCOL.md §2): otherwise a cancel withdrew the
 * later of two parked calls and left the earlier one beyond withdrawal, to take an item for an
 * answer its caller could not tell from the other's.
 */
class ReplyAddressInUseTest {
    @RegisterExtension
    static final TestServerExtension server = TestServerExtension.perClass();

    private static final JsonObject GET = new JsonObject().put("method", "get");

    private static RawClient login() throws IOException {
        RawClient c = server.raw();
        c.login(TestServer.KEY);
        return c;
    }

    /** A new queue made by {@code c}: its calls from {@code c} run on c's own loop. */
    private static String queue(RawClient c, String name) throws IOException {
        JsonObject create = new JsonObject().put("op", "create").put("typeid", "Queue");
        if (name != null) {
            create.put("name", name);
        }
        return "orch.obj." + c.manager(create).getJsonObject("body").getString("id");
    }

    private static void put(RawClient c, String queue, String item) throws IOException {
        JsonObject r = c.request(queue, new JsonObject().put("method", "put").put("args", new JsonArray().add(item)));
        assertEquals("message", r.getString("type"), r.encode());
    }

    private static long qsize(RawClient c, String queue) throws IOException {
        JsonObject r = c.request(queue, new JsonObject().put("method", "qsize"));
        return r.getJsonObject("body").getLong("result");
    }

    /** The frame that comes next, which must be an answer to {@code address}. */
    private static JsonObject next(RawClient c, String address) throws IOException {
        JsonObject f = c.read();
        assertNotNull(f, "the connection closed");
        assertEquals(address, f.getString("address"), f.encode());
        return f;
    }

    private static void assertConflict(JsonObject f) {
        assertEquals("err", f.getString("type"), f.encode());
        assertEquals(409, f.getInteger("failureCode"), f.encode());
        assertEquals("Conflict", f.getString("name"), f.encode());
        assertEquals("Conflict: replyAddress already in use by a request in flight", f.getString("message"));
    }

    /** Nothing is queued for {@code c} ahead of the answer to a ping sent now (answers written at once come first). */
    private static void nothingPending(RawClient c) throws IOException {
        c.write("{\"type\":\"ping\"}");
        JsonObject f = c.read();
        assertNotNull(f, "the connection closed");
        assertEquals("pong", f.getString("type"), "unexpected frame " + f.encode());
    }

    @Test
    void aSecondParkedGetUnderTheSameReplyAddressIsRefusedAndTheFirstIsAnswered() throws Exception {
        try (RawClient raw = login(); RawClient other = login()) {
            // The queue on the caller's own loop (calls run in place) and on another's (through the event bus).
            for (String q : new String[] {queue(raw, null), queue(other, null)}) {
                raw.send(q, "R", GET);
                raw.send(q, "R", GET);
                assertConflict(next(raw, "R"));
                nothingPending(raw);
                put(other, q, "first");
                JsonObject got = next(raw, "R");
                assertEquals("message", got.getString("type"), got.encode());
                assertEquals("first", got.getJsonObject("body").getValue("result"));
                put(other, q, "second");
                assertEquals(1, qsize(other, q), "the refused get took an item");
                nothingPending(raw);
            }
        }
    }

    @Test
    void aReplyAddressIsFreeAgainOnceItsRequestIsAnswered() throws Exception {
        try (RawClient raw = login(); RawClient other = login()) {
            String q = queue(raw, null);
            raw.send(q, "R", GET);
            put(other, q, "one");
            assertEquals("one", next(raw, "R").getJsonObject("body").getValue("result"));
            // Answered: R may name a new request, parked too.
            raw.send(q, "R", GET);
            assertEquals(0, qsize(raw, q), "the second get is parked, not refused");
            put(other, q, "two");
            assertEquals("two", next(raw, "R").getJsonObject("body").getValue("result"));
            // So once it failed, and once it was withdrawn.
            raw.send("orch.obj.nothing", "R", GET);
            assertEquals(404, next(raw, "R").getInteger("failureCode"));
            raw.send(q, "R", GET);
            raw.send(q, "c1", new JsonObject().put("cancel", "R"));
            assertEquals(499, next(raw, "R").getInteger("failureCode"));
            assertEquals(true, next(raw, "c1").getJsonObject("body").getValue("result"));
            raw.send(q, "R", new JsonObject().put("method", "qsize"));
            assertEquals(0L, next(raw, "R").getJsonObject("body").getLong("result"));
        }
    }

    @Test
    void aCancelWithdrawsTheOneParkedCallOfItsReplyAddress() throws Exception {
        try (RawClient raw = login(); RawClient other = login()) {
            String q = queue(other, null);
            raw.send(q, "R", GET);
            raw.send(q, "R", GET);
            assertConflict(next(raw, "R"));
            // A cancel that names itself by the call's own address is a request under it too: refused, not carried out.
            raw.send(q, "R", new JsonObject().put("cancel", "R"));
            assertConflict(next(raw, "R"));
            raw.send(q, "c1", new JsonObject().put("cancel", "R"));
            JsonObject withdrawn = null;
            JsonObject cancel = null;
            for (int i = 0; i < 2; i++) {
                JsonObject f = raw.read();
                assertNotNull(f, "the connection closed");
                if ("R".equals(f.getString("address"))) {
                    withdrawn = f;
                } else {
                    cancel = f;
                }
            }
            assertNotNull(withdrawn, "the parked get was not answered");
            assertEquals(499, withdrawn.getInteger("failureCode"), withdrawn.encode());
            assertEquals("c1", cancel.getString("address"), cancel.encode());
            assertEquals(true, cancel.getJsonObject("body").getValue("result"));
            put(other, q, "item");
            assertEquals(1, qsize(other, q), "a get took the item after its call was withdrawn");
            assertEquals(false, raw.request(q, new JsonObject().put("cancel", "R")).getJsonObject("body").getValue("result"),
                    "a call was left parked under R");
            nothingPending(raw);
        }
    }

    @Test
    void aCallerThatDisconnectsWithAParkedGetTakesNoItem() throws Exception {
        try (RawClient raw = login(); RawClient other = login()) {
            String q = queue(other, "replyaddr-disconnect");
            raw.send(q, "R", GET);
            raw.send(q, "R", GET);
            assertConflict(next(raw, "R"));
            // Reply addresses are the connection's own: another one's R is a call of its own, parked behind.
            other.send(q, "R", GET);
            assertEquals(0, qsize(other, q));
            String gone = raw.session;
            raw.abort();
            Poll.until(Duration.ofSeconds(10), "the server to see the caller gone",
                    () -> server.get().server.connections().stream().noneMatch(c -> gone.equals(c.session())));
            other.send(q, "p1", new JsonObject().put("method", "put").put("args", new JsonArray().add("item")));
            JsonObject got = null;
            for (int i = 0; i < 2; i++) {
                JsonObject f = other.read();
                assertNotNull(f, "the connection closed");
                if ("R".equals(f.getString("address"))) {
                    got = f;
                } else {
                    assertEquals("p1", f.getString("address"), f.encode());
                }
            }
            assertNotNull(got);
            assertEquals("item", got.getJsonObject("body").getValue("result"), got.encode());
            assertEquals(0, qsize(other, q));
        }
    }

    @Test
    void refusedRequestsDoNotCountAgainstTheInFlightLimit() throws Exception {
        try (TestServer small = TestServer.start(c -> c.maxInFlight(2)); RawClient raw = small.raw()) {
            raw.login(TestServer.KEY);
            String q = queue(raw, null);
            raw.send(q, "R", GET);
            for (int i = 0; i < 5; i++) {
                raw.send(q, "R", GET);
                assertConflict(next(raw, "R"));
            }
            raw.send(q, "S", GET);
            raw.send(q, "T", GET);
            JsonObject third = next(raw, "T");
            assertEquals(429, third.getInteger("failureCode"), "refusals were counted as in flight: " + third.encode());
            // At the limit the limit speaks first, and a cancel still runs.
            raw.send(q, "S", GET);
            assertEquals(429, next(raw, "S").getInteger("failureCode"));
            raw.send(q, "c1", new JsonObject().put("cancel", "R"));
            assertEquals(499, next(raw, "R").getInteger("failureCode"));
            assertEquals(true, next(raw, "c1").getJsonObject("body").getValue("result"));
            // R withdrawn, the count is one again: a new request is taken, and a second one is over the limit.
            raw.send(q, "R", GET);
            raw.send(q, "U", GET);
            assertEquals(429, next(raw, "U").getInteger("failureCode"));
        }
    }
}
