package dev.orch.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.orch.client.ClientConfig;
import dev.orch.server.OrchServer;
import dev.orch.server.ServerConfig;
import io.vertx.core.Vertx;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Every scenario, briefly, against an in-process server on a real socket. No timing assertions. */
class BenchRunnerTest {
    private static final byte[] KEY = "bench-test-key".getBytes(StandardCharsets.UTF_8);
    private static Vertx serverVertx;
    private static Vertx clientVertx;
    private static OrchServer server;

    @BeforeAll
    static void start() throws Exception {
        serverVertx = Vertx.vertx();
        clientVertx = Vertx.vertx();
        server = OrchServer.start(serverVertx, new ServerConfig().host("127.0.0.1").port(0).authKey(KEY))
                .toCompletionStage().toCompletableFuture().get(30, java.util.concurrent.TimeUnit.SECONDS);
    }

    @AfterAll
    static void stop() throws Exception {
        server.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
        clientVertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
        serverVertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }

    private static BenchSettings settings(int clients) {
        BenchSettings s = new BenchSettings();
        s.calls = 200;
        s.warmup = 20;
        s.clients = clients;
        s.pipeline = 16;
        s.connections = 20;
        s.timeout = Duration.ofSeconds(20);
        s.serverPid = ProcessHandle.current().pid();
        return s;
    }

    private static ClientConfig config() {
        return new ClientConfig().port(server.port()).authKey(KEY).callTimeout(Duration.ofSeconds(20));
    }

    @Test
    void everyScenarioReportsARateAndOrderedPercentiles() throws Exception {
        for (int clients : new int[] {1, 2}) {
            try (BenchRunner runner = new BenchRunner(clientVertx, config(), settings(clients))) {
                for (Scenario s : Scenario.values()) {
                    BenchResult r = runner.run(s);
                    if (s == Scenario.QUEUE_PUT_GET && r.isSkipped()) {
                        assertEquals("type Queue unknown", r.skipped, "queue skip reason");
                        assertTrue(r.toJson().encode().contains("skipped"));
                        continue;
                    }
                    assertTrue(!r.isSkipped(), s.id() + " skipped: " + r.skipped);
                    String what = s.id() + " x" + clients + ": " + r.toJson().encode();
                    int expectedClients = s == Scenario.CONNECTIONS ? 1 : clients;
                    assertEquals(expectedClients, r.clients, what);
                    long expectedCalls = s == Scenario.CONNECTIONS ? 20 : (long) s.callsFor(200) * clients;
                    assertEquals(expectedCalls, r.totalCalls, what);
                    assertEquals(expectedCalls, r.latency.getTotalCount(), what);
                    assertTrue(r.rate() > 0, what);
                    double p50 = r.percentileMicros(50);
                    double p99 = r.percentileMicros(99);
                    double p999 = r.percentileMicros(99.9);
                    assertTrue(p50 > 0 && p50 <= p99 && p99 <= p999, what);
                    assertEquals(s.id(), r.toJson().getString("scenario"));
                    if (s == Scenario.CONNECTIONS) {
                        assertEquals(20, r.extra.getInteger("held"), what);
                        assertTrue(r.extra.getDouble("server_rss_mb") > 0, what);
                    }
                }
            }
        }
    }

    @Test
    void noWarmupRunsEveryCallScenarioToo() throws Exception {
        BenchSettings s = settings(1);
        s.warmup = 0;
        s.settle = Duration.ZERO;
        try (BenchRunner runner = new BenchRunner(clientVertx, config(), s)) {
            for (Scenario sc : new Scenario[] {Scenario.METHOD, Scenario.PIPELINED}) {
                BenchResult r = runner.run(sc);
                assertEquals((long) sc.callsFor(200), r.totalCalls, sc.id() + " with --warmup 0 and --settle 0");
            }
        }
    }

    @Test
    void clientResultsSurviveTheTripThroughJsonAndMerge() {
        org.HdrHistogram.Histogram h = ClientResult.newHistogram();
        for (int i = 1; i <= 1000; i++) {
            h.recordValue(i * 1000L);
        }
        ClientResult a = new ClientResult(1000, 2_000_000_000L, h, null);
        ClientResult back = ClientResult.fromJson(new io.vertx.core.json.JsonObject(a.toJson().encode()));
        assertEquals(1000, back.calls);
        assertEquals(h.getValueAtPercentile(99), back.histogram.getValueAtPercentile(99));
        BenchResult merged = new BenchResult(Scenario.METHOD, java.util.List.of(a, back), 1, true);
        assertEquals(2000, merged.totalCalls);
        assertEquals(1000.0, merged.rate(), 0.001);
        assertTrue(merged.percentileMicros(50) <= merged.percentileMicros(99));
        ClientResult skipped = ClientResult.fromJson(ClientResult.skipped("type Queue unknown").toJson());
        assertEquals("type Queue unknown", skipped.skipped);
    }

    @Test
    void callCountsDoNotOverflow() {
        // Ten times --calls for pipelined: 2,147,483,650 calls, not a negative int.
        assertEquals(2_147_483_650L, Scenario.PIPELINED.callsFor(214_748_365));
        assertEquals(21_474_836_470L, Scenario.PIPELINED.callsFor(Integer.MAX_VALUE));
        assertEquals(214_748_364L, Scenario.CREATE_PROXY.callsFor(Integer.MAX_VALUE));
        BenchSettings s = settings(1);
        s.warmup = 10_000;
        assertEquals(10_000L, s.warmupFor(Scenario.PIPELINED.callsFor(429_496_730)));
        assertEquals(50L, s.warmupFor(50));
    }

    @Test
    void terminalDevicesAreTerminalsAndFilesAreNot() {
        assertTrue(Progress.isTerminalDevice("/dev/pts/3"));
        assertTrue(Progress.isTerminalDevice("/dev/tty1"));
        assertTrue(!Progress.isTerminalDevice("/dev/null"));
        assertTrue(!Progress.isTerminalDevice("/tmp/bench.err"));
        assertTrue(!Progress.isTerminalDevice("pipe:[12345]"));
    }

    @Test
    void chainedCallsAreRecordedAsSuchWithEveryCallTimed() throws Exception {
        BenchSettings s = settings(2);
        s.chained = true;
        try (BenchRunner runner = new BenchRunner(clientVertx, config(), s)) {
            BenchResult r = runner.run(Scenario.HOSTED_METHOD);
            String what = r.toJson().encode();
            assertEquals(400, r.totalCalls, what);
            assertEquals(400, r.latency.getTotalCount(), what);
            assertEquals(Boolean.TRUE, r.toJson().getBoolean("chained"), what);
            // The worker of a BenchRunner without a command line of its own runs in this process.
            assertEquals("inproc", r.toJson().getString("worker"), what);
            assertTrue(r.what().contains("the bench process itself"), what);
            BenchResult p = runner.run(Scenario.PIPELINED);
            assertEquals(Boolean.FALSE, p.toJson().getBoolean("chained"), p.toJson().encode());
            assertEquals(16, p.pipeline, "the window");
        }
    }

    @Test
    void progressCountsUp() throws Exception {
        AtomicLong done = new AtomicLong();
        try (dev.orch.client.OrchClient c = dev.orch.client.OrchClient.connect(config())) {
            ClientResult r = new ClientRun(settings(1), done).run(Scenario.DICT_SET, c, () -> { });
            assertEquals(200, r.calls);
            assertEquals(200, done.get());
        }
    }
}
