package dev.orch.process;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.orch.client.OrchClient;
import dev.orch.it.Procs;
import dev.orch.testing.Poll;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** target/orch as child processes: server, spawn/ps/logs/stop/kill/restart/rm, connect (worker and node), events. */
class ProcessCliIT {
    static final Duration WAIT = Duration.ofSeconds(60);

    @TempDir
    Path dir;

    Path launcher = Path.of(System.getProperty("orch.launcher", "target/orch")).toAbsolutePath();
    Process server;
    long serverPid;
    String address;
    final List<Process> background = new ArrayList<>();
    OrchClient client;
    String clientAddress;

    @BeforeEach
    void startServer() throws Exception {
        Files.writeString(dir.resolve("key"), "it-key-0123456789abcdef");
        startServerOn("127.0.0.1:0");
    }

    void startServerOn(String listen) throws Exception {
        Files.deleteIfExists(dir.resolve("ready"));
        ProcessBuilder pb = new ProcessBuilder(launcher.toString(), "server", "--listen", listen, "--authkey-file",
                dir.resolve("key").toString(), "--heartbeat", "0.5", "--grace", "2")
                .redirectErrorStream(true).redirectOutput(dir.resolve("server.log").toFile());
        pb.environment().put("ORCH_READY_FILE", dir.resolve("ready").toString());
        pb.environment().put("ORCH_HOME", dir.toString());
        server = pb.start();
        Poll.until(WAIT, "server ready file", () -> {
            try {
                return Files.readString(dir.resolve("ready")).split("\n").length >= 2;
            } catch (Exception e) {
                return false;
            }
        });
        String[] ready = Files.readString(dir.resolve("ready")).split("\n");
        address = ready[0];
        serverPid = Long.parseLong(ready[1].trim());
    }

    @AfterEach
    void stop() throws Exception {
        if (client != null) {
            client.close();
        }
        for (Process p : background) {
            p.destroy();
            if (!p.waitFor(20, TimeUnit.SECONDS)) {
                p.destroyForcibly();
            }
        }
        server.destroy();
        if (!server.waitFor(30, TimeUnit.SECONDS)) {
            server.destroyForcibly();
        }
    }

    record Result(int code, String out, String err) {
    }

    ProcessBuilder orch(String... args) {
        List<String> cmd = new ArrayList<>(List.of(launcher.toString()));
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd);
        Map<String, String> env = pb.environment();
        env.put("ORCH_ADDRESS", address);
        env.put("ORCH_AUTHKEY_FILE", dir.resolve("key").toString());
        env.put("ORCH_HOME", dir.toString());
        return pb;
    }

    Result run(String... args) throws Exception {
        return runIn(null, args);
    }

    Result runIn(Path workDir, String... args) throws Exception {
        Path out = Files.createTempFile(dir, "out", "");
        Path err = Files.createTempFile(dir, "err", "");
        Process p = orch(args).directory(workDir == null ? null : workDir.toFile())
                .redirectOutput(out.toFile()).redirectError(err.toFile()).start();
        if (!p.waitFor(90, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError("orch " + String.join(" ", args) + " timed out");
        }
        return new Result(p.exitValue(), Files.readString(out), Files.readString(err));
    }

    Process background(Path log, String... args) throws Exception {
        Process p = orch(args).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        background.add(p);
        return p;
    }

    JsonNode ps() throws Exception {
        Result r = run("ps", "--all", "-o", "json");
        assertEquals(0, r.code(), r.err());
        return new ObjectMapper().readTree(r.out());
    }

    /**
     * What {@link #ps()} prints, through a Java client: waiting by polling {@code orch ps} would
     * start a JVM every turn, a core taken from the processes being waited for.
     */
    JsonNode polledPs() throws Exception {
        if (client == null || !client.isOpen() || !address.equals(clientAddress)) {
            if (client != null) {
                client.close();
            }
            client = Procs.client(address, dir.resolve("key"));
            clientAddress = address;
        }
        return new ObjectMapper().readTree(Procs.psRows(client).encode());
    }

    JsonNode entry(JsonNode ps, String id) {
        for (JsonNode n : ps) {
            if (id.equals(n.path("id").asText())) {
                return n;
            }
        }
        return null;
    }

    @Test
    void processCommandsEventsAndShutdown() throws Exception {
        Path events = dir.resolve("events.log");
        Process eventsProcess = background(events, "events", "-o", "json");
        Result spawn = run("spawn", "--name", "web", "--", "sh", "-c", "echo one; echo two; echo three; sleep 1000");
        assertEquals(0, spawn.code(), spawn.err());
        String id = spawn.out().trim();
        assertEquals(1, run("spawn", "--name", "web", "--", "sleep", "1").code(), "name taken");
        assertEquals(4, run("stop", "nope").code(), "unknown id");
        JsonNode e = entry(ps(), id);
        long pid = e.get("pid").asLong();
        assertTrue(Files.exists(Path.of("/proc/" + pid + "/stat")));
        assertEquals("running", e.get("state").asText());
        for (String f : new String[] {"name", "node", "restarts", "exitCode", "cpuPercent", "rssBytes", "startedAt", "command"}) {
            assertTrue(e.has(f), f);
        }
        Result logs = run("logs", "--tail", "2", id);
        assertEquals("two\nthree\n", logs.out());
        Result restart = run("restart", id);
        assertEquals(0, restart.code(), restart.err());
        long pid2 = entry(ps(), id).get("pid").asLong();
        assertTrue(pid2 != pid);
        assertEquals(0, run("kill", "web").code());
        assertEquals(0, run("rm", id).code());
        assertEquals(4, run("rm", id).code());
        // `orch events` may have subscribed after the first spawn; the restart came long after.
        Poll.until(WAIT, "started event printed", () -> {
            try {
                String printed = Files.readString(events);
                return printed.contains("\"event\":\"started\"") || printed.contains("\"event\":\"restarted\"");
            } catch (Exception x) {
                return false;
            }
        });
        // Server SIGTERM stops every child.
        String id3 = run("spawn", "--", "sh", "-c", "sleep 1000 & sleep 1000").out().trim();
        long pid3 = entry(ps(), id3).get("pid").asLong();
        server.destroy();
        assertTrue(server.waitFor(60, TimeUnit.SECONDS));
        assertEquals(0, server.exitValue(), "the server exits 0 on SIGTERM");
        // The event stream has no end of its own: losing the server is a failure, one line, exit 3.
        assertTrue(eventsProcess.waitFor(30, TimeUnit.SECONDS), "orch events kept running without its server");
        assertEquals(3, eventsProcess.exitValue(), Files.readString(events));
        assertTrue(Files.readString(events).endsWith("orch: connection to the orch server ended\n"), Files.readString(events));
        assertTrue(ended(pid3), "child " + pid3 + " survived the server");
    }

    /** Gone, or a zombie nobody has reaped yet (this machine's PID 1 may not reap). */
    static boolean ended(long pid) {
        try {
            return !Files.exists(Path.of("/proc/" + pid)) || Files.readString(Path.of("/proc/" + pid + "/stat")).contains(") Z");
        } catch (java.io.IOException e) {
            return true; // it went between the two reads
        }
    }

    @Test
    void childrenDieWithAServerKilledOutright() throws Exception {
        Assumptions.assumeTrue(Files.isExecutable(Path.of("/usr/bin/setpriv")), "needs util-linux setpriv");
        // The child's own children too: a script's background jobs.
        Result spawn = run("spawn", "--name", "orphan-to-be", "--", "sh", "-c", "sleep 1000 & sleep 1000 & wait");
        assertEquals(0, spawn.code(), spawn.err());
        long pid = entry(ps(), spawn.out().trim()).get("pid").asLong();
        List<ProcessHandle> family = new ArrayList<>();
        try {
            Poll.until(WAIT, "the child's two sleeps started", () -> ProcessHandle.of(pid).map(h -> h.children().count()).orElse(0L) == 2);
            ProcessHandle.of(pid).ifPresent(h -> h.children().forEach(family::add));
            server.destroyForcibly(); // SIGKILL: no chance to stop anything
            assertTrue(server.waitFor(30, TimeUnit.SECONDS));
            Poll.until(Duration.ofSeconds(10), "child " + pid + " ends with its server", () -> ended(pid));
            for (ProcessHandle grandchild : family) {
                Poll.until(Duration.ofSeconds(10), "grandchild " + grandchild.pid() + " ends with the server", () -> ended(grandchild.pid()));
            }
        } finally {
            killTree(pid);
            family.forEach(ProcessHandle::destroyForcibly);
        }
    }

    @Test
    void escapeesSeenByPsDieWithAServerKilledOutright() throws Exception {
        Assumptions.assumeTrue(Files.isExecutable(Path.of("/usr/bin/setsid")), "needs util-linux setsid");
        // An escapee (setsid: a session and group of its own) with a child in its group.
        Path esc = dir.resolve("esc");
        Result spawn = run("spawn", "--name", "escaper", "--", "sh", "-c", "setsid sh -c \"$1\" \"$0\" & echo $! > \"$0\"; wait",
                esc.toString(), "sleep 1000 & echo $! > \"$0.child\"; wait");
        assertEquals(0, spawn.code(), spawn.err());
        long pid = entry(ps(), spawn.out().trim()).get("pid").asLong();
        long[] family = {-1, -1};
        try {
            Poll.until(WAIT, "the escapee and its child started", () -> {
                try {
                    family[0] = Long.parseLong(Files.readString(esc).trim());
                    family[1] = Long.parseLong(Files.readString(dir.resolve("esc.child")).trim());
                    return true;
                } catch (Exception e) {
                    return false;
                }
            });
            String stat = Files.readString(Path.of("/proc/" + family[0] + "/stat"));
            String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            assertEquals(Long.toString(family[0]), f[2], "the escapee leads a group of its own");
            ps(); // the look that remembers it
            server.destroyForcibly(); // SIGKILL: no chance to stop anything
            assertTrue(server.waitFor(30, TimeUnit.SECONDS));
            for (long p : family) {
                Poll.until(Duration.ofSeconds(10), "escapee process " + p + " ends with the server", () -> ended(p));
            }
        } finally {
            killTree(pid);
            for (long p : family) {
                ProcessHandle.of(p).ifPresent(ProcessHandle::destroyForcibly);
            }
        }
    }

    @Test
    void aWorkersEscapeesEndWithItsOrchConnect() throws Exception {
        Assumptions.assumeTrue(Files.isExecutable(Path.of("/usr/bin/setsid")), "needs util-linux setsid");
        Assumptions.assumeTrue(Files.isDirectory(Path.of("/proc/self")), "needs /proc");
        // SIGTERM to orch connect: forwarded to CMD's group and to its escapee.
        Path esc = dir.resolve("esc-term");
        Process termed = background(dir.resolve("termed.log"), "connect", "--name", "termed", "--", "sh", "-c",
                "setsid sleep 1000 & echo $! > \"$0\"; exec sleep 1000", esc.toString());
        long first = escapeeIn(esc);
        try {
            termed.destroy();
            assertTrue(termed.waitFor(30, TimeUnit.SECONDS), "orch connect ended on SIGTERM");
            assertEquals(143, termed.exitValue());
            Poll.until(Duration.ofSeconds(10), "escapee " + first + " ends with orch connect", () -> ended(first));
        } finally {
            ProcessHandle.of(first).ifPresent(ProcessHandle::destroyForcibly);
        }
        // CMD exits on its own once its escapee was seen (ps shows it under the worker): the
        // escapee, no longer its descendant, is ended as orch connect ends.
        Path esc2 = dir.resolve("esc-exit");
        Process exiting = background(dir.resolve("exiting.log"), "connect", "--name", "exiting", "--", "sh", "-c",
                "setsid sleep 1000 & echo $! > \"$0\"; while [ ! -e \"$0.go\" ]; do sleep 0.05; done; exit 3", esc2.toString());
        long second = escapeeIn(esc2);
        try {
            Poll.until(WAIT, "ps lists escapee " + second + " under the worker", () -> listsEscaped("exiting", second));
            Files.createFile(Path.of(esc2 + ".go"));
            assertTrue(exiting.waitFor(30, TimeUnit.SECONDS), "orch connect ended with its command");
            assertEquals(3, exiting.exitValue());
            Poll.until(Duration.ofSeconds(10), "escapee " + second + " ends with orch connect", () -> ended(second));
        } finally {
            ProcessHandle.of(second).ifPresent(ProcessHandle::destroyForcibly);
        }
        // orch connect killed outright: its reaper kills the escapee it saw, as a killed server's does.
        Path esc3 = dir.resolve("esc-kill");
        Process killed = background(dir.resolve("killed.log"), "connect", "--name", "killed", "--", "sh", "-c",
                "setsid sleep 1000 & echo $! > \"$0\"; exec sleep 1000", esc3.toString());
        long third = escapeeIn(esc3);
        // A handle checks the start time, so it never hits a process that reused the pid.
        java.util.Optional<ProcessHandle> cmd = ProcessHandle.of(third).flatMap(ProcessHandle::parent);
        try {
            Poll.until(WAIT, "ps lists escapee " + third + " under the worker", () -> listsEscaped("killed", third));
            killed.destroyForcibly();
            assertTrue(killed.waitFor(30, TimeUnit.SECONDS));
            Poll.until(Duration.ofSeconds(10), "escapee " + third + " ends with orch connect", () -> ended(third));
        } finally {
            ProcessHandle.of(third).ifPresent(ProcessHandle::destroyForcibly);
            cmd.ifPresent(ProcessHandle::destroyForcibly); // without setpriv, CMD outlives a killed orch connect
        }
    }

    /**
     * Whether ps lists {@code pid} under worker {@code name} as {@code sleep}: setsid has exec'd it,
     * so it had left CMD's group when the heartbeat behind that listing looked.
     */
    boolean listsEscaped(String name, long pid) {
        try {
            JsonNode w = entryByName(polledPs(), name);
            if (w == null) {
                return false;
            }
            for (JsonNode c : w.path("children")) {
                if (c.path("pid").asLong() == pid && "sleep".equals(c.path("command").path(0).asText())) {
                    return true;
                }
            }
        } catch (Exception e) {
            return false;
        }
        return false;
    }

    /** The pid written to {@code file}, once that process runs in a session of its own. */
    static long escapeeIn(Path file) throws Exception {
        long[] pid = {-1};
        Poll.until(WAIT, "an escapee's pid in " + file, () -> {
            try {
                pid[0] = Long.parseLong(Files.readString(file).trim());
                String stat = Files.readString(Path.of("/proc/" + pid[0] + "/stat"));
                String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
                // Field 6, the session: its own once setsid has run (and exec'd sleep).
                return f[3].equals(Long.toString(pid[0])) && stat.contains("(sleep)");
            } catch (Exception e) {
                return false;
            }
        });
        return pid[0];
    }

    @Test
    void watchAndFollowFailWithExit3WhenTheServerIsLost() throws Exception {
        Result spawn = run("spawn", "--name", "talker", "--", "sh", "-c", "echo hello; sleep 1000");
        assertEquals(0, spawn.code(), spawn.err());
        long pid = entry(ps(), spawn.out().trim()).get("pid").asLong();
        try {
            Path watchLog = dir.resolve("watch.log");
            Path followLog = dir.resolve("follow.log");
            Process watch = background(watchLog, "ps", "--watch");
            Process follow = background(followLog, "logs", "-f", "talker");
            Poll.until(WAIT, "a table and the log printed", () -> read(watchLog).contains("talker") && read(followLog).contains("hello"));
            server.destroyForcibly();
            for (Process p : List.of(watch, follow)) {
                assertTrue(p.waitFor(30, TimeUnit.SECONDS), "kept running without its server");
            }
            // A stream that ends because its server vanished is a failure, as for orch events.
            assertEquals(3, watch.exitValue(), read(watchLog));
            assertTrue(read(watchLog).endsWith("orch: connection to the orch server ended\n"), read(watchLog));
            assertEquals(3, follow.exitValue(), read(followLog));
            assertEquals("hello\norch: connection to the orch server ended\n", read(followLog));
        } finally {
            killTree(pid); // a server killed with SIGKILL cannot stop its children
        }
    }

    static void killTree(long pid) {
        ProcessHandle.of(pid).ifPresent(h -> {
            h.descendants().forEach(ProcessHandle::destroyForcibly);
            h.destroyForcibly();
        });
    }

    @Test
    void stopWaitsOutTheGraceEvenBeyondTheTimeout() throws Exception {
        Result spawn = run("spawn", "--name", "stubborn", "--", "sh", "-c", "trap '' TERM; echo ready; while :; do sleep 0.1; done");
        assertEquals(0, spawn.code(), spawn.err());
        Poll.until(WAIT, "TERM trapped", () -> {
            try {
                return run("logs", "stubborn").out().contains("ready");
            } catch (Exception e) {
                return false;
            }
        });
        // --timeout bounds a server that does not answer, not the grace it was asked to give.
        Result stop = run("stop", "--timeout", "1", "--grace", "3", "stubborn");
        assertEquals(0, stop.code(), stop.err());
        JsonNode e = entry(ps(), spawn.out().trim());
        assertEquals("stopped", e.get("state").asText());
        assertEquals(137, e.get("exitCode").asInt(), "killed after the grace");

        // Without --grace the server's own (2 s here) is waited out just the same, by a restart too.
        Result restart = run("restart", "--timeout", "1", "stubborn");
        assertEquals(0, restart.code(), restart.err());
        Poll.until(WAIT, "TERM trapped again", () -> {
            try {
                return run("logs", "stubborn").out().split("ready", -1).length > 2;
            } catch (Exception ex) {
                return false;
            }
        });
        Result again = run("restart", "--timeout", "1", "stubborn");
        assertEquals(0, again.code(), "a restart whose stop takes the server's grace: " + again.err());
        Poll.until(WAIT, "TERM trapped a third time", () -> {
            try {
                return run("logs", "stubborn").out().split("ready", -1).length > 3;
            } catch (Exception ex) {
                return false;
            }
        });
        long t0 = System.nanoTime();
        Result plain = run("stop", "--timeout", "1", "stubborn");
        assertEquals(0, plain.code(), "a stop that takes the server's grace: " + plain.err());
        assertTrue(System.nanoTime() - t0 >= 1_900_000_000L, "answered before the server's grace was out");
        assertEquals(137, entry(ps(), spawn.out().trim()).get("exitCode").asInt(), "killed after the server's grace");
    }

    @Test
    void stoppingAWorkerThatIgnoresTermKillsItAfterTheGrace() throws Exception {
        Path log = dir.resolve("stubborn-worker.log");
        Process worker = background(log, "connect", "--name", "stubw", "--", "sh", "-c",
                "trap '' TERM; echo ready; while :; do sleep 0.1; done");
        Poll.until(WAIT, "TERM trapped", () -> read(log).contains("ready") && findByName("stubw"));
        long pid = entryByName(ps(), "stubw").get("pid").asLong();
        try {
            Result stop = run("stop", "--grace", "1", "stubw");
            assertEquals(0, stop.code(), stop.err());
            // The stop answers once the worker has ended, as for a spawned process.
            assertEquals("stopped", stateOf("stubw"));
            assertTrue(worker.waitFor(30, TimeUnit.SECONDS), "orch connect still runs its command");
            assertEquals(137, worker.exitValue(), "SIGKILL after the grace");
        } finally {
            killTree(pid); // nothing can stop it once its orch connect is gone
        }

        // SIGTERM to orch connect itself (a pod being stopped): forwarded, then SIGKILL after its --grace.
        Path log2 = dir.resolve("stubborn-worker-2.log");
        Process worker2 = background(log2, "connect", "--name", "stubw2", "--grace", "1", "--", "sh", "-c",
                "trap '' TERM; echo ready; while :; do sleep 0.1; done");
        Poll.until(WAIT, "TERM trapped", () -> read(log2).contains("ready") && findByName("stubw2"));
        long pid2 = entryByName(ps(), "stubw2").get("pid").asLong();
        try {
            worker2.destroy();
            assertTrue(worker2.waitFor(30, TimeUnit.SECONDS), "orch connect still runs its command after SIGTERM");
            assertEquals(137, worker2.exitValue(), "SIGKILL after the grace");
            assertFalse(ProcessHandle.of(pid2).map(ProcessHandle::isAlive).orElse(false), "the command still runs");
        } finally {
            killTree(pid2);
        }
    }

    @Test
    void aRelativeCwdIsTakenFromWhereSpawnRunsAndTheCommandLineIsKept() throws Exception {
        Path sub = Files.createDirectories(dir.resolve("work").resolve("sub"));
        Result spawn = runIn(dir.resolve("work"), "spawn", "--cwd", "sub", "--", "pwd");
        assertEquals(0, spawn.code(), spawn.err());
        // A file is no directory, and is not said to be missing either.
        Path file = Files.writeString(dir.resolve("work").resolve("file"), "");
        Result notDir = runIn(dir.resolve("work"), "spawn", "--cwd", "file", "--", "pwd");
        assertEquals(1, notDir.code(), notDir.err());
        assertEquals("orch: BadRequest: not a directory: " + file + " (400)\n", notDir.err());
        Poll.until(WAIT, "pwd printed", () -> {
            try {
                return run("logs", spawn.out().trim()).out().equals(sub.toRealPath() + "\n");
            } catch (Exception e) {
                return false;
            }
        });
        // JVM-style options in CMD are CMD's: a native orch must not take them as its own
        // (GraalVM's runtime option parsing would, unless the build turns it off).
        String[] jvmish = {"-Dmode=prod", "-Xmx64m", "-XX:+NoSuchOption", "-Xss1m"};
        List<String> args = new ArrayList<>(List.of("spawn", "--", "sh", "-c", "echo \"$*\"", "sh"));
        args.addAll(List.of(jvmish));
        Result echo = run(args.toArray(String[]::new));
        assertEquals(0, echo.code(), echo.err());
        Poll.until(WAIT, "the arguments echoed", () -> {
            try {
                return run("logs", echo.out().trim()).out().equals(String.join(" ", jvmish) + "\n");
            } catch (Exception e) {
                return false;
            }
        });
    }

    @Test
    void rmAndRestartPrintTheIdTheyActedOn() throws Exception {
        Result spawn = run("spawn", "--name", "named", "--", "sleep", "1000");
        assertEquals(0, spawn.code(), spawn.err());
        String id = spawn.out().trim();
        Result restart = run("restart", "named");
        assertEquals(0, restart.code(), restart.err());
        assertEquals(id + "\n", restart.out());
        Result kill = run("kill", "named");
        assertEquals(id + "\n", kill.out(), kill.err());
        Result rm = run("rm", "named");
        assertEquals(0, rm.code(), rm.err());
        assertEquals(id + "\n", rm.out(), "rm prints the id, not the name it was given");
        assertEquals(null, entry(ps(), id), "removed");

        // A relaunch of a script deleted since is refused as its spawn would be: it had run
        // setpriv, which exited 127 with its own message in the process's log, and restart
        // said it had worked. The policy's relaunch ends the same way (its first run deletes it).
        Path script = Files.writeString(dir.resolve("gone.sh"), "#!/bin/sh\necho ran\n");
        Path selfDeleting = Files.writeString(dir.resolve("once.sh"), "#!/bin/sh\nrm -- \"$0\"\nexit 3\n");
        for (Path p : List.of(script, selfDeleting)) {
            p.toFile().setExecutable(true);
        }
        String gone = run("spawn", "--", script.toString()).out().trim();
        String once = run("spawn", "--restart", "on-failure", "--max-restarts", "1", "--", selfDeleting.toString()).out().trim();
        Poll.until(WAIT, "the script ran", () -> {
            try {
                return run("logs", gone).out().equals("ran\n");
            } catch (Exception e) {
                return false;
            }
        });
        Files.delete(script);
        Result again = run("restart", gone);
        assertEquals(1, again.code(), again.toString());
        assertEquals("", again.out());
        assertEquals("orch: BadRequest: no such file: " + script + " (400)\n", again.err());
        Poll.until(WAIT, "the relaunch by the policy failed", () -> {
            try {
                JsonNode e = entry(polledPs(), once);
                return e.path("restarts").asInt() == 1 && e.path("state").asText().equals("failed");
            } catch (Exception e) {
                return false;
            }
        });
        JsonNode all = ps();
        for (String[] c : new String[][] {{gone, script.toString()}, {once, selfDeleting.toString()}}) {
            JsonNode e = entry(all, c[0]);
            assertEquals("failed", e.path("state").asText(), e.toString());
            assertTrue(e.get("exitCode").isNull(), e.toString());
            assertEquals("no such file: " + c[1], e.path("reason").asText(), e.toString());
            Result logs = run("logs", c[0]);
            assertFalse((logs.out() + logs.err()).contains("setpriv"), logs.toString());
        }
    }

    @Test
    void psShowsEveryStartTimeWithMilliseconds() throws Exception {
        assertEquals(0, run("spawn", "--name", "timed", "--", "sleep", "1000").code());
        java.util.regex.Pattern stamp = java.util.regex.Pattern.compile("\\d{4}-\\d\\d-\\d\\dT[0-9:.]+Z");
        java.util.regex.Pattern millis = java.util.regex.Pattern.compile("\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z");
        Result wide = run("ps", "-o", "wide");
        assertEquals(0, wide.code(), wide.err());
        List<String> shown = stamp.matcher(wide.out()).results().map(m -> m.group()).toList();
        assertEquals(2, shown.size(), "the server's and the process's STARTED: " + wide.out());
        for (String t : shown) {
            assertTrue(millis.matcher(t).matches(), t + " in\n" + wide.out());
        }
        for (JsonNode n : ps()) {
            String t = n.path("startedAt").asText();
            assertTrue(millis.matcher(t).matches(), "JSON startedAt " + t);
        }
    }

    @Test
    void connectWithAWrongKeyFailsAtOnce() throws Exception {
        Path wrong = dir.resolve("wrong-key");
        Files.writeString(wrong, "not-the-key");
        String[][] cases = {
            {"connect", address, "--authkey-file", wrong.toString(), "--", "true"},
            {"connect", address, "--authkey-file", wrong.toString(), "--name", "nd"},
        };
        for (String[] args : cases) {
            long t0 = System.nanoTime();
            Result r = run(args);
            long seconds = (System.nanoTime() - t0) / 1_000_000_000L;
            assertEquals(3, r.code(), r.err());
            assertEquals("orch: the server at " + address + " does not know our auth key", r.err().strip());
            assertTrue(seconds < 15, "gave up after " + seconds + " s, not at once (the --timeout is 30 s)");
        }
        // Nothing listening can pass: that is retried until --timeout.
        int closed;
        try (java.net.ServerSocket s = new java.net.ServerSocket(0, 1, java.net.InetAddress.getByName("127.0.0.1"))) {
            closed = s.getLocalPort();
        }
        long t0 = System.nanoTime();
        Result r = run("connect", "127.0.0.1:" + closed, "--timeout", "3", "--", "true");
        assertEquals(3, r.code(), r.err());
        assertTrue(r.err().contains("cannot attach to 127.0.0.1:" + closed + " within 3 s"), r.err());
        assertTrue(System.nanoTime() - t0 >= 3_000_000_000L, "retried for the whole --timeout");
    }

    @Test
    void connectToAnUnknownHostFailsAtOnceSayingSo() throws Exception {
        // .invalid never resolves (RFC 2606): the lookup fails here, without asking the internet.
        String[][] cases = {
            {"connect", "nohost.invalid:5", "--timeout", "20", "--", "true"},
            {"connect", "nohost.invalid:5", "--timeout", "20", "--name", "nd"},
        };
        for (String[] args : cases) {
            long t0 = System.nanoTime();
            Result r = run(args);
            long seconds = (System.nanoTime() - t0) / 1_000_000_000L;
            assertEquals(3, r.code(), r.err());
            assertEquals("orch: cannot connect to nohost.invalid:5: unknown host nohost.invalid", r.err().strip());
            assertTrue(seconds < 15, "gave up after " + seconds + " s, not at once (the --timeout is 20 s)");
        }
    }

    @Test
    void anAttachedWorkerReattachesAfterTheServerRestarts() throws Exception {
        Path log = dir.resolve("connect.log");
        Process worker = background(log, "connect", address, "--name", "survivor", "--", "sleep", "1000");
        Poll.until(WAIT, "worker attached", () -> {
            try {
                return entryByName(polledPs(), "survivor") != null;
            } catch (Exception e) {
                return false;
            }
        });
        // The server dies hard and comes back on the same address: it knows nothing of the worker.
        server.destroyForcibly();
        assertTrue(server.waitFor(30, TimeUnit.SECONDS));
        startServerOn(address);
        Poll.until(WAIT, "worker re-attached to the new server", () -> {
            try {
                JsonNode w = entryByName(polledPs(), "survivor");
                return w != null && "running".equals(w.path("state").asText());
            } catch (Exception e) {
                return false;
            }
        });
        assertTrue(worker.isAlive(), "orch connect kept its command running through the outage");
    }

    JsonNode entryByName(JsonNode ps, String name) {
        for (JsonNode n : ps) {
            if (name.equals(n.path("name").asText())) {
                return n;
            }
        }
        return null;
    }

    @Test
    void psWatchFollowsChangesInPlainAndTerminalOutput() throws Exception {
        // Not a terminal: a timestamped table each time something changed.
        Path plain = dir.resolve("watch.log");
        background(plain, "ps", "--watch");
        Poll.until(WAIT, "first table", () -> read(plain).contains("--- "));
        assertEquals(0, run("spawn", "--name", "watched", "--", "sleep", "1000").code());
        Poll.until(WAIT, "the new process in a later table", () -> read(plain).contains("watched"));
        assertTrue(read(plain).lines().anyMatch(l -> l.startsWith("ID ")), "table header");

        // A real terminal (tmux): the table is redrawn in place, without the plain-mode markers.
        Assumptions.assumeTrue(Files.isExecutable(Path.of("/usr/bin/tmux")), "tmux is not installed");
        String session = "orch-watch-" + ProcessHandle.current().pid();
        try {
            onTerminal(session, "ps --watch");
            Poll.until(WAIT, "table on the terminal", () -> screen(session).contains("watched"));
            assertEquals(0, run("spawn", "--name", "second", "--", "sleep", "1000").code());
            Poll.until(WAIT, "terminal shows the second process", () -> screen(session).contains("second"));
            String shown = screen(session);
            assertTrue(!shown.contains("--- "), "redrawn in place, not appended: " + shown);
            assertEquals(1, shown.lines().filter(l -> l.startsWith("ID ")).count(), "one table on the screen: " + shown);
        } finally {
            new ProcessBuilder("tmux", "kill-session", "-t", session).start().waitFor();
        }
    }

    @Test
    void psWatchWithJsonPrintsOneDocumentPerLine() throws Exception {
        // A "--- TIME" separator between snapshots broke every consumer of -o json.
        Path log = dir.resolve("watch.json");
        background(log, "ps", "--watch", "-o", "json");
        Poll.until(WAIT, "first snapshot", () -> read(log).contains("\n"));
        assertEquals(0, run("spawn", "--name", "jsonwatched", "--", "sleep", "1000").code());
        Poll.until(WAIT, "a later snapshot with the new process", () -> read(log).contains("jsonwatched"));
        List<String> lines = read(log).lines().toList();
        assertTrue(lines.size() >= 2, read(log));
        for (String l : lines) {
            assertTrue(new ObjectMapper().readTree(l).isArray(), "a JSON array per line: " + l);
        }
    }

    @Test
    void streamsEndOnTermOrIntAtAnyMoment() throws Exception {
        // The moments are found in the JVM's class-load log (ORCH_JAVA_OPTS, the JVM launcher's).
        dev.orch.it.Procs.assumeJvmLauncher();
        assertEquals(0, run("spawn", "--name", "ticker", "--", "sh", "-c", "while true; do echo tick; sleep 0.2; done").code());
        // "starting": Quarkus has made its Vert.x, so its shutdown hook is in place and start can
        // no longer fail on a JVM that is exiting, but it has not run the command yet. A signal
        // then left the command running for good. That window lasts milliseconds, so several
        // commands aim at it at once (the load widens it); the class load log tells the moment.
        String[][] cases = {
            {"launch", "TERM", "events"}, {"launch", "INT", "ps", "--watch"},
            {"starting", "TERM", "events"}, {"starting", "INT", "events"},
            {"starting", "TERM", "logs", "-f", "ticker"}, {"starting", "INT", "logs", "-f", "ticker"},
            {"starting", "TERM", "ps", "--watch"}, {"starting", "INT", "ps", "--watch"},
            {"streaming", "TERM", "logs", "-f", "ticker"}, {"streaming", "INT", "ps", "--watch"}};
        List<java.util.concurrent.CompletableFuture<Void>> runs = new ArrayList<>();
        // A thread each: every command must be watched for its moment at the same time.
        java.util.concurrent.ExecutorService watchers = java.util.concurrent.Executors.newFixedThreadPool(cases.length);
        for (int i = 0; i < cases.length; i++) {
            String when = cases[i][0];
            String signal = cases[i][1];
            String[] args = java.util.Arrays.copyOfRange(cases[i], 2, cases[i].length);
            String what = String.join(" ", args) + " with SIG" + signal + " at " + when;
            Path out = dir.resolve("sig-out-" + i);
            Path classes = dir.resolve("sig-classes-" + i);
            ProcessBuilder pb = orch(args).redirectErrorStream(true).redirectOutput(out.toFile());
            pb.environment().put("ORCH_JAVA_OPTS", "-Xlog:class+load=info:file=" + classes);
            Process p = pb.start();
            background.add(p);
            runs.add(java.util.concurrent.CompletableFuture.runAsync(() -> {
                try {
                    if (when.equals("starting")) {
                        dev.orch.it.Procs.awaitText(classes, "io.vertx.core.impl.DeploymentManager ", p, WAIT);
                    } else if (when.equals("streaming")) {
                        Poll.until(WAIT, what, () -> read(out).contains("tick"));
                    }
                    assertEquals(0, new ProcessBuilder("kill", "-s", signal, String.valueOf(p.pid())).start().waitFor());
                    assertTrue(p.waitFor(15, TimeUnit.SECONDS), what + ": still running 15 s later");
                    // As a shell reports a command ended by that signal.
                    assertEquals(signal.equals("TERM") ? 143 : 130, p.exitValue(), what + ": " + read(out));
                } catch (Exception e) {
                    throw new AssertionError(what, e);
                }
            }, watchers));
        }
        try {
            for (java.util.concurrent.CompletableFuture<Void> r : runs) {
                try {
                    r.join();
                } catch (java.util.concurrent.CompletionException e) {
                    throw (AssertionError) e.getCause();
                }
            }
        } finally {
            watchers.shutdownNow();
        }
    }

    @Test
    void streamsEndQuietlyWhenTheirReaderGoesAway() throws Exception {
        // As "orch events | head -1": a PrintWriter swallowed the write errors, and the
        // command wrote into the closed pipe until the server went away.
        assertEquals(0, run("spawn", "--name", "ticker", "--", "sh", "-c", "while true; do echo tick; sleep 0.2; done").code());
        String[][] streams = {{"events"}, {"ps", "--watch"}, {"ps", "--watch", "-o", "json"}, {"logs", "-f", "ticker"}};
        List<Process> ps = new ArrayList<>();
        List<Path> errs = new ArrayList<>();
        for (String[] args : streams) {
            Path err = Files.createTempFile(dir, "stream-err", "");
            Process p = orch(args).redirectError(err.toFile()).start();
            background.add(p);
            ps.add(p);
            errs.add(err);
        }
        // Each reads its first line, then goes away. A stream that started after the last
        // spawn has nothing to print yet (a slow start missed it, and the test then waited for
        // sleep 1000 to end): spawn again until every one has printed.
        List<java.util.concurrent.CompletableFuture<String>> first = new ArrayList<>();
        for (Process p : ps) {
            first.add(java.util.concurrent.CompletableFuture.supplyAsync(() -> {
                try (java.io.BufferedReader r = new java.io.BufferedReader(new java.io.InputStreamReader(p.getInputStream()))) {
                    return r.readLine();
                } catch (java.io.IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            }));
        }
        java.util.concurrent.CompletableFuture<Void> all = java.util.concurrent.CompletableFuture.allOf(
                first.toArray(new java.util.concurrent.CompletableFuture[0]));
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        for (int i = 0; !all.isDone() && System.nanoTime() < deadline; i++) {
            assertEquals(0, run("spawn", "--", "sleep", String.valueOf(1000 + i)).code());
            try {
                all.get(1, TimeUnit.SECONDS);
            } catch (java.util.concurrent.TimeoutException e) {
                // another spawn
            }
        }
        for (int i = 0; i < ps.size(); i++) {
            assertTrue(first.get(i).isDone() && first.get(i).join() != null, String.join(" ", streams[i]) + ": a first line");
        }
        // Something to write: events and a changed table for the watches, ticks for logs.
        assertEquals(0, run("spawn", "--", "sleep", "999").code());
        for (int i = 0; i < ps.size(); i++) {
            Process p = ps.get(i);
            String what = String.join(" ", streams[i]);
            assertTrue(p.waitFor(30, TimeUnit.SECONDS), what + " still runs with no one reading");
            assertEquals(141, p.exitValue(), what + ": " + read(errs.get(i)));
            assertEquals("", read(errs.get(i)), what);
        }
    }

    @Test
    void connectTakesNoIdForANameLeavesNoEntryForACommandThatCannotRunAndPrefersItsAddressArgument() throws Exception {
        // An unnamed worker, ended: its id as another worker's --name took over its entry.
        Result first = run("connect", "--", "sh", "-c", "echo $ORCH_PROCESS_ID");
        assertEquals(0, first.code(), first.err());
        String id = first.out().trim();
        for (String name : new String[] {id, "w99"}) {
            Result r = run("connect", "--name", name, "--", "sh", "-c", "echo $ORCH_PROCESS_ID");
            assertEquals(2, r.code(), r.err());
            assertTrue(r.err().startsWith("orch: invalid --name '" + name + "'"), r.err());
        }
        Result missing = run("connect", "--", dir.resolve("missing").toString());
        assertEquals(127, missing.code(), missing.err());
        assertEquals("orch: no such file: " + dir.resolve("missing") + "\n", missing.err());
        JsonNode all = ps();
        assertEquals(2, all.size(), "the server and the one worker that ran: " + all);
        assertEquals(0, entry(all, id).get("restarts").asInt(), all.toString());

        // ADDRESS, else --address: the argument wins over a closed -a.
        int closed;
        try (java.net.ServerSocket s = new java.net.ServerSocket(0)) {
            closed = s.getLocalPort();
        }
        Result r = run("connect", address, "-a", "127.0.0.1:" + closed, "--timeout", "5", "--", "sh", "-c", "echo $ORCH_ADDRESS");
        assertEquals(0, r.code(), r.err());
        assertEquals(address, r.out().trim());
    }

    @Test
    void connectKeepsATerminalStdinFromItsCommand() throws Exception {
        Assumptions.assumeTrue(Files.isExecutable(Path.of("/usr/bin/tmux")), "tmux is not installed");
        String session = "orch-stdin-" + ProcessHandle.current().pid();
        try {
            // On a terminal, read gets end-of-file at once (/dev/null) instead of waiting for typing.
            onTerminal(session, "connect -- sh -c 'read l; echo \"read:[$l] rc=$?\"; sleep 60'");
            Poll.until(WAIT, "the command read end-of-file", () -> screen(session).contains("read:[] rc=1"));
        } finally {
            new ProcessBuilder("tmux", "kill-session", "-t", session).start().waitFor();
        }
    }

    /** Runs {@code orch ARGS} (a shell command line) on a tmux terminal of 200x40 in {@code session}. */
    void onTerminal(String session, String args) throws Exception {
        String cmd = "ORCH_ADDRESS=" + address + " ORCH_AUTHKEY_FILE=" + dir.resolve("key") + " ORCH_HOME=" + dir
                + " " + launcher + " " + args;
        Process t = new ProcessBuilder("tmux", "new-session", "-d", "-s", session, "-x", "200", "-y", "40", cmd)
                .redirectErrorStream(true).start();
        assertEquals(0, t.waitFor(), "tmux new-session");
    }

    static String read(Path p) {
        try {
            return Files.readString(p);
        } catch (Exception e) {
            return "";
        }
    }

    static String screen(String session) {
        try {
            Process p = new ProcessBuilder("tmux", "capture-pane", "-p", "-t", session).start();
            String s = new String(p.getInputStream().readAllBytes());
            p.waitFor();
            return s;
        } catch (Exception e) {
            return "";
        }
    }

    @Test
    void connectWorkersAndNode() throws Exception {
        Result r = run("connect", address, "--name", "seven", "--", "sh", "-c", "echo bye; exit 7");
        assertEquals(7, r.code(), r.err());
        JsonNode w = null;
        for (JsonNode n : ps()) {
            if ("seven".equals(n.path("name").asText())) {
                w = n;
            }
        }
        assertTrue(w != null && w.get("exitCode").asInt() == 7, String.valueOf(w));

        // The command reads what is piped to orch connect, as it would run alone.
        Path input = dir.resolve("input.txt");
        Files.writeString(input, "first line\n");
        Path piped = dir.resolve("piped.out");
        Process reader = orch("connect", address, "--", "sh", "-c", "read l; echo \"got $l\"")
                .redirectInput(input.toFile()).redirectErrorStream(true).redirectOutput(piped.toFile()).start();
        background.add(reader);
        assertTrue(reader.waitFor(60, TimeUnit.SECONDS), "orch connect with piped stdin ended");
        assertEquals(0, reader.exitValue(), Files.readString(piped));
        assertEquals("got first line\n", Files.readString(piped));

        Process sleeper = background(dir.resolve("sleeper.log"), "connect", "--name", "sleeper", "--", "sleep", "1000");
        Poll.until(WAIT, "sleeper attached with a pid", () -> {
            try {
                JsonNode n = entry(polledPs(), "sleeper");
                return n == null ? findByName("sleeper") : false;
            } catch (Exception x) {
                return false;
            }
        });
        sleeper.destroy(); // SIGTERM, forwarded to sleep
        assertTrue(sleeper.waitFor(60, TimeUnit.SECONDS));
        assertEquals(143, sleeper.exitValue());

        Process doomed = background(dir.resolve("doomed.log"), "connect", "--name", "doomed", "--", "sleep", "1000");
        Poll.until(WAIT, "doomed attached", () -> findByName("doomed"));
        long doomedPid = entryByName(ps(), "doomed").get("pid").asLong();
        doomed.destroyForcibly();
        doomed.waitFor(30, TimeUnit.SECONDS);
        try {
            Poll.until(Duration.ofSeconds(10), "doomed lost", () -> stateOf("doomed").equals("lost"));
            if (Files.isExecutable(Path.of("/usr/bin/setpriv"))) {
                // orch connect killed with SIGKILL cannot stop its command: the kernel does.
                Poll.until(Duration.ofSeconds(10), "doomed's command ends with it", () -> ended(doomedPid));
            }
        } finally {
            killTree(doomedPid);
        }

        background(dir.resolve("node.log"), "connect", address, "--name", "n1", "--grace", "2");
        Poll.until(WAIT, "node n1 attached", () -> {
            try {
                return entry(polledPs(), "node:n1") != null;
            } catch (Exception x) {
                return false;
            }
        });
        Result s = run("spawn", "--node", "n1", "--", "sh", "-c", "echo hi; sleep 1000");
        assertEquals(0, s.code(), s.err());
        String id = s.out().trim();
        assertTrue(id.endsWith("@n1"), id);
        JsonNode e = entry(ps(), id);
        assertEquals("n1", e.get("node").asText());
        assertTrue(Files.exists(Path.of("/proc/" + e.get("pid").asLong() + "/stat")));
        Poll.until(WAIT, "hi in logs", () -> {
            try {
                return run("logs", id).out().equals("hi\n");
            } catch (Exception x) {
                return false;
            }
        });
        assertEquals(0, run("stop", id).code());
    }

    boolean findByName(String name) {
        try {
            for (JsonNode n : polledPs()) {
                if (name.equals(n.path("name").asText()) && n.path("pid").asLong() > 0) {
                    return true;
                }
            }
        } catch (Exception e) {
            return false;
        }
        return false;
    }

    String stateOf(String name) {
        try {
            for (JsonNode n : polledPs()) {
                if (name.equals(n.path("name").asText())) {
                    return n.path("state").asText();
                }
            }
        } catch (Exception e) {
            return "";
        }
        return "";
    }
}
