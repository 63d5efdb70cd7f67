package dev.orch.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
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
        // -o before the subcommand, as for every other command.
        Procs.Result r = Procs.orch(ENV, "-o", "json", "bench", "--embedded", "--clients", "2", "--processes", "--calls", "300",
                "--warmup", "50", "--settle", "1", "--scenarios", "method,pipelined");
        assertEquals(0, r.exit, r::toString);
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
        }
    }

    @Test
    void aNegativeSettleIsAOneLineUsageError() {
        Procs.Result r = Procs.orch(ENV, "bench", "--embedded", "--settle", "-1");
        assertEquals(2, r.exit, r::toString);
        ServerProcessIT.assertOneLineError("--settle not negative", r);
    }
}
