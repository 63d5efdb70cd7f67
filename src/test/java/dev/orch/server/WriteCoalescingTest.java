package dev.orch.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.orch.testing.Poll;
import dev.orch.testing.RawClient;
import dev.orch.testing.TestServer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * The front end batches the frames of one event-loop turn into one socket write (64 KiB ones when
 * there is more): nothing may be lost or reordered, a client that stops reading its answers must
 * still be paused, and one that leaves too much unread is closed.
 */
class WriteCoalescingTest {

    private static String createValue(RawClient c, Object value) throws IOException {
        JsonObject r = c.manager(new JsonObject().put("op", "create").put("typeid", "Value").put("args", new JsonArray().add(value)));
        return "orch.obj." + r.getJsonObject("body").getString("id");
    }

    private static JsonObject call(String method, Object... args) {
        return new JsonObject().put("method", method).put("args", new JsonArray(java.util.List.of(args)));
    }

    /** Writes from another thread: a client that writes everything before reading could block the server's writes. */
    private static CompletableFuture<Void> writeAsync(IoTask task) {
        return CompletableFuture.runAsync(() -> {
            try {
                task.run();
            } catch (IOException e) {
                throw new IllegalStateException(e);
            }
        });
    }

    private interface IoTask {
        void run() throws IOException;
    }

    @Test
    void pipelinedRequestsAreAllAnsweredInOrder() throws Exception {
        int n = 1500;
        try (TestServer s = TestServer.start(); RawClient c = s.raw()) {
            c.login(TestServer.KEY);
            String value = createValue(c, -1);
            CompletableFuture<Void> writer = writeAsync(() -> {
                for (int i = 0; i < n; i++) {
                    c.send(value, "s" + i, call("set", i));
                    c.send(value, "g" + i, call("get"));
                    if (i % 100 == 0) {
                        // Answered at once while the batch is read, ahead of the object's replies.
                        c.send("orch.nowhere", "e" + i, new JsonObject());
                    }
                }
            });
            int next = 0;
            int errors = 0;
            while (next < 2 * n || errors < n / 100) {
                JsonObject f = c.read();
                assertNotNull(f, "connection closed after " + next + " replies");
                String address = f.getString("address");
                if (address.startsWith("e")) {
                    assertEquals("err", f.getString("type"), f.encode());
                    errors++;
                    continue;
                }
                int i = next / 2;
                String expected = (next % 2 == 0 ? "s" : "g") + i;
                assertEquals(expected, address, "replies of one object's calls keep their order");
                assertEquals("message", f.getString("type"), f.encode());
                if (next % 2 == 1) {
                    assertEquals(i, f.getJsonObject("body").getInteger("result"));
                }
                next++;
            }
            writer.get(10, TimeUnit.SECONDS);
            c.write(new JsonObject().put("type", "ping"));
            assertEquals("pong", c.read().getString("type"), "nothing else was queued");
        }
    }

    @Test
    void aClientThatDoesNotReadIsPausedWhileOthersAreServed() throws Exception {
        int requests = 3000;
        String big = "x".repeat(16 * 1024);
        // Padded requests, so that the socket buffers hold few of them once the server stops reading.
        String pad = "p".repeat(16 * 1024);
        try (TestServer s = TestServer.start(c -> c.maxInFlight(256)); RawClient stalled = s.raw(); RawClient other = s.raw()) {
            stalled.login(TestServer.KEY);
            other.login(TestServer.KEY);
            String value = createValue(stalled, big);
            String small = createValue(other, 7);
            AtomicInteger sent = new AtomicInteger();
            CompletableFuture<Void> writer = writeAsync(() -> {
                for (int i = 0; i < requests; i++) {
                    stalled.write(new JsonObject().put("type", "send").put("address", value).put("replyAddress", "g" + i)
                            .put("body", call("get")).put("pad", pad));
                    sent.incrementAndGet();
                }
            });
            int[] last = {-1};
            int[] steady = {0};
            Poll.until(Duration.ofSeconds(30), "the stalled client's writes to stop", () -> {
                int now = sent.get();
                steady[0] = now == last[0] ? steady[0] + 1 : 0;
                last[0] = now;
                return steady[0] >= 25;
            });
            assertTrue(sent.get() < requests, "the server stopped reading a client that does not read (" + sent.get() + " sent)");

            for (int i = 0; i < 50; i++) {
                JsonObject r = other.request(small, call("get"));
                assertEquals(7, r.getJsonObject("body").getInteger("result"), "other clients are still served");
            }

            // Reading again resumes the stalled client; every request gets one answer, the
            // object's in order (a refusal for too many in flight is written at once, ahead of them).
            boolean[] answered = new boolean[requests];
            int lastResult = -1;
            for (int n = 0; n < requests; n++) {
                JsonObject f = stalled.read();
                assertNotNull(f, "connection closed after " + n + " replies");
                int i = Integer.parseInt(f.getString("address").substring(1));
                assertTrue(!answered[i], "one answer per request");
                answered[i] = true;
                if ("message".equals(f.getString("type"))) {
                    assertEquals(big, f.getJsonObject("body").getString("result"));
                    assertTrue(i > lastResult, "results keep their order");
                    lastResult = i;
                } else {
                    assertEquals(429, f.getInteger("failureCode"), f.encode());
                }
            }
            writer.get(30, TimeUnit.SECONDS);
        }
    }
    @Test
    void aSubscriberThatDoesNotReadIsClosedOnceItsUnreadOutputPassesTheLimit() throws Exception {
        // Events are pushed by the server, so pausing the subscriber's reads does not stop them.
        int events = 200;
        String pad = "e".repeat(64 * 1024);
        try (TestServer s = TestServer.start(c -> c.maxPendingOutput(1024 * 1024));
             RawClient stalled = s.raw(); RawClient reader = s.raw(); RawClient node = s.raw()) {
            for (RawClient c : new RawClient[] {stalled, reader}) {
                c.login(TestServer.KEY);
                c.write(new JsonObject().put("type", "register").put("address", "orch.events"));
                c.write(new JsonObject().put("type", "ping"));
                assertEquals("pong", c.read().getString("type"));
            }
            node.login(TestServer.KEY);
            JsonObject attached = node.request("orch.process", new JsonObject().put("op", "attach").put("kind", "node")
                    .put("name", "n1").put("pid", 1).put("host", "h").put("processes", new JsonArray()));
            assertEquals("message", attached.getString("type"), attached.encode());
            AtomicInteger seen = new AtomicInteger();
            CompletableFuture<Void> read = CompletableFuture.runAsync(() -> {
                try {
                    while (seen.get() < events) {
                        JsonObject f = reader.read();
                        if (f == null) {
                            break;
                        }
                        if (f.getJsonObject("body").containsKey("pad")) {
                            seen.incrementAndGet();
                        }
                    }
                } catch (IOException e) {
                    throw new IllegalStateException(e);
                }
            });
            // 13 MB of events, far past the limit and what the sockets hold, a few at a time so
            // that the subscriber that reads keeps up: the server cuts off the one that does not.
            for (int i = 0; i < events; i++) {
                node.send("orch.process", null, new JsonObject().put("op", "node-event").put("event", new JsonObject()
                        .put("event", "started").put("id", "p" + i).put("name", "x").put("state", "running").put("pad", pad)));
                if (i % 4 == 3) {
                    int sent = i + 1;
                    Poll.until(Duration.ofSeconds(10), "the reading subscriber to keep up", () -> seen.get() >= sent || read.isDone());
                }
            }
            Poll.until(Duration.ofSeconds(10), "the stalled subscriber to be closed", () -> s.server.connections().stream()
                    .noneMatch(c -> stalled.session.equals(c.session())));
            read.get(10, TimeUnit.SECONDS);
            assertEquals(events, seen.get(), "a subscriber that reads gets every event");
            assertEquals("message", node.request("orch.process", new JsonObject().put("op", "heartbeat")).getString("type"),
                    "the publisher is served");
            int got = 0;
            try {
                while (stalled.read() != null) {
                    got++;
                }
            } catch (IOException cut) {
                // Closed under it, maybe in the middle of a frame.
            }
            assertTrue(got < events, "the stalled client's connection ends after " + got + " of " + events + " events");
        }
    }

    @Test
    void aClientThatDoesNotReadItsAnswersIsPausedNotCutOff() throws Exception {
        // On epoll, the server's transport, one turn of the event loop may read tens of MB from
        // one socket: its answers must not wait for the turn's end to be written (and paused on).
        int pings = 400_000;
        byte[] ping = new byte[4 + 15];
        java.nio.ByteBuffer.wrap(ping).putInt(15).put("{\"type\":\"ping\"}".getBytes(java.nio.charset.StandardCharsets.US_ASCII));
        byte[] batch = new byte[ping.length * 1000];
        for (int i = 0; i < 1000; i++) {
            System.arraycopy(ping, 0, batch, i * ping.length, ping.length);
        }
        try (TestServer s = TestServer.start(new io.vertx.core.VertxOptions().setPreferNativeTransport(true),
                c -> c.maxPendingOutput(1024 * 1024)); RawClient c = s.raw()) {
            assertTrue(s.vertx.isNativeTransportEnabled(), "epoll");
            c.login(TestServer.KEY);
            AtomicInteger batches = new AtomicInteger();
            CompletableFuture<Void> writer = writeAsync(() -> {
                for (int i = 0; i < pings / 1000; i++) {
                    c.writeRaw(batch);
                    batches.incrementAndGet();
                }
            });
            // Nothing is read until the writer is done or held up: the server has had all it takes.
            int[] last = {-1};
            int[] steady = {0};
            Poll.until(Duration.ofSeconds(20), "the writer to finish or be held up", () -> {
                int now = batches.get();
                steady[0] = now == last[0] ? steady[0] + 1 : 0;
                last[0] = now;
                return writer.isDone() || steady[0] >= 25;
            });
            for (int n = 0; n < pings; n++) {
                JsonObject f = c.read();
                assertNotNull(f, "the connection was closed after " + n + " of " + pings + " pongs");
                assertEquals("pong", f.getString("type"));
            }
            writer.get(20, TimeUnit.SECONDS);
        }
    }
}
