package dev.orch.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.orch.protocol.ErrorCode;
import dev.orch.protocol.OrchException;
import dev.orch.testing.Poll;
import dev.orch.testing.TestServer;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@link RemoteQueue} and {@link RemoteLock} never give up on a wait the server still holds: an
 * abandoned wait would later take an item or a lock that nobody receives.
 */
class SyncProxyTest {
    static final Duration SHORT = Duration.ofMillis(300);
    static TestServer server;

    @BeforeAll
    static void start() {
        server = TestServer.start();
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    private static OrchClient client(Duration callTimeout) {
        return OrchClient.connect(server.clientConfig().callTimeout(callTimeout));
    }

    @Test
    void aPollLongerThanTheCallTimeoutWaitsForTheServerAndLosesNoItem() {
        try (OrchClient c = client(SHORT)) {
            RemoteQueue q = c.queue("poll-longer", 0);
            long t0 = System.nanoTime();
            assertNull(q.poll(Duration.ofMillis(900)));
            long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
            assertTrue(ms >= 850, "gave up after " + ms + " ms");
            q.put("item");
            assertEquals(1, q.size(), "the item went to an abandoned get");
            assertEquals("item", q.poll(Duration.ZERO));
        }
    }

    @Test
    void anOfferLongerThanTheCallTimeoutReportsAFullQueue() {
        try (OrchClient c = client(SHORT)) {
            RemoteQueue q = c.queue("offer-longer", 1);
            q.put(1);
            assertFalse(q.offer(2, Duration.ofMillis(900)));
            assertEquals(1, q.poll(Duration.ZERO));
            assertNull(q.poll(Duration.ZERO), "an abandoned put added its item later");
        }
    }

    @Test
    void putOnAFullQueueTimesOutWithoutAddingTheItemLater() {
        try (OrchClient c = client(SHORT)) {
            RemoteQueue q = c.queue("put-full", 1);
            q.put(1);
            OrchException e = assertThrows(OrchException.class, () -> q.put(2));
            assertEquals(ErrorCode.TIMEOUT, e.code());
            assertEquals(1, q.poll(Duration.ZERO));
            assertNull(q.poll(Duration.ofMillis(500)), "an abandoned put added its item later");
        }
    }

    @Test
    void lockTimesOutWithoutTakingTheLockLater() {
        try (OrchClient holder = client(Duration.ofSeconds(20)); OrchClient waiter = client(SHORT)) {
            RemoteLock held = holder.lock("lock-later");
            held.lock();
            RemoteLock wanted = waiter.lock("lock-later");
            OrchException e = assertThrows(OrchException.class, wanted::lock);
            assertEquals(ErrorCode.TIMEOUT, e.code());
            held.unlock();
            assertTrue(held.tryLock(Duration.ofSeconds(5)), "the waiter's abandoned acquire took the lock");
            held.unlock();
        }
    }

    @Test
    void anInterruptedWaitStillReceivesItsItem() throws Exception {
        try (OrchClient c = client(Duration.ofSeconds(20)); OrchClient producer = client(Duration.ofSeconds(20))) {
            RemoteQueue q = c.queue("interrupted", 0);
            // A watched connection has a background reader, so a caller waits as a follower.
            c.closedFuture();
            Poll.until(Duration.ofSeconds(10), "a background reader", () -> Thread.getAllStackTraces().keySet().stream()
                    .anyMatch(t -> t.getName().equals("orch-client-reader") && t.getState() == Thread.State.RUNNABLE));
            AtomicBoolean stillInterrupted = new AtomicBoolean();
            CompletableFuture<Object> got = new CompletableFuture<>();
            Thread consumer = new Thread(() -> {
                try {
                    got.complete(q.poll(Duration.ofSeconds(15)));
                } catch (RuntimeException e) {
                    got.completeExceptionally(e);
                }
                stillInterrupted.set(Thread.currentThread().isInterrupted());
            });
            consumer.start();
            Poll.until(Duration.ofSeconds(10), "the consumer to wait", () -> consumer.getState() == Thread.State.TIMED_WAITING);
            consumer.interrupt();
            producer.queue("interrupted", 0).put("item");
            assertEquals("item", got.get(10, TimeUnit.SECONDS));
            consumer.join(10_000);
            assertTrue(stillInterrupted.get(), "the interrupt status is kept");
        }
    }
}
