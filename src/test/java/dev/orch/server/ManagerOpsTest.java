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
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.util.List;
import java.util.stream.Collectors;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Every manager operation and every error code, through the Java client and raw frames. */
class ManagerOpsTest {
    @RegisterExtension
    static final TestServerExtension server = TestServerExtension.perClass(
            c -> c.object("greeting", "Value", new JsonArray().add("educative")));
    static OrchClient client;

    @BeforeAll
    static void connect() {
        client = server.sharedClient();
    }

    private static OrchException code(ErrorCode expected, org.junit.jupiter.api.function.Executable call) {
        OrchException e = assertThrows(OrchException.class, call);
        assertEquals(expected, e.code(), e.getMessage());
        return e;
    }

    private static boolean listed(OrchClient c, String id) {
        return c.objects().stream().map(o -> ((JsonObject) o).getString("id")).anyMatch(id::equals);
    }

    @Test
    void initialObjectIsNamedAndReadable() {
        RemoteObject g = client.lookup("greeting");
        assertEquals("Value", g.typeid());
        assertEquals("educative", g.call("get"));
        assertEquals("orch.obj." + g.id(), g.address());
        assertTrue(g.exposed().contains("set"));
    }

    @Test
    void createCallLookupDeleteNamedObject() {
        RemoteObject d = client.create("scores", "dict", new JsonArray(), new JsonObject().put("alice", 3));
        assertEquals("scores", d.name());
        d.call("__setitem__", "bob", 5);
        assertEquals(2L, ((Number) d.call("__len__")).longValue());
        RemoteObject again = client.lookup("scores");
        assertEquals(d.id(), again.id());
        assertEquals(5, ((Number) again.call("__getitem__", "bob")).intValue());
        assertEquals(d.id(), client.lookupId(d.id()).id());
        client.delete("scores");
        code(ErrorCode.NOT_FOUND, () -> client.lookup("scores"));
        code(ErrorCode.NOT_FOUND, () -> d.call("__len__"));
        code(ErrorCode.NOT_FOUND, () -> client.delete("scores"));
    }

    @Test
    void typesListsBuiltinsWithExposedMethods() {
        List<String> typeids = client.types().stream().map(t -> ((JsonObject) t).getString("typeid")).collect(Collectors.toList());
        assertTrue(typeids.containsAll(List.of("dict", "list", "Value", "Namespace", "Queue", "Lock", "Event", "Barrier")), typeids.toString());
        JsonObject dict = (JsonObject) client.types().stream().filter(t -> ((JsonObject) t).getString("typeid").equals("dict")).findFirst().get();
        assertEquals("server", dict.getString("host"));
        assertTrue(dict.getJsonArray("exposed").contains("__getitem__"));
    }

    @Test
    void statusCountsWhatTheListsHold() {
        JsonObject before = client.status();
        assertEquals(client.types().size(), before.getInteger("types"));
        assertEquals(client.objects().size(), before.getInteger("objects"));
        assertTrue(before.getInteger("sessions") >= 1, before.encode());
        RemoteObject l = client.create("list");
        assertEquals(before.getInteger("objects") + 1, client.status().getInteger("objects"));
        client.release(l);
        assertEquals(before.getInteger("objects"), client.status().getInteger("objects"));
    }

    @Test
    void anonymousObjectsAreReleasedByRefcount() {
        RemoteObject l = client.create("list", new JsonArray().add(1).add(2));
        JsonObject listedEntry = (JsonObject) client.objects().stream().filter(o -> ((JsonObject) o).getString("id").equals(l.id())).findFirst().get();
        assertEquals(1, listedEntry.getInteger("refs"));
        assertNull(listedEntry.getValue("name"));
        client.lookupId(l.id());
        client.release(l);
        assertTrue(listed(client, l.id()), "one reference left");
        client.release(l);
        assertFalse(listed(client, l.id()));
        code(ErrorCode.NOT_FOUND, () -> client.release(l));
    }

    @Test
    void manyReleasesGoInOneRequest() throws Exception {
        try (RawClient raw = server.raw()) {
            raw.login(TestServer.KEY);
            String a = raw.manager(new JsonObject().put("op", "create").put("typeid", "dict")).getJsonObject("body").getString("id");
            String b = raw.manager(new JsonObject().put("op", "create").put("typeid", "list")).getJsonObject("body").getString("id");
            JsonObject reply = raw.manager(new JsonObject().put("op", "release").put("ids", new JsonArray().add(a).add("no-such").add(b)));
            assertEquals(2, reply.getJsonObject("body").getInteger("released"), reply.encode());
            assertFalse(listed(client, a));
            assertFalse(listed(client, b));
            JsonObject bad = raw.manager(new JsonObject().put("op", "release").put("ids", new JsonArray().add(5)));
            assertEquals(400, bad.getInteger("failureCode"), bad.encode());
        }
    }

    @Test
    void anonymousObjectsDieWithTheirSession() {
        String id;
        try (OrchClient other = server.client()) {
            id = other.create("dict").id();
            assertTrue(listed(client, id));
        }
        Poll.until(Duration.ofSeconds(5), "object released on disconnect", () -> !listed(client, id));
    }

    @Test
    void anObjectWhoseCreatorLeftBeforeItExistedIsDestroyed() throws Exception {
        // The creator's end reaches the manager while the shard still builds the object: racy by
        // nature, so many creators (one in three or so leaked before the fix).
        try (TestServer s = TestServer.start(); OrchClient observer = s.client()) {
            for (int i = 0; i < 150; i++) {
                RawClient creator = s.raw();
                creator.login(TestServer.KEY);
                creator.send("orch.manager", "c1", new JsonObject().put("op", "create").put("typeid", "list"));
                creator.abort();
            }
            RawClient named = s.raw();
            named.login(TestServer.KEY);
            named.send("orch.manager", "c1", new JsonObject().put("op", "create").put("typeid", "list").put("name", "orphan"));
            named.abort();
            Poll.until(Duration.ofSeconds(5), "the named object, which lives until deleted",
                    () -> observer.objects().stream().anyMatch(o -> "orphan".equals(((JsonObject) o).getString("name"))));
            Poll.until(Duration.ofSeconds(5), "no anonymous object left", () -> observer.objects().stream()
                    .allMatch(o -> ((JsonObject) o).getString("name") != null));
        }
    }

    @Test
    void aHostedObjectWhoseCreatorLeftBeforeItExistedIsReleasedAtItsHost() throws Exception {
        try (TestServer s = TestServer.start(); RawClient host = s.raw(); RawClient creator = s.raw();
                OrchClient observer = s.client()) {
            host.login(TestServer.KEY);
            host.write(new JsonObject().put("type", "register").put("address", "orch.host." + host.session));
            host.manager(new JsonObject().put("op", "host").put("typeid", "Slow").put("exposed", new JsonArray().add("m")));
            creator.login(TestServer.KEY);
            creator.send("orch.manager", "c1", new JsonObject().put("op", "create").put("typeid", "Slow"));
            JsonObject create = host.read();
            String id = create.getJsonObject("body").getString("id");
            creator.abort();
            Poll.until(Duration.ofSeconds(5), "the creator's session to end",
                    () -> s.server.connections().stream().noneMatch(c -> creator.session.equals(c.session())));
            // A round trip through the manager, so that it has seen the session end too.
            observer.objects();
            host.write(new JsonObject().put("type", "register").put("address", "orch.obj." + id));
            host.write(new JsonObject().put("type", "send").put("address", create.getString("replyAddress"))
                    .put("body", new JsonObject().put("id", id)));
            JsonObject release = host.read();
            assertEquals("orch.host." + host.session, release.getString("address"), release.encode());
            assertEquals(new JsonObject().put("op", "release").put("id", id), release.getJsonObject("body"));
            Poll.until(Duration.ofSeconds(5), "the object gone", () -> !listed(observer, id));
        }
    }

    @Test
    void aWorkerMayNameEachObjectsMethodsInItsCreateAnswer() throws Exception {
        try (TestServer s = TestServer.start(); RawClient host = s.raw(); RawClient caller = s.raw()) {
            host.login(TestServer.KEY);
            host.write(new JsonObject().put("type", "register").put("address", "orch.host." + host.session));
            host.manager(new JsonObject().put("op", "host").put("typeid", "Made").put("exposed", new JsonArray()));
            caller.login(TestServer.KEY);
            JsonObject made = createAnswered(host, caller, new JsonArray().add("upper").add("__str__"));
            assertEquals(new JsonArray().add("upper").add("__str__"), made.getJsonObject("body").getJsonArray("exposed"));
            String address = made.getJsonObject("body").getString("address");
            caller.send(address, "m1", new JsonObject().put("method", "lower"));
            JsonObject refused = caller.read();
            assertEquals(404, refused.getInteger("failureCode"), refused.encode());
            caller.send(address, "m2", new JsonObject().put("method", "upper"));
            JsonObject call = host.read();
            assertEquals("upper", call.getJsonObject("body").getString("method"), "the listed method reached the worker");
            // An answer whose list is not one fails the create, and the worker lets the object go.
            JsonObject bad = createAnswered(host, caller, new JsonArray().add(5));
            assertEquals(502, bad.getInteger("failureCode"), bad.encode());
            JsonObject release = host.read();
            assertEquals("release", release.getJsonObject("body").getString("op"), release.encode());
        }
    }

    @Test
    void aCreateAnswerIsHeldToItsFormAndAWorkers404IsNotHostGone() throws Exception {
        try (TestServer s = TestServer.start(); RawClient host = s.raw(); RawClient caller = s.raw()) {
            host.login(TestServer.KEY);
            host.write(new JsonObject().put("type", "register").put("address", "orch.host." + host.session));
            host.manager(new JsonObject().put("op", "host").put("typeid", "Made").put("exposed", new JsonArray()));
            caller.login(TestServer.KEY);
            // These made an object that the worker never said it built.
            for (Object body : new Object[] {"x", 5, new JsonObject().put("error", 5)}) {
                caller.send("orch.manager", "c", new JsonObject().put("op", "create").put("typeid", "Made"));
                JsonObject create = host.read();
                host.write(new JsonObject().put("type", "send").put("address", create.getString("replyAddress")).put("body", body));
                JsonObject bad = caller.read();
                assertEquals(502, bad.getInteger("failureCode"), String.valueOf(body));
                JsonObject release = host.read();
                assertEquals(new JsonObject().put("op", "release").put("id", create.getJsonObject("body").getString("id")),
                        release.getJsonObject("body"));
            }
            // The constructor's own 404 was reported as 410 HostGone, the worker alive and well.
            caller.send("orch.manager", "c", new JsonObject().put("op", "create").put("typeid", "Made"));
            JsonObject create = host.read();
            host.write(new JsonObject().put("type", "send").put("address", create.getString("replyAddress")).put("body",
                    new JsonObject().put("error", new JsonObject().put("code", 404).put("name", "LookupError").put("message", "no config"))));
            JsonObject failed = caller.read();
            assertEquals(404, failed.getInteger("failureCode"), failed.encode());
            assertEquals("LookupError: no config", failed.getString("message"));
            assertEquals(new JsonArray().add("m"),
                    createAnswered(host, caller, new JsonArray().add("m")).getJsonObject("body").getJsonArray("exposed"));
        }
    }

    @Test
    void aWorkerGetsOnlyWellFormedCallsWithEveryField() throws Exception {
        try (TestServer s = TestServer.start(); RawClient host = s.raw(); RawClient caller = s.raw()) {
            host.login(TestServer.KEY);
            host.write(new JsonObject().put("type", "register").put("address", "orch.host." + host.session));
            host.manager(new JsonObject().put("op", "host").put("typeid", "Made").put("exposed", new JsonArray()));
            caller.login(TestServer.KEY);
            String address = createAnswered(host, caller, new JsonArray().add("m")).getJsonObject("body").getString("address");
            JsonObject[] malformed = {
                new JsonObject().put("foo", 1),
                new JsonObject().put("method", 7),
                new JsonObject().put("method", "m").put("args", "x"),
                new JsonObject().put("method", "m").put("kwargs", new JsonArray().add(1)),
            };
            for (JsonObject body : malformed) {
                caller.send(address, "bad", body);
                JsonObject refused = caller.read();
                assertEquals("bad", refused.getString("address"), refused.encode());
                assertEquals(400, refused.getInteger("failureCode"), body.encode());
            }
            caller.write(new JsonObject().put("type", "send").put("address", address).put("replyAddress", "s")
                    .put("body", "not an object"));
            assertEquals(400, caller.read().getInteger("failureCode"));
            // A call with only its method arrives with args, kwargs and the caller's session, and
            // nothing else the caller added (a session of its choosing least of all).
            caller.send(address, "ok", new JsonObject().put("method", "m").put("extra", 1).put("session", "forged"));
            JsonObject call = host.read();
            assertEquals(new JsonObject().put("method", "m").put("args", new JsonArray()).put("kwargs", new JsonObject())
                    .put("session", caller.session), call.getJsonObject("body"));
            // And its answer is held to a call answer's form.
            host.write(new JsonObject().put("type", "send").put("address", call.getString("replyAddress")).put("body", "x"));
            assertEquals(502, caller.read().getInteger("failureCode"));
        }
    }

    /** Has {@code caller} create a Made, answered by the raw {@code host} with {@code exposed}. */
    private static JsonObject createAnswered(RawClient host, RawClient caller, JsonArray exposed) throws Exception {
        caller.send("orch.manager", "c", new JsonObject().put("op", "create").put("typeid", "Made"));
        JsonObject create = host.read();
        String id = create.getJsonObject("body").getString("id");
        host.write(new JsonObject().put("type", "register").put("address", "orch.obj." + id));
        host.write(new JsonObject().put("type", "send").put("address", create.getString("replyAddress"))
                .put("body", new JsonObject().put("id", id).put("exposed", exposed)));
        return caller.read();
    }

    @Test
    void namedObjectsOutliveTheirCreator() {
        try (OrchClient other = server.client()) {
            other.create("kept", "Value", new JsonArray().add(1), null);
        }
        assertEquals(1, ((Number) client.lookup("kept").call("get")).intValue());
        client.delete("kept");
    }

    @Test
    void errorCodes() {
        code(ErrorCode.NOT_FOUND, () -> client.create("NoSuchType"));
        code(ErrorCode.NOT_FOUND, () -> client.lookup("nobody"));
        code(ErrorCode.NOT_FOUND, () -> client.lookupId("zz-9"));
        RemoteObject v = client.create("Value", 1);
        code(ErrorCode.NOT_FOUND, () -> v.call("explode"));
        code(ErrorCode.FORBIDDEN, () -> v.call("__class__"));
        client.create("taken", "Value", null, null);
        OrchException taken = code(ErrorCode.NAME_TAKEN, () -> client.create("taken", "dict", null, null));
        assertEquals("NameTaken", taken.name());
        client.delete("taken");
        OrchException badName = code(ErrorCode.BAD_REQUEST, () -> client.create("two\nlines", "dict", null, null));
        assertEquals("invalid object name 'two?lines' (1 to 256 characters, no control characters)", badName.detail());
        code(ErrorCode.BAD_REQUEST, () -> client.create("n".repeat(257), "dict", null, null));
        client.create("n".repeat(256), "dict", null, null);
        client.delete("n".repeat(256));
        RemoteObject d = client.create("dict");
        OrchException key = code(ErrorCode.REMOTE, () -> d.call("__getitem__", "x"));
        assertEquals("KeyError", key.name());
        assertEquals("'x'", key.detail());
        OrchException type = code(ErrorCode.REMOTE, () -> d.call("get"));
        assertEquals("TypeError", type.name());
        code(ErrorCode.REMOTE, () -> client.create("dict", 1, 2, 3));
        code(ErrorCode.BAD_REQUEST, () -> client.request("orch.manager", new JsonObject().put("op", "teleport")));
        code(ErrorCode.BAD_REQUEST, () -> client.request("orch.manager", new JsonObject()));
        code(ErrorCode.BAD_REQUEST, () -> client.request("orch.manager", new JsonObject().put("op", "create").put("typeid", 5)));
        code(ErrorCode.BAD_REQUEST, () -> client.request("orch.manager",
                new JsonObject().put("op", "create").put("typeid", "dict").put("args", "nope")));
        code(ErrorCode.BAD_REQUEST, () -> client.request(v.address(), new JsonObject().put("args", new JsonArray())));
        code(ErrorCode.BAD_REQUEST, () -> client.request(v.address(), new JsonObject().put("method", "get").put("args", 3)));
        code(ErrorCode.NOT_FOUND, () -> client.request("orch.obj.nothing-here", new JsonObject().put("method", "get")));
        code(ErrorCode.NAME_TAKEN, () -> client.request("orch.manager", new JsonObject().put("op", "host").put("typeid", "dict")));
        // What a client sent comes back in a 404 as it is when it could be a name, else clipped
        // to one line: a 10,000-character name is not echoed whole.
        String huge = "x".repeat(10_000);
        assertEquals("no object named '" + "x".repeat(39) + "…'", code(ErrorCode.NOT_FOUND, () -> client.lookup(huge)).detail());
        assertEquals("no object 'a?b'", code(ErrorCode.NOT_FOUND, () -> client.lookupId("a\nb")).detail());
        assertEquals("unknown typeid '" + "x".repeat(39) + "…'", code(ErrorCode.NOT_FOUND, () -> client.create(huge)).detail());
        assertEquals("no object '" + "x".repeat(39) + "…'",
                code(ErrorCode.NOT_FOUND, () -> client.request("orch.obj." + huge, new JsonObject())).detail());
        assertEquals("may not send to 'orch.x" + "x".repeat(33) + "…'",
                code(ErrorCode.FORBIDDEN, () -> client.request("orch.x" + huge, new JsonObject())).detail());
        assertEquals("no object named 'nobody'", code(ErrorCode.NOT_FOUND, () -> client.lookup("nobody")).detail());
    }

    @Test
    void tooManyInFlightGets429() throws Exception {
        try (TestServer small = TestServer.start(c -> c.maxInFlight(2)); OrchClient c = small.client(); RawClient raw = small.raw()) {
            RemoteObject ev = c.create("ev", "Event", null, null);
            raw.login(TestServer.KEY);
            JsonObject wait = new JsonObject().put("method", "wait");
            raw.send(ev.address(), "w1", wait);
            raw.send(ev.address(), "w2", wait);
            raw.send(ev.address(), "w3", wait);
            JsonObject third = raw.read();
            assertEquals("w3", third.getString("address"));
            assertEquals(429, third.getInteger("failureCode"));
            // At its limit a client may still withdraw a call it waits for.
            raw.send(ev.address(), "c1", new JsonObject().put("cancel", "w1"));
            JsonObject withdrawn = raw.read();
            assertEquals("w1", withdrawn.getString("address"));
            assertEquals(499, withdrawn.getInteger("failureCode"));
            assertEquals(Boolean.TRUE, raw.read().getJsonObject("body").getBoolean("result"));
            ev.call("set");
            JsonObject woken = raw.read();
            assertEquals("w2", woken.getString("address"));
            assertEquals(Boolean.TRUE, woken.getJsonObject("body").getBoolean("result"));
        }
    }

    @Test
    void sendsWithoutReplyAddressCountAgainstTheInFlightLimit() throws Exception {
        try (TestServer small = TestServer.start(c -> c.maxInFlight(3)); OrchClient c = small.client(); RawClient raw = small.raw()) {
            raw.login(TestServer.KEY);
            // One queue made by the raw client (its calls run on its own loop), one by another client.
            String mine = "orch.obj." + raw.manager(new JsonObject().put("op", "create").put("typeid", "Queue"))
                    .getJsonObject("body").getString("id");
            RemoteObject other = c.create("Queue");
            JsonObject get = new JsonObject().put("method", "get");
            raw.send(mine, null, get);
            raw.send(other.address(), null, get);
            raw.send(mine, null, get);
            // Three parked gets fill the limit: a fourth without a reply address is refused and not
            // carried out, a request with one too, and a create without one does not happen.
            raw.send(other.address(), null, get);
            JsonObject refused = raw.read();
            assertEquals(429, refused.getInteger("failureCode"), refused.encode());
            assertNull(refused.getString("address"));
            JsonObject size = raw.request(other.address(), new JsonObject().put("method", "qsize"));
            assertEquals(429, size.getInteger("failureCode"), size.encode());
            raw.send("orch.manager", null, new JsonObject().put("op", "create").put("typeid", "dict").put("name", "late"));
            assertEquals(429, raw.read().getInteger("failureCode"));

            RemoteObject first = c.lookupId(mine.substring("orch.obj.".length()));
            for (int i = 0; i < 2; i++) {
                first.call("put", "m" + i);
                other.call("put", "o" + i);
            }
            assertEquals(0, ((Number) first.call("qsize")).intValue(), "two parked gets took both items");
            assertEquals(1, ((Number) other.call("qsize")).intValue(), "one parked get took an item, the refused one none");
            // Answered, the gets leave the limit free again.
            Poll.until(Duration.ofSeconds(5), "the raw client's gets to be answered", () -> {
                try {
                    return "message".equals(raw.request(other.address(), new JsonObject().put("method", "qsize")).getString("type"));
                } catch (java.io.IOException e) {
                    throw new IllegalStateException(e);
                }
            });
            assertEquals(404, raw.manager(new JsonObject().put("op", "lookup").put("name", "late")).getInteger("failureCode"));
        }
    }

    @Test
    void tooManyRegistrationsGets429() throws Exception {
        try (TestServer small = TestServer.start(c -> c.maxRegistrations(2)); RawClient raw = small.raw()) {
            raw.login(TestServer.KEY);
            for (int i = 0; i < 2; i++) {
                raw.write(new JsonObject().put("type", "register").put("address", "orch.reply." + raw.session + "." + i));
            }
            raw.write(new JsonObject().put("type", "register").put("address", "orch.events"));
            assertEquals(429, raw.read().getInteger("failureCode"));
        }
    }

    @Test
    void hostedCreateTimesOutWith504() throws Exception {
        try (TestServer s = TestServer.start(c -> c.hostTimeout(Duration.ofMillis(300)));
             RawClient host = s.raw(); OrchClient c = s.client()) {
            host.login(TestServer.KEY);
            host.write(new JsonObject().put("type", "register").put("address", "orch.host." + host.session));
            JsonObject r = host.manager(new JsonObject().put("op", "host").put("typeid", "Sloth").put("exposed", new JsonArray().add("nap")));
            assertEquals("Sloth", r.getJsonObject("body").getString("typeid"));
            // The host receives the create and never answers.
            OrchException e = code(ErrorCode.TIMEOUT, () -> c.create("Sloth"));
            assertEquals("Timeout", e.name());
            assertEquals("create", host.read().getJsonObject("body").getString("op"));
        }
    }

    /**
     * Makes {@code host} (a raw connection) host {@code typeid} with one method {@code m}, and
     * {@code c} create one: the object, whose calls {@code host} then reads and answers by hand.
     */
    private static RemoteObject hostedByRaw(RawClient host, OrchClient c, String typeid) throws Exception {
        host.login(TestServer.KEY);
        host.write(new JsonObject().put("type", "register").put("address", "orch.host." + host.session));
        host.manager(new JsonObject().put("op", "host").put("typeid", typeid).put("exposed", new JsonArray().add("m")));
        java.util.concurrent.CompletableFuture<RemoteObject> made =
                java.util.concurrent.CompletableFuture.supplyAsync(() -> c.create(typeid));
        JsonObject create = host.read();
        String id = create.getJsonObject("body").getString("id");
        host.write(new JsonObject().put("type", "register").put("address", "orch.obj." + id));
        host.write(new JsonObject().put("type", "send").put("address", create.getString("replyAddress"))
                .put("body", new JsonObject().put("id", id)));
        return made.get(30, java.util.concurrent.TimeUnit.SECONDS);
    }

    @Test
    void aCancelForAHostedCallIsAnsweredByTheServerAndNeverReachesTheWorker() throws Exception {
        try (TestServer s = TestServer.start(); RawClient host = s.raw(); RawClient caller = s.raw();
                OrchClient c = OrchClient.connect(s.clientConfig().direct("off"))) {
            RemoteObject o = hostedByRaw(host, c, "Busy");
            caller.login(TestServer.KEY);
            caller.send(o.address(), "m1", new JsonObject().put("method", "m"));
            JsonObject call = host.read();
            assertEquals("m", call.getJsonObject("body").getString("method"));
            caller.send(o.address(), null, new JsonObject().put("cancel", "m1"));
            JsonObject cancel = caller.request(o.address(), new JsonObject().put("cancel", "m1"));
            assertEquals(false, cancel.getJsonObject("body").getValue("result"), "a hosted call is never withdrawn");
            host.write(new JsonObject().put("type", "send").put("address", call.getString("replyAddress"))
                    .put("body", new JsonObject().put("result", 7)));
            JsonObject answer = caller.read();
            assertEquals("m1", answer.getString("address"));
            assertEquals(7, answer.getJsonObject("body").getInteger("result"));
            // The worker saw the call and nothing after it.
            host.write(new JsonObject().put("type", "ping"));
            assertEquals("pong", host.read().getString("type"), "the worker was sent a cancel");
        }
    }

    @Test
    void aWorkersMalformedAnswersReachTheCallerAs502() throws Exception {
        try (TestServer s = TestServer.start(); RawClient host = s.raw();
                OrchClient c = OrchClient.connect(s.clientConfig().direct("off"))) {
            RemoteObject o = hostedByRaw(host, c, "Sloppy");

            Object[] bad = {5, "text", new JsonObject(), new JsonObject().put("error", "oops"),
                new JsonObject().put("error", new JsonObject().put("code", 401).put("message", "no")),
                new JsonObject().put("error", new JsonObject().put("code", 200)),
                // Read as ints these would be 400: no code the caller could be given.
                new JsonObject().put("error", new JsonObject().put("code", 4294967696L)),
                new JsonObject().put("error", new JsonObject().put("code", 400.9)),
                new JsonObject().put("error", new JsonObject().put("code", "404")), null};
            for (Object body : bad) {
                java.util.concurrent.CompletableFuture<Object> call = o.callAsync("m");
                JsonObject msg = host.read();
                JsonObject answer = new JsonObject().put("type", "send").put("address", msg.getString("replyAddress"));
                if (body != null) {
                    answer.put("body", body);
                }
                host.write(answer);
                java.util.concurrent.ExecutionException e = assertThrows(java.util.concurrent.ExecutionException.class,
                        () -> call.get(30, java.util.concurrent.TimeUnit.SECONDS), String.valueOf(body));
                OrchException oe = assertInstanceOf(OrchException.class, e.getCause(), String.valueOf(body));
                assertEquals(ErrorCode.BAD_REPLY, oe.code(), String.valueOf(body));
                assertEquals("BadReply", oe.name());
            }
            // Well-formed answers still pass, a null result and a worker's own 404 included.
            JsonObject[] good = {new JsonObject().put("result", 7), new JsonObject().putNull("result"),
                new JsonObject().put("error", new JsonObject().put("code", 404).put("name", "NotFound").put("message", "gone"))};
            for (JsonObject body : good) {
                java.util.concurrent.CompletableFuture<Object> call = o.callAsync("m");
                JsonObject msg = host.read();
                host.write(new JsonObject().put("type", "send").put("address", msg.getString("replyAddress")).put("body", body));
                if (body.containsKey("error")) {
                    java.util.concurrent.ExecutionException e = assertThrows(java.util.concurrent.ExecutionException.class,
                            () -> call.get(30, java.util.concurrent.TimeUnit.SECONDS));
                    assertEquals(ErrorCode.NOT_FOUND, ((OrchException) e.getCause()).code());
                } else {
                    assertEquals(body.getValue("result"), call.get(30, java.util.concurrent.TimeUnit.SECONDS));
                }
            }
            assertEquals(3, c.create("Value", 3).call("get"));
        }
    }

    @Test
    void aWorkersOwnErrorCodesReachTheCallerAsTheyAre() throws Exception {
        try (TestServer s = TestServer.start(); RawClient host = s.raw(); RawClient caller = s.raw();
                OrchClient c = OrchClient.connect(s.clientConfig().direct("off"))) {
            RemoteObject o = hostedByRaw(host, c, "Coded");
            caller.login(TestServer.KEY);
            // Codes the server has no name for as much as its own: §7 allows any of 400-599 but 401 and 413.
            for (int code : new int[] {418, 422, 450, 501, 507, 599, 404, 500}) {
                caller.send(o.address(), "m" + code, new JsonObject().put("method", "m"));
                JsonObject call = host.read();
                host.write(new JsonObject().put("type", "send").put("address", call.getString("replyAddress"))
                        .put("body", new JsonObject().put("error", new JsonObject().put("code", code).put("name", "E")
                                .put("message", "detail"))));
                JsonObject err = caller.read();
                assertEquals("err", err.getString("type"), err.encode());
                assertEquals("m" + code, err.getString("address"));
                assertEquals(code, err.getInteger("failureCode"), err.encode());
                assertEquals("E", err.getString("name"));
                assertEquals("E: detail", err.getString("message"));
            }
            // A constructor's failure reaches the creator the same way, through the manager.
            caller.send("orch.manager", "c1", new JsonObject().put("op", "create").put("typeid", "Coded"));
            JsonObject create = host.read();
            host.write(new JsonObject().put("type", "send").put("address", create.getString("replyAddress"))
                    .put("body", new JsonObject().put("error", new JsonObject().put("code", 422).put("name", "Unprocessable")
                            .put("message", "no"))));
            JsonObject refused = caller.read();
            assertEquals("c1", refused.getString("address"));
            assertEquals(422, refused.getInteger("failureCode"), refused.encode());
            assertEquals("Unprocessable: no", refused.getString("message"));
        }
    }

    @Test
    void shutdownAnswersThenNewRequestsGet503WhileCallsDrain() throws Exception {
        TestServer s = TestServer.start(c -> c.drainTimeout(Duration.ofMillis(1500)));
        try (OrchClient c = OrchClient.connect(s.clientConfig().direct("off")); RawClient raw = s.raw();
                RawClient host = s.raw()) {
            // A worker that never answers: its call is in flight, and the server drains it.
            RemoteObject mute = hostedByRaw(host, c, "Mute");
            java.util.concurrent.CompletableFuture<Object> inFlight = mute.callAsync("m");
            host.read();
            // A parked call, by contrast, is answered 503 at once.
            RemoteObject ev = c.create("gate", "Event", null, null);
            raw.login(TestServer.KEY);
            raw.send(ev.address(), "w1", new JsonObject().put("method", "wait"));
            JsonObject ok = raw.manager(new JsonObject().put("op", "shutdown"));
            assertTrue(ok.getJsonObject("body").getBoolean("shutdown"));
            JsonObject parked = raw.read();
            assertEquals("w1", parked.getString("address"), parked.encode());
            assertEquals(503, parked.getInteger("failureCode"), parked.encode());
            Poll.until(Duration.ofSeconds(5), "503 while draining", () -> {
                try {
                    c.lookup("gate");
                    return false;
                } catch (OrchException e) {
                    return e.code() == ErrorCode.SHUTTING_DOWN;
                }
            });
            // A client that connects now is told why at its login, not just closed (which
            // clients report as a server that wants TLS).
            try (RawClient late = s.raw()) {
                late.send("orch.auth", "a1", new JsonObject().put("op", "challenge")
                        .put("clientNonce", java.util.Base64.getEncoder().encodeToString(new byte[32])));
                JsonObject refused = late.read();
                assertEquals("a1", refused.getString("address"), refused.encode());
                assertEquals(503, refused.getInteger("failureCode"), refused.encode());
                assertTrue(late.closedByServer());
            }
            s.server.closeFuture().toCompletionStage().toCompletableFuture().get(10, java.util.concurrent.TimeUnit.SECONDS);
            assertTrue(raw.closedByServer());
            assertThrows(java.util.concurrent.ExecutionException.class, () -> inFlight.get(10, java.util.concurrent.TimeUnit.SECONDS));
        } finally {
            s.close();
        }
    }

    @Test
    void resultsAreJsonValues() {
        RemoteObject l = client.create("list", new JsonArray().add("a").add(new JsonObject().put("k", 1)));
        Object item = l.call("__getitem__", 1);
        assertInstanceOf(JsonObject.class, item);
        assertEquals(1, ((JsonObject) item).getInteger("k"));
        assertNull(l.call("append", (Object) null));
        assertEquals(3L, ((Number) l.call("__len__")).longValue());
    }
}
