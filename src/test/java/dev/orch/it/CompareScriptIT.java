package dev.orch.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

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
        Procs.Result r = Procs.run(List.of("python3", "src/bench/compare.py", "--calls", "100", "--clients", "2",
                "--connections", "20", "--cli-runs", "1", "--rounds", "1", "--settle", "0"), Map.of(), Duration.ofMinutes(6));
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
                Map.entry("| lock_acquire_release (orch only) | 1 |", 3),
                Map.entry("| pipelined W=64 (orch only) | 1 |", 3),
                Map.entry("| floor: raw TCP ping-pong, 64 B | 1 |", 3),
                Map.entry("| floor: raw TCP ping-pong, 64 B | 2 (processes) |", 3),
                Map.entry("| hosted_method (orch: UtilityClass hosted by a Python worker; CPython: method) |", 2),
                Map.entry("| echo_1k (orch: dict.setdefault, server-side) |", 2),
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
