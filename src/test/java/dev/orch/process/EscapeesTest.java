package dev.orch.process;

import static dev.orch.process.EscapeeProbe.alive;
import static dev.orch.process.EscapeeProbe.gone;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.orch.testing.Poll;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Descendants that left their process's group with {@code setsid}: real children, a real
 * supervisor. Each escapee is made to have left the group before the test goes on, so that a
 * signal to the group alone could not reach it.
 */
class EscapeesTest {
    private static final Duration GONE = Duration.ofSeconds(5);
    private static Vertx vertx;

    @TempDir
    Path dir;

    private ProcessSupervisor supervisor;
    private final List<Long> escapees = new ArrayList<>();
    private final Instant began = Instant.now().minusSeconds(1);

    @BeforeAll
    static void startVertx() {
        vertx = Vertx.vertx();
    }

    @AfterAll
    static void stopVertx() throws Exception {
        await(vertx.close());
    }

    @BeforeEach
    void setUp() {
        Assumptions.assumeTrue(ProcStats.AVAILABLE, "needs /proc");
        Assumptions.assumeTrue(Launcher.groups(), "needs util-linux setsid");
        // Only stops and ps look at the trees, unless a test says otherwise.
        supervisor = supervisor(Duration.ofHours(1));
    }

    @AfterEach
    void tearDown() throws Exception {
        if (supervisor != null) {
            await(supervisor.close());
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
    }

    @Test
    void stopEndsADescendantThatLeftTheGroup() throws Exception {
        JsonObject r = spawn("setsid sleep 1000 & echo $! > \"$0/esc\"; wait");
        long leader = r.getLong("pid");
        long esc = escapee("esc", leader);
        await(supervisor.stop(r.getString("id"), Duration.ofSeconds(5)));
        gone(esc, "the escapee");
    }

    @Test
    void anEscapeeThatIgnoresTermIsKilledAfterTheGraceWithWhatItForked() throws Exception {
        // The escapee writes its pid once its trap is set; its sleeps are in its own group.
        String inner = "trap '' TERM; echo $$ > \"$0\"; while :; do sleep 0.1; done";
        JsonObject r = spawn("setsid sh -c \"$1\" \"$0/esc\" & wait", inner);
        long esc = escapee("esc", r.getLong("pid"));
        long t0 = System.nanoTime();
        JsonObject stopped = await(supervisor.stop(r.getString("id"), Duration.ofMillis(700)));
        long ms = (System.nanoTime() - t0) / 1_000_000;
        assertEquals("stopped", stopped.getString("state"));
        assertTrue(ms >= 650, "the stop waited for the escapee until the grace was over: " + ms + " ms");
        gone(esc, "the escapee that ignores SIGTERM");
        Poll.until(GONE, "no process left in the escapee's group", () -> ProcStats.scan().values().stream()
                .noneMatch(s -> s.pgrp() == esc && !s.isDead()));
    }

    @Test
    void anEscapeeSeenByPsIsStoppedAfterItsParentDied() throws Exception {
        JsonObject r = spawnOrphaner();
        long leader = r.getLong("pid");
        long esc = escapee("esc", leader);
        await(supervisor.ps(false)); // the look that remembers it
        long middle = orphan(leader, esc);
        assertTrue(alive(esc), "escapee " + esc + " outlived its parent " + middle);
        await(supervisor.stop(r.getString("id"), Duration.ofSeconds(5)));
        gone(esc, "the orphaned escapee");
    }

    @Test
    void psListsAnOrphanedEscapeeUnderItsProcess() throws Exception {
        JsonObject r = spawnOrphaner();
        String id = r.getString("id");
        long leader = r.getLong("pid");
        long esc = escapee("esc", leader);
        await(supervisor.ps(false)); // the look that remembers it
        long middle = orphan(leader, esc);
        JsonObject c = null;
        for (Object o : await(supervisor.ps(false))) {
            JsonObject e = (JsonObject) o;
            if (id.equals(e.getString("id"))) {
                for (Object k : e.getJsonArray("children")) {
                    if (((JsonObject) k).getLong("pid") == esc) {
                        c = (JsonObject) k;
                    }
                }
            }
        }
        assertTrue(c != null, "the orphaned escapee is listed under " + id);
        assertNotEquals(middle, c.getLong("ppid"));
        assertEquals("sleep", c.getJsonArray("command").getString(0));
        assertTrue(c.containsKey("cpuPercent") && c.getLong("rssBytes") > 0, c.encode());
    }

    @Test
    void anEscapeeSeenByTheWatchIsStoppedAfterItsParentDied() throws Exception {
        await(supervisor.close());
        long period = 50;
        supervisor = supervisor(Duration.ofMillis(period));
        JsonObject r = spawnOrphaner();
        long leader = r.getLong("pid");
        long esc = escapee("esc", leader);
        // The watch's period is stretched to 200 times what a scan costs: give it three periods.
        long t0 = System.nanoTime();
        ProcStats.scan();
        long scanMs = (System.nanoTime() - t0) / 1_000_000;
        Thread.sleep(Math.max(1000, 3 * Math.max(period, 200 * (scanMs + 1))));
        orphan(leader, esc);
        await(supervisor.stop(r.getString("id"), Duration.ofSeconds(5)));
        gone(esc, "the orphaned escapee");
    }

    @Test
    void anEscapeeIsStoppedWhenItsProcessExitsOnItsOwn() throws Exception {
        JsonObject r = spawn("setsid sleep 1000 & echo $! > \"$0/esc\"; while [ ! -e \"$0/go\" ]; do sleep 0.05; done; exit 3");
        String id = r.getString("id");
        long esc = escapee("esc", r.getLong("pid"));
        await(supervisor.ps(false));
        Files.createFile(dir.resolve("go"));
        Poll.until(GONE, "the process failed", () -> "failed".equals(state(id)));
        gone(esc, "the escapee left behind");
    }

    @Test
    void aMemberThatLeavesTheGroupAfterALookIsStoppedWhenItsProcessExits() throws Exception {
        // A job of the process, seen by a look while in its group, calls setsid only after that
        // look, and the process exits before any other look: the exit's look finds it orphaned,
        // outside the group, and knows it only as the member it was.
        String job = "while [ ! -e \"$0/leave\" ]; do sleep 0.05; done; exec setsid sleep 1000";
        JsonObject r = spawn("sh -c \"$1\" \"$0\" & echo $! > \"$0/job\"; "
                + "while [ ! -e \"$0/go\" ]; do sleep 0.05; done; exit 3", job);
        String id = r.getString("id");
        long leader = r.getLong("pid");
        Poll.until(GONE, "the job's pid", () -> Files.exists(dir.resolve("job")));
        long pid = Long.parseLong(Files.readString(dir.resolve("job")).trim());
        escapees.add(pid);
        assertEquals(leader, ProcStats.stat(pid).pgrp(), "in the group at first");
        await(supervisor.ps(false)); // the look that sees it as a member
        Files.createFile(dir.resolve("leave"));
        long esc = escapee("job", leader); // now in a session of its own
        assertEquals(pid, esc);
        Files.createFile(dir.resolve("go"));
        Poll.until(GONE, "the process failed", () -> "failed".equals(state(id)));
        gone(esc, "the job that left the group after the look");
    }

    @Test
    void restartAndCloseEndTheEscapeesOfEachRun() throws Exception {
        JsonObject r = spawn("setsid sleep 1000 & echo $! > \"$0/esc\"; wait");
        long first = escapee("esc", r.getLong("pid"));
        Files.delete(dir.resolve("esc"));
        JsonObject again = await(supervisor.restart(r.getString("id")));
        gone(first, "the first run's escapee");
        long second = escapee("esc", again.getLong("pid"));
        assertNotEquals(first, second);
        await(supervisor.close());
        gone(second, "the second run's escapee");
    }

    // ---- helpers ----

    private ProcessSupervisor supervisor(Duration look) {
        return new ProcessSupervisor(vertx, ProcessSupervisor.Config.defaults().withStopGrace(Duration.ofSeconds(2))
                .withLineageLook(look));
    }

    /** Runs {@code script} with $0 the test's directory and $1.. {@code args}. */
    private JsonObject spawn(String script, String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of("sh", "-c", script, dir.toString()));
        cmd.addAll(List.of(args));
        return await(supervisor.spawn(new ProcessSpec(null, cmd, java.util.Map.of(), null, RestartPolicy.NEVER, 0, null)));
    }

    /**
     * A process whose child, the middle, starts an escapee and exits when told to (file
     * {@code go}), while the process runs on.
     */
    private JsonObject spawnOrphaner() throws Exception {
        String middle = "setsid sleep 1000 & echo $! > \"$0/esc\"; while [ ! -e \"$0/go\" ]; do sleep 0.05; done";
        return spawn("sh -c \"$1\" \"$0\" & exec sleep 1000", middle);
    }

    /** Lets the middle exit and waits until its escapee is no longer a descendant of the leader; returns the middle's pid. */
    private long orphan(long leader, long esc) throws Exception {
        long middle = ProcStats.stat(esc).ppid();
        assertTrue(ProcessHandle.of(leader).orElseThrow().descendants().anyMatch(h -> h.pid() == esc), "a descendant at first");
        Files.createFile(dir.resolve("go"));
        Poll.until(GONE, "the middle process exited", () -> !alive(middle));
        Poll.until(GONE, "the escapee was reparented", () -> ProcStats.stat(esc).ppid() != middle);
        assertFalse(ProcessHandle.of(leader).orElseThrow().descendants().anyMatch(h -> h.pid() == esc),
                "no longer a descendant, so only remembering can find it");
        return middle;
    }

    private long escapee(String file, long leader) {
        return EscapeeProbe.escapee(dir.resolve(file), leader, EscapeeProbe.GONE, escapees);
    }

    private String state(String id) {
        try {
            return await(supervisor.describe(id)).getString("state");
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }


    private static <T> T await(Future<T> f) throws Exception {
        return f.toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
    }
}
