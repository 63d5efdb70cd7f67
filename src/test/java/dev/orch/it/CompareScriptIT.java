package dev.orch.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/**
 * {@code src/bench/compare.py}, the side-by-side comparison with CPython's manager, on a tiny run:
 * it drives the built {@code target/orch}, orch's Python client and CPython, so a change to any
 * of them that breaks the report shows here. Figures this small are noise; only the report's
 * shape is checked.
 */
class CompareScriptIT {
    private static final Pattern FIGURE = Pattern.compile("[0-9][0-9,]*");

    @AfterAll
    static void cleanup() {
        Procs.killAll();
    }

    @Test
    void aSmallRunPrintsEveryTableWithFigures() {
        // --settle 0: orch bench's default keeps each scenario warming up until the JIT has been
        // quiet for 0.5 s (up to 20 s each), which is most of a run this small, for figures
        // nobody reads. --calls 100: CPython's create_proxy makes about 6 objects a second.
        // ORCH_BIN: the binary under test, as for the Python client's tests.
        Procs.Result r = Procs.run(List.of("python3", "src/bench/compare.py", "--calls", "100", "--clients", "2",
                "--connections", "20", "--cli-runs", "1", "--rounds", "1", "--settle", "0"),
                Map.of("ORCH_BIN", Path.of(Procs.launcher()).toAbsolutePath().toString()), Duration.ofMinutes(6));
        assertEquals(0, r.exit, r::toString);
        String report = r.out;
        // Rows of the main table: orch's calls/s is the 4th cell; of the Python table, the 3rd;
        // of the CLI table, the 2nd.
        Map<String, Integer> rows = Map.ofEntries(
                Map.entry("| method (orch: Value.get, server-side) | 1 |", 3),
                Map.entry("| hosted_method (orch: hosted UtilityClass.capitalize; CPython: method) | 1 |", 3),
                Map.entry("| echo_1k (orch: dict.setdefault, 1 KiB each way, server-side) | 1 |", 3),
                Map.entry("| dict_set | 1 |", 3),
                Map.entry("| queue_put_get | 1 |", 3),
                Map.entry("| create_proxy (orch: Value; CPython: UtilityClass) | 1 |", 3),
                Map.entry("| method (orch: Value.get) | 2 (processes) |", 3),
                Map.entry("| lock_acquire_release | 1 |", 3),
                Map.entry("| pipelined W=64 (orch only) | 1 |", 3),
                Map.entry("| floor: raw TCP ping-pong, 64 B | 1 |", 3),
                Map.entry("| floor: raw TCP ping-pong, 64 B | 2 (processes) |", 3),
                Map.entry("| hosted_method (orch: UtilityClass hosted by a Python worker; CPython: method) |", 2),
                Map.entry("| echo_1k (orch: dict.setdefault, server-side) |", 2),
                Map.entry("| lock_acquire_release (Lock on both) |", 2),
                Map.entry("| JDK 17, no CDS archive of the app (default CDS only) |", 1));
        rows.forEach((row, column) -> {
            List<String> lines = report.lines().filter(l -> l.startsWith(row)).toList();
            assertTrue(!lines.isEmpty(), () -> "no row '" + row + "' in:\n" + report);
            for (String line : lines) {
                String cell = line.split("\\|")[column + 1].trim();
                assertTrue(FIGURE.matcher(cell).matches(), () -> "cell " + column + " is not a figure: " + line);
            }
        });
        assertTrue(Pattern.compile("Server RSS: [0-9.]+ MB idle after start; [0-9.]+ MB holding 20 authenticated connections")
                .matcher(report).find(), report);
        assertTrue(report.contains("| target | measured |"), report);
    }

    /** Every argument is checked before anything runs: one line on stderr, exit 2, no report. */
    @Test
    void aBadArgumentFailsAtOnceInOneLine() {
        Map<List<String>, String> cases = Map.of(
                List.of("--clients", "0"), "compare.py: --clients must be at least 1, not 0",
                List.of("--connections", "-3"), "compare.py: --connections must be at least 1, not -3",
                List.of("--settle", "-1"), "compare.py: --settle must be a number of seconds, 0 or more, not -1.0",
                List.of("--orch", "/nonexistent/orch"), "compare.py: /nonexistent/orch: no orch executable there");
        cases.forEach((args, message) -> {
            List<String> cmd = new java.util.ArrayList<>(List.of("python3", "src/bench/compare.py"));
            cmd.addAll(args);
            Procs.Result r = Procs.run(cmd, Map.of(), Duration.ofSeconds(60));
            assertEquals(2, r.exit, r::toString);
            assertEquals(1, r.errLines().size(), r::toString);
            assertTrue(r.errLines().get(0).startsWith(message), r::toString);
            assertEquals("", r.out, r::toString);
        });
    }

    /**
     * A row comparing two systems shows one round, the one whose ratio is the median: here orch
     * made 100, 130 and 90 calls/s against CPython's 100, 60 and 75, ratios 1.00, 2.17 and 1.20,
     * so the row is round 3's, 90 against 75, 1.20× (dividing each system's median round, 100 by
     * 75, gave 1.33×, the ratio of no round). The report is printed from rows alone, without a
     * run, and says '—' for what is missing.
     */
    @Test
    void theRatioShownIsTheMedianRoundsRatio() {
        String script = String.join("\n",
                "import argparse, sys",
                "sys.path.insert(0, 'src/bench')",
                "import compare",
                "def rounds(*rates):",
                "    return [[{'scenario': 'method', 'clients': 1, 'calls_per_s': r, 'p99_us': float(i)}] for i, r in enumerate(rates)]",
                "a = argparse.Namespace(clients=2, calls=100, cli_runs=1, connections=20)",
                "compare.print_report(a, {}, rounds(100, 130, 90), [], rounds(100, 60, 75), [], [], [], '0 0 0', '0 0 0')");
        Procs.Result r = Procs.run(List.of("python3", "-c", script), Map.of(), Duration.ofSeconds(60));
        assertEquals(0, r.exit, r::toString);
        assertTrue(r.out.contains("| method (orch: Value.get, server-side) | 1 | 75 | 90 | 1.20× | 2.0 | 2.0 |"), r::toString);
        assertTrue(r.out.contains("| method | 1.00× | 2.17× | 1.20× |"), r::toString);
        assertTrue(r.out.contains("| dict_set | 1 | — | — | — | — | — |"), r::toString);
    }

    /**
     * A step that fails does not lose what was measured before it: the report is printed, then
     * the script exits 1 naming the step. Here the orch binary (chosen with --orch) fails every
     * bench, after the server has started and the CLI round trip has been timed.
     */
    @Test
    void aFailedStepStillReportsWhatWasMeasured() throws Exception {
        Path dir = Procs.tempDir("orch-compare-it-");
        Path fake = dir.resolve("orch");
        Files.writeString(fake, "#!/bin/sh\n"
                + "if [ \"$1\" = bench ]; then echo 'orch: bench broken on purpose' >&2; exit 1; fi\n"
                + "exec '" + Path.of(Procs.launcher()).toAbsolutePath() + "' \"$@\"\n");
        Files.setPosixFilePermissions(fake, java.nio.file.attribute.PosixFilePermissions.fromString("rwx------"));
        Procs.Result r = Procs.run(List.of("python3", "src/bench/compare.py", "--orch", fake.toString(), "--calls", "100",
                "--cli-runs", "1", "--rounds", "1", "--settle", "0"), Map.of(), Duration.ofMinutes(3));
        assertEquals(1, r.exit, r::toString);
        assertTrue(r.out.contains("**Incomplete run**: failed (1): " + fake + " bench"), r::toString);
        assertTrue(Pattern.compile("\\| this orch binary \\| [0-9]+ \\| [0-9]+ \\|").matcher(r.out).find(), r::toString);
        assertTrue(Pattern.compile("Server RSS: [0-9.]+ MB idle after start").matcher(r.out).find(), r::toString);
        List<String> last = r.errLines();
        assertTrue(last.get(last.size() - 1).startsWith("compare.py: failed (1): " + fake + " bench"), r::toString);
    }

    /**
     * The CPython baseline never waits for ever: an unknown scenario is refused before any client
     * starts, and a client process that dies (here every one, by an exception) fails the run at
     * once, naming it, instead of leaving the others at the start barrier and the script waiting
     * for results that cannot come.
     */
    @Test
    void aPythonBenchClientThatDiesFailsTheRunInsteadOfHangingIt() {
        Procs.Result unknown = Procs.run(List.of("python3", "src/bench/py_manager_bench.py", "--scenarios", "method,nope"),
                Map.of(), Duration.ofSeconds(60));
        assertEquals(2, unknown.exit, unknown::toString);
        assertTrue(unknown.err.contains("unknown scenario nope"), unknown::toString);
        assertEquals("", unknown.out, unknown::toString);

        String script = String.join("\n",
                "import sys",
                "sys.path.insert(0, 'src/bench')",
                "from bench_common import ClientFailed, run_clients",
                "def client(barrier, out):",
                "    raise RuntimeError('this client fails on purpose')",
                "try:",
                "    run_clients(client, (), 2)",
                "except ClientFailed as e:",
                "    print('failed:', e)");
        Procs.Result r = Procs.run(List.of("python3", "-c", script), Map.of(), Duration.ofSeconds(60));
        assertEquals(0, r.exit, r::toString);
        assertTrue(Pattern.compile("failed: bench client process [0-9]+ exited with code 1").matcher(r.out).find(), r::toString);
        assertTrue(r.err.contains("RuntimeError: this client fails on purpose"), r::toString);
    }
}
