package dev.orch.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.orch.client.ClientConfig;
import dev.orch.client.OrchClient;
import dev.orch.testing.Poll;
import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/** {@code orch bench} as a user runs it: an embedded server, clients as processes, JSON out. */
class BenchCliIT {
    private static final Map<String, String> ENV = Map.of("ORCH_AUTHKEY", "bench-it-key");

    @AfterAll
    static void cleanup() {
        Procs.killAll();
    }

    @Test
    void clientProcessesAgainstAnEmbeddedServerReportEveryScenarioAsJson() {
        // -o before the subcommand, as for every other command; --chained reaches the children.
        Procs.Result r = Procs.orch(ENV, "-o", "json", "bench", "--embedded", "--clients", "2", "--processes", "--calls", "300",
                "--warmup", "50", "--settle", "1", "--scenarios", "method,pipelined", "--chained");
        assertEquals(0, r.exit, r::toString);
        assertFalse(r.err.contains("\033"), () -> "escape sequences on a stderr that is no terminal: " + r);
        List<JsonObject> lines = new ArrayList<>();
        for (String l : r.out.split("\\R")) {
            if (!l.isBlank()) {
                lines.add(new JsonObject(l));
            }
        }
        assertEquals(List.of("method", "pipelined"), lines.stream().map(j -> j.getString("scenario")).toList(), r::toString);
        for (JsonObject j : lines) {
            String what = j.encode();
            assertEquals("orch", j.getString("system"), what);
            assertEquals(2, j.getInteger("clients"), what);
            assertEquals(Boolean.TRUE, j.getBoolean("processes"), what);
            assertEquals(j.getString("scenario").equals("pipelined") ? 3000 : 300, j.getInteger("calls_per_client"), what);
            assertTrue(j.getDouble("calls_per_s") > 0, what);
            double p50 = j.getDouble("p50_us");
            assertTrue(p50 > 0 && p50 <= j.getDouble("p99_us") && j.getDouble("p99_us") <= j.getDouble("p999_us"), what);
            // Chaining applies to calls one at a time, not to the pipelined window.
            assertEquals(j.getString("scenario").equals("method"), j.getBoolean("chained"), what);
        }
    }

    /**
     * How the calls were made is said as it was: a hosted type in this process, reached through
     * the server (ORCH_DIRECT=off), the window and warm-up actually used (both at most the
     * calls). Run on a terminal's stderr with stdout in a file, which must show the progress line.
     */
    @Test
    void theReportSaysHowCallsWereMadeAndATerminalStderrShowsProgress() throws Exception {
        Map<String, String> env = new java.util.HashMap<>(ENV);
        env.put("ORCH_DIRECT", "off");
        List<String> bench = List.of(Procs.launcher(), "bench", "--embedded", "--calls", "50", "--warmup", "10000",
                "--settle", "0", "--pipeline", "1000", "--worker", "inproc", "--scenarios", "hosted_method,pipelined",
                "-o", "wide");
        Path dir = Procs.tempDir("orch-bench-tty-");
        Path out = dir.resolve("out.txt");
        boolean tty = Files.isExecutable(Path.of("/usr/bin/script"));
        Procs.Result r;
        if (tty) {
            // script(1) gives the command a terminal; its own stdout is what the terminal showed.
            String line = bench.stream().map(BenchCliIT::quote).collect(Collectors.joining(" ")) + " > " + quote(out.toString());
            r = Procs.run(List.of("/usr/bin/script", "-qec", line, "/dev/null"), env, Procs.RUN_TIMEOUT);
        } else {
            r = Procs.run(bench, env, Procs.RUN_TIMEOUT);
        }
        String table = tty ? Files.readString(out) : r.out;
        assertEquals(0, r.exit, () -> r + "\n--- table:\n" + table);
        String header = table.lines().findFirst().orElse("");
        assertTrue(header.contains("50 calls each, warm-up 50, blocking calls"), table);
        assertTrue(header.contains("UtilityClass worker: in this process, direct calls off"), table);
        assertTrue(table.lines().anyMatch(l -> l.startsWith("pipelined ") && l.contains("W=50")), table);
        assertTrue(table.contains("hosted_method: UtilityClass.capitalize('hello') on a type hosted by the bench process"
                + " itself (--worker inproc); called through the server: two hops"), table);
        if (tty) {
            // The terminal got the progress line (and never the table: that went to the file).
            assertTrue(r.out.contains("\033[Korch bench: hosted_method (1/2)  warming up"), r::toString);
            assertFalse(r.out.contains("SCENARIO"), r::toString);
        }
    }

    private static String quote(String s) {
        return "'" + s.replace("'", "'\\''") + "'";
    }

    /**
     * A bench killed by SIGTERM leaves no copy of the key behind and no client process running
     * (they would go on calling the server); a client killed makes the bench stop the others and
     * say what happened in one line.
     */
    @Test
    void aKilledBenchStopsItsClientsAndLeavesNoKeyCopy() throws Exception {
        Procs.assumeJvmLauncher(); // java.io.tmpdir is set through ORCH_JAVA_OPTS
        Procs.Server server = Procs.server(ENV);
        Path tmp = Procs.tempDir("orch-bench-tmp-");
        Map<String, String> env = new java.util.HashMap<>(ENV);
        env.put("ORCH_ADDRESS", server.address);
        // The key copy goes to java.io.tmpdir: here one of the test's own, to look in without races.
        env.put("ORCH_JAVA_OPTS", "-Djava.io.tmpdir=" + tmp);
        List<String> bench = List.of(Procs.launcher(), "bench", "--processes", "--calls", "100000000",
                "--warmup", "10", "--settle", "0", "--scenarios", "method");
        List<String> twoClients = new ArrayList<>(bench);
        twoClients.addAll(List.of("--clients", "2"));

        Process first = Procs.start(bench, env, tmp.resolve("first.log"));
        List<ProcessHandle> clients = awaitClients(first, tmp.resolve("first.log"), server, 1);
        assertFalse(keyCopies(tmp, first.pid()).isEmpty(), "the clients' key copy, while they run");
        first.destroy(); // SIGTERM
        assertTrue(first.waitFor(30, TimeUnit.SECONDS), "the bench did not stop on SIGTERM");
        assertEquals(List.of(), keyCopies(tmp, first.pid()), "key copies left by the bench");
        awaitGone(clients, "after the bench was stopped");

        try (OrchClient c = client(server)) {
            Poll.until(Duration.ofSeconds(10), "the stopped clients' objects to go", () -> c.objects().isEmpty());
        }
        Path log = tmp.resolve("second.log");
        Process second = Procs.start(twoClients, env, log);
        List<ProcessHandle> two = awaitClients(second, log, server, 2);
        two.get(0).destroyForcibly(); // SIGKILL one client
        assertTrue(second.waitFor(30, TimeUnit.SECONDS), "the bench did not stop when a client died");
        String text = Files.readString(log);
        assertEquals(1, second.exitValue(), text);
        List<String> errors = text.lines().filter(l -> l.startsWith("orch: ")).toList();
        assertEquals(List.of("orch: bench child process " + two.get(0).pid() + " was killed by signal 9 (exit code 137)"),
                errors, text);
        assertFalse(text.contains("went away") || text.contains("Exception"), text);
        awaitGone(two, "after one of them was killed");
        assertEquals(List.of(), keyCopies(tmp, second.pid()), "key copies left by the bench");
    }

    /** The bench's {@code n} client processes, once each has created its object on the server (and so is calling). */
    private static List<ProcessHandle> awaitClients(Process bench, Path log, Procs.Server server, int n) throws Exception {
        List<ProcessHandle> found = new ArrayList<>();
        try (OrchClient c = client(server)) {
            Poll.until(Procs.START_TIMEOUT, n + " bench clients calling", () -> {
                if (!bench.isAlive()) {
                    throw new AssertionError("the bench exited (" + bench.exitValue() + "):\n" + Procs.readOrEmpty(log));
                }
                return c.objects().size() == n;
            });
        }
        bench.descendants().filter(h -> h.info().arguments().map(a -> List.of(a).containsAll(List.of("bench-worker", "client")))
                .orElse(false)).forEach(found::add);
        assertEquals(n, found.size(), () -> "client processes: " + found);
        return found;
    }

    private static OrchClient client(Procs.Server server) {
        return OrchClient.connect(new ClientConfig().address(server.address)
                .authKey(ENV.get("ORCH_AUTHKEY").getBytes(StandardCharsets.UTF_8)));
    }

    private static void awaitGone(List<ProcessHandle> ps, String when) {
        Poll.until(Duration.ofSeconds(10), "bench client processes to exit " + when,
                () -> ps.stream().noneMatch(ProcessHandle::isAlive));
    }

    /**
     * Key copies of process {@code pid} in {@code dir} (AuthKeys.privateCopy names them after it;
     * the bench's own copies were orch-bench-key-*, nameless).
     */
    private static List<String> keyCopies(Path dir, long pid) throws Exception {
        try (Stream<Path> files = Files.list(dir)) {
            return files.map(f -> f.getFileName().toString())
                    .filter(n -> n.startsWith("orch-authkey-" + pid + "-") || n.startsWith("orch-bench-key-")).toList();
        }
    }

    /**
     * A timeout below a second is passed to the client processes as it is (it was truncated to 0,
     * no timeout at all), and their start-up has an allowance of its own (it had 4 × --timeout:
     * too short for a JVM to start and warm up).
     */
    @Test
    void clientProcessesStartWithAShortTimeout() {
        Procs.Result r = Procs.orch(ENV, "bench", "--embedded", "--processes", "--timeout", "0.9", "--calls", "100",
                "--warmup", "10", "--settle", "2", "--scenarios", "tcp_pingpong", "-o", "json");
        assertEquals(0, r.exit, r::toString);
        assertEquals(100, new JsonObject(r.out.trim()).getInteger("calls_per_client"), r::toString);
    }

    @Test
    void aNegativeSettleIsAOneLineUsageError() {
        Procs.Result r = Procs.orch(ENV, "bench", "--embedded", "--settle", "-1");
        assertEquals(2, r.exit, r::toString);
        ServerProcessIT.assertOneLineError("--settle not negative", r);
    }
}
