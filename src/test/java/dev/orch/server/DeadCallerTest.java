package dev.orch.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.orch.testing.Poll;
import dev.orch.testing.RawClient;
import dev.orch.testing.TestServer;
import io.vertx.core.VertxOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.lang.ref.WeakReference;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * A caller that dies while its {@code get} is parked takes nothing, even when the server reads
 * its end in the same loop turn as the {@code put} that answers the get (SYNC.md: "a get whose
 * caller vanished consumes nothing").
 */
class DeadCallerTest {

    @Test
    void anItemAnsweredToACallerThatDiedInTheSameLoopTurnGoesBackToTheQueue() throws Exception {
        // One loop, held busy while the put arrives and then the getter's end: the loop's next
        // turn reads both, in that order, and queues the item for a connection that then closes.
        try (TestServer s = TestServer.start(new VertxOptions().setEventLoopPoolSize(1), c -> c.eventLoops(1));
                RawClient getter = s.raw(); RawClient putter = s.raw()) {
            getter.login(TestServer.KEY);
            putter.login(TestServer.KEY);
            JsonObject created = putter.manager(new JsonObject().put("op", "create").put("typeid", "Queue").put("name", "jobs"));
            String queue = "orch.obj." + created.getJsonObject("body").getString("id");
            getter.send(queue, "g1", new JsonObject().put("method", "get"));
            // Frames of one connection run in order: once this is answered, the get is parked.
            assertEquals(0L, size(getter, queue));

            CountDownLatch held = new CountDownLatch(1);
            s.vertx.nettyEventLoopGroup().next().execute(() -> {
                held.countDown();
                sleep(700);
            });
            assertTrue(held.await(10, TimeUnit.SECONDS));
            putter.send(queue, "p1", new JsonObject().put("method", "put").put("args", new JsonArray().add("item")));
            Thread.sleep(200);
            getter.close();

            JsonObject put = putter.read();
            assertEquals("p1", put.getString("address"));
            assertNull(put.getJsonObject("body").getValue("result"));
            Poll.until(Duration.ofSeconds(10), "the item to come back to the queue", () -> size(putter, queue) == 1);
            JsonObject got = putter.request(queue, new JsonObject().put("method", "get_nowait"));
            assertEquals("item", got.getJsonObject("body").getValue("result"));
        }
    }

    @Test
    void aGetWhoseAnswerIsTooLargeToSendLeavesItsItemInTheQueue() throws Exception {
        // The item came in a frame within the limit; a long reply address makes its answer larger.
        try (TestServer s = TestServer.start(c -> c.maxFrame(2048)); RawClient c = s.raw()) {
            c.login(TestServer.KEY);
            String queue = queue(c);
            String big = "x".repeat(1800);
            c.request(queue, new JsonObject().put("method", "put").put("args", new JsonArray().add(big)));
            c.request(queue, new JsonObject().put("method", "put").put("args", new JsonArray().add("second")));
            String longReply = "r".repeat(300);
            c.send(queue, longReply, new JsonObject().put("method", "get"));
            JsonObject refused = c.read();
            assertEquals(longReply, refused.getString("address"));
            assertEquals(500, refused.getInteger("failureCode"), refused.encode());
            assertTrue(refused.getString("message").startsWith("ValueError"), refused.encode());
            // Back where it was, first in line.
            assertEquals(2L, size(c, queue));
            assertEquals(big, c.request(queue, new JsonObject().put("method", "get_nowait")).getJsonObject("body").getValue("result"));
        }
    }

    @Test
    void itemsAnsweredToASlowConsumerThatIsCutOffAreNotLost() throws Exception {
        // A consumer parks its gets and stops reading; the answers pass the unread-output limit
        // and the server closes it under them. Each item is either read by it whole or back in
        // the queue, whatever had been handed to the socket.
        int items = 48;
        String pad = "i".repeat(256 * 1024);
        try (TestServer s = TestServer.start(c -> c.maxPendingOutput(1024 * 1024));
                RawClient consumer = s.raw(); RawClient producer = s.raw()) {
            consumer.login(TestServer.KEY);
            producer.login(TestServer.KEY);
            String queue = queue(producer);
            for (int i = 0; i < items; i++) {
                consumer.send(queue, "g" + i, new JsonObject().put("method", "get"));
            }
            assertEquals(0L, size(consumer, queue)); // in order after the gets: all parked
            for (int i = 0; i < items; i++) {
                producer.send(queue, null, new JsonObject().put("method", "put").put("args", new JsonArray().add(i + pad)));
            }
            Poll.until(Duration.ofSeconds(20), "the consumer to be cut off", () -> s.server.connections().stream()
                    .noneMatch(conn -> consumer.session.equals(conn.session())));
            int received = 0;
            try {
                for (JsonObject f = consumer.read(); f != null; f = consumer.read()) {
                    if (f.getJsonObject("body").getValue("result") instanceof String) {
                        received++;
                    }
                }
            } catch (java.io.IOException cut) {
                // Closed in the middle of a frame: that answer did not arrive.
            }
            int got = received;
            assertTrue(got < items, "the consumer was cut off after " + got + " items");
            long left = size(producer, queue);
            for (int t = 0; t < 100 && got + left != items; t++) {
                Thread.sleep(100); // the give-backs travel to the queue's loop
                left = size(producer, queue);
            }
            assertEquals(items, got + left, got + " items read and " + left + " left in the queue");
        }
    }

    @Test
    void aCallerThatDiesWhileParkedLeavesNothingOfItsConnectionBehind() throws Exception {
        // Two loops: the queue lives on its creator's, and a caller on the other loop waits for
        // its parked get's answer on the event bus. Consecutive connections alternate loops, so
        // one of the two callers is on the other loop.
        try (TestServer s = TestServer.start(new VertxOptions().setEventLoopPoolSize(2), c -> c.eventLoops(2));
                RawClient owner = s.raw(); RawClient first = s.raw(); RawClient second = s.raw()) {
            owner.login(TestServer.KEY);
            String queue = queue(owner);
            List<WeakReference<BridgeConnection>> gone = new ArrayList<>();
            for (RawClient caller : new RawClient[] {first, second}) {
                caller.login(TestServer.KEY);
                caller.send(queue, "g", new JsonObject().put("method", "get"));
                assertEquals(0L, size(caller, queue));
                s.server.connections().stream().filter(conn -> caller.session.equals(conn.session()))
                        .forEach(conn -> gone.add(new WeakReference<>(conn)));
                caller.close();
            }
            assertEquals(2, gone.size());
            Poll.until(Duration.ofSeconds(10), "the closed connections to be collected", () -> {
                System.gc();
                return gone.stream().allMatch(ref -> ref.get() == null);
            });
            assertEquals(0L, size(owner, queue));
        }
    }

    private static String queue(RawClient c) throws java.io.IOException {
        JsonObject created = c.manager(new JsonObject().put("op", "create").put("typeid", "Queue"));
        return "orch.obj." + created.getJsonObject("body").getString("id");
    }

    private static long size(RawClient c, String queue) {
        try {
            return c.request(queue, new JsonObject().put("method", "qsize")).getJsonObject("body").getLong("result");
        } catch (java.io.IOException e) {
            throw new IllegalStateException(e);
        }
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
