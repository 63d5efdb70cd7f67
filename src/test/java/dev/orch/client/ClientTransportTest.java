package dev.orch.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.orch.protocol.ErrorCode;
import dev.orch.protocol.OrchException;
import dev.orch.testing.Poll;
import dev.orch.testing.TestServer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The blocking-socket transport: callers on many threads share one connection and each gets its
 * own answer, whichever thread happens to read it; timeouts and a lost server end waits.
 */
class ClientTransportTest {

    @Test
    void manyThreadsShareOneConnectionAndEachGetsItsOwnReply() throws Exception {
        try (TestServer s = TestServer.start(); OrchClient c = s.client()) {
            RemoteObject d = c.create("dict");
            ExecutorService pool = Executors.newFixedThreadPool(8);
            try {
                List<Future<Integer>> done = new ArrayList<>();
                for (int t = 0; t < 8; t++) {
                    int thread = t;
                    done.add(pool.submit(() -> {
                        int ok = 0;
                        for (int i = 0; i < 300; i++) {
                            String key = thread + "-" + i;
                            if (i % 3 == 0) {
                                // Mix asynchronous calls in: their replies may be read by any thread.
                                d.callAsync("__setitem__", key, i).get(30, TimeUnit.SECONDS);
                            } else {
                                d.call("__setitem__", key, i);
                            }
                            if (((Number) d.call("get", key)).intValue() == i) {
                                ok++;
                            }
                        }
                        return ok;
                    }));
                }
                for (Future<Integer> f : done) {
                    assertEquals(300, f.get(60, TimeUnit.SECONDS));
                }
            } finally {
                pool.shutdownNow();
            }
            assertEquals(2400, ((Number) d.call("__len__")).intValue());
        }
    }

    @Test
    void aCallerWaitingLongDoesNotHoldUpOtherCallers() throws Exception {
        try (TestServer s = TestServer.start(); OrchClient c = s.client()) {
            RemoteObject q = c.create("Queue");
            RemoteObject d = c.create("dict");
            // This thread becomes the reader and stays blocked until the item arrives.
            CompletableFuture<Object> waiting = CompletableFuture.supplyAsync(() -> q.call("get"));
            Thread.sleep(200);
            for (int i = 0; i < 50; i++) {
                d.call("__setitem__", "k", i);
            }
            assertEquals(49, ((Number) d.call("get", "k")).intValue());
            assertFalse(waiting.isDone());
            q.call("put", "item");
            assertEquals("item", waiting.get(10, TimeUnit.SECONDS));
        }
    }

    @Test
    void aCallTimesOutAndTheConnectionStaysUsable() {
        try (TestServer s = TestServer.start();
             OrchClient c = OrchClient.connect(s.clientConfig().callTimeout(Duration.ofMillis(300)))) {
            RemoteObject q = c.create("Queue");
            long t0 = System.nanoTime();
            OrchException e = assertThrows(OrchException.class, () -> q.call("get"));
            long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
            assertEquals(ErrorCode.TIMEOUT, e.code());
            assertTrue(ms >= 250 && ms < 5000, "timed out after " + ms + " ms");
            RemoteObject d = c.create("dict");
            d.call("__setitem__", "k", 1);
            assertEquals(1, ((Number) d.call("get", "k")).intValue());
        }
    }

    @Test
    void aPeerThatNeverAnswersTheLoginFailsTheConnectAtItsTimeout() throws Exception {
        // Accepts the connection (the kernel does) and never says a word.
        try (java.net.ServerSocket silent = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            ClientConfig cfg = new ClientConfig().host("127.0.0.1").port(silent.getLocalPort())
                    .authKey("k".getBytes(java.nio.charset.StandardCharsets.UTF_8)).connectTimeout(Duration.ofMillis(400));
            long t0 = System.nanoTime();
            OrchConnectException e = assertThrows(OrchConnectException.class, () -> OrchClient.connect(cfg).close());
            long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
            assertTrue(e.getMessage().contains("within 400 ms"), e.getMessage());
            assertTrue(ms >= 350 && ms < 5000, "gave up after " + ms + " ms");
        }
    }

    @Test
    void aValueJsonCannotCarryFailsItsCallAloneAndNothingIsStored() throws Exception {
        try (TestServer s = TestServer.start(); OrchClient c = s.client()) {
            RemoteObject d = c.create("dict");
            IllegalArgumentException sync = assertThrows(IllegalArgumentException.class, () -> d.call("__setitem__", "n", Double.NaN));
            assertTrue(sync.getMessage().contains("NaN"), sync.getMessage());
            CompletableFuture<Object> async = d.callAsync("__setitem__", "i", Double.POSITIVE_INFINITY);
            java.util.concurrent.ExecutionException e = assertThrows(java.util.concurrent.ExecutionException.class,
                    () -> async.get(10, TimeUnit.SECONDS));
            assertTrue(e.getCause() instanceof IllegalArgumentException, e::toString);
            // Nothing went out, nothing waits for a reply, and the connection goes on.
            assertEquals(0, ((Number) d.call("__len__")).intValue());
            assertEquals(2.5, d.call("setdefault", "x", 2.5));
            assertEquals(1, ((Number) d.callAsync("__len__").get(10, TimeUnit.SECONDS)).intValue());
        }
    }

    @Test
    void aRequestOverTheServersFrameLimitFailsAloneAndTheConnectionGoesOn() throws Exception {
        try (TestServer s = TestServer.start(c -> c.maxFrame(64 * 1024)); OrchClient c = s.client()) {
            RemoteObject v = c.create("Value", "before");
            OrchException e = assertThrows(OrchException.class, () -> v.call("set", "x".repeat(64 * 1024)));
            assertEquals(ErrorCode.FRAME_TOO_LARGE, e.code());
            assertTrue(e.detail().contains("at most 65536"), e.detail());
            CompletableFuture<Object> async = v.callAsync("set", "y".repeat(100 * 1024));
            assertThrows(java.util.concurrent.ExecutionException.class, () -> async.get(10, TimeUnit.SECONDS));
            assertEquals("before", v.call("get"));
            v.call("set", "z".repeat(60 * 1024));
            assertEquals(60 * 1024, ((String) v.call("get")).length());
        }
    }

    @Test
    void aTlsCaFileThatCannotBeUsedIsNamed() throws Exception {
        java.nio.file.Path notPem = java.nio.file.Files.createTempFile("orch-not-a-ca-", ".pem");
        try (TestServer s = TestServer.start()) {
            java.nio.file.Files.writeString(notPem, "not a certificate\n");
            OrchConnectException missing = assertThrows(OrchConnectException.class,
                    () -> OrchClient.connect(s.clientConfig().tls(true, java.nio.file.Path.of("/nonexistent/ca.pem"))).close());
            assertTrue(missing.getMessage().endsWith("cannot read TLS CA file /nonexistent/ca.pem: no such file"),
                    missing.getMessage());
            OrchConnectException garbage = assertThrows(OrchConnectException.class,
                    () -> OrchClient.connect(s.clientConfig().tls(true, notPem)).close());
            assertTrue(garbage.getMessage().contains("no certificate in TLS CA file " + notPem), garbage.getMessage());
        } finally {
            java.nio.file.Files.deleteIfExists(notPem);
        }
    }

    @Test
    void aLostServerEndsBlockedCallsAndCompletesClosedFuture() throws Exception {
        TestServer s = TestServer.start();
        try (OrchClient c = s.client()) {
            RemoteObject q = c.create("Queue");
            CompletableFuture<Object> blocked = CompletableFuture.supplyAsync(() -> q.call("get"));
            Thread.sleep(200);
            s.close();
            Exception e = assertThrows(Exception.class, () -> blocked.get(10, TimeUnit.SECONDS));
            // A stopping server fails a parked call with 503 before it closes the connection.
            assertTrue(e.getCause() instanceof OrchException
                    && ((OrchException) e.getCause()).code() == dev.orch.protocol.ErrorCode.SHUTTING_DOWN, String.valueOf(e.getCause()));
            c.closedFuture().get(10, TimeUnit.SECONDS);
            assertFalse(c.isOpen());
            assertThrows(OrchConnectException.class, () -> q.call("qsize"));
        } finally {
            s.close();
        }
    }

    @Test
    void asynchronousCallsCompleteWithoutAnyThreadWaiting() throws Exception {
        try (TestServer s = TestServer.start(); OrchClient c = s.client()) {
            RemoteObject d = c.create("dict");
            List<CompletableFuture<Object>> calls = new ArrayList<>();
            for (int i = 0; i < 500; i++) {
                calls.add(d.callAsync("__setitem__", "k" + i, i));
            }
            // Nobody blocks on these: the background reader must complete them on its own.
            CompletableFuture<Void> all = CompletableFuture.allOf(calls.toArray(new CompletableFuture[0]));
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
            while (!all.isDone() && System.nanoTime() < deadline) {
                Thread.sleep(10);
            }
            assertTrue(all.isDone());
            assertEquals(500, ((Number) d.call("__len__")).intValue());
        }
    }

    @Test
    void aPeerThatAnnouncesAHugeFrameBeforeLoginIsRefusedAtOnce() throws Exception {
        // Not an orch server: 7f ff ff ff announces a 2 GB frame, and a megabyte of it follows.
        try (java.net.ServerSocket junk = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            Thread peer = new Thread(() -> {
                try (java.net.Socket s = junk.accept()) {
                    s.getOutputStream().write(new byte[] {0x7f, (byte) 0xff, (byte) 0xff, (byte) 0xff});
                    s.getOutputStream().write(new byte[1 << 20]);
                    while (s.getInputStream().read() >= 0) {
                        // Until the client hangs up.
                    }
                } catch (java.io.IOException e) {
                    // The client hung up.
                }
            });
            peer.setDaemon(true);
            peer.start();
            ClientConfig cfg = new ClientConfig().host("127.0.0.1").port(junk.getLocalPort()).authKey(TestServer.KEY)
                    .connectTimeout(Duration.ofSeconds(10));
            long t0 = System.nanoTime();
            OrchConnectException e = assertThrows(OrchConnectException.class, () -> OrchClient.connect(cfg).close());
            long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
            assertTrue(e.getMessage().contains("2147483647 bytes before login"), e.getMessage());
            assertTrue(ms < 5000, "refused after " + ms + " ms");
        }
    }

    @Test
    void readersStartedForABurstOfLongHostedCallsAreFewAndEndOnceIdle() throws Exception {
        try (TestServer s = TestServer.start();
             OrchClient host = OrchClient.connect(s.clientConfig().direct("off"));
             OrchClient c = OrchClient.connect(s.clientConfig().direct("off"))) {
            host.host("Sleepy", List.of("nap"), (args, kwargs) -> (method, margs, mkwargs, session) -> {
                try {
                    Thread.sleep(margs.getInteger(0));
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                return "ok";
            });
            RemoteObject o = c.create("Sleepy");
            int before = readerThreads();
            int peak = 0;
            for (int round = 0; round < 2; round++) {
                List<CompletableFuture<Object>> calls = new ArrayList<>();
                for (int i = 0; i < 100; i++) {
                    calls.add(o.callAsync("nap", 300));
                }
                CompletableFuture<Void> all = CompletableFuture.allOf(calls.toArray(new CompletableFuture[0]));
                while (!all.isDone()) {
                    peak = Math.max(peak, readerThreads());
                    Thread.sleep(20);
                }
                all.get(30, TimeUnit.SECONDS);
            }
            // Each long call run inline has another reader take over reading, but only so many.
            assertTrue(peak <= before + 12, "reader threads went from " + before + " to " + peak);
            Poll.until(Duration.ofSeconds(10), "idle readers to end (" + readerThreads() + " left, " + before + " before)",
                    () -> readerThreads() <= before + 3);
            assertEquals("ok", o.call("nap", 1));
        }
    }

    private static int readerThreads() {
        return (int) Thread.getAllStackTraces().keySet().stream()
                .filter(t -> t.getName().equals("orch-client-reader") && t.isAlive()).count();
    }

    @Test
    void anIdleClientStaysConnectedToAServerWithAShortIdleTimeout() throws Exception {
        try (TestServer s = TestServer.start(c -> c.idleTimeout(Duration.ofMillis(1500))); OrchClient c = s.client()) {
            RemoteObject d = c.create("dict");
            Thread.sleep(5000);
            d.call("__setitem__", "k", 1);
            assertEquals(1, ((Number) d.call("__len__")).intValue());
            assertTrue(c.isOpen());
        }
    }

    @Test
    void pingsComeOftenEnoughForThePeersIdleTimeout() {
        Duration every = Duration.ofSeconds(30);
        assertEquals(30_000, ClientConnection.pingMillis(every, 120));
        assertEquals(30_000, ClientConnection.pingMillis(every, null), "an old server closes idle connections after 120 s");
        assertEquals(20_000, ClientConnection.pingMillis(every, 60.0));
        assertEquals(500, ClientConnection.pingMillis(every, 1.5));
        assertEquals(1_000, ClientConnection.pingMillis(Duration.ofSeconds(1), 120));
        assertEquals(0, ClientConnection.pingMillis(Duration.ZERO, 1.5), "pings turned off stay off");
        assertEquals(30_000, ClientConnection.pingMillis(java.time.temporal.ChronoUnit.FOREVER.getDuration(), 90));
    }
}
