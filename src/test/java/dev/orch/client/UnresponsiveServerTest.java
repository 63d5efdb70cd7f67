package dev.orch.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.orch.protocol.ErrorCode;
import dev.orch.protocol.OrchException;
import dev.orch.testing.FrozenServer;
import dev.orch.testing.TestServer;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * A server that stops answering or reading (stopped with SIGSTOP, wedged) must not hold a caller
 * past its call timeout, write included, nor past an interrupt: neither ends a blocking socket
 * read or write by itself.
 */
class UnresponsiveServerTest {
    private static final String BIG = "v".repeat(16 * 1024 * 1024);

    /** What a call on its own thread came to, and when. */
    private static final class Outcome {
        final Object value;
        final Throwable error;
        final long millis;
        final boolean stillInterrupted;

        Outcome(Object value, Throwable error, long millis, boolean stillInterrupted) {
            this.value = value;
            this.error = error;
            this.millis = millis;
            this.stillInterrupted = stillInterrupted;
        }
    }

    /** Runs {@code call} on a thread, interrupting it after {@code interruptAfter} if not null. */
    private static Outcome run(Supplier<Object> call, Duration interruptAfter) throws Exception {
        CompletableFuture<Outcome> done = new CompletableFuture<>();
        Thread t = new Thread(() -> {
            long t0 = System.nanoTime();
            Object value = null;
            Throwable error = null;
            try {
                value = call.get();
            } catch (Throwable e) {
                error = e;
            }
            done.complete(new Outcome(value, error, TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0),
                    Thread.currentThread().isInterrupted()));
        }, "caller");
        t.setDaemon(true);
        t.start();
        if (interruptAfter != null) {
            Thread.sleep(interruptAfter.toMillis());
            t.interrupt();
        }
        try {
            return done.get(15, TimeUnit.SECONDS);
        } catch (java.util.concurrent.TimeoutException e) {
            throw new AssertionError("the call was still blocked after 15 s: " + List.of(t.getStackTrace()));
        }
    }

    private static RemoteObject object(OrchClient c, String typeid) {
        return c.describe(new JsonObject().put("id", "1").put("typeid", typeid).put("address", "orch.obj.1"));
    }

    @Test
    void aRequestTheServerDoesNotReadEndsAtTheCallTimeout() throws Exception {
        try (FrozenServer f = FrozenServer.notReading();
             OrchClient c = OrchClient.connect(f.clientConfig().callTimeout(Duration.ofSeconds(2)))) {
            RemoteObject d = object(c, "dict");
            Outcome o = run(() -> d.call("__setitem__", "k", BIG), null);
            assertTrue(o.error instanceof OrchConnectException, String.valueOf(o.error));
            assertTrue(o.error.getMessage().contains("could not be written within its call timeout"), o.error.getMessage());
            assertTrue(o.millis >= 1500 && o.millis < 8000, "ended after " + o.millis + " ms");
            assertFalse(c.isOpen(), "a frame may be half written: the connection cannot go on");
        }
    }

    @Test
    void aCallbackOfAConnectionTheWatchdogClosedHoldsUpNoOtherConnection() throws Exception {
        java.util.concurrent.CountDownLatch release = new java.util.concurrent.CountDownLatch(1);
        try (FrozenServer stuck = FrozenServer.notReading(); FrozenServer silent = FrozenServer.silent();
             OrchClient a = OrchClient.connect(stuck.clientConfig().callTimeout(Duration.ofMillis(500)));
             OrchClient b = OrchClient.connect(silent.clientConfig().callTimeout(Duration.ofMillis(500)))) {
            java.util.concurrent.CountDownLatch closed = new java.util.concurrent.CountDownLatch(1);
            // A callback that blocks, as a reconnect may.
            a.closedFuture().thenRun(() -> {
                closed.countDown();
                try {
                    release.await(30, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            });
            RemoteObject d = object(a, "dict");
            Outcome first = run(() -> d.call("__setitem__", "k", BIG), null);
            assertTrue(first.error instanceof OrchConnectException, String.valueOf(first.error));
            assertTrue(closed.await(10, TimeUnit.SECONDS), "closedFuture did not complete");
            // The watchdog that ends this call past its timeout is the one a's close was made on.
            RemoteObject q = object(b, "Queue");
            Outcome o = run(() -> q.call("get"), null);
            assertTrue(o.error instanceof OrchConnectException, String.valueOf(o.error));
            assertTrue(o.error.getMessage().contains("did not answer a cancel"), o.error.getMessage());
        } finally {
            release.countDown();
        }
    }

    @Test
    void aCallWhoseCancelIsNeverAnsweredEndsSoonAfterItsTimeout() throws Exception {
        try (FrozenServer f = FrozenServer.silent();
             OrchClient c = OrchClient.connect(f.clientConfig().callTimeout(Duration.ofSeconds(2)))) {
            RemoteObject q = object(c, "Queue");
            Outcome o = run(() -> q.call("get"), null);
            // Whether the server gave it an item is unknown: not a Timeout, which says it did not.
            assertTrue(o.error instanceof OrchConnectException, String.valueOf(o.error));
            assertTrue(o.error.getMessage().contains("did not answer a cancel"), o.error.getMessage());
            assertTrue(o.millis >= 1500 && o.millis < 8000, "ended after " + o.millis + " ms");
            assertFalse(c.isOpen());
        }
    }

    @Test
    void aTimeoutReportsTheTimeItReallyTook() throws Exception {
        try (FrozenServer f = FrozenServer.silent();
             OrchClient c = OrchClient.connect(f.clientConfig().callTimeout(Duration.ofSeconds(2)))) {
            // A manager operation is not withdrawn: its caller, reading for itself, is woken by a
            // ping that the frozen server does not answer either.
            Outcome o = run(c::objects, null);
            assertTrue(o.error instanceof OrchException && ((OrchException) o.error).code() == ErrorCode.TIMEOUT,
                    String.valueOf(o.error));
            Matcher m = Pattern.compile("after (\\d+) ms").matcher(o.error.getMessage());
            assertTrue(m.find(), o.error.getMessage());
            long said = Long.parseLong(m.group(1));
            assertTrue(o.millis >= 1500 && o.millis < 8000, "ended after " + o.millis + " ms");
            assertTrue(said <= o.millis && said >= o.millis - 1000, "said " + said + " ms, took " + o.millis + " ms");
        }
    }

    @Test
    void anInterruptEndsACallBlockedReading() throws Exception {
        try (FrozenServer f = FrozenServer.silent();
             OrchClient c = OrchClient.connect(f.clientConfig().callTimeout(Duration.ZERO))) {
            RemoteObject q = object(c, "Queue");
            Outcome o = run(() -> q.call("get"), Duration.ofMillis(500));
            assertTrue(o.error instanceof OrchConnectException, String.valueOf(o.error));
            assertTrue(o.millis < 8000, "ended after " + o.millis + " ms");
            assertTrue(o.stillInterrupted, "the interrupt status is kept");
        }
    }

    @Test
    void anInterruptEndsACallBlockedWriting() throws Exception {
        try (FrozenServer f = FrozenServer.notReading();
             OrchClient c = OrchClient.connect(f.clientConfig().callTimeout(Duration.ZERO))) {
            RemoteObject d = object(c, "dict");
            Outcome o = run(() -> d.call("__setitem__", "k", BIG), Duration.ofMillis(500));
            assertTrue(o.error instanceof OrchConnectException, String.valueOf(o.error));
            assertTrue(o.error.getMessage().contains("interrupted"), o.error.getMessage());
            assertTrue(o.millis < 8000, "ended after " + o.millis + " ms");
            assertTrue(o.stillInterrupted, "the interrupt status is kept");
            assertFalse(c.isOpen());
        }
    }

    @Test
    void anInterruptedRequestThatNeverLeftIsDroppedAndTheConnectionStays() throws Exception {
        try (FrozenServer f = FrozenServer.notReading();
             OrchClient c = OrchClient.connect(f.clientConfig().callTimeout(Duration.ZERO))) {
            // A background reader reads, so the second caller waits as a follower, not in read().
            c.closedFuture();
            RemoteObject d = object(c, "dict");
            CompletableFuture<Outcome> writing = CompletableFuture.supplyAsync(() -> {
                try {
                    return run(() -> d.call("__setitem__", "k", BIG), null);
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            });
            // The first caller is blocked writing; the second one's frame waits behind it.
            Thread.sleep(500);
            Outcome o = run(() -> d.call("__setitem__", "small", 1), Duration.ofMillis(300));
            assertTrue(o.error instanceof OrchException && ((OrchException) o.error).code() == ErrorCode.CANCELLED,
                    String.valueOf(o.error));
            assertTrue(o.error.getMessage().contains("not sent"), o.error.getMessage());
            assertTrue(o.stillInterrupted);
            assertTrue(c.isOpen(), "nothing of it went out: the connection goes on");
            c.close();
            assertTrue(writing.get(10, TimeUnit.SECONDS).error instanceof OrchConnectException);
        }
    }

    @Test
    void anInterruptEndsTheWaitForAHostedCallAndTheConnectionGoesOn() throws Exception {
        try (TestServer s = TestServer.start();
             OrchClient host = OrchClient.connect(s.clientConfig().direct("off"));
             OrchClient c = OrchClient.connect(s.clientConfig().direct("off").callTimeout(Duration.ZERO))) {
            host.host("Slow", List.of("nap"), (args, kwargs) -> (method, margs, mkwargs, session) -> {
                try {
                    Thread.sleep(3000);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                return "rested";
            });
            RemoteObject slow = c.create("Slow");
            Outcome o = run(() -> slow.call("nap"), Duration.ofMillis(300));
            assertTrue(o.error instanceof OrchException && ((OrchException) o.error).code() == ErrorCode.CANCELLED,
                    String.valueOf(o.error) + " / " + o.value);
            assertTrue(o.error.getMessage().contains("may still take effect"), o.error.getMessage());
            assertTrue(o.millis < 2500, "ended after " + o.millis + " ms, not at the interrupt");
            assertTrue(o.stillInterrupted);
            RemoteObject d = c.create("dict");
            d.call("__setitem__", "k", 1);
            assertEquals(1, ((Number) d.call("get", "k")).intValue());
        }
    }
}
