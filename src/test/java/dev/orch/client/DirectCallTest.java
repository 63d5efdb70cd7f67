package dev.orch.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.orch.protocol.AuthProofs;
import dev.orch.protocol.DirectOffer;
import dev.orch.protocol.ErrorCode;
import dev.orch.protocol.OrchException;
import dev.orch.testing.LoginOrder;
import dev.orch.testing.Poll;
import dev.orch.testing.RawClient;
import dev.orch.testing.TestServer;
import dev.orch.testing.TestServerExtension;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Calls sent straight to the hosting worker (PROTOCOL.md §7, direct calls), against a real server. */
class DirectCallTest {
    @RegisterExtension
    static final TestServerExtension server = TestServerExtension.perClass();

    /** Says which thread ran it and for whom; {@code hold} waits for the test to let it go. */
    static final class Probe implements HostedObject {
        static final List<String> EXPOSED = List.of("where", "caller", "hold", "fail", "_secret");
        final CountDownLatch release = new CountDownLatch(1);

        @Override
        public Object call(String method, JsonArray args, JsonObject kwargs, String callerSession) {
            switch (method) {
                case "where":
                    return Thread.currentThread().getName();
                case "caller":
                    return callerSession;
                case "hold":
                    try {
                        return release.await(30, TimeUnit.SECONDS);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        return false;
                    }
                case "fail":
                    throw new IllegalArgumentException("bad " + args.getValue(0));
                default:
                    return "secret";
            }
        }
    }

    private static OrchClient client(String direct) {
        return OrchClient.connect(server.clientConfig().direct(direct));
    }

    @Test
    void callsOnHostedObjectsGoStraightToTheWorker() {
        try (OrchClient worker = client("on"); OrchClient user = client("on")) {
            worker.host("DirectProbe", Probe.EXPOSED, (a, k) -> new Probe());
            RemoteObject p = user.create("DirectProbe");
            assertEquals(worker.session(), p.host());
            assertNotNull(worker.directAddress());
            assertEquals(worker.directAddress(), p.direct());
            assertTrue(p.direct().startsWith("127.0.0.1:"), "listens beside its loopback connection: " + p.direct());
            assertTrue(((String) p.call("where")).startsWith("orch-direct-"), "ran on " + p.call("where"));
            assertEquals(user.session(), p.call("caller"));
            assertEquals("orch-direct-", ((String) p.callAsync("where").join()).substring(0, 12));
            // The worker calling its own object goes through the server, not a socket to itself.
            RemoteObject own = worker.lookupId(p.id());
            assertFalse(((String) own.call("where")).startsWith("orch-direct-"));
        }
    }

    @Test
    void closingTheClientFailsItsDirectCallsAsItsOthersNotAsHostGone() throws Exception {
        Probe probe = new Probe();
        try (OrchClient worker = client("on")) {
            worker.host("DirectProbeClosing", Probe.EXPOSED, (a, k) -> probe);
            OrchClient user = client("on");
            RemoteObject p = user.create("DirectProbeClosing");
            assertTrue(((String) p.call("where")).startsWith("orch-direct-"));
            CompletableFuture<Object> sync = CompletableFuture.supplyAsync(() -> p.call("hold"));
            CompletableFuture<Object> async = p.callAsync("hold");
            Thread.sleep(200); // both calls are in flight at the worker
            user.close();
            for (CompletableFuture<Object> f : List.of(sync, async)) {
                Throwable t = assertThrows(java.util.concurrent.ExecutionException.class,
                        () -> f.get(10, TimeUnit.SECONDS)).getCause();
                assertTrue(t instanceof OrchConnectException, "the client's own close, not the worker's end: " + t);
            }
            probe.release.countDown();
        }
    }

    @Test
    void offMeansThroughTheServerOnEitherSide() {
        try (OrchClient worker = client("on"); OrchClient user = client("off")) {
            worker.host("DirectProbeOffUser", Probe.EXPOSED, (a, k) -> new Probe());
            RemoteObject p = user.create("DirectProbeOffUser");
            assertNotNull(p.direct());
            assertFalse(((String) p.call("where")).startsWith("orch-direct-"));
            assertEquals(user.session(), p.call("caller"));
        }
        try (OrchClient worker = client("off"); OrchClient user = client("on")) {
            worker.host("DirectProbeOffWorker", Probe.EXPOSED, (a, k) -> new Probe());
            assertNull(worker.directAddress());
            RemoteObject p = user.create("DirectProbeOffWorker");
            assertNull(p.direct());
            assertEquals(worker.session(), p.host());
            assertFalse(((String) p.call("where")).startsWith("orch-direct-"));
        }
    }

    @Test
    void errorsOverTheDirectPathAreTheServers() {
        try (OrchClient worker = client("on"); OrchClient user = client("on")) {
            worker.host("DirectProbeErrors", Probe.EXPOSED.subList(0, 4), (a, k) -> new Probe());
            RemoteObject p = user.create("DirectProbeErrors");
            OrchException e = assertThrows(OrchException.class, () -> p.call("fail", 7));
            assertEquals(ErrorCode.REMOTE, e.code());
            assertEquals("ValueError", e.name());
            assertEquals("bad 7", e.detail());
            assertEquals(ErrorCode.FORBIDDEN, assertThrows(OrchException.class, () -> p.call("_secret")).code());
            assertEquals(ErrorCode.NOT_FOUND, assertThrows(OrchException.class, () -> p.call("nothing")).code());
            assertTrue(((String) p.call("where")).startsWith("orch-direct-"));
            user.release(p);
            // The release reaches the worker through the server; then the worker no longer has it.
            Poll.until(Duration.ofSeconds(10), "the worker to drop the object", () -> {
                try {
                    p.call("where");
                    return false;
                } catch (OrchException x) {
                    return x.code() == ErrorCode.NOT_FOUND;
                }
            });
        }
    }

    @Test
    void aCallThatWaitsDoesNotHoldUpTheConnection() throws Exception {
        try (OrchClient worker = client("on"); OrchClient user = client("on")) {
            Probe probe = new Probe();
            worker.host("DirectProbeHold", Probe.EXPOSED, (a, k) -> probe);
            RemoteObject p = user.create("DirectProbeHold");
            assertTrue(((String) p.call("where")).startsWith("orch-direct-"));
            CompletableFuture<Object> held = CompletableFuture.supplyAsync(() -> p.call("hold"));
            CompletableFuture<Object> async = p.callAsync("hold");
            // Both holds are in the worker; other calls on the same connection still get through.
            for (int i = 0; i < 20; i++) {
                assertEquals(user.session(), p.call("caller"));
            }
            assertFalse(held.isDone());
            assertFalse(async.isDone());
            probe.release.countDown();
            assertEquals(true, held.get(10, TimeUnit.SECONDS));
            assertEquals(true, async.get(10, TimeUnit.SECONDS));
        }
    }

    @Test
    void aLostWorkerFailsCallsInFlightWithHostGone() throws Exception {
        OrchClient worker = client("on");
        try (OrchClient user = client("on")) {
            worker.host("DirectProbeGone", Probe.EXPOSED, (a, k) -> new Probe());
            RemoteObject p = user.create("DirectProbeGone");
            assertTrue(((String) p.call("where")).startsWith("orch-direct-"));
            CompletableFuture<Object> held = CompletableFuture.supplyAsync(() -> p.call("hold"));
            Poll.until(Duration.ofSeconds(10), "the hold to reach the worker", () -> worker.directRunning() > 0);
            worker.close();
            Throwable t = assertThrows(java.util.concurrent.ExecutionException.class, () -> held.get(10, TimeUnit.SECONDS)).getCause();
            assertEquals(ErrorCode.HOST_GONE, ((OrchException) t).code(), String.valueOf(t));
            // Then the worker's address refuses connections, and the server answers for it.
            Poll.until(Duration.ofSeconds(10), "the server to learn the worker left", () -> {
                try {
                    p.call("where");
                    return false;
                } catch (OrchException x) {
                    return x.code() == ErrorCode.HOST_GONE;
                }
            });
            // The HOST_GONE above may come from the client's own direct connection, before the
            // server has seen the worker's go: the address may be handed out a moment longer.
            Poll.until(Duration.ofSeconds(10), "a dead worker's address no longer handed out",
                    () -> user.lookupId(p.id()).direct() == null);
        } finally {
            worker.close();
        }
    }

    @Test
    void aWorkerThatLosesTheServerStopsTakingDirectCalls() {
        TestServer own = TestServer.start();
        OrchClient worker = OrchClient.connect(own.clientConfig().direct("on"));
        try {
            worker.host("DirectProbeLost", Probe.EXPOSED, (a, k) -> new Probe());
            HostPort hp = HostPort.parse(worker.directAddress(), 0);
            own.close();
            // Its objects now belong to nobody: the port closes rather than serve them.
            Poll.until(Duration.ofSeconds(10), "the worker's port to close", () -> {
                try (java.net.Socket s = new java.net.Socket(hp.host(), hp.port())) {
                    return false;
                } catch (java.io.IOException e) {
                    return true;
                }
            });
        } finally {
            worker.close();
            own.close();
        }
    }

    @Test
    void aWorkerAtTheAddressWithAnotherSessionIsNotUsed() {
        try (OrchClient worker = client("on")) {
            worker.host("DirectProbeSession", Probe.EXPOSED, (a, k) -> new Probe());
            DirectOffer offer = new DirectOffer(worker.directAddress(), false);
            try (DirectRoutes routes = new DirectRoutes(server.clientConfig(), () -> "caller")) {
                assertNull(routes.connection(offer, "some-other-session"));
                // Remembered for a while: no second login attempt.
                assertNull(routes.connection(offer, "some-other-session"));
            }
            try (DirectRoutes routes = new DirectRoutes(server.clientConfig(), () -> "caller")) {
                assertNotNull(routes.connection(offer, worker.session()));
            }
            try (DirectRoutes routes = new DirectRoutes(server.clientConfig().authKey("wrong".getBytes(StandardCharsets.UTF_8)),
                    () -> "caller")) {
                assertNull(routes.connection(offer, worker.session()));
            }
        }
    }

    @Test
    void theWorkersPortSpeaksTheProtocolAndChecksTheKey() throws Exception {
        try (OrchClient worker = client("on")) {
            worker.host("DirectProbeRaw", Probe.EXPOSED.subList(0, 4), (a, k) -> new Probe());
            RemoteObject p = worker.create("DirectProbeRaw");
            HostPort hp = HostPort.parse(worker.directAddress(), 0);
            try (RawClient raw = new RawClient(hp.host(), hp.port())) {
                raw.write(new JsonObject().put("type", "ping"));
                assertEquals("pong", raw.read().getString("type"));
                JsonObject early = ask(raw, p.address(), "r1", new JsonObject().put("method", "where"));
                assertEquals(401, early.getInteger("failureCode"));
                raw.write("[1]");
                assertEquals(400, raw.read().getInteger("failureCode"));
                JsonObject login = raw.login(TestServer.KEY);
                assertEquals(worker.session(), login.getJsonObject("body").getString("session"));
                assertTrue(login.getJsonObject("body").getString("server").startsWith("orch-worker/"));
                JsonObject ok = ask(raw, p.address(), "r2", new JsonObject().put("method", "where"));
                assertEquals("message", ok.getString("type"));
                assertTrue(ok.getJsonObject("body").getString("result").startsWith("orch-direct-"));
                JsonObject hidden = ask(raw, p.address(), "r3", new JsonObject().put("method", "_secret"));
                assertEquals(403, hidden.getInteger("failureCode"));
                assertEquals("Forbidden", hidden.getString("name"));
                JsonObject gone = ask(raw, "orch.obj.nope", "r4", new JsonObject().put("method", "where"));
                assertEquals(404, gone.getInteger("failureCode"));
                JsonObject reg = ask(raw, "orch.manager", "r5", new JsonObject().put("op", "types"));
                assertEquals(404, reg.getInteger("failureCode"));
                raw.write(new JsonObject().put("type", "register").put("address", "orch.events"));
                assertEquals(400, raw.read().getInteger("failureCode"));
                raw.writeRaw(new byte[] {0x7f, 0, 0, 0});
                assertEquals(413, raw.read().getInteger("failureCode"));
                assertTrue(raw.closedByServer());
            }
            try (RawClient raw = new RawClient(hp.host(), hp.port())) {
                // Before login, a frame longer than login takes (64 KiB), announced and barely begun.
                raw.writeRaw(new byte[] {0x01, 0, 0, 0, '{'});
                JsonObject tooLarge = raw.read();
                assertEquals(413, tooLarge.getInteger("failureCode"));
                assertTrue(tooLarge.getString("message").endsWith("before login"), tooLarge.getString("message"));
                assertTrue(raw.closedByServer());
            }
            try (RawClient raw = new RawClient(hp.host(), hp.port())) {
                JsonObject refused = raw.login("not the key".getBytes(StandardCharsets.UTF_8), false);
                assertEquals(401, refused.getInteger("failureCode"));
                assertTrue(raw.closedByServer());
            }
            // The worker still serves everyone else.
            try (OrchClient user = client("on")) {
                assertTrue(((String) user.lookupId(p.id()).call("where")).startsWith("orch-direct-"));
            }
        }
    }

    @Test
    void theWorkersPortProvesTheKeyOnlyAfterTheClientHas() throws Exception {
        try (OrchClient worker = client("on")) {
            worker.host("DirectProbeOrder", Probe.EXPOSED.subList(0, 4), (a, k) -> new Probe());
            worker.create("DirectProbeOrder");
            HostPort hp = HostPort.parse(worker.directAddress(), 0);
            LoginOrder.assertClientProvesFirst(() -> new RawClient(hp.host(), hp.port()), TestServer.KEY);
        }
    }

    @Test
    void aWorkersOwnErrFramesAreCheckedAsTheServerChecksItsAnswers() throws Exception {
        try (RawClient host = server.raw(); ServerSocket port = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
                OrchClient user = client("on")) {
            host.login(TestServer.KEY);
            host.write(new JsonObject().put("type", "register").put("address", "orch.host." + host.session));
            host.manager(new JsonObject().put("op", "host").put("typeid", "FakeDirect").put("exposed", new JsonArray().add("m"))
                    .put("direct", "127.0.0.1:" + port.getLocalPort()));
            CompletableFuture<RemoteObject> made = CompletableFuture.supplyAsync(() -> user.create("FakeDirect"));
            JsonObject create = host.read();
            String id = create.getJsonObject("body").getString("id");
            host.write(new JsonObject().put("type", "send").put("address", create.getString("replyAddress"))
                    .put("body", new JsonObject().put("id", id)));
            RemoteObject o = made.get(10, TimeUnit.SECONDS);
            // A worker of another make on its direct port: it fails each call with the code it is given.
            java.util.concurrent.atomic.AtomicInteger calls = new java.util.concurrent.atomic.AtomicInteger();
            Thread worker = new Thread(() -> {
                try (RawClient peer = new RawClient(port.accept())) {
                    JsonObject challenge = peer.read();
                    byte[] clientNonce = AuthProofs.unb64(challenge.getJsonObject("body").getString("clientNonce"));
                    byte[] serverNonce = AuthProofs.nonce();
                    peer.write(new JsonObject().put("type", "message").put("address", challenge.getString("replyAddress"))
                            .put("body", new JsonObject().put("serverNonce", AuthProofs.b64(serverNonce))
                                    .put("alg", AuthProofs.ALGORITHM)));
                    JsonObject login = peer.read();
                    peer.write(new JsonObject().put("type", "message").put("address", login.getString("replyAddress"))
                            .put("body", new JsonObject().put("session", host.session).put("protocol", 1)
                                    .put("server", "fake").put("maxFrame", 16777216)
                                    .put("serverProof", AuthProofs.b64(AuthProofs.serverProof(TestServer.KEY, clientNonce, serverNonce)))));
                    for (JsonObject call = peer.read(); call != null; call = peer.read()) {
                        calls.incrementAndGet();
                        peer.write(new JsonObject().put("type", "err").put("address", call.getString("replyAddress"))
                                .put("failureCode", call.getJsonObject("body").getJsonArray("args").getValue(0))
                                .put("failureType", "RECIPIENT_FAILURE").put("name", "E").put("message", "E: detail"));
                    }
                } catch (java.io.IOException e) {
                    // The client closed the connection.
                }
            });
            worker.setDaemon(true);
            worker.start();

            OrchException teapot = assertThrows(OrchException.class, () -> o.call("m", 418));
            assertEquals(418, teapot.failureCode());
            assertEquals("E", teapot.name());
            assertEquals("detail", teapot.detail());
            for (Object bad : new Object[] {401, 413, 200, 400.9, 4294967696L, "404"}) {
                OrchException e = assertThrows(OrchException.class, () -> o.call("m", bad), String.valueOf(bad));
                assertEquals(ErrorCode.BAD_REPLY, e.code(), bad + ": " + e.getMessage());
            }
            assertEquals(7, calls.get(), "every call went to the worker's port");
        }
    }

    private static JsonObject ask(RawClient raw, String address, String reply, JsonObject body) throws java.io.IOException {
        raw.send(address, reply, body);
        return raw.read();
    }

    @Test
    void theServerChecksTheOfferedAddress() {
        try (OrchClient c = client("on")) {
            for (Object bad : new Object[] {"nohost", "host:0", "a:b:c", 5, "host:99999"}) {
                OrchException e = assertThrows(OrchException.class, () -> c.request("orch.manager",
                        new JsonObject().put("op", "host").put("typeid", "BadDirect").put("direct", bad)), String.valueOf(bad));
                assertEquals(ErrorCode.BAD_REQUEST, e.code(), String.valueOf(bad));
            }
            for (JsonObject bad : new JsonObject[] {new JsonObject().put("direct", "h:1").put("directTls", "yes"),
                    new JsonObject().put("directTls", true)}) {
                OrchException e = assertThrows(OrchException.class, () -> c.request("orch.manager",
                        bad.copy().put("op", "host").put("typeid", "BadDirect")), bad.encode());
                assertEquals(ErrorCode.BAD_REQUEST, e.code(), bad.encode());
            }
            c.request("orch.manager", new JsonObject().put("op", "host").put("typeid", "GoodDirect").put("direct", "[::1]:4000"));
            c.request("orch.manager", new JsonObject().put("op", "host").put("typeid", "GoodDirectTls")
                    .put("direct", "127.0.0.1:4001").put("directTls", true));
            JsonObject tls = c.types().stream().map(JsonObject.class::cast)
                    .filter(t -> "GoodDirectTls".equals(t.getString("typeid"))).findFirst().orElseThrow();
            assertEquals(true, tls.getValue("directTls"));
            JsonObject plain = c.types().stream().map(JsonObject.class::cast)
                    .filter(t -> "GoodDirect".equals(t.getString("typeid"))).findFirst().orElseThrow();
            assertFalse(plain.containsKey("directTls"), plain.encode());
        }
    }

    @Test
    void theSettingIsOnOffOrAnAddress() {
        assertTrue(DirectMode.parse(null).enabled());
        assertTrue(DirectMode.parse(" On ").enabled());
        assertFalse(DirectMode.parse("0").enabled());
        assertFalse(DirectMode.parse("off").enabled());
        DirectMode fixed = DirectMode.parse("10.1.2.3:7000");
        assertTrue(fixed.enabled());
        assertEquals("10.1.2.3:7000", fixed.listen().toString());
        for (String bad : new String[] {"maybe", "0.0.0.0:7000", "[::]:1", "host:x"}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> DirectMode.parse(bad), bad);
            assertTrue(e.getMessage().contains("ORCH_DIRECT"), e.getMessage());
        }
        assertThrows(IllegalArgumentException.class, () -> OrchClient.connect(server.clientConfig().direct("sometimes")));
    }
}
