package dev.orch.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.orch.protocol.ErrorCode;
import dev.orch.protocol.OrchException;
import dev.orch.testing.TestServer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;

/**
 * A client whose reading is held up past its call timeout and the cancel's grace (a handler on
 * the reading thread, a long collection pause, a huge frame): what the server gave a call that
 * then timed out must reach its caller, or not have been given.
 */
class HeldUpReaderTest {

    /** Holds the consumer's reading thread for 2.5 s on each event: serve's handlers run on it. */
    private static void holdReaderOnEvents(OrchClient consumer) {
        consumer.serve("orch.events", body -> {
            try {
                Thread.sleep(2500);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return CompletableFuture.completedFuture(null);
        });
    }

    /** Publishes an event: a process that starts (and lives past the test). */
    private static void spawn(OrchClient c) {
        c.request("orch.process", new JsonObject().put("op", "spawn").put("command", new JsonArray().add("sleep").add("30")));
    }

    private static CompletableFuture<Object> onThread(Supplier<Object> call) {
        CompletableFuture<Object> f = new CompletableFuture<>();
        Thread t = new Thread(() -> {
            try {
                f.complete(call.get());
            } catch (Throwable e) {
                f.completeExceptionally(e);
            }
        }, "consumer");
        t.setDaemon(true);
        t.start();
        return f;
    }

    private static Object outcome(CompletableFuture<Object> f) throws Exception {
        try {
            return f.get(20, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            return e.getCause();
        }
    }

    private static boolean timedOut(Object outcome) {
        return outcome instanceof OrchException && ((OrchException) outcome).code() == ErrorCode.TIMEOUT;
    }

    @Test
    void anItemTakenWhileTheReaderIsHeldUpReachesItsCallerOrStaysQueued() throws Exception {
        try (TestServer s = TestServer.start(); OrchClient producer = s.client();
             OrchClient consumer = OrchClient.connect(s.clientConfig().callTimeout(Duration.ofSeconds(1)))) {
            RemoteQueue q = producer.create("Queue").asQueue();
            RemoteObject cq = consumer.lookupId(q.object().id());
            holdReaderOnEvents(consumer);
            CompletableFuture<Object> got = onThread(() -> cq.call("get"));
            Thread.sleep(200);
            spawn(producer);
            Thread.sleep(300);
            q.put("ITEM");
            Object o = outcome(got);
            assertTrue("ITEM".equals(o) || timedOut(o), String.valueOf(o));
            if (timedOut(o)) {
                assertEquals(1, q.size(), "the call timed out, yet the item is gone: " + o);
            } else {
                assertEquals(0, q.size());
            }
        }
    }

    @Test
    void aLockGrantedWhileTheReaderIsHeldUpReachesItsCallerOrStaysFree() throws Exception {
        try (TestServer s = TestServer.start(); OrchClient holder = s.client();
             OrchClient waiter = OrchClient.connect(s.clientConfig().callTimeout(Duration.ofSeconds(1)))) {
            RemoteLock lock = holder.create("Lock").asLock();
            lock.lock();
            RemoteObject wl = waiter.lookupId(lock.object().id());
            holdReaderOnEvents(waiter);
            CompletableFuture<Object> got = onThread(() -> wl.call("acquire"));
            Thread.sleep(200);
            spawn(holder);
            Thread.sleep(300);
            lock.unlock();
            Object o = outcome(got);
            assertTrue(Boolean.TRUE.equals(o) || timedOut(o), String.valueOf(o));
            boolean free = Boolean.TRUE.equals(lock.object().call("acquire", false));
            assertEquals(timedOut(o), free, timedOut(o) ? "the call timed out, yet the lock is held: " + o
                    : "the waiter was given the lock, yet it is free");
        }
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
    void anInterruptLeftByOneHandlerDoesNotReachTheNext() throws Exception {
        try (TestServer s = TestServer.start(); OrchClient c = s.client(); OrchClient other = s.client()) {
            RemoteObject ev = c.create("Event");
            java.util.List<Object> outcomes = java.util.Collections.synchronizedList(new java.util.ArrayList<>());
            CountDownLatch two = new CountDownLatch(2);
            c.subscribe("orch.events", body -> {
                if (!"started".equals(((JsonObject) body).getString("event"))) {
                    return;
                }
                if (two.getCount() == 2) {
                    Thread.currentThread().interrupt(); // and returns with it set
                } else {
                    try {
                        outcomes.add(ev.call("wait", 0.3)); // a call that waits, where an interrupt tells
                    } catch (RuntimeException e) {
                        outcomes.add(e);
                    }
                }
                two.countDown();
            });
            spawn(other);
            spawn(other);
            assertTrue(two.await(10, TimeUnit.SECONDS), "two started events");
            assertEquals(1, outcomes.size(), outcomes::toString);
            assertEquals(false, outcomes.get(0), "the second handler's call");
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

    @Test
    void aHandlerThatWaitsForClosedFutureFailsAtOnceInsteadOfForEver() throws Exception {
        TestServer s = TestServer.start();
        try (OrchClient c = s.client()) {
            CompletableFuture<Object> waited = new CompletableFuture<>();
            c.subscribe("orch.events", body -> {
                try {
                    waited.complete(c.closedFuture().get());
                } catch (Throwable e) {
                    waited.complete(e);
                }
            });
            spawn(c);
            Object outcome = waited.get(20, TimeUnit.SECONDS);
            assertTrue(outcome instanceof IllegalStateException, String.valueOf(outcome));
            // Off the handlers' thread the future is an ordinary one: it completes on close.
            s.close();
            assertEquals(null, c.closedFuture().get(20, TimeUnit.SECONDS));
        } finally {
            s.close();
        }
    }
}
