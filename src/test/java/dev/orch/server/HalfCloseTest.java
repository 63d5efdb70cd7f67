package dev.orch.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.orch.client.OrchClient;
import dev.orch.client.RemoteObject;
import dev.orch.testing.TestCerts;
import dev.orch.testing.Poll;
import dev.orch.testing.RawClient;
import dev.orch.testing.TestServer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.CertificateFactory;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.SSLSocketFactory;
import javax.net.ssl.TrustManagerFactory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A client that ends its side of the connection ({@code shutdown(SHUT_WR)}) and goes on reading
 * gets every answer owed to it, then the end; its parked calls are withdrawn (499) rather than
 * keeping its session, and what it held, alive (PROTOCOL.md §8).
 */
class HalfCloseTest {

    /** A hosted type whose answers come late, or, with {@link #stuck}, not before the test lets them. */
    public static class Slow {
        static volatile CountDownLatch release = new CountDownLatch(0);

        public String echo(String s) throws InterruptedException {
            Thread.sleep(300);
            return s;
        }

        public String stuck() throws InterruptedException {
            release.await(30, TimeUnit.SECONDS);
            return "late";
        }
    }

    @Test
    void everyAnswerOwedIsWrittenAfterTheClientEndsItsSide() throws Exception {
        try (TestServer s = TestServer.start(); OrchClient worker = s.client(); RawClient c = s.raw()) {
            worker.host("HalfCloseSlow", Slow::new, Slow.class);
            c.login(TestServer.KEY);
            String mine = create(c, "list");
            String hosted = create(c, "HalfCloseSlow");
            try (RawClient owner = onAnotherLoop(s, c)) {
                String far = create(owner, "dict");
                c.send(mine, "a1", call("append", 1));
                c.send(mine, "a2", call("append", 2));
                c.send(far, "f1", call("__setitem__", "k", "v"));
                c.send(hosted, "h1", call("echo", "hello"));
                c.send(far, "f2", call("__getitem__", "k"));
                c.send(mine, "n1", call("__len__"));
                c.send("orch.manager", "m1", new JsonObject().put("op", "status"));
                c.send(mine, null, call("append", 3)); // no answer owed: nothing waits for it
                c.shutdownOutput();

                Map<String, JsonObject> answers = readUntilEnd(c);
                assertEquals(7, answers.size(), answers::toString);
                assertNull(result(answers, "a1"));
                assertNull(result(answers, "a2"));
                assertNull(result(answers, "f1"));
                assertEquals("hello", result(answers, "h1"));
                assertEquals("v", result(answers, "f2"));
                assertEquals(2, result(answers, "n1"));
                assertTrue(answers.get("m1").getJsonObject("body").getInteger("sessions") >= 3, answers.get("m1")::encode);
                // The session ended as on a disconnect: its anonymous objects went with it.
                Poll.until(Duration.ofSeconds(10), "the session to end", () -> s.server.sessionCount() == 2);
                Poll.until(Duration.ofSeconds(10), "its anonymous list to go", () -> {
                    try {
                        return Integer.valueOf(404).equals(owner.request(mine, call("__len__")).getInteger("failureCode"));
                    } catch (IOException e) {
                        throw new IllegalStateException(e);
                    }
                });
            }
        }
    }

    @Test
    void aParkedGetIsWithdrawnAndTakesNoItemWhenItsClientEndsItsSide() throws Exception {
        try (TestServer s = TestServer.start(); RawClient getter = s.raw(); RawClient putter = s.raw(); RawClient taker = s.raw()) {
            getter.login(TestServer.KEY);
            putter.login(TestServer.KEY);
            taker.login(TestServer.KEY);
            // One queue on the getter's own loop (called directly), one on another (through the event bus).
            String near = queue(getter, "near");
            String far;
            try (RawClient owner = onAnotherLoop(s, getter)) {
                far = queue(owner, "far");
            }
            getter.send(near, "g1", call("get"));
            getter.send(far, "g2", call("get"));
            // Frames of one connection run in order: once these are answered, both gets are parked.
            assertEquals(0L, getter.request(near, call("qsize")).getJsonObject("body").getLong("result"));
            assertEquals(0L, getter.request(far, call("qsize")).getJsonObject("body").getLong("result"));
            getter.shutdownOutput();

            Map<String, JsonObject> answers = readUntilEnd(getter);
            assertEquals(2, answers.size(), answers::toString);
            assertEquals(499, answers.get("g1").getInteger("failureCode"), answers.get("g1")::encode);
            assertEquals(499, answers.get("g2").getInteger("failureCode"), answers.get("g2")::encode);

            for (String q : List.of(near, far)) {
                putter.request(q, call("put", "item"));
                JsonObject got = taker.request(q, call("get_nowait"));
                assertEquals("item", got.getJsonObject("body").getValue("result"), got::encode);
            }
        }
    }

    @Test
    void theLocksOfAClientThatEndsItsSideAreReleasedOnceItsConnectionCloses() throws Exception {
        try (TestServer s = TestServer.start(); RawClient holder = s.raw(); RawClient waiter = s.raw();
                RawClient other = s.raw()) {
            holder.login(TestServer.KEY);
            waiter.login(TestServer.KEY);
            other.login(TestServer.KEY);
            String held = create(other, "Lock"); // not the holder's: its own would go with its session
            String busy = create(other, "Lock");
            assertEquals(true, holder.request(held, call("acquire")).getJsonObject("body").getValue("result"));
            assertEquals(true, other.request(busy, call("acquire")).getJsonObject("body").getValue("result"));
            waiter.send(held, "w1", call("acquire"));
            holder.send(busy, "b1", call("acquire"));
            // Frames of one connection run in order: once these are answered, both acquires are parked.
            assertTrue(waiter.request(held, call("__repr__")).getJsonObject("body").getString("result").startsWith("<locked"));
            assertTrue(holder.request(busy, call("__repr__")).getJsonObject("body").getString("result").startsWith("<locked"));
            holder.shutdownOutput();

            Map<String, JsonObject> answers = readUntilEnd(holder);
            assertEquals(499, answers.get("b1").getInteger("failureCode"), answers::toString);
            // The lock it held is the waiter's now; the one it waited for it never took.
            JsonObject w1 = waiter.read();
            assertEquals("w1", w1.getString("address"), w1::encode);
            assertNotNull(w1.getJsonObject("body"), w1::encode);
            assertEquals(true, w1.getJsonObject("body").getValue("result"), w1::encode);
            assertEquals(true, other.request(busy, call("release")).containsKey("body"));
            assertEquals(true, other.request(busy, call("acquire", false)).getJsonObject("body").getValue("result"));
        }
    }

    @Test
    void aCallThatIsNeverAnsweredHoldsTheConnectionNoLongerThanTheHostTimeout() throws Exception {
        Slow.release = new CountDownLatch(1);
        try (TestServer s = TestServer.start(c -> c.hostTimeout(Duration.ofSeconds(3)));
                OrchClient worker = s.client(); RawClient c = s.raw()) {
            worker.host("HalfCloseStuck", Slow::new, Slow.class);
            c.login(TestServer.KEY);
            String hosted = create(c, "HalfCloseStuck");
            c.send(hosted, "s1", call("stuck"));
            c.send(hosted, "e1", call("echo", "in time"));
            c.shutdownOutput();
            JsonObject e1 = c.read();
            assertEquals("e1", e1.getString("address"), e1::encode);
            assertEquals("in time", e1.getJsonObject("body").getValue("result"), e1::encode);
            // Then the end, without the stuck call's answer, and the session with it.
            assertNull(c.read());
            Poll.until(Duration.ofSeconds(10), "the session to end", () -> s.server.sessionCount() == 1);
        } finally {
            Slow.release.countDown();
        }
    }

    @Test
    void requestsBehindALargeFrameAreCarriedOutBeforeTheEnd() throws Exception {
        // A frame above 256 KiB is parsed on a worker thread, the connection not read meanwhile:
        // the end, read behind it, must not overtake the requests between.
        try (TestServer s = TestServer.start(); RawClient c = s.raw()) {
            c.login(TestServer.KEY);
            String mine = create(c, "list");
            String big = "b".repeat(600 * 1024);
            c.send(mine, "big", call("append", big));
            for (int i = 0; i < 20; i++) {
                c.send(mine, "a" + i, call("append", i));
            }
            c.send(mine, "len", call("__len__"));
            c.shutdownOutput();
            Map<String, JsonObject> answers = readUntilEnd(c);
            assertEquals(22, answers.size(), () -> answers.keySet().toString());
            assertEquals(21, result(answers, "len"));
        }
    }

    /**
     * Over TLS the end comes two ways: a TLS half-close ({@code close_notify}, then the client
     * goes on reading) and, as when a client process dies, a bare TCP FIN with no
     * {@code close_notify}. Either way a parked get is withdrawn and takes no item.
     */
    @Test
    void overTlsAParkedGetIsWithdrawnWhetherTheEndCarriesACloseNotifyOrNot(@TempDir Path dir) throws Exception {
        TestCerts.Pair pair = TestCerts.selfSigned(dir, "server");
        SSLSocketFactory factory = trusting(pair.cert);
        try (TestServer s = TestServer.start(c -> c.tls(pair.cert, pair.key));
                OrchClient other = OrchClient.connect(s.clientConfig().tls(true, pair.cert))) {
            for (boolean closeNotify : new boolean[] {true, false}) {
                RemoteObject q = other.create("Queue");
                Socket plain = new Socket("127.0.0.1", s.port());
                SSLSocket tls = (SSLSocket) factory.createSocket(plain, "localhost", s.port(), true);
                tls.startHandshake();
                try (RawClient getter = new RawClient(tls)) {
                    getter.login(TestServer.KEY);
                    getter.send(q.address(), "g1", call("get"));
                    assertEquals(0L, getter.request(q.address(), call("qsize")).getJsonObject("body").getLong("result"));
                    if (closeNotify) {
                        tls.shutdownOutput();
                    } else {
                        plain.shutdownOutput();
                    }
                    Map<String, JsonObject> answers = readUntilEnd(getter);
                    assertEquals(1, answers.size(), answers::toString);
                    assertEquals(499, answers.get("g1").getInteger("failureCode"), answers.get("g1")::encode);
                }
                q.call("put", "item");
                assertEquals("item", q.call("get_nowait"), "close_notify " + closeNotify + ": the withdrawn get took the item");
            }
        }
    }

    // ---- helpers ----

    /** Sockets that trust {@code cert} alone. */
    private static SSLSocketFactory trusting(Path cert) throws Exception {
        KeyStore trust = KeyStore.getInstance(KeyStore.getDefaultType());
        trust.load(null, null);
        try (InputStream in = Files.newInputStream(cert)) {
            trust.setCertificateEntry("server", CertificateFactory.getInstance("X.509").generateCertificate(in));
        }
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(trust);
        SSLContext ctx = SSLContext.getInstance("TLS");
        ctx.init(null, tmf.getTrustManagers(), null);
        return ctx.getSocketFactory();
    }

    /** A logged-in client whose connection is served by another event loop than {@code c}'s. */
    private static RawClient onAnotherLoop(TestServer s, RawClient c) throws IOException {
        Thread loop = loopOf(s, c);
        List<RawClient> tried = new ArrayList<>();
        try {
            for (int i = 0; i < 8; i++) {
                RawClient o = s.raw();
                o.login(TestServer.KEY);
                if (loopOf(s, o) != loop) {
                    return o;
                }
                tried.add(o);
            }
        } finally {
            tried.forEach(RawClient::close);
        }
        throw new AssertionError("no connection landed on another event loop");
    }

    private static Thread loopOf(TestServer s, RawClient c) {
        Thread t = s.server.connections().stream().filter(conn -> c.session.equals(conn.session()))
                .findFirst().orElseThrow().loop();
        assertNotNull(t);
        return t;
    }

    /** Reads every frame until the server closes; answers by their address, each address once. */
    private static Map<String, JsonObject> readUntilEnd(RawClient c) throws IOException {
        Map<String, JsonObject> answers = new HashMap<>();
        for (JsonObject f = c.read(); f != null; f = c.read()) {
            String frame = f.encode();
            assertNull(answers.put(f.getString("address"), f), () -> "answered twice: " + frame);
        }
        return answers;
    }

    private static Object result(Map<String, JsonObject> answers, String address) {
        JsonObject f = answers.get(address);
        assertNotNull(f, () -> "no answer to " + address + " in " + answers);
        assertNotEquals("err", f.getString("type"), f::encode);
        return f.getJsonObject("body").getValue("result");
    }

    private static JsonObject call(String method, Object... args) {
        return new JsonObject().put("method", method).put("args", new JsonArray(List.of(args)));
    }

    private static String create(RawClient c, String typeid) throws IOException {
        JsonObject created = c.manager(new JsonObject().put("op", "create").put("typeid", typeid));
        assertNotNull(created.getJsonObject("body"), created::encode);
        return "orch.obj." + created.getJsonObject("body").getString("id");
    }

    private static String queue(RawClient c, String name) throws IOException {
        JsonObject created = c.manager(new JsonObject().put("op", "create").put("typeid", "Queue").put("name", name));
        return "orch.obj." + created.getJsonObject("body").getString("id");
    }
}
