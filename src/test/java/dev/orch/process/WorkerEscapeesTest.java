package dev.orch.process;

import static dev.orch.process.EscapeeProbe.alive;
import static dev.orch.process.EscapeeProbe.gone;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.orch.client.ClientConfig;
import dev.orch.client.OrchClient;
import dev.orch.server.OrchServer;
import dev.orch.server.ServerConfig;
import dev.orch.testing.Poll;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code orch connect -- CMD} and the descendants of CMD that left its group with {@code setsid}:
 * a real {@link WorkerRunner}, real children, an in-process server with a 200 ms heartbeat.
 */
class WorkerEscapeesTest {
    private static final byte[] KEY = "worker-escapees-key-0123456789".getBytes(StandardCharsets.UTF_8);
    private static final Duration WAIT = Duration.ofSeconds(15);
    private static final Duration GONE = Duration.ofSeconds(5);

    @TempDir
    Path dir;

    private Vertx vertx;
    private Vertx workerVertx;
    private OrchServer server;
    private OrchClient admin;
    private WorkerRunner runner;
    private final List<Long> escapees = new ArrayList<>();
    private final Instant began = Instant.now().minusSeconds(1);

    @BeforeEach
    void setUp() throws Exception {
        Assumptions.assumeTrue(ProcStats.AVAILABLE, "needs /proc");
        Assumptions.assumeTrue(Launcher.groups(), "needs util-linux setsid");
        Path keyFile = dir.resolve("key");
        Files.write(keyFile, KEY);
        vertx = Vertx.vertx();
        server = OrchServer.start(vertx, new ServerConfig().host("127.0.0.1").port(0).authKey(KEY).authKeyFile(keyFile)
                .heartbeat(Duration.ofMillis(200)).stopGrace(Duration.ofSeconds(2)))
                .toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
        admin = OrchClient.connect(config());
        workerVertx = Vertx.vertx();
    }

    @AfterEach
    void tearDown() throws Exception {
        if (runner != null && runner.pid() > 0) {
            ProcessCliIT.killTree(runner.pid());
        }
        // Whatever a failed test left behind, also an escapee started after the test gave up.
        try {
            escapees.add(Long.parseLong(Files.readString(dir.resolve("esc")).trim()));
        } catch (Exception e) {
            // none
        }
        for (long pid : escapees) {
            ProcessHandle.of(pid).filter(h -> h.info().startInstant().map(t -> !t.isBefore(began)).orElse(false))
                    .ifPresent(ProcessHandle::destroyForcibly);
        }
        if (admin != null) {
            admin.close();
        }
        if (workerVertx != null) {
            workerVertx.close().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
        }
        if (server != null) {
            server.close().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
        }
        if (vertx != null) {
            vertx.close().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
        }
    }

    @Test
    void aForwardedTermEndsTheEscapeeToo() throws Exception {
        CompletableFuture<Integer> code = run("setsid sleep 1000 & echo $! > \"$0/esc\"; exec sleep 1000");
        long esc = escapee(runner.pid());
        runner.signal("TERM"); // what orch connect does on SIGTERM
        assertEquals(143, code.get(30, TimeUnit.SECONDS));
        gone(esc, "the escapee");
    }

    @Test
    void anEscapeeIsEndedWhenTheCommandExitsOnItsOwn() throws Exception {
        CompletableFuture<Integer> code = run("setsid sleep 1000 & echo $! > \"$0/esc\"; "
                + "while [ ! -e \"$0/go\" ]; do sleep 0.05; done; exit 3");
        long esc = escapee(runner.pid());
        // Seen by a look (a heartbeat's) while a descendant: once CMD exits, it is init's.
        Poll.until(WAIT, "a heartbeat lists the escapee", () -> seenEscaped(esc));
        Files.createFile(dir.resolve("go"));
        assertEquals(3, code.get(30, TimeUnit.SECONDS));
        gone(esc, "the escapee left behind");
    }

    @Test
    void aJobLeftInTheGroupIsEndedWhenTheCommandExits() throws Exception {
        // Not an escapee: a background job CMD did not wait for, still in CMD's group.
        CompletableFuture<Integer> code = run("sleep 1000 & echo $! > \"$0/esc\"; exit 0");
        assertEquals(0, code.get(30, TimeUnit.SECONDS));
        long job = Long.parseLong(Files.readString(dir.resolve("esc")).trim());
        escapees.add(job);
        gone(job, "the job left in CMD's group");
    }

    @Test
    void heartbeatsListAnEscapeeOrphanedByItsParent() throws Exception {
        String middle = "setsid sleep 1000 & echo $! > \"$0/esc\"; while [ ! -e \"$0/go\" ]; do sleep 0.05; done";
        run("sh -c \"$1\" \"$0\" & exec sleep 1000", middle);
        long leader = runner.pid();
        long esc = escapee(leader);
        Poll.until(WAIT, "a heartbeat lists the escapee", () -> seenEscaped(esc));
        long mid = ProcStats.stat(esc).ppid();
        Files.createFile(dir.resolve("go"));
        Poll.until(GONE, "the escapee was reparented", () -> !alive(mid) && ProcStats.stat(esc).ppid() != mid);
        assertFalse(ProcessHandle.of(leader).orElseThrow().descendants().anyMatch(h -> h.pid() == esc),
                "no longer a descendant, so only remembering can find it");
        // A heartbeat made after the reparenting (its ppid says so) still lists it, with its metrics.
        Poll.until(WAIT, "a later heartbeat lists the orphaned escapee", () -> child(esc) != null
                && child(esc).getLong("ppid") != mid);
        JsonObject c = child(esc);
        assertEquals("sleep", c.getJsonArray("command").getString(0));
        assertTrue(c.containsKey("cpuPercent") && c.getLong("rssBytes") > 0, c.encode());
    }

    // ---- helpers ----

    private ClientConfig config() {
        return new ClientConfig().host("127.0.0.1").port(server.port()).authKey(KEY);
    }

    /** Runs {@code script} as a worker's CMD, with $0 the test's directory and $1.. {@code args}. */
    private CompletableFuture<Integer> run(String script, String... args) {
        List<String> cmd = new ArrayList<>(List.of("sh", "-c", script, dir.toString()));
        cmd.addAll(List.of(args));
        runner = new WorkerRunner(workerVertx, config(), "esc-worker", Map.of(), cmd, "127.0.0.1:" + server.port(),
                dir.resolve("key").toString(), WorkerRunner.nullStream(), WorkerRunner.nullStream());
        CompletableFuture<Integer> code = new CompletableFuture<>();
        Thread t = new Thread(() -> {
            try {
                code.complete(runner.run(WAIT));
            } catch (Throwable e) {
                code.completeExceptionally(e);
            }
        }, "test-worker");
        t.setDaemon(true);
        t.start();
        Poll.until(WAIT, "CMD started", () -> runner.pid() > 0 || code.isDone());
        return code;
    }

    private JsonArray children() {
        JsonArray ps = ((JsonObject) admin.request(ProcessEndpoint.ADDRESS, new JsonObject().put("op", "ps")))
                .getJsonArray("processes");
        for (Object o : ps) {
            JsonObject e = (JsonObject) o;
            if ("esc-worker".equals(e.getString("name"))) {
                return e.getJsonArray("children", new JsonArray());
            }
        }
        return new JsonArray();
    }

    /**
     * Whether the last heartbeat lists {@code pid} as {@code sleep}: setsid has exec'd it, so it
     * had left the group when that heartbeat looked.
     */
    private boolean seenEscaped(long pid) {
        JsonObject c = child(pid);
        // A look in the middle of setsid's exec reads an empty command line: not seen yet.
        JsonArray cmd = c == null ? null : c.getJsonArray("command");
        return cmd != null && !cmd.isEmpty() && "sleep".equals(cmd.getString(0));
    }

    private JsonObject child(long pid) {
        for (Object o : children()) {
            if (((JsonObject) o).getLong("pid") == pid) {
                return (JsonObject) o;
            }
        }
        return null;
    }

    private long escapee(long leader) {
        return EscapeeProbe.escapee(dir.resolve("esc"), leader, WAIT, escapees);
    }

}
