package dev.orch.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.orch.protocol.ErrorCode;
import dev.orch.protocol.OrchException;
import dev.orch.testing.Poll;
import dev.orch.testing.TestServerExtension;
import io.vertx.core.json.JsonArray;
import java.time.Duration;
import java.util.Arrays;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * {@link RemoteQueue} and {@link RemoteLock} never give up on a wait the server still holds: an
 * abandoned wait would later take an item or a lock that nobody receives.
 */
class SyncProxyTest {
    static final Duration SHORT = Duration.ofMillis(300);
    @RegisterExtension
    static final TestServerExtension server = TestServerExtension.perClass();

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
    void waitsTooLongForNanosecondsWaitForEver() throws Exception {
        Duration forever = java.time.temporal.ChronoUnit.FOREVER.getDuration();
        try (OrchClient c = client(Duration.ofSeconds(20)); OrchClient producer = client(Duration.ofSeconds(20))) {
            RemoteQueue q = c.queue("long-waits", 0);
            CompletableFuture<Object> polled = CompletableFuture.supplyAsync(() -> q.poll(Duration.ofDays(365_000)));
            Thread.sleep(300);
            producer.queue("long-waits", 0).put("item");
            assertEquals("item", polled.get(10, TimeUnit.SECONDS));
            assertTrue(q.offer("again", forever));
            assertEquals("again", q.poll(forever));
            RemoteLock lock = c.lock("long-waits-lock");
            assertTrue(lock.tryLock(forever));
            lock.unlock();
        }
        try (OrchClient patient = client(forever)) {
            RemoteObject d = patient.create("dict");
            d.call("__setitem__", "k", 1);
            assertTrue(patient.lock("long-waits-lock").tryLock(Duration.ofDays(365_000)));
        }
    }

    @Test
    void aWaitLongerThanTheCallTimeoutIsWaitedForWithCallWithTimeout() throws Exception {
        try (OrchClient c = client(SHORT); OrchClient setter = client(SHORT)) {
            RemoteObject event = c.create("Event");
            long t0 = System.nanoTime();
            assertEquals(false, event.callWithTimeout("wait", Duration.ofMillis(900)), "the server's own timeout answer");
            long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
            assertTrue(ms >= 850, "gave up after " + ms + " ms");
            assertEquals(false, event.callWithTimeout("wait", Duration.ofSeconds(-3)));

            RemoteObject barrier = c.create("shared-barrier", "Barrier", new JsonArray().add(2), null);
            CompletableFuture<Object> first = CompletableFuture.supplyAsync(
                    () -> barrier.callWithTimeout("wait", Duration.ofSeconds(20)));
            Thread.sleep(SHORT.toMillis() + 300);
            assertFalse(first.isDone(), "gave up at the call timeout: " + first);
            Object second = setter.lookup("shared-barrier").call("wait");
            assertEquals(1, ((Number) second).intValue() + ((Number) first.get(10, TimeUnit.SECONDS)).intValue());
        }
    }

    @Test
    void aNegativeTimeoutDoesNotWaitAtAll() {
        try (OrchClient holder = client(SHORT); OrchClient c = client(Duration.ofSeconds(20))) {
            holder.lock("negative-lock").lock();
            RemoteLock lock = c.lock("negative-lock");
            RemoteQueue q = c.queue("negative-queue", 1);
            q.put("full");
            for (Duration d : new Duration[] {Duration.ZERO, Duration.ofMillis(-500), Duration.ofSeconds(-1),
                Duration.ofSeconds(-2)}) {
                long t0 = System.nanoTime();
                assertFalse(lock.tryLock(d), d.toString());
                assertFalse(q.offer("more", d), d.toString());
                assertEquals("full", q.poll(d), d.toString());
                assertNull(q.poll(d), d.toString());
                q.put("full");
                long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
                assertTrue(ms < 5_000, d + " waited " + ms + " ms");
            }
        }
    }

    @Test
    void joinWaitsForEveryTakenItemToBeMarkedDone() throws Exception {
        try (OrchClient c = client(SHORT); OrchClient worker = client(SHORT)) {
            RemoteQueue q = c.queue("join-q", 0);
            q.put("job");
            assertFalse(q.join(Duration.ofMillis(100)), "an item is unfinished");
            CompletableFuture<Boolean> joined = CompletableFuture.supplyAsync(() -> q.join(Duration.ofSeconds(20)));
            RemoteQueue w = worker.queue("join-q", 0);
            assertEquals("job", w.poll(Duration.ZERO));
            Thread.sleep(100);
            assertFalse(joined.isDone(), "taken is not done");
            w.taskDone();
            assertTrue(joined.get(10, TimeUnit.SECONDS));
            OrchException e = assertThrows(OrchException.class, w::taskDone);
            assertEquals("ValueError", e.name());
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

    /** Runs {@code wait} on a new thread, interrupts it once it waits, and returns how it ended. */
    private static Thread.State waitThenInterrupt(Runnable wait, CompletableFuture<Object> outcome,
            AtomicBoolean stillInterrupted) throws Exception {
        Thread t = new Thread(() -> {
            try {
                wait.run();
                outcome.complete("returned");
            } catch (RuntimeException e) {
                outcome.completeExceptionally(e);
            }
            stillInterrupted.set(Thread.currentThread().isInterrupted());
        });
        t.start();
        // A leader blocks in a socket read (RUNNABLE), a follower parks: wait until it is in either.
        Poll.until(Duration.ofSeconds(10), "the caller to wait", () -> Arrays.stream(t.getStackTrace())
                .anyMatch(f -> f.getMethodName().equals("await")));
        Thread.sleep(100);
        t.interrupt();
        t.join(10_000);
        return t.getState();
    }

    private static void assertWithdrawn(CompletableFuture<Object> outcome) {
        java.util.concurrent.ExecutionException e = assertThrows(java.util.concurrent.ExecutionException.class,
                () -> outcome.get(0, TimeUnit.SECONDS));
        assertTrue(e.getCause() instanceof OrchException, String.valueOf(e.getCause()));
        assertEquals(ErrorCode.CANCELLED, ((OrchException) e.getCause()).code(), e.getCause().getMessage());
    }

    @Test
    void anInterruptedGetIsWithdrawnAndTakesNoItem() throws Exception {
        for (boolean backgroundReader : new boolean[] {false, true}) {
            try (OrchClient c = client(Duration.ofSeconds(20)); OrchClient producer = client(Duration.ofSeconds(20))) {
                String name = "interrupted-" + backgroundReader;
                RemoteQueue q = c.queue(name, 0);
                if (backgroundReader) {
                    // A watched connection has a background reader, so a caller waits as a follower;
                    // without one the caller blocks in the socket read itself.
                    c.closedFuture();
                    Poll.until(Duration.ofSeconds(10), "a background reader", () -> Thread.getAllStackTraces().keySet()
                            .stream().anyMatch(t -> t.getName().equals("orch-client-reader")));
                }
                CompletableFuture<Object> outcome = new CompletableFuture<>();
                AtomicBoolean stillInterrupted = new AtomicBoolean();
                assertEquals(Thread.State.TERMINATED,
                        waitThenInterrupt(() -> q.poll(Duration.ofSeconds(15)), outcome, stillInterrupted),
                        "the interrupted get did not end");
                assertWithdrawn(outcome);
                assertTrue(stillInterrupted.get(), "the interrupt status is kept");
                producer.queue(name, 0).put("item");
                assertEquals(1, q.size(), "the item went to the withdrawn get");
                assertEquals("item", q.poll(Duration.ZERO), "the connection is still usable");
            }
        }
    }

    @Test
    void anInterruptedLockWaitNeverTakesTheLock() throws Exception {
        try (OrchClient holder = client(Duration.ofSeconds(20)); OrchClient waiter = client(Duration.ofSeconds(20));
                OrchClient third = client(Duration.ofSeconds(20))) {
            RemoteLock held = holder.lock("interrupted-lock");
            held.lock();
            CompletableFuture<Object> outcome = new CompletableFuture<>();
            waitThenInterrupt(waiter.lock("interrupted-lock")::lock, outcome, new AtomicBoolean());
            assertWithdrawn(outcome);
            held.unlock();
            assertTrue(third.lock("interrupted-lock").tryLock(Duration.ofSeconds(5)), "the withdrawn acquire took the lock");
        }
    }

    @Test
    void aCallTimeoutShorterThanTheServersWaitTakesNoItemLater() {
        try (OrchClient c = client(SHORT)) {
            RemoteQueue q = c.queue("timeout-withdrawn", 0);
            long t0 = System.nanoTime();
            // A plain call: the server would wait for ever, the client only SHORT.
            OrchException e = assertThrows(OrchException.class, () -> q.object().call("get"));
            long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
            assertEquals(ErrorCode.TIMEOUT, e.code(), e.getMessage());
            assertTrue(ms >= 250 && ms < 1_250, "timed out after " + ms + " ms");
            q.put("item");
            assertEquals(1, q.size(), "the item went to the timed-out get");
        }
    }

    @Test
    void cancellingATakeAsyncWithdrawsItOnTheServer() throws Exception {
        try (OrchClient c = client(Duration.ofSeconds(20)); OrchClient producer = client(Duration.ofSeconds(20))) {
            RemoteQueue q = c.queue("take-async", 0);
            CompletableFuture<Object> take = q.takeAsync();
            CompletableFuture<Object> next = q.takeAsync();
            assertFalse(take.cancel(true), "cancelled before the server said whether it had answered");
            Poll.until(Duration.ofSeconds(10), "the withdrawn take to end", take::isDone);
            assertTrue(take.isCancelled(), "the withdrawn take did not end cancelled");
            producer.queue("take-async", 0).put("item");
            assertEquals("item", next.get(10, TimeUnit.SECONDS), "the item went to the withdrawn take");

            q.put("kept");
            CompletableFuture<Object> answered = q.takeAsync();
            assertEquals("kept", answered.get(10, TimeUnit.SECONDS));
            assertFalse(answered.cancel(true));
            assertFalse(answered.isCancelled());
            assertEquals(0, q.size());
        }
    }

    @Test
    void closingAHeldLockTwiceReleasesItOnce() {
        try (OrchClient first = client(Duration.ofSeconds(20)); OrchClient second = client(Duration.ofSeconds(20))) {
            RemoteLock mine = first.lock("held-twice");
            RemoteLock theirs = second.lock("held-twice");
            RemoteLock.Held held = mine.hold();
            held.close();
            assertTrue(theirs.tryLock(Duration.ofSeconds(5)));
            // Any session may release a Lock: a second release would free the other client's.
            held.close();
            assertFalse(mine.tryLock(Duration.ofMillis(200)), "the second close released the other client's lock");
            theirs.unlock();
        }
    }

    @Test
    void pollAsyncWaitsOnTheServerAndLosesNoItem() throws Exception {
        try (OrchClient c = client(Duration.ofSeconds(20))) {
            RemoteQueue q = c.queue("poll-async", 0);
            long t0 = System.nanoTime();
            assertNull(q.pollAsync(Duration.ofMillis(300)).get(10, TimeUnit.SECONDS));
            long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
            assertTrue(ms >= 250, "answered after " + ms + " ms");
            q.put("item");
            assertEquals(1, q.size(), "the item went to a poll that had ended");
            assertEquals("item", q.pollAsync(Duration.ofSeconds(5)).get(10, TimeUnit.SECONDS));

            CompletableFuture<Object> waiting = q.pollAsync(Duration.ofSeconds(30));
            // Sent, the poll ends only once the server says whether it had answered; still
            // unsent (a busy host), it is dropped and ends at once. Either way it takes nothing.
            waiting.cancel(true);
            Poll.until(Duration.ofSeconds(10), "the withdrawn poll to end", waiting::isDone);
            assertTrue(waiting.isCancelled());
            q.put("kept");
            assertEquals(1, q.size(), "the item went to the withdrawn poll");
        }
    }

    @Test
    void nullItemsAreRefusedAsByABlockingQueue() {
        try (OrchClient c = client(Duration.ofSeconds(20))) {
            RemoteQueue q = c.queue("null-items", 0);
            assertEquals("item", assertThrows(NullPointerException.class, () -> q.put(null)).getMessage());
            assertEquals("item", assertThrows(NullPointerException.class, () -> q.offer(null, SHORT)).getMessage());
            assertEquals(0, q.size());
        }
    }
}
