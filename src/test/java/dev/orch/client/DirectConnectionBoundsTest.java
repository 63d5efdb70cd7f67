package dev.orch.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.orch.testing.Poll;
import dev.orch.testing.RawClient;
import dev.orch.testing.TestCerts;
import dev.orch.testing.TestServer;
import dev.orch.testing.TestServerExtension;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * A worker's direct connection is bounded as a connection to the server is (PROTOCOL.md §7,
 * §8): calls in flight past the limit get 429, and a client that does not read its answers is
 * closed once they pass the output limit, without costing the worker a thread per call.
 */
class DirectConnectionBoundsTest {
    @TempDir
    static Path dir;
    @RegisterExtension
    static final TestServerExtension server = TestServerExtension.perClass();

    /** {@code text} answers a large string to a small call; {@code hold} waits for the test. */
    static final class Bounded implements HostedObject {
        static final List<String> EXPOSED = List.of("text", "hold", "where");
        final CountDownLatch release = new CountDownLatch(1);

        @Override
        public Object call(String method, JsonArray args, JsonObject kwargs, String callerSession) {
            switch (method) {
                case "text":
                    return "x".repeat(args.getInteger(0));
                case "hold":
                    try {
                        return release.await(60, TimeUnit.SECONDS);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        return false;
                    }
                default:
                    return Thread.currentThread().getName();
            }
        }
    }

    private static OrchClient client() {
        return OrchClient.connect(server.clientConfig().direct("on"));
    }

    private static byte[] frame(JsonObject f) {
        byte[] b = f.encode().getBytes(StandardCharsets.UTF_8);
        return ByteBuffer.allocate(4 + b.length).putInt(b.length).put(b).array();
    }

    private static JsonObject call(String address, String reply, String method, Object... args) {
        return new JsonObject().put("type", "send").put("address", address).put("replyAddress", reply)
                .put("body", new JsonObject().put("method", method).put("args", new JsonArray(List.of(args))));
    }

    @Test
    void aClientThatDoesNotReadIsClosedWithoutAThreadPerCall() throws Exception {
        try (OrchClient worker = client(); OrchClient user = client()) {
            worker.host("DirectBoundsUnread", Bounded.EXPOSED, (a, k) -> new Bounded());
            RemoteObject p = user.create("DirectBoundsUnread");
            HostPort hp = HostPort.parse(worker.directAddress(), 0);
            assertUnreadClientIsClosed(worker, p, smallWindow(hp));
        }
    }

    @Test
    void aClientThatDoesNotReadIsClosedOverTlsToo() throws Exception {
        TestCerts.Pair certs = TestCerts.selfSigned(dir, "orch");
        try (OrchClient worker = OrchClient.connect(server.clientConfig().direct("on").directTls(certs.cert, certs.key));
                OrchClient user = OrchClient.connect(server.clientConfig().direct("on").tls(false, certs.cert))) {
            worker.host("DirectBoundsUnreadTls", Bounded.EXPOSED, (a, k) -> new Bounded());
            RemoteObject p = user.create("DirectBoundsUnreadTls");
            assertTrue(p.directTls());
            HostPort hp = HostPort.parse(worker.directAddress(), 0);
            Socket tls = Tls.wrap(smallWindow(hp), server.clientConfig().address(worker.directAddress()).tls(true, certs.cert),
                    10_000);
            assertUnreadClientIsClosed(worker, p, tls);
        }
    }

    /** A plain socket connected to {@code hp} with a receive buffer of 4 KiB. */
    private static Socket smallWindow(HostPort hp) throws IOException {
        Socket socket = new Socket();
        socket.setReceiveBufferSize(4096); // before connecting: it sets the window
        socket.connect(new InetSocketAddress(hp.host(), hp.port()), 10_000);
        return socket;
    }

    /**
     * Over {@code socket}, logs in to the worker's direct port and pipelines calls for 300 MB of
     * answers, far past 32 MiB, reading none: the worker closes the connection without a thread
     * per call, while {@code p}'s own client (direct as well) gets its answers.
     */
    private static void assertUnreadClientIsClosed(OrchClient worker, RemoteObject p, Socket socket) throws Exception {
        assertTrue(((String) p.call("where")).startsWith("orch-direct-"), "the other client goes direct");
        DirectServer direct = worker.directServer();
        int threadsBefore = direct.threads();
        int calls = 3000;
        int size = 100_000;
        ByteArrayOutputStream pipelined = new ByteArrayOutputStream();
        for (int i = 0; i < calls; i++) {
            pipelined.write(frame(call(p.address(), "t" + i, "text", size)));
        }
        try (RawClient raw = new RawClient(socket)) {
            assertEquals("message", raw.login(TestServer.KEY).getString("type"));
            assertEquals(2, direct.connections(), "this one and p's client's");
            Thread sender = new Thread(() -> {
                try {
                    socket.getOutputStream().write(pipelined.toByteArray()); // and never read
                } catch (IOException e) {
                    // The worker closed the connection first.
                }
            });
            sender.setDaemon(true);
            sender.start();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            int most = threadsBefore;
            while (direct.connections() > 1) {
                int threads = direct.threads();
                most = Math.max(most, threads);
                assertTrue(threads < threadsBefore + 20,
                        "the worker started a thread per call the client does not read: " + threads);
                // The well-behaved client meanwhile gets its answers, directly.
                assertEquals("x".repeat(10), p.call("text", 10));
                assertTrue(((String) p.call("where")).startsWith("orch-direct-"));
                assertTrue(System.nanoTime() < deadline, "the worker kept the connection open (" + most + " threads at most)");
                Thread.sleep(50);
            }
            sender.join(30_000);
            // Closed as a slow consumer: what reaches the client then is the little on its way.
            long received = 0;
            InputStream in = socket.getInputStream();
            byte[] buf = new byte[1 << 20];
            try {
                for (int n = in.read(buf); n >= 0; n = in.read(buf)) {
                    received += n;
                }
            } catch (java.net.SocketTimeoutException e) {
                throw new AssertionError("the connection stayed open", e);
            } catch (IOException e) {
                // Reset: closed all the same.
            }
            assertTrue(received < (long) calls * size / 4, received + " bytes received");
        }
        assertEquals("xxxxx", p.call("text", 5));
        assertTrue(direct.threads() < threadsBefore + 20);
    }

    @Test
    void callsPastTheInFlightLimitGet429() throws Exception {
        assertEquals(4096, DirectServer.MAX_IN_FLIGHT, "the server's limit");
        Bounded bounded = new Bounded();
        try (OrchClient worker = client(); OrchClient user = client()) {
            worker.host("DirectBoundsInFlight", Bounded.EXPOSED, (a, k) -> bounded);
            RemoteObject p = user.create("DirectBoundsInFlight");
            DirectServer direct = worker.directServer();
            // Lower than the server's, so that the test reaches it without thousands of threads.
            int limit = 8;
            direct.maxInFlight(limit);
            HostPort hp = HostPort.parse(worker.directAddress(), 0);
            try (RawClient raw = new RawClient(hp.host(), hp.port())) {
                assertEquals("message", raw.login(TestServer.KEY).getString("type"));
                for (int i = 0; i < limit; i++) {
                    raw.write(call(p.address(), "h" + i, "hold"));
                }
                Poll.until(Duration.ofSeconds(30), "every hold to run", () -> direct.running() == limit);
                for (int i = 0; i < 5; i++) {
                    raw.write(call(p.address(), "x" + i, "where"));
                }
                for (int i = 0; i < 5; i++) {
                    JsonObject err = raw.read();
                    assertEquals("err", err.getString("type"), err.encode());
                    assertEquals("x" + i, err.getString("address"), err.encode());
                    assertEquals(429, err.getInteger("failureCode"), err.encode());
                    assertEquals("TooMany", err.getString("name"), err.encode());
                    assertTrue(err.getString("message").contains("in flight"), err.encode());
                }
                raw.write(new JsonObject().put("type", "ping")); // not a call: answered all the same
                assertEquals("pong", raw.read().getString("type"));
                // The limit is this connection's: another one's calls run.
                assertTrue(((String) p.call("where")).startsWith("orch-direct-"));
                bounded.release.countDown();
                Map<String, Object> answers = new HashMap<>();
                for (int i = 0; i < limit; i++) {
                    JsonObject answer = raw.read();
                    answers.put(answer.getString("address"), answer.getJsonObject("body").getValue("result"));
                }
                Map<String, Object> expected = new HashMap<>();
                for (int i = 0; i < limit; i++) {
                    expected.put("h" + i, true);
                }
                assertEquals(expected, answers);
                raw.write(call(p.address(), "c1", "text", 3));
                assertEquals("xxx", raw.read().getJsonObject("body").getString("result"));
            }
        } finally {
            bounded.release.countDown();
        }
    }
}
