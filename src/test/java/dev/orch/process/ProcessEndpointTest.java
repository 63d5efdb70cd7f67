package dev.orch.process;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.orch.protocol.Addresses;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.math.BigInteger;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/** Real children, a real Vert.x, requests through the event bus. */
class ProcessEndpointTest {
    private static Vertx vertx;
    private ProcessSupervisor supervisor;
    private ProcessEndpoint endpoint;
    private MessageConsumer<JsonObject> eventConsumer;
    private final ConcurrentLinkedQueue<JsonObject> events = new ConcurrentLinkedQueue<>();
    private final java.util.Set<String> closedSessions = java.util.concurrent.ConcurrentHashMap.newKeySet();

    @BeforeAll
    static void startVertx() {
        vertx = Vertx.vertx();
    }

    @AfterAll
    static void stopVertx() throws Exception {
        await(vertx.close());
    }

    @BeforeEach
    void setUp() throws Exception {
        ProcessSupervisor.Config config = ProcessSupervisor.Config.defaults()
                .withOrch("127.0.0.1:55555", "/tmp/orch-test.key")
                .withBackoff(new Backoff(Duration.ofMillis(100), Duration.ofSeconds(2), Duration.ofSeconds(60)))
                .withStopGrace(Duration.ofSeconds(2));
        supervisor = new ProcessSupervisor(vertx, config);
        endpoint = new ProcessEndpoint(vertx, supervisor, null, s -> !closedSessions.contains(s));
        await(endpoint.register());
        eventConsumer = vertx.eventBus().consumer(Addresses.EVENTS, m -> events.add(m.body()));
        registered(eventConsumer);
    }

    @AfterEach
    void tearDown() throws Exception {
        await(supervisor.close());
        await(endpoint.unregister());
        await(eventConsumer.unregister());
    }

    // ---- tests ----

    @Test
    void spawnSetsEnvAndOwnGroupAndPsReportsRealPids() throws Exception {
        JsonObject r = call(new JsonObject().put("op", "spawn").put("name", "sleeper")
                .put("command", new JsonArray().add("sh").add("-c")
                        .add("echo \"$ORCH_PROCESS_ID $ORCH_ADDRESS $ORCH_AUTHKEY_FILE $FOO\"; sleep 1000 & sleep 1000; echo done"))
                .put("env", new JsonArray().add("FOO=bar")));
        String id = r.getString("id");
        long pid = r.getLong("pid");
        assertEquals("sleeper", r.getString("name"));
        assertTrue(id.matches("p[0-9]+"), id);

        eventually(() -> texts(logs(id, 10)).contains(id + " 127.0.0.1:55555 /tmp/orch-test.key bar"), "env line");
        ProcStats.Stat st = ProcStats.stat(pid);
        assertNotNull(st);
        if (ProcessSupervisor.usesProcessGroups()) {
            assertEquals(pid, st.pgrp(), "child leads its own process group");
            assertEquals(pid, st.session(), "child leads its own session");
        }
        assertEquals(List.of("sh", "-c"), ProcStats.cmdline(pid).subList(0, 2), "pid is the command's, not a wrapper's");

        JsonObject[] entry = new JsonObject[1];
        eventually(() -> {
            entry[0] = psEntry(id, false);
            // A child just forked by sh shows no command line, or sh's, until its exec completes.
            return entry[0] != null && entry[0].getJsonArray("children").size() == 2
                    && entry[0].getJsonArray("children").stream()
                            .allMatch(c -> List.of("sleep", "1000").equals(((JsonObject) c).getJsonArray("command").getList()));
        }, "two sleeps as children");
        JsonObject e = entry[0];
        assertEquals(pid, e.getLong("pid"));
        assertEquals("running", e.getString("state"));
        assertEquals("local", e.getString("node"));
        assertTrue(e.getLong("rssBytes") > 0);
        assertTrue(e.getDouble("cpuPercent") >= 0);
        assertNotNull(Instant.parse(e.getString("startedAt")));
        for (Object o : e.getJsonArray("children")) {
            JsonObject c = (JsonObject) o;
            assertEquals(List.of("sleep", "1000"), c.getJsonArray("command").getList());
            ProcStats.Stat cs = ProcStats.stat(c.getLong("pid"));
            assertEquals(pid, cs.ppid());
        }
        JsonObject server = call(new JsonObject().put("op", "ps")).getJsonArray("processes").getJsonObject(0);
        assertEquals("server", server.getString("id"));
        assertEquals(ProcessHandle.current().pid(), server.getLong("pid"));

        // Errors: name taken, unknown node, unknown op, unknown process, command not found.
        assertEquals(409, failure(new JsonObject().put("op", "spawn").put("name", "sleeper").put("command", new JsonArray().add("true"))));
        assertEquals(404, failure(new JsonObject().put("op", "spawn").put("node", "elsewhere").put("command", new JsonArray().add("true"))));
        assertEquals(400, failure(new JsonObject().put("op", "frobnicate")));
        assertEquals(400, failure(new JsonObject().put("op", "ps").put("all", "yes")), "a flag must be a boolean");
        assertEquals(400, failure(new JsonObject().put("op", "attach").put("pid", "twelve")), "wrong field types are 400, not 500");
        assertEquals(404, failure(new JsonObject().put("op", "stop").put("id", "nope")));
        assertEquals(400, failure(new JsonObject().put("op", "spawn").put("command", new JsonArray().add("no-such-command-xyz"))));
        assertEquals(409, failure(new JsonObject().put("op", "rm").put("id", "sleeper")), "cannot rm a running process");

        JsonObject stopped = call(new JsonObject().put("op", "stop").put("id", "sleeper"));
        assertEquals("stopped", stopped.getString("state"));
        assertFalse(alive(pid));
        for (Object o : e.getJsonArray("children")) {
            long c = ((JsonObject) o).getLong("pid");
            assertFalse(alive(c), "descendant " + c + " stopped with its group");
        }
        assertEquals(List.of(), ids(false), "stopped processes are hidden without all");
        assertTrue(ids(true).contains(id));
        call(new JsonObject().put("op", "rm").put("id", id));
        assertFalse(ids(true).contains(id));
    }

    @Test
    void negativeCountsAndNonStringNamesAreBadRequests() throws Exception {
        JsonObject spawn = new JsonObject().put("op", "spawn").put("command", new JsonArray().add("sleep").add("1000"));
        assertEquals(400, failure(spawn.copy().put("maxRestarts", -3)), "a negative restart limit");
        assertEquals(400, failure(spawn.copy().put("name", 5)), "a number is not a name (it was coerced to \"5\")");
        assertEquals(400, failure(spawn.copy().put("cwd", true)));
        assertEquals(List.of(), ids(true), "nothing was started by the refused requests");
        // The grace is checked before the process is looked up: 400, not 404.
        assertEquals(400, failure(new JsonObject().put("op", "stop").put("id", "nope").put("grace", -5)));
        String id = call(spawn.copy().put("maxRestarts", 0).put("name", "refusals")).getString("id");
        assertEquals(400, failure(new JsonObject().put("op", "stop").put("id", id).put("grace", -5)));
        assertEquals("running", call(new JsonObject().put("op", "ps")).getJsonArray("processes").stream()
                .map(o -> (JsonObject) o).filter(o -> id.equals(o.getString("id"))).findFirst().orElseThrow().getString("state"),
                "a refused stop leaves the process running");
        assertEquals("stopped", call(new JsonObject().put("op", "stop").put("id", id).put("grace", 0)).getString("state"));
        JsonObject rm = call(new JsonObject().put("op", "rm").put("name", "refusals"));
        assertEquals(id, rm.getString("id"), "rm by name answers with the id it removed");

        // A command that cannot start uses up no id: the next process has the one after.
        assertEquals(400, failure(new JsonObject().put("op", "spawn").put("command", new JsonArray().add("/nonexistent/x"))));
        String next = call(spawn.copy()).getString("id");
        assertEquals("p" + (Integer.parseInt(id.substring(1)) + 1), next);
        call(new JsonObject().put("op", "kill").put("id", next));
    }

    @Test
    void numbersBeyondAnIntOrALongAreNotWrapped() throws Exception {
        BigInteger twoTo64 = BigInteger.ONE.shiftLeft(64);
        String id = call(new JsonObject().put("op", "spawn").put("command", new JsonArray().add("sh").add("-c")
                .add("trap '' TERM; for i in 1 2 3 4 5 6 7 8; do echo line$i; done; while true; do sleep 0.1; done")))
                .getString("id");
        eventually(() -> texts(logs(id, 10)).contains("line8"), "eight lines");
        JsonObject logs = new JsonObject().put("op", "logs").put("id", id);
        // 2^64 + 2 once read as 2 lines, 2^64 + 6 and 2^70 as after 6 and after 0.
        assertEquals(400, failure(logs.copy().put("tail", twoTo64.add(BigInteger.TWO))));
        assertEquals(List.of(), texts(call(logs.copy().put("after", twoTo64.add(BigInteger.valueOf(6)))).getJsonArray("lines")));
        assertEquals(List.of(), texts(call(logs.copy().put("after", BigInteger.ONE.shiftLeft(70))).getJsonArray("lines")));
        assertEquals(8, call(logs.copy().put("after", twoTo64.negate().add(BigInteger.valueOf(6)))).getJsonArray("lines").size());

        // A grace of 1e308 s overflowed the deadline into the past: SIGKILL at once.
        assertEquals(400, failure(new JsonObject().put("op", "stop").put("id", id).put("grace", 1e308)));
        assertEquals("running", psEntry(id, false).getString("state"), "a refused stop leaves the process running");
        call(new JsonObject().put("op", "kill").put("id", id));

        // maxRestarts 2^32 + 1 once allowed one restart: beyond an int it is as good as unlimited.
        String crash = call(new JsonObject().put("op", "spawn").put("command", new JsonArray().add("sh").add("-c").add("exit 3"))
                .put("restart", "on-failure").put("maxRestarts", BigInteger.ONE.shiftLeft(32).add(BigInteger.ONE))).getString("id");
        eventually(() -> psEntry(crash, true).getInteger("restarts") >= 2, "a second automatic restart");
        call(new JsonObject().put("op", "stop").put("id", crash));
    }

    @Test
    void aProcessThatEndsAtOnceIsAnnouncedStartedBeforeItsEnd() throws Exception {
        // A child that ends at once can have its end handled before its start is announced
        // (on a cold JVM, as a fresh server's first spawn: seen 5 times in 8 there). Here the
        // JVM is warm, so this guards the order more than it provokes the race.
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            ids.add(call(new JsonObject().put("op", "spawn").put("command", new JsonArray().add("true"))).getString("id"));
        }
        for (String id : ids) {
            eventually(() -> eventsOf(id).size() >= 2, "two events of " + id);
            List<JsonObject> mine = eventsOf(id);
            assertEquals("started", mine.get(0).getString("event"), mine.toString());
            assertEquals("running", mine.get(0).getString("state"), mine.toString());
            assertEquals("exited", mine.get(1).getString("event"), mine.toString());
        }
    }

    @Test
    void crashLoopBacksOffExponentially() throws Exception {
        JsonObject r = call(new JsonObject().put("op", "spawn").put("command", new JsonArray().add("sh").add("-c").add("exit 3"))
                .put("restart", "on-failure").put("maxRestarts", 3));
        String id = r.getString("id");
        eventually(() -> {
            JsonObject e = psEntry(id, true);
            return e != null && e.getString("state").equals("failed") && e.getInteger("restarts") == 3;
        }, "three restarts then failed");
        JsonObject e = psEntry(id, true);
        assertEquals(3, e.getInteger("exitCode"));

        List<JsonObject> mine = eventsOf(id);
        List<Long> delays = new ArrayList<>();
        List<Long> measured = new ArrayList<>();
        Instant failedAt = null;
        for (JsonObject ev : mine) {
            // One precision for every time orch writes, so they line up and compare as text.
            assertTrue(ev.getString("time").matches("\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z"), ev::encode);
            switch (ev.getString("event")) {
                case "failed":
                    failedAt = Instant.parse(ev.getString("time"));
                    break;
                case "backoff":
                    delays.add(ev.getLong("delayMs"));
                    break;
                case "restarted":
                    measured.add(Duration.between(failedAt, Instant.parse(ev.getString("time"))).toMillis());
                    break;
                default:
            }
        }
        assertEquals(List.of(100L, 200L, 400L), delays);
        assertEquals(3, measured.size(), mine.toString());
        for (int i = 0; i < 3; i++) {
            long want = delays.get(i);
            assertTrue(measured.get(i) >= want - 5 && measured.get(i) < want + 400,
                    "restart " + i + " after " + measured.get(i) + " ms, expected about " + want);
        }
        assertTrue(measured.get(2) > measured.get(0), "intervals grow: " + measured);
        assertEquals("failed", mine.get(mine.size() - 1).getString("event"), "no restart beyond maxRestarts");
    }

    @Test
    void requestedRestartsDoNotUseUpTheAutomaticOnes() throws Exception {
        java.nio.file.Path ran = java.nio.file.Files.createTempDirectory("orch-ran").resolve("ran");
        try {
            // The first run waits to be restarted by hand; every later run fails at once.
            String id = call(new JsonObject().put("op", "spawn").put("restart", "on-failure").put("maxRestarts", 1)
                    .put("command", new JsonArray().add("sh").add("-c")
                            .add("if [ -e \"$0\" ]; then exit 1; fi; touch \"$0\"; sleep 1000").add(ran.toString())))
                    .getString("id");
            eventually(() -> java.nio.file.Files.exists(ran), "first run started");
            call(new JsonObject().put("op", "restart").put("id", id));
            eventually(() -> "failed".equals(psEntry(id, true).getString("state")) && eventsOf(id).stream()
                    .filter(ev -> "failed".equals(ev.getString("event"))).count() == 2, "the policy's one restart, then failed");
            List<String> kinds = new ArrayList<>();
            eventsOf(id).forEach(ev -> kinds.add(ev.getString("event")));
            assertEquals(List.of("started", "stopped", "restarted", "failed", "backoff", "restarted", "failed"), kinds);
            assertEquals(2, psEntry(id, true).getInteger("restarts"), "both restarts are counted");
        } finally {
            java.nio.file.Files.deleteIfExists(ran);
            java.nio.file.Files.deleteIfExists(ran.getParent());
        }
    }

    @Test
    void namesThatReadAsSomethingElseAreRefused() throws Exception {
        JsonObject spawn = new JsonObject().put("op", "spawn").put("command", new JsonArray().add("sleep").add("1000"));
        // w3 is a worker's id, a@b a process on node b: such a process could not be named again.
        for (String bad : new String[] {"w3", "a@b", "two\nlines", "tab\there", "x".repeat(ProcessSpec.MAX_NAME + 1)}) {
            assertEquals(400, failure(spawn.copy().put("name", bad)), bad);
        }
        assertEquals(List.of(), ids(true), "nothing was started by the refused requests");
        String id = call(spawn.copy().put("name", "x".repeat(ProcessSpec.MAX_NAME))).getString("id");
        call(new JsonObject().put("op", "kill").put("id", id));
        String spaced = call(spawn.copy().put("name", "web 2 (blue)")).getString("id");
        assertEquals(spaced, call(new JsonObject().put("op", "kill").put("name", "web 2 (blue)")).getString("id"));
    }

    @Test
    void processIgnoringTermIsKilledAfterGrace() throws Exception {
        JsonObject r = call(new JsonObject().put("op", "spawn").put("command", new JsonArray().add("sh").add("-c")
                .add("trap '' TERM; echo ready; while true; do sleep 0.1; done")));
        String id = r.getString("id");
        long pid = r.getLong("pid");
        eventually(() -> texts(logs(id, 10)).contains("ready"), "trap installed");
        long t0 = System.nanoTime();
        JsonObject stopped = call(new JsonObject().put("op", "stop").put("id", id).put("grace", 0.7));
        long ms = (System.nanoTime() - t0) / 1_000_000;
        assertEquals("stopped", stopped.getString("state"));
        assertEquals(137, stopped.getInteger("exitCode"), "SIGKILL, reported as 128+9");
        assertTrue(ms >= 650 && ms < 5000, "stopped after " + ms + " ms");
        assertFalse(alive(pid));
        List<String> kinds = new ArrayList<>();
        eventsOf(id).forEach(ev -> kinds.add(ev.getString("event")));
        assertEquals(List.of("started", "stopped"), kinds);
    }

    @Test
    void aDoubleForkedOrphanThatStaysInTheGroupIsListed() throws Exception {
        Assumptions.assumeTrue(ProcessSupervisor.usesProcessGroups(), "needs setsid");
        // (cmd &) in a subshell: cmd is orphaned at once, reparented away from the leader's tree,
        // but stays in its group, which stop and kill signal.
        String id = call(new JsonObject().put("op", "spawn").put("command", new JsonArray().add("sh").add("-c")
                .add("(sleep 5004 &); exec sleep 5005"))).getString("id");
        try {
            eventually(() -> {
                JsonObject e = psEntry(id, false);
                return e != null && e.getJsonArray("children").stream().anyMatch(
                        c -> List.of("sleep", "5004").equals(((JsonObject) c).getJsonArray("command").getList()));
            }, "the orphaned sleep among the children");
        } finally {
            call(new JsonObject().put("op", "kill").put("id", id));
        }
    }

    @Test
    void anUnfinishedLineIsInTheLogWhileTheProcessRuns() throws Exception {
        // A prompt or a progress bar: no newline, and the process goes on.
        String id = call(new JsonObject().put("op", "spawn").put("command", new JsonArray().add("sh").add("-c")
                .add("printf 'Password: '; sleep 30"))).getString("id");
        try {
            eventually(() -> texts(logs(id, 10)).contains("Password: "), "the prompt in the log");
            JsonObject line = logs(id, 10).getJsonObject(0);
            assertEquals(false, line.getBoolean("eol"), line.encode());
        } finally {
            call(new JsonObject().put("op", "kill").put("id", id));
        }
    }

    @Test
    void anEndedProcessHasItsWholeOutputWhenItsEndIsAnnounced() throws Exception {
        java.nio.file.Path go = java.nio.file.Files.createTempDirectory("orch-go").resolve("go");
        for (int round = 0; round < 3; round++) {
            java.nio.file.Files.deleteIfExists(go);
            // The output starts once the test listens for the end.
            String id = call(new JsonObject().put("op", "spawn").put("command", new JsonArray().add("sh").add("-c")
                    .add("while [ ! -e \"$0\" ]; do sleep 0.01; done; seq 1 200000").add(go.toString()))).getString("id");
            LogRing ring = await(supervisor.logs(id)).ring();
            java.util.concurrent.CompletableFuture<Long> capturedAtExit = new java.util.concurrent.CompletableFuture<>();
            MessageConsumer<JsonObject> c = vertx.eventBus().consumer(Addresses.EVENTS, m -> {
                if (id.equals(m.body().getString("id")) && "exited".equals(m.body().getString("event"))) {
                    capturedAtExit.complete(ring.nextSeq() - 1);
                }
            });
            registered(c);
            java.nio.file.Files.createFile(go);
            try {
                // A pipe buffer of output may be unread when the child exits; it must be in before "exited".
                assertEquals(200000L, capturedAtExit.get(20, TimeUnit.SECONDS), "lines captured when exited was published");
            } finally {
                await(c.unregister());
            }
        }
        java.nio.file.Files.deleteIfExists(go);
        java.nio.file.Files.deleteIfExists(go.getParent());
    }

    @Test
    void tenThousandLinesCapturedAndFloodDoesNotStallChild() throws Exception {
        // 10,000 short lines take about 720 KB of heap: all within the 1 MiB ring.
        String id = call(new JsonObject().put("op", "spawn").put("command", new JsonArray().add("seq").add("1").add("10000"))).getString("id");
        eventually(() -> "exited".equals(psEntry(id, true).getString("state")), "seq exits");
        JsonArray lines = logs(id, 100000);
        assertEquals(10000, lines.size());
        for (int i = 0; i < lines.size(); i += 997) {
            assertEquals(Integer.toString(i + 1), lines.getJsonObject(i).getString("text"));
        }
        assertEquals("10000", lines.getJsonObject(9999).getString("text"));

        // ~21 MB in a burst: the ring stays bounded, keeps the newest lines, and the child runs at pipe speed.
        JsonObject big = call(new JsonObject().put("op", "spawn").put("command", new JsonArray().add("seq").add("1").add("3000000")));
        long t0 = System.nanoTime();
        eventually(() -> "exited".equals(psEntry(big.getString("id"), true).getString("state")), "flood exits");
        long ms = (System.nanoTime() - t0) / 1_000_000;
        assertTrue(ms < 15000, "3M lines took " + ms + " ms");
        JsonObject reply = call(new JsonObject().put("op", "logs").put("id", big.getString("id")).put("tail", 1));
        eventually(() -> "3000000".equals(logs(big.getString("id"), 1).getJsonObject(0).getString("text")), "last line captured");
        assertTrue(reply.getLong("dropped") > 0, "older lines dropped to stay within 1 MiB");
        LogRing ring = await(supervisor.logs(big.getString("id"))).ring();
        assertTrue(ring.bytes() <= LogRing.DEFAULT_CAPACITY);
    }

    @Test
    void theLogCapBoundsTheHeapOfEmptyLines() throws Exception {
        String id = call(new JsonObject().put("op", "spawn").put("command", new JsonArray().add("sh").add("-c")
                .add("head -c 200000 /dev/zero | tr '\\0' '\\n'"))).getString("id");
        LogRing ring = await(supervisor.logs(id)).ring();
        eventually(() -> ring.nextSeq() == 200_001, "200,000 lines captured");
        // Each line takes at least a LogLine object (32 bytes or more) and an empty byte[] (16):
        // charged one byte each, 200,000 of them fitted in 1 MiB, 10 MB of heap.
        assertTrue(ring.size() * 48L <= ring.capacity(), ring.size() + " lines kept");
        assertTrue(ring.size() > 10_000, ring.size() + " lines kept");
    }

    @Test
    void aFollowArrivingAfterItsSessionClosedEnds() throws Exception {
        String id = call(new JsonObject().put("op", "spawn").put("command", new JsonArray().add("sh").add("-c")
                .add("while true; do echo tick; sleep 0.1; done"))).getString("id");
        LogRing ring = await(supervisor.logs(id)).ring();
        // The session closed while its logs request was on its way: sessionClosed found nothing.
        closedSessions.add("s9");
        endpoint.sessionClosed("s9");
        io.vertx.core.eventbus.DeliveryOptions opts = new io.vertx.core.eventbus.DeliveryOptions()
                .addHeader(ProcessEndpoint.SESSION_HEADER, "s9");
        await(vertx.eventBus().request(ProcessEndpoint.ADDRESS, new JsonObject().put("op", "logs").put("id", id)
                .put("follow", Addresses.replyPrefix("s9") + "logs"), opts));
        assertEquals(0, endpoint.followCount());
        assertEquals(0, ring.followerCount());
    }

    @Test
    void followStreamsNewLinesUntilUnfollowed() throws Exception {
        ConcurrentLinkedQueue<JsonObject> got = new ConcurrentLinkedQueue<>();
        MessageConsumer<JsonObject> c = vertx.eventBus().consumer("test.follow", m -> got.add(m.body()));
        registered(c);
        try {
            String id = call(new JsonObject().put("op", "spawn").put("command", new JsonArray().add("sh").add("-c")
                    .add("echo first; read x < /dev/null; sleep 0.5; echo second; printf 'tail'; sleep 1000"))).getString("id");
            eventually(() -> texts(logs(id, 10)).contains("first"), "first line");
            JsonObject r = call(new JsonObject().put("op", "logs").put("id", id).put("follow", "test.follow"));
            assertTrue(r.getBoolean("following"));
            assertEquals(List.of("first"), texts(r.getJsonArray("lines")));
            eventually(() -> got.stream().flatMap(m -> m.getJsonArray("lines", new JsonArray()).stream())
                    .anyMatch(l -> "second".equals(((JsonObject) l).getString("text"))), "second line streamed");
            assertEquals(1, endpoint.followCount());
            // A second logs on the same address replaces the follow without ending the stream.
            JsonObject again = call(new JsonObject().put("op", "logs").put("id", id).put("follow", "test.follow"));
            assertTrue(again.getBoolean("following"));
            assertEquals(1, endpoint.followCount());
            call(new JsonObject().put("op", "ps")); // a round trip, by which an end would have been sent
            assertFalse(got.stream().anyMatch(m -> m.getBoolean("end", false)), "the replaced follow ended the stream");
            // A remote session may only follow into its own reply addresses.
            assertEquals(403, failure(new JsonObject().put("op", "logs").put("id", id).put("follow", "orch.reply.other.x"), "s1"));
            assertTrue(call(new JsonObject().put("op", "unfollow").put("follow", "test.follow")).getBoolean("unfollowed"));
            eventually(() -> got.stream().anyMatch(m -> m.getBoolean("end", false)), "end message");
            assertEquals(0, endpoint.followCount());
            call(new JsonObject().put("op", "kill").put("id", id));
            // The unterminated last piece is kept on exit.
            eventually(() -> logs(id, 1).getJsonObject(0).getString("text").equals("tail"), "unterminated line");
        } finally {
            await(c.unregister());
        }
    }

    @Test
    void restartGivesNewPidAndNameIsReusableAfterRm() throws Exception {
        JsonObject r = call(new JsonObject().put("op", "spawn").put("name", "svc").put("command", new JsonArray().add("sleep").add("1000")));
        JsonObject r2 = call(new JsonObject().put("op", "restart").put("id", "svc"));
        assertEquals(r.getString("id"), r2.getString("id"));
        assertNotEquals(r.getLong("pid"), r2.getLong("pid"));
        assertFalse(alive(r.getLong("pid")));
        JsonObject e = psEntry(r.getString("id"), false);
        assertEquals(1, e.getInteger("restarts"));
        assertEquals(r2.getLong("pid"), e.getLong("pid"));
        assertEquals("stopped", call(new JsonObject().put("op", "kill").put("name", "svc")).getString("state"));
        JsonObject again = call(new JsonObject().put("op", "spawn").put("name", "svc").put("command", new JsonArray().add("sleep").add("1000")));
        assertNotEquals(r.getString("id"), again.getString("id"));
        assertEquals(again.getString("id"), call(new JsonObject().put("op", "stop").put("id", "svc")).getString("id"),
                "a name refers to the live process first");
    }

    @Test
    void whatAProcessLeavesInItsGroupWhenItExitsIsStopped() throws Exception {
        // A script that starts a background job and exits without waiting for it; on restart a
        // second job would join the first.
        JsonObject r = call(new JsonObject().put("op", "spawn").put("name", "forgetful").put("command", new JsonArray()
                .add("sh").add("-c").add("sleep 1000 & echo $! > " + leftoverPidFile() + "; sleep 0.5; exit 3")));
        String id = r.getString("id");
        eventually(() -> "failed".equals(psEntry(id, true).getString("state")), "the script failed");
        long job = Long.parseLong(java.nio.file.Files.readString(java.nio.file.Path.of(leftoverPidFile())).trim());
        eventually(() -> !alive(job), "background job " + job + " stopped after its script exited");
        assertEquals(3, psEntry(id, true).getInteger("exitCode"));
    }

    @Test
    void aKillWhileWhatAProcessLeftIsStoppedCancelsItsRestartAndSkipsTheGrace() throws Exception {
        // The job ignores SIGTERM, so stopping it takes the whole grace (2 s here); the policy
        // would restart the script once it is gone.
        JsonObject r = call(new JsonObject().put("op", "spawn").put("restart", "always").put("command", new JsonArray()
                .add("sh").add("-c").add("(trap '' TERM; exec sleep 1000) & sleep 0.3; exit 1")));
        String id = r.getString("id");
        eventually(() -> eventsOf(id).stream().anyMatch(e -> "failed".equals(e.getString("event"))), "the script failed");
        long t0 = System.nanoTime();
        JsonObject killed = call(new JsonObject().put("op", "kill").put("id", id));
        long tookMs = (System.nanoTime() - t0) / 1_000_000;
        assertTrue(tookMs < 1500, "kill waited " + tookMs + " ms, the grace of the job's stop");
        assertEquals("stopped", killed.getString("state"), killed.toString());
        assertEquals("stopped", psEntry(id, true).getString("state"));
        assertEquals(0, psEntry(id, true).getInteger("restarts"));
        assertTrue(eventsOf(id).stream().noneMatch(e -> "backoff".equals(e.getString("event"))), eventsOf(id).toString());
    }

    @Test
    void aNameThatReadsAsANodeIsRefused() throws Exception {
        // rm node:NAME removes a node: a process of that name could not be removed by name.
        assertEquals(400, failure(new JsonObject().put("op", "spawn").put("name", "node:n1")
                .put("command", new JsonArray().add("true"))));
        assertEquals(List.of(), ids(true));
    }

    @Test
    void aRelaunchThatCannotStartLeavesTheProcessFailedWhateverItsPolicy() throws Exception {
        java.nio.file.Path dir = java.nio.file.Files.createTempDirectory("orch-relaunch");
        java.nio.file.Path script = dir.resolve("job.sh");
        java.nio.file.Files.writeString(script, "#!/bin/sh\nrm -f \"$0\"\nexit 1\n");
        script.toFile().setExecutable(true);
        try {
            // The policy's relaunch: the script deleted itself.
            String byPolicy = call(new JsonObject().put("op", "spawn").put("restart", "always")
                    .put("command", new JsonArray().add(script.toString()))).getString("id");
            eventually(() -> eventsOf(byPolicy).stream().anyMatch(e -> e.containsKey("reason")), "the relaunch failed");
            JsonObject e = psEntry(byPolicy, true);
            assertEquals("failed", e.getString("state"), e.toString());
            assertEquals("no such file: " + script, e.getString("reason"), e.toString());
            // A restart asked for: refused, and not retried by the policy behind the caller's back.
            assertEquals(400, failure(new JsonObject().put("op", "restart").put("id", byPolicy)));
            e = psEntry(byPolicy, true);
            assertEquals("failed", e.getString("state"), e.toString());
            assertTrue(eventsOf(byPolicy).stream().filter(x -> "backoff".equals(x.getString("event"))).count() == 1,
                    eventsOf(byPolicy).toString());
        } finally {
            java.nio.file.Files.deleteIfExists(script);
            java.nio.file.Files.delete(dir);
        }
    }

    private static String leftoverPidFile() {
        return System.getProperty("java.io.tmpdir") + "/orch-leftover-" + ProcessHandle.current().pid();
    }

    @Test
    void closingTheSupervisorStopsEveryChildAndDescendant() throws Exception {
        List<Long> pids = new ArrayList<>();
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < 2; i++) {
            JsonObject r = call(new JsonObject().put("op", "spawn").put("command", new JsonArray().add("sh").add("-c")
                    .add("sleep 1000 & sleep 1000; echo unreachable")));
            ids.add(r.getString("id"));
            pids.add(r.getLong("pid"));
        }
        JsonObject backoff = call(new JsonObject().put("op", "spawn").put("command", new JsonArray().add("false"))
                .put("restart", "always"));
        for (String id : ids) {
            eventually(() -> psEntry(id, false).getJsonArray("children").size() == 2, "children of " + id);
            for (Object o : psEntry(id, false).getJsonArray("children")) {
                pids.add(((JsonObject) o).getLong("pid"));
            }
        }
        assertEquals(6, pids.size());
        pids.forEach(p -> assertTrue(alive(p)));
        await(supervisor.close());
        for (long p : pids) {
            assertFalse(alive(p), "pid " + p + " survived the supervisor");
        }
        JsonArray all = call(new JsonObject().put("op", "ps").put("all", true)).getJsonArray("processes");
        for (int i = 1; i < all.size(); i++) {
            String state = all.getJsonObject(i).getString("state");
            assertTrue(state.equals("stopped") || state.equals("failed"), all.getJsonObject(i).toString());
        }
        assertTrue(all.stream().anyMatch(o -> ((JsonObject) o).getString("id").equals(backoff.getString("id"))));
        assertEquals(503, failure(new JsonObject().put("op", "spawn").put("command", new JsonArray().add("true"))));
    }

    // ---- helpers ----

    private static void registered(MessageConsumer<?> c) throws Exception {
        io.vertx.core.Promise<Void> p = io.vertx.core.Promise.promise();
        c.completionHandler(p);
        await(p.future());
    }

    private static <T> T await(Future<T> f) throws Exception {
        return f.toCompletionStage().toCompletableFuture().get(20, TimeUnit.SECONDS);
    }

    private static JsonObject call(JsonObject body) throws Exception {
        return (JsonObject) await(vertx.eventBus().request(ProcessEndpoint.ADDRESS, body)).body();
    }

    private static int failure(JsonObject body) throws Exception {
        return failure(body, null);
    }

    private static int failure(JsonObject body, String session) throws Exception {
        io.vertx.core.eventbus.DeliveryOptions opts = new io.vertx.core.eventbus.DeliveryOptions();
        if (session != null) {
            opts.addHeader(ProcessEndpoint.SESSION_HEADER, session);
        }
        try {
            await(vertx.eventBus().request(ProcessEndpoint.ADDRESS, body, opts));
        } catch (java.util.concurrent.ExecutionException e) {
            if (e.getCause() instanceof ReplyException) {
                ReplyException re = (ReplyException) e.getCause();
                assertTrue(re.getMessage().matches("[A-Za-z]+: .*"), re.getMessage());
                return re.failureCode();
            }
            throw e;
        }
        fail("expected a failure for " + body);
        return 0;
    }

    private static JsonArray logs(String id, int tail) {
        try {
            return call(new JsonObject().put("op", "logs").put("id", id).put("tail", tail)).getJsonArray("lines");
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    private static List<String> texts(JsonArray lines) {
        List<String> out = new ArrayList<>();
        lines.forEach(l -> out.add(((JsonObject) l).getString("text")));
        return out;
    }

    private static JsonObject psEntry(String id, boolean all) {
        try {
            for (Object o : call(new JsonObject().put("op", "ps").put("all", all)).getJsonArray("processes")) {
                if (id.equals(((JsonObject) o).getString("id"))) {
                    return (JsonObject) o;
                }
            }
            return null;
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    private static List<String> ids(boolean all) throws Exception {
        List<String> out = new ArrayList<>();
        for (Object o : call(new JsonObject().put("op", "ps").put("all", all)).getJsonArray("processes")) {
            String id = ((JsonObject) o).getString("id");
            if (!id.equals("server")) {
                out.add(id);
            }
        }
        return out;
    }

    private List<JsonObject> eventsOf(String id) {
        List<JsonObject> out = new ArrayList<>();
        events.forEach(e -> {
            if (id.equals(e.getString("id"))) {
                out.add(e);
            }
        });
        return out;
    }

    /** A running process (zombies count as gone: nobody may reap orphans in a container). */
    private static boolean alive(long pid) {
        ProcStats.Stat s = ProcStats.stat(pid);
        return s != null && !s.isDead();
    }

    private static void eventually(BooleanSupplier condition, String what) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
        while (System.nanoTime() < deadline) {
            try {
                if (condition.getAsBoolean()) {
                    return;
                }
            } catch (RuntimeException | AssertionError e) {
                // not yet
            }
            Thread.sleep(20);
        }
        fail("timed out waiting for: " + what);
    }
}
