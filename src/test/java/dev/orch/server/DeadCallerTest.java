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
import java.time.Duration;
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
