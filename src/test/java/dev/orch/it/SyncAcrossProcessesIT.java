package dev.orch.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.orch.client.OrchClient;
import dev.orch.client.RemoteObject;
import dev.orch.testing.Poll;
import dev.orch.testing.TestServer;
import dev.orch.testing.TestServerExtension;
import io.vertx.core.json.JsonArray;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Queues, locks and barriers shared by separate OS processes, including ones killed with SIGKILL. */
class SyncAcrossProcessesIT {
    static final Duration BOUND = Duration.ofSeconds(90);
    @RegisterExtension
    static final TestServerExtension server = TestServerExtension.perClass();
    static OrchClient client;
    static Path key;
    final List<Process> workers = new ArrayList<>();

    @BeforeAll
    static void start() throws IOException {
        client = server.sharedClient();
        key = Files.createTempFile("orch-sync-it", ".key");
        Files.write(key, TestServer.KEY);
    }

    @AfterAll
    static void stop() throws IOException {
        Files.deleteIfExists(key);
    }

    @AfterEach
    void killWorkers() {
        workers.forEach(Process::destroyForcibly);
    }

    private Process worker(Path log, String... args) throws IOException {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-XX:TieredStopAtLevel=1", "-cp", System.getProperty("java.class.path"), SyncWorker.class.getName(),
                server.address(), key.toString()));
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        workers.add(p);
        return p;
    }

    private static Path log(String name) throws IOException {
        Path p = Files.createTempFile("orch-sync-" + name, ".log");
        p.toFile().deleteOnExit();
        return p;
    }

    private static void awaitLine(Path log, Process p, String line) {
        Poll.until(BOUND, "'" + line + "' from a worker", () -> {
            String text = Procs.readOrEmpty(log);
            assertTrue(p.isAlive() || text.contains(line), () -> "worker exited: " + text);
            return text.lines().anyMatch(line::equals);
        });
    }


    private static void awaitExit(Process p, Path log) throws InterruptedException {
        assertTrue(p.waitFor(BOUND.toSeconds(), TimeUnit.SECONDS), () -> "worker still running: " + Procs.readOrEmpty(log));
        assertEquals(0, p.exitValue(), () -> Procs.readOrEmpty(log));
    }

    @Test
    void producersAndConsumersDeliverEveryItemExactlyOnce() throws Exception {
        client.create("jobs", "Queue", new JsonArray().add(5), null);
        client.create("seen", "list", null, null);
        List<Process> producers = new ArrayList<>();
        List<Path> logs = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            Path l = log("producer");
            logs.add(l);
            producers.add(worker(l, "produce", "jobs", String.valueOf(i * 100), String.valueOf(i * 100 + 100)));
        }
        List<Process> consumers = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            Path l = log("consumer");
            logs.add(l);
            consumers.add(worker(l, "consume", "jobs", "seen"));
        }
        for (int i = 0; i < producers.size(); i++) {
            awaitExit(producers.get(i), logs.get(i));
        }
        RemoteObject jobs = client.lookup("jobs");
        for (int i = 0; i < consumers.size(); i++) {
            jobs.call("put", -1);
        }
        for (int i = 0; i < consumers.size(); i++) {
            awaitExit(consumers.get(i), logs.get(3 + i));
        }
        // A slice with no bounds: the whole list.
        JsonArray seen = (JsonArray) client.lookup("seen").call("__getitem__", new io.vertx.core.json.JsonObject());
        assertEquals(300, seen.size(), "every item delivered once");
        TreeSet<Integer> distinct = new TreeSet<>();
        seen.forEach(v -> distinct.add(((Number) v).intValue()));
        assertEquals(300, distinct.size(), "no item twice");
        assertEquals(0, distinct.first());
        assertEquals(299, distinct.last());
        client.delete("jobs");
        client.delete("seen");
    }

    @Test
    void aLockProtectsACounterAcrossProcesses() throws Exception {
        client.create("counter-lock", "Lock", null, null);
        client.create("counter", "dict", null, null);
        List<Process> ps = new ArrayList<>();
        List<Path> logs = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            Path l = log("count");
            logs.add(l);
            ps.add(worker(l, "count", "counter-lock", "counter", "150"));
        }
        for (int i = 0; i < ps.size(); i++) {
            awaitExit(ps.get(i), logs.get(i));
        }
        assertEquals(600, ((Number) client.lookup("counter").call("__getitem__", "n")).intValue());
        client.delete("counter-lock");
        client.delete("counter");
    }

    @Test
    void aLockHeldByAKilledProcessGoesToTheNextWaiter() throws Exception {
        RemoteObject lock = client.create("guard", "Lock", null, null);
        Path l = log("hold");
        Process holder = worker(l, "hold", "guard");
        awaitLine(l, holder, "held");
        CompletableFuture<Object> mine = lock.callAsync("acquire");
        assertEquals(Boolean.FALSE, lock.call("acquire", false), "held by the other process");
        holder.destroyForcibly();
        assertEquals(Boolean.TRUE, mine.get(BOUND.toSeconds(), TimeUnit.SECONDS), "the waiter gets the lock");
        lock.call("release");
        client.delete("guard");
    }

    @Test
    void anItemIsNotLostWhenABlockedConsumerIsKilled() throws Exception {
        RemoteObject q = client.create("inbox", "Queue", null, null);
        Path l = log("get");
        Process victim = worker(l, "get", "inbox");
        awaitLine(l, victim, "waiting");
        // Its get is parked. Whether the server notices the death before or after the put, the
        // item must reach the survivor: a dead session's waiter is skipped, and an answer that
        // cannot be delivered is given back to the queue.
        victim.destroyForcibly();
        victim.waitFor(10, TimeUnit.SECONDS);
        CompletableFuture<Object> survivor = q.callAsync("get");
        q.call("put", "precious");
        assertEquals("precious", survivor.get(BOUND.toSeconds(), TimeUnit.SECONDS));
        assertEquals(0, ((Number) q.call("qsize")).intValue());
        client.delete("inbox");
    }

    @Test
    void aBarrierReleasesNProcessesWithDistinctIndices() throws Exception {
        client.create("start-line", "Barrier", new JsonArray().add(4), null);
        client.create("arrivals", "list", null, null);
        List<Process> ps = new ArrayList<>();
        List<Path> logs = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            Path l = log("barrier");
            logs.add(l);
            ps.add(worker(l, "barrier", "start-line", "arrivals"));
        }
        for (int i = 0; i < ps.size(); i++) {
            awaitExit(ps.get(i), logs.get(i));
        }
        TreeSet<Integer> indices = new TreeSet<>();
        RemoteObject arrivals = client.lookup("arrivals");
        int n = ((Number) arrivals.call("__len__")).intValue();
        for (int i = 0; i < n; i++) {
            indices.add(((Number) arrivals.call("__getitem__", i)).intValue());
        }
        assertEquals(new TreeSet<>(List.of(0, 1, 2, 3)), indices);
        client.delete("start-line");
        client.delete("arrivals");
    }
}
