package dev.orch.process;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.orch.client.ClientConfig;
import dev.orch.client.OrchClient;
import dev.orch.protocol.Addresses;
import dev.orch.protocol.ErrorCode;
import dev.orch.protocol.OrchException;
import dev.orch.server.OrchServer;
import dev.orch.server.ServerConfig;
import dev.orch.testing.Poll;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Workers and nodes against an in-process server with a 200 ms heartbeat. */
class FleetTest {
    static final byte[] KEY = "fleet-test-key-0123456789".getBytes(StandardCharsets.UTF_8);
    static final Duration WAIT = Duration.ofSeconds(15);

    @TempDir
    Path dir;

    Vertx vertx;
    OrchServer server;
    final List<AutoCloseable> cleanup = new ArrayList<>();
    final ConcurrentLinkedQueue<JsonObject> events = new ConcurrentLinkedQueue<>();
    OrchClient admin;

    @BeforeEach
    void start(org.junit.jupiter.api.TestInfo info) throws Exception {
        // 200 ms to test lost detection quickly; the node test does real work on a loaded machine.
        long hb = info.getDisplayName().startsWith("node") ? 1000 : 200;
        Path keyFile = dir.resolve("key");
        Files.write(keyFile, KEY);
        vertx = Vertx.vertx();
        server = OrchServer.start(vertx, new ServerConfig().host("127.0.0.1").port(0).authKey(KEY).authKeyFile(keyFile)
                .heartbeat(Duration.ofMillis(hb)).stopGrace(Duration.ofSeconds(2)))
                .toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
        admin = client();
        admin.subscribe(Addresses.EVENTS, b -> events.add((JsonObject) b));
        // The registration is in effect once a request sent after it is answered.
        admin.request(ProcessEndpoint.ADDRESS, new JsonObject().put("op", "ps"));
    }

    @AfterEach
    void stop() throws Exception {
        for (int i = cleanup.size() - 1; i >= 0; i--) {
            try {
                cleanup.get(i).close();
            } catch (Exception e) {
                // best effort
            }
        }
        admin.close();
        server.close().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
        vertx.close().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
    }

    ClientConfig config() {
        return new ClientConfig().host("127.0.0.1").port(server.port()).authKey(KEY);
    }

    OrchClient client() {
        OrchClient c = OrchClient.connect(config());
        return c;
    }

    JsonObject call(OrchClient c, JsonObject body) {
        return (JsonObject) c.request(ProcessEndpoint.ADDRESS, body);
    }

    JsonArray ps(boolean all) {
        return call(admin, new JsonObject().put("op", "ps").put("all", all)).getJsonArray("processes");
    }

    JsonObject entry(String id, boolean all) {
        for (Object o : ps(all)) {
            if (id.equals(((JsonObject) o).getString("id"))) {
                return (JsonObject) o;
            }
        }
        return null;
    }

    boolean sawEvent(String kind, String id) {
        return events.stream().anyMatch(e -> kind.equals(e.getString("event")) && id.equals(e.getString("id")));
    }

    @Test
    void workerThatStopsHeartbeatingIsLostWithinThreeIntervals() {
        OrchClient w = client();
        cleanup.add(w);
        JsonObject r = call(w, new JsonObject().put("op", "attach").put("kind", "worker").put("name", "wk")
                .put("pid", ProcessHandle.current().pid()).put("command", new JsonArray().add("java")));
        String id = r.getString("id");
        assertEquals(200, r.getLong("heartbeatMs"));
        call(w, new JsonObject().put("op", "heartbeat").put("id", id).put("cpuPercent", 1.5).put("rssBytes", 1000));
        JsonObject e = entry(id, false);
        assertEquals("running", e.getString("state"));
        assertEquals("wk", e.getString("name"));
        assertEquals(1000L, e.getLong("rssBytes"));
        Poll.until(WAIT, "worker-attached event", () -> sawEvent("worker-attached", id));
        long t0 = System.nanoTime();
        Poll.until(WAIT, "worker lost", () -> "lost".equals(entry(id, false).getString("state")));
        long ms = (System.nanoTime() - t0) / 1_000_000;
        assertTrue(ms < 1000, "lost after " + ms + " ms (3 intervals = 600 ms plus check period)");
        Poll.until(WAIT, "lost event", () -> sawEvent("lost", id));
        // A name held by a lost worker can be re-attached (same entry), e.g. after a reconnect.
        OrchClient w2 = client();
        cleanup.add(w2);
        JsonObject again = call(w2, new JsonObject().put("op", "attach").put("kind", "worker").put("name", "wk").put("pid", 5));
        assertEquals(id, again.getString("id"));
        assertTrue(again.getBoolean("reattached"));
        // A live name cannot be taken by another session.
        OrchClient w3 = client();
        cleanup.add(w3);
        OrchException taken = org.junit.jupiter.api.Assertions.assertThrows(OrchException.class,
                () -> call(w3, new JsonObject().put("op", "attach").put("kind", "worker").put("name", "wk")));
        assertEquals(409, taken.code().code());
    }

    @Test
    void aRefusedAttachLeavesNoEntryBehind() {
        OrchClient w = client();
        cleanup.add(w);
        // Each field of the wrong form once made a 400 that still left a worker or node in ps.
        List<JsonObject> refused = List.of(
                new JsonObject().put("kind", "worker").put("name", "wl").put("labels", 5),
                new JsonObject().put("kind", "worker").put("name", "wc").put("command", "x"),
                new JsonObject().put("kind", "worker").put("name", "ws").put("startedAt", "yesterday"),
                new JsonObject().put("kind", "node").put("name", "n1").put("processes", 5),
                new JsonObject().put("kind", "node").put("name", "n2").put("processes", new JsonArray().add(5)),
                new JsonObject().put("kind", "node").put("name", "n3")
                        .put("processes", new JsonArray().add(new JsonObject().put("id", 5))),
                // Past a long: it would have wrapped to another pid.
                new JsonObject().put("kind", "worker").put("name", "wp").put("pid", BigInteger.TWO.pow(70)),
                new JsonObject().put("kind", "node").put("name", "n4").put("pid", 1.5));
        for (JsonObject body : refused) {
            OrchException e = org.junit.jupiter.api.Assertions.assertThrows(OrchException.class,
                    () -> call(w, body.copy().put("op", "attach")), body::encode);
            assertEquals(400, e.code().code(), body.encode());
        }
        assertEquals(List.of("server"), ps(true).stream().map(o -> ((JsonObject) o).getString("id")).toList());
        // The same session then attaches as usual, and gets the first id.
        assertEquals("w1", call(w, new JsonObject().put("op", "attach").put("kind", "worker").put("name", "wl")).getString("id"));
    }

    @Test
    void aWorkersReportsAreHeldToTheirForm() {
        OrchClient w = client();
        cleanup.add(w);
        String id = call(w, new JsonObject().put("op", "attach").put("kind", "worker").put("name", "wx")).getString("id");
        // Without an id the 404 read "no worker 'null'": the request, not the worker, is at fault.
        OrchException noId = org.junit.jupiter.api.Assertions.assertThrows(OrchException.class,
                () -> call(w, new JsonObject().put("op", "heartbeat")));
        assertEquals(400, noId.code().code());
        // 2^32 narrowed to an int is 0: the worker would have been shown as exited, not failed.
        for (Object code : List.<Object>of(4294967296L, BigInteger.TWO.pow(70), 1.5, "1")) {
            OrchException e = org.junit.jupiter.api.Assertions.assertThrows(OrchException.class,
                    () -> call(w, new JsonObject().put("op", "exit").put("id", id).put("exitCode", code)), code::toString);
            assertEquals(400, e.code().code(), code.toString());
        }
        assertEquals("running", entry(id, true).getString("state"), "a refused exit changes nothing");
        assertEquals("failed", call(w, new JsonObject().put("op", "exit").put("id", id).put("exitCode", 3)).getString("state"));
    }

    @Test
    void aLostNodeWhoseAgentSpeaksAgainIsBack() {
        // A node agent held up (SIGSTOP, a long pause) with its connection open: lost after three
        // missed heartbeats, and back with the next one, its process no longer lost.
        OrchClient n = client();
        cleanup.add(n);
        call(n, new JsonObject().put("op", "attach").put("kind", "node").put("name", "nd").put("pid", 1).put("host", "h")
                .put("processes", new JsonArray().add(new JsonObject().put("id", "p1").put("name", "job").put("pid", 2)
                        .put("state", "running").put("restarts", 0))));
        Poll.until(WAIT, "node lost", () -> sawEvent("node-lost", "node:nd"));
        Poll.until(WAIT, "its process lost", () -> sawEvent("lost", "p1@nd"));
        assertEquals("lost", entry("p1@nd", true).getString("state"));
        call(n, new JsonObject().put("op", "heartbeat").put("cpuPercent", 1.0).put("rssBytes", 10));
        Poll.until(WAIT, "node back", () -> events.stream().anyMatch(e -> "node-attached".equals(e.getString("event"))
                && "node:nd".equals(e.getString("id")) && e.getBoolean("reattached", false)));
        assertEquals("running", entry("node:nd", true).getString("state"));
        // Its process, announced lost, is announced back.
        Poll.until(WAIT, "its process found", () -> events.stream().anyMatch(e -> "found".equals(e.getString("event"))
                && "p1@nd".equals(e.getString("id")) && "running".equals(e.getString("state"))));
    }

    @Test
    void aLostNodeIsForgottenOnRequestOrItsProcessesGoneWhenAnotherAgentTakesItsName() {
        OrchClient first = client();
        call(first, new JsonObject().put("op", "attach").put("kind", "node").put("name", "nx").put("pid", 11)
                .put("host", "h").put("processes", new JsonArray()
                        .add(new JsonObject().put("id", "p1").put("name", "a").put("pid", 2).put("state", "running"))
                        .add(new JsonObject().put("id", "p2").put("name", "b").put("pid", 3).put("state", "running"))));
        call(first, new JsonObject().put("op", "heartbeat").put("cpuPercent", 50.0).put("rssBytes", 1000));
        first.close();
        Poll.until(WAIT, "its process lost", () -> sawEvent("lost", "p2@nx"));
        JsonObject lostNode = entry("node:nx", false);
        assertEquals("lost", lostNode.getString("state"));
        assertEquals(null, lostNode.getValue("rssBytes"), "a lost agent's last figures are not shown");

        // Its processes' entries can go one by one; an attached node keeps its own.
        assertEquals(true, call(admin, new JsonObject().put("op", "rm").put("id", "p1@nx")).getBoolean("removed"));
        assertEquals(null, entry("p1@nx", true));

        // Another agent takes the name (a new pid): p2 gets a last event, as its id will return.
        OrchClient second = client();
        cleanup.add(second);
        call(second, new JsonObject().put("op", "attach").put("kind", "node").put("name", "nx").put("pid", 12)
                .put("host", "h").put("processes", new JsonArray()));
        Poll.until(WAIT, "p2 gone", () -> sawEvent("gone", "p2@nx"));
        assertFalse(sawEvent("found", "p2@nx"));
        OrchException attached = org.junit.jupiter.api.Assertions.assertThrows(OrchException.class,
                () -> call(admin, new JsonObject().put("op", "rm").put("id", "node:nx")));
        assertEquals(409, attached.code().code());

        // A node that will not come back is forgotten with rm node:NAME.
        second.close();
        Poll.until(WAIT, "lost again", () -> "lost".equals(entry("node:nx", false).getString("state")));
        assertEquals(true, call(admin, new JsonObject().put("op", "rm").put("id", "node:nx")).getBoolean("removed"));
        assertEquals(null, entry("node:nx", true));
        OrchException unknown = org.junit.jupiter.api.Assertions.assertThrows(OrchException.class,
                () -> call(admin, new JsonObject().put("op", "rm").put("id", "node:nx")));
        assertEquals(404, unknown.code().code());
    }

    @Test
    void aWorkerNameThatReadsAsAnIdIsRefusedAndOnlyTheIdFieldReattaches() {
        // A name like w1 re-attached to (took over) worker w1's entry, even an ended one, and
        // an unknown one such as w99 was dropped, leaving the worker with an id for a name.
        OrchClient w = client();
        cleanup.add(w);
        String id = call(w, new JsonObject().put("op", "attach").put("kind", "worker")).getString("id");
        call(w, new JsonObject().put("op", "exit").put("id", id).put("exitCode", 0));
        for (String name : new String[] {id, "w99", "p1", "server"}) {
            OrchClient other = client();
            cleanup.add(other);
            OrchException e = org.junit.jupiter.api.Assertions.assertThrows(OrchException.class,
                    () -> call(other, new JsonObject().put("op", "attach").put("kind", "worker").put("name", name)));
            assertEquals(400, e.code().code(), name);
        }
        OrchClient late = client();
        cleanup.add(late);
        JsonObject ended = call(late, new JsonObject().put("op", "attach").put("kind", "worker").put("id", id));
        assertTrue(!id.equals(ended.getString("id")) && !ended.getBoolean("reattached"), "an ended entry is not taken over");

        // The re-attach of a connection that dropped: by id, to the same entry.
        OrchClient cut = client();
        String cutId = call(cut, new JsonObject().put("op", "attach").put("kind", "worker")).getString("id");
        cut.close();
        Poll.until(WAIT, "worker lost after disconnect", () -> "lost".equals(entry(cutId, false).getString("state")));
        OrchClient back = client();
        cleanup.add(back);
        JsonObject again = call(back, new JsonObject().put("op", "attach").put("kind", "worker").put("id", cutId));
        assertEquals(cutId, again.getString("id"));
        assertEquals(cutId, again.getString("name"));
        assertTrue(again.getBoolean("reattached"));
    }

    @Test
    void endedWorkersAndLostNodesAreForgottenOldestFirstBeyondTheLimit() {
        // As for local processes: 1000 kept (ProcessSupervisor.Config.defaults), the first ended goes first.
        int limit = ProcessSupervisor.Config.defaults().historyLimit();
        OrchClient w = client();
        cleanup.add(w);
        for (int i = 0; i <= limit; i++) {
            String id = call(w, new JsonObject().put("op", "attach").put("kind", "worker")).getString("id");
            call(w, new JsonObject().put("op", "exit").put("id", id).put("exitCode", 0));
        }
        OrchClient n = client();
        for (int i = 0; i <= limit; i++) {
            call(n, new JsonObject().put("op", "attach").put("kind", "node").put("name", "n" + i));
        }
        n.close();
        Poll.until(WAIT, "every node lost", () -> ps(false).stream().noneMatch(o -> "node".equals(((JsonObject) o).getString("kind"))
                && !"lost".equals(((JsonObject) o).getString("state"))));
        JsonArray all = ps(true);
        long workers = all.stream().filter(o -> "worker".equals(((JsonObject) o).getString("kind"))).count();
        long nodes = all.stream().filter(o -> "node".equals(((JsonObject) o).getString("kind"))).count();
        assertEquals(limit, workers);
        assertEquals(limit, nodes);
        assertTrue(entry("w1", true) == null && entry("w2", true) != null, "w1 ended first");
        assertTrue(entry("node:n0", true) == null && entry("node:n1", true) != null, "n0 was lost first");
    }

    @Test
    void aStopThatReachesNoWorkerIs410NotTheEventBusFailure() {
        // Attached, but taking no requests: nothing listens on its orch.host.SESSION.
        OrchClient w = client();
        cleanup.add(w);
        String id = call(w, new JsonObject().put("op", "attach").put("kind", "worker").put("name", "deaf")).getString("id");
        OrchException e = org.junit.jupiter.api.Assertions.assertThrows(OrchException.class,
                () -> call(admin, new JsonObject().put("op", "kill").put("id", id)));
        assertEquals(ErrorCode.HOST_GONE, e.code(), e.getMessage());
        assertEquals("worker " + id + " is not reachable", e.detail());
    }

    @Test
    void nodeThatLeavesDuringARequestIs503Unavailable() throws Exception {
        OrchClient agent = client();
        cleanup.add(agent);
        call(agent, new JsonObject().put("op", "attach").put("kind", "node").put("name", "leaving"));
        java.util.concurrent.CountDownLatch asked = new java.util.concurrent.CountDownLatch(1);
        agent.serve(Addresses.host(agent.session()), body -> {
            asked.countDown();
            return new java.util.concurrent.CompletableFuture<>();
        });
        java.util.concurrent.CompletableFuture<Object> spawn = admin.requestAsync(ProcessEndpoint.ADDRESS, new JsonObject()
                .put("op", "spawn").put("node", "leaving").put("command", new JsonArray().add("true")));
        assertTrue(asked.await(WAIT.toMillis(), TimeUnit.MILLISECONDS));
        agent.close();
        java.util.concurrent.ExecutionException e = org.junit.jupiter.api.Assertions.assertThrows(
                java.util.concurrent.ExecutionException.class, () -> spawn.get(WAIT.toMillis(), TimeUnit.MILLISECONDS));
        OrchException oe = (OrchException) e.getCause();
        assertEquals(503, oe.failureCode(), oe.getMessage());
        assertEquals("Unavailable", oe.name());
    }

    @Test
    void workerWhoseConnectionIsCutIsLost() {
        OrchClient w = client();
        String id = call(w, new JsonObject().put("op", "attach").put("kind", "worker").put("name", "cut")).getString("id");
        w.close();
        Poll.until(WAIT, "worker lost after disconnect", () -> "lost".equals(entry(id, false).getString("state")));
    }

    @Test
    void aWorkersStartIsItsCommandsNotItsAttach() throws Exception {
        OrchClient w = client();
        cleanup.add(w);
        String id = call(w, new JsonObject().put("op", "attach").put("kind", "worker").put("name", "late")
                .put("startedAt", "2020-01-01T00:00:00Z")).getString("id");
        assertEquals(Instant.parse("2020-01-01T00:00:00Z"), Instant.parse(entry(id, false).getString("startedAt")));
        call(w, new JsonObject().put("op", "heartbeat").put("id", id).put("startedAt", "2021-02-03T04:05:06.789Z"));
        assertEquals(Instant.parse("2021-02-03T04:05:06.789Z"), Instant.parse(entry(id, false).getString("startedAt")));
        OrchException bad = org.junit.jupiter.api.Assertions.assertThrows(OrchException.class,
                () -> call(w, new JsonObject().put("op", "heartbeat").put("id", id).put("startedAt", "yesterday")));
        assertEquals(400, bad.code().code());

        // orch connect attaches before it starts CMD: the entry ends up with CMD's start.
        Vertx wv = Vertx.vertx();
        cleanup.add(() -> wv.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS));
        WorkerRunner runner = new WorkerRunner(wv, config(), "job2", java.util.Map.of(), List.of("true"),
                "127.0.0.1:" + server.port(), dir.resolve("key").toString(), WorkerRunner.nullStream(),
                WorkerRunner.nullStream());
        Thread.sleep(300); // a gap between the runner's start and CMD's, which the entry must not count
        Instant beforeRun = Instant.now().truncatedTo(java.time.temporal.ChronoUnit.MILLIS);
        assertEquals(0, runner.run(WAIT));
        Instant started = Instant.parse(entry(runner.id(), true).getString("startedAt"));
        assertFalse(started.isBefore(beforeRun), started + " is before the run began at " + beforeRun);
    }

    @Test
    void workerRunnerReportsOutputAndExit() throws Exception {
        Vertx wv = Vertx.vertx();
        cleanup.add(() -> wv.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS));
        WorkerRunner runner = new WorkerRunner(wv, config(), "job", java.util.Map.of("team", "a"),
                List.of("sh", "-c", "echo \"id=$ORCH_PROCESS_ID\"; echo oops >&2; exit 7"), "127.0.0.1:" + server.port(),
                dir.resolve("key").toString(), WorkerRunner.nullStream(), WorkerRunner.nullStream());
        assertEquals(7, runner.run(WAIT));
        String id = runner.id();
        JsonObject e = entry(id, true);
        assertEquals("failed", e.getString("state"));
        assertEquals(7, e.getInteger("exitCode"));
        assertEquals("a", e.getJsonObject("labels").getString("team"));
        JsonArray lines = call(admin, new JsonObject().put("op", "logs").put("id", "job")).getJsonArray("lines");
        List<String> texts = new ArrayList<>();
        lines.forEach(l -> texts.add(((JsonObject) l).getString("text")));
        assertTrue(texts.contains("id=" + id), texts.toString());
        assertTrue(texts.contains("oops"), texts.toString());
        Poll.until(WAIT, "failed event", () -> sawEvent("failed", id));
        Poll.until(WAIT, "detached", () -> sawEvent("worker-detached", id));
        assertEquals(true, call(admin, new JsonObject().put("op", "rm").put("id", id)).getBoolean("removed"));
    }

    @Test
    void nodeAgentRunsSpawnedProcessesWithLogsPsAndEvents() throws Exception {
        Vertx nv = Vertx.vertx();
        NodeAgent agent = new NodeAgent(nv, config(), "n1", "127.0.0.1:" + server.port(), dir.resolve("key").toString(),
                Duration.ofSeconds(2));
        cleanup.add(() -> nv.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS));
        cleanup.add(agent::shutdown);
        agent.open(WAIT);
        Poll.until(WAIT, "node-attached", () -> events.stream().anyMatch(e -> "node-attached".equals(e.getString("event"))));

        JsonObject local = call(admin, new JsonObject().put("op", "spawn").put("name", "here")
                .put("command", new JsonArray().add("sleep").add("1000")));
        JsonObject r = call(admin, new JsonObject().put("op", "spawn").put("node", "n1").put("name", "there")
                .put("command", new JsonArray().add("sh").add("-c").add("echo hi; echo \"$ORCH_PROCESS_ID\"; sleep 1000")));
        String id = r.getString("id");
        assertEquals("p1@n1", id);
        // Names are unique across nodes, whichever node a spawn targets.
        for (String node : new String[] {"n1", "local"}) {
            for (String taken : new String[] {"here", "there"}) {
                OrchException dup = org.junit.jupiter.api.Assertions.assertThrows(OrchException.class,
                        () -> call(admin, new JsonObject().put("op", "spawn").put("node", node).put("name", taken)
                                .put("command", new JsonArray().add("true"))));
                assertEquals(409, dup.code().code(), node + "/" + taken);
            }
        }
        long pid = r.getLong("pid");
        assertTrue(ProcStats.exists(pid));

        JsonArray all = ps(false);
        List<String> ids = new ArrayList<>();
        all.forEach(o -> ids.add(((JsonObject) o).getString("id")));
        assertTrue(ids.containsAll(List.of("server", local.getString("id"), "node:n1", id)), ids.toString());
        JsonObject e = entry(id, false);
        assertEquals("n1", e.getString("node"));
        assertEquals(pid, e.getLong("pid"));
        assertEquals("running", e.getString("state"));
        assertNotNull(e.getLong("rssBytes"));

        Poll.until(WAIT, "started event from the node", () -> sawEvent("started", id));
        Poll.until(WAIT, "log lines", () -> call(admin, new JsonObject().put("op", "logs").put("id", "there"))
                .getJsonArray("lines").size() == 2);
        JsonArray lines = call(admin, new JsonObject().put("op", "logs").put("id", id)).getJsonArray("lines");
        assertEquals("hi", lines.getJsonObject(0).getString("text"));
        assertEquals("p1", lines.getJsonObject(1).getString("text"));

        // Follow through the node.
        ConcurrentLinkedQueue<JsonObject> got = new ConcurrentLinkedQueue<>();
        String follow = Addresses.replyPrefix(admin.session()) + "f";
        admin.subscribe(follow, b -> got.add((JsonObject) b));
        JsonObject fr = call(admin, new JsonObject().put("op", "logs").put("id", id).put("follow", follow));
        assertTrue(fr.getBoolean("following"));
        assertTrue(call(admin, new JsonObject().put("op", "unfollow").put("follow", follow)).getBoolean("unfollowed"));
        Poll.until(WAIT, "end of follow", () -> got.stream().anyMatch(m -> m.getBoolean("end", false)));

        // The node's refusal names the process as the caller knows it.
        OrchException busy = org.junit.jupiter.api.Assertions.assertThrows(OrchException.class,
                () -> call(admin, new JsonObject().put("op", "rm").put("id", "there")));
        assertEquals(409, busy.code().code());
        assertTrue(busy.detail().contains("process p1@n1 is running"), busy.detail());

        JsonObject stopped = call(admin, new JsonObject().put("op", "stop").put("id", "there"));
        assertEquals("stopped", stopped.getString("state"));
        assertFalse(ProcStats.exists(pid) && !ProcStats.stat(pid).isDead());
        Poll.until(WAIT, "stopped event", () -> sawEvent("stopped", id));
        assertEquals(404, org.junit.jupiter.api.Assertions.assertThrows(OrchException.class,
                () -> call(admin, new JsonObject().put("op", "spawn").put("node", "nope").put("command", new JsonArray().add("true"))))
                .code().code());

        // A second process, then the node vanishes without a goodbye: its processes become lost.
        String id2 = call(admin, new JsonObject().put("op", "spawn").put("node", "n1")
                .put("command", new JsonArray().add("sleep").add("1000"))).getString("id");
        Poll.until(WAIT, "started 2", () -> sawEvent("started", id2));
        agent.client().close();
        agent.close();
        Poll.until(WAIT, "node lost", () -> events.stream().anyMatch(ev -> "node-lost".equals(ev.getString("event"))));
        Poll.until(WAIT, "process lost", () -> sawEvent("lost", id2));
        assertEquals("lost", entry(id2, false).getString("state"));
        // Its row still says what it ran, though no event carries a command.
        assertEquals(new JsonArray().add("sleep").add("1000"), entry(id2, false).getJsonArray("command"));
    }
}
