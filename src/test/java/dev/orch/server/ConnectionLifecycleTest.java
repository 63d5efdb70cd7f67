package dev.orch.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.orch.client.OrchClient;
import dev.orch.client.OrchConnectException;
import dev.orch.client.RemoteObject;
import dev.orch.protocol.ErrorCode;
import dev.orch.protocol.OrchException;
import dev.orch.testing.Poll;
import dev.orch.testing.RawClient;
import dev.orch.testing.TestCerts;
import dev.orch.testing.TestServer;
import io.vertx.core.VertxOptions;
import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Idle timeouts, wrong keys through the Java client, lost connections and TLS. */
class ConnectionLifecycleTest {

    @Test
    void anAnswerLargerThanTheFrameLimitFailsItsCallAlone() throws Exception {
        // Each item comes in a frame within the limit; a copy of all three does not fit in one.
        try (TestServer s = TestServer.start(c -> c.maxFrame(4096)); OrchClient client = s.client()) {
            RemoteObject list = client.create("list");
            RemoteObject keep = client.create("dict");
            keep.call("__setitem__", "important", "data");
            for (int i = 0; i < 3; i++) {
                list.call("append", "x".repeat(2000));
            }
            OrchException e = assertThrows(OrchException.class, () -> list.call("__getitem__", new JsonObject())); // [:]
            assertEquals(500, e.failureCode(), e::toString);
            assertEquals("ValueError", e.name(), e::toString);
            assertTrue(e.getMessage().contains("at most 4096"), e::getMessage);
            // The connection, and the session's anonymous objects, are still there.
            assertEquals("data", keep.call("__getitem__", "important"));
            assertEquals(3, ((Number) list.call("__len__")).intValue());
        }
    }

    @Test
    void idleConnectionsAreClosedButWaitingOnesAreNot() throws Exception {
        try (TestServer s = TestServer.start(c -> c.idleTimeout(Duration.ofMillis(600)).loginTimeout(Duration.ofMillis(600)));
             OrchClient c = OrchClient.connect(s.clientConfig().pingInterval(Duration.ofMillis(150)));
             RawClient idle = s.raw(); RawClient waiting = s.raw(); RawClient anonymous = s.raw()) {
            // Logged in first: the login timeout runs from the connect.
            idle.login(TestServer.KEY);
            waiting.login(TestServer.KEY);
            RemoteObject ev = c.create("door", "Event", null, null);
            waiting.send(ev.address(), "w", new JsonObject().put("method", "wait"));
            assertTrue(idle.closedByServer(), "silent logged-in connection closed");
            assertTrue(anonymous.closedByServer(), "connection that never logs in closed");
            ev.call("set");
            JsonObject answer = waiting.read();
            assertEquals(Boolean.TRUE, answer.getJsonObject("body").getBoolean("result"), "a parked call kept its connection");
        }
    }

    @Test
    void loginIsDueWithinTheLoginTimeoutWhateverTheClientSends() throws Exception {
        try (TestServer s = TestServer.start(c -> c.loginTimeout(Duration.ofMillis(800)).idleTimeout(Duration.ofMinutes(1)));
             RawClient pinging = s.raw(); RawClient trickling = s.raw()) {
            long started = System.nanoTime();
            Thread pings = repeat(() -> pinging.write("{\"type\":\"ping\"}"));
            Thread bytes = trickleAFrameThatNeverEnds(trickling);
            try {
                assertTrue(pinging.closedByServerWithin(Duration.ofSeconds(4)), "a client that pings but never logs in is closed");
                assertTrue(trickling.closedByServerWithin(Duration.ofSeconds(4)),
                        "a client that trickles bytes but never logs in is closed");
                long millis = Duration.ofNanos(System.nanoTime() - started).toMillis();
                assertTrue(millis < 4000, "closed after " + millis + " ms, login timeout 800 ms");
            } finally {
                pings.interrupt();
                bytes.interrupt();
            }
        }
    }

    @Test
    void pastThePendingLoginLimitTheConnectionThatWaitedLongestIsClosed() throws Exception {
        try (TestServer s = TestServer.start(c -> c.maxPendingLogins(4))) {
            List<RawClient> silent = new ArrayList<>();
            try {
                for (int i = 0; i < 8; i++) {
                    RawClient r = s.raw();
                    silent.add(r);
                    // Answered before login: the server has taken this one before the next comes.
                    r.write(new JsonObject().put("type", "ping"));
                    assertEquals("pong", r.read().getString("type"));
                }
                for (int i = 0; i < 4; i++) {
                    assertTrue(silent.get(i).closedByServerWithin(Duration.ofSeconds(10)), "connection " + i + " left open");
                }
                for (int i = 4; i < 8; i++) {
                    assertFalse(silent.get(i).closedByServerQuickly(), "connection " + i + " closed");
                }
                // A client that logs in gets in past them, and logged-in clients count no more.
                try (OrchClient a = s.client(); OrchClient b = s.client(); OrchClient c = s.client();
                     OrchClient d = s.client(); OrchClient e = s.client()) {
                    assertTrue(a.types().size() > 0);
                    assertTrue(e.types().size() > 0);
                }
            } finally {
                silent.forEach(RawClient::close);
            }
        }
    }

    @Test
    void idleCountsWholeFramesNotBytes() throws Exception {
        try (TestServer s = TestServer.start(c -> c.idleTimeout(Duration.ofMillis(800)));
             RawClient trickling = s.raw(); RawClient garbled = s.raw()) {
            trickling.login(TestServer.KEY);
            garbled.login(TestServer.KEY);
            long started = System.nanoTime();
            Thread bytes = trickleAFrameThatNeverEnds(trickling);
            // Malformed, but whole frames: each gets a 400 and counts as the client's activity.
            Thread frames = repeat(() -> garbled.write("not json"));
            try {
                assertTrue(trickling.closedByServerWithin(Duration.ofSeconds(4)),
                        "a frame that never completes does not keep a connection");
                long millis = Duration.ofNanos(System.nanoTime() - started).toMillis();
                assertTrue(millis < 4000, "closed after " + millis + " ms, idle timeout 800 ms");
                Poll.until(Duration.ofSeconds(5), "twice the idle timeout",
                        () -> System.nanoTime() - started > Duration.ofMillis(1600).toNanos());
                frames.interrupt();
                frames.join();
                garbled.write("{\"type\":\"ping\"}");
                JsonObject f;
                do {
                    f = garbled.read();
                    assertNotNull(f, "whole frames, even malformed, keep a connection");
                } while (!"pong".equals(f.getString("type")));
            } finally {
                bytes.interrupt();
                frames.interrupt();
            }
        }
    }

    @Test
    void anIdleConnectionIsClosedEvenIfItsClientDoesNotReadItsLastAnswers() throws Exception {
        try (TestServer s = TestServer.start(c -> c.idleTimeout(Duration.ofMillis(500))); RawClient c = s.raw()) {
            c.login(TestServer.KEY);
            String value = "orch.obj." + c.manager(new JsonObject().put("op", "create").put("typeid", "Value")
                    .put("args", new io.vertx.core.json.JsonArray().add("v".repeat(1024 * 1024)))).getJsonObject("body").getString("id");
            // 12 MB of answers, more than the sockets hold, none read: the close cannot wait for them.
            for (int i = 0; i < 12; i++) {
                c.send(value, "g" + i, new JsonObject().put("method", "get"));
            }
            Poll.until(Duration.ofSeconds(6), "the idle connection to be closed",
                    () -> s.server.connections().stream().noneMatch(x -> c.session.equals(x.session())));
        }
    }

    private interface IoTask {
        void run() throws java.io.IOException;
    }

    /** Runs {@code task} every 100 ms on a daemon thread until it fails or the thread is interrupted. */
    private static Thread repeat(IoTask task) {
        Thread t = new Thread(() -> {
            try {
                while (!Thread.currentThread().isInterrupted()) {
                    task.run();
                    Thread.sleep(100);
                }
            } catch (java.io.IOException | InterruptedException e) {
                // The server closed the connection, or the test is over.
            }
        });
        t.setDaemon(true);
        t.start();
        return t;
    }

    /** Announces a 1000-byte frame, then sends one byte of it every 100 ms. */
    private static Thread trickleAFrameThatNeverEnds(RawClient c) {
        int[] sent = {0};
        byte[] header = {0, 0, 0x03, (byte) 0xe8};
        return repeat(() -> c.writeRaw(new byte[] {sent[0] < 4 ? header[sent[0]++] : (byte) ' '}));
    }

    @Test
    void parkedCallsOnEveryLoopGet503WhenAClientStopsTheServer() throws Exception {
        // Two Vert.x loops, both serving, so a connection shares its loop with the stop. Closing
        // its listener there once dropped the 503s still queued for the end of the loop's turn;
        // whether that turn was the same depended on timing, so the stop is tried a few times.
        for (int round = 0; round < 5; round++) {
            TestServer s = TestServer.start(new VertxOptions().setEventLoopPoolSize(2), c -> c.eventLoops(2));
            List<OrchClient> clients = new ArrayList<>();
            try {
                List<CompletableFuture<Object>> parked = new ArrayList<>();
                for (int i = 0; i < 4; i++) {
                    OrchClient c = s.client();
                    clients.add(c);
                    RemoteObject q = c.create("Queue");
                    parked.add(q.callAsync("get"));
                    assertEquals(0, ((Number) q.call("qsize")).intValue());
                }
                clients.get(0).request("orch.manager", new JsonObject().put("op", "shutdown"));
                for (CompletableFuture<Object> p : parked) {
                    Exception e = assertThrows(Exception.class, () -> p.get(10, TimeUnit.SECONDS));
                    assertTrue(e.getCause() instanceof OrchException
                            && ((OrchException) e.getCause()).code() == ErrorCode.SHUTTING_DOWN, String.valueOf(e.getCause()));
                }
            } finally {
                clients.forEach(OrchClient::close);
                s.close();
            }
        }
    }

    @Test
    void javaClientRefusesAServerWithAnotherKey() {
        try (TestServer s = TestServer.start()) {
            OrchConnectException e = assertThrows(OrchConnectException.class,
                    () -> OrchClient.connect(s.clientConfig().authKey("other".getBytes(StandardCharsets.UTF_8))));
            assertTrue(e.getMessage().contains("auth key"), e.getMessage());
        }
    }

    @Test
    void pendingCallsFailWhenTheServerGoes() throws Exception {
        TestServer s = TestServer.start(c -> c.drainTimeout(Duration.ZERO));
        try (OrchClient c = s.client()) {
            RemoteObject q = c.create("q", "Queue", null, null);
            var pending = q.callAsync("get");
            // Same connection, same object thread: once qsize answers, the get is parked.
            assertEquals(0, ((Number) q.call("qsize")).intValue());
            s.close();
            Exception e = assertThrows(Exception.class, () -> pending.get(10, TimeUnit.SECONDS));
            // Parked, it is failed with 503 as the server starts to stop; then the connection goes.
            assertTrue(e.getCause() instanceof OrchException
                    && ((OrchException) e.getCause()).code() == ErrorCode.SHUTTING_DOWN, String.valueOf(e.getCause()));
            Poll.until(Duration.ofSeconds(10), "connection closed", () -> {
                try {
                    q.call("qsize");
                    return false;
                } catch (OrchConnectException gone) {
                    return true;
                } catch (OrchException stopping) {
                    return false;
                }
            });
            assertFalse(c.isOpen());
        }
    }

    @Test
    void tlsRoundTrip(@TempDir Path dir) throws Exception {
        TestCerts.Pair pair = TestCerts.selfSigned(dir, "server");
        Path cert = pair.cert;
        Path key = pair.key;
        try (TestServer s = TestServer.start(c -> c.tls(cert, key))) {
            try (OrchClient c = OrchClient.connect(s.clientConfig().tls(true, cert))) {
                RemoteObject v = c.create("Value", "secret");
                assertEquals("secret", v.call("get"));
                // A worker on TLS without a certificate for direct calls offers none: its calls stay on TLS.
                try (OrchClient worker = OrchClient.connect(s.clientConfig().tls(true, cert).direct("on"))) {
                    worker.host("TlsHosted", java.util.List.of("ping"), (a, k) -> (m, args, kw, caller) -> "pong");
                    org.junit.jupiter.api.Assertions.assertNull(worker.directAddress());
                    RemoteObject h = c.create("TlsHosted");
                    org.junit.jupiter.api.Assertions.assertNull(h.direct());
                    assertEquals(worker.session(), h.host());
                    assertEquals("pong", h.call("ping"));
                }
            }
            // A plain-text client cannot talk to the TLS listener.
            assertThrows(OrchConnectException.class,
                    () -> OrchClient.connect(s.clientConfig().connectTimeout(Duration.ofSeconds(2))));
            // A client that does not trust the certificate fails too.
            Path other = dir.resolve("other.pem");
            Files.copy(Path.of("/etc/ssl/certs/ca-certificates.crt"), other);
            assertThrows(OrchConnectException.class,
                    () -> OrchClient.connect(s.clientConfig().tls(true, other).connectTimeout(Duration.ofSeconds(2))));
        }
    }
}
