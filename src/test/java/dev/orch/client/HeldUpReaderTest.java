package dev.orch.client;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.orch.testing.TestServer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;

/** Subscription handlers run off the reading thread: a slow one holds up no reply. */
class HeldUpReaderTest {

    /** Publishes an event: a process that starts (and lives past the test). */
    private static void spawn(OrchClient c) {
        c.request("orch.process", new JsonObject().put("op", "spawn").put("command", new JsonArray().add("sleep").add("30")));
    }

    @Test
    void aSlowSubscriberHoldsUpNoCall() throws Exception {
        try (TestServer s = TestServer.start(); OrchClient c = s.client(); OrchClient other = s.client()) {
            CountDownLatch inHandler = new CountDownLatch(1);
            c.subscribe("orch.events", body -> {
                inHandler.countDown();
                try {
                    Thread.sleep(3000);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            });
            RemoteObject d = c.create("dict");
            // From another client, so that no caller of this one reads the event.
            spawn(other);
            assertTrue(inHandler.await(10, TimeUnit.SECONDS), "no event");
            long t0 = System.nanoTime();
            for (int i = 0; i < 3; i++) {
                d.call("__setitem__", "k", i);
            }
            long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
            assertTrue(ms < 1500, "calls waited " + ms + " ms for a subscriber");
        }
    }

    @Test
    void closedFutureCompletesAfterTheMessagesReadBeforeTheClose() throws Exception {
        TestServer s = TestServer.start();
        try (OrchClient c = s.client()) {
            CountDownLatch inHandler = new CountDownLatch(1);
            AtomicBoolean handled = new AtomicBoolean();
            c.subscribe("orch.events", body -> {
                inHandler.countDown();
                try {
                    Thread.sleep(1000);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                handled.set(true);
            });
            spawn(c);
            assertTrue(inHandler.await(10, TimeUnit.SECONDS), "no event");
            CompletableFuture<Boolean> handledAtClose = c.closedFuture().thenApply(v -> handled.get());
            s.close();
            assertTrue(handledAtClose.get(20, TimeUnit.SECONDS), "closedFuture completed before the handler ran");
        } finally {
            s.close();
        }
    }
}
