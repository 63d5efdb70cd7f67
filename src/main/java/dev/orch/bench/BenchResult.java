package dev.orch.bench;

import io.vertx.core.json.JsonObject;
import java.util.List;
import org.HdrHistogram.Histogram;

/** One scenario's figures, merged over its clients. */
public final class BenchResult {
    public final Scenario scenario;
    public final int clients;
    public final long callsPerClient;
    public final long totalCalls;
    /** The longest client's timed window. */
    public final long wallNanos;
    public final Histogram latency;
    public final String skipped;
    public final int pipeline;
    public final boolean processes;
    public final JsonObject extra;

    BenchResult(Scenario scenario, List<ClientResult> parts, int pipeline, boolean processes) {
        this.scenario = scenario;
        this.clients = parts.size();
        this.pipeline = scenario == Scenario.PIPELINED ? pipeline : 1;
        this.processes = processes;
        String skip = null;
        long total = 0;
        long wall = 0;
        long per = 0;
        Histogram h = ClientResult.newHistogram();
        JsonObject x = new JsonObject();
        for (ClientResult r : parts) {
            if (r.skipped != null) {
                skip = r.skipped;
                continue;
            }
            total += r.calls;
            per = Math.max(per, r.calls);
            wall = Math.max(wall, r.wallNanos);
            h.add(r.histogram);
            x.mergeIn(r.extra);
        }
        this.skipped = skip;
        this.totalCalls = total;
        this.callsPerClient = per;
        this.wallNanos = wall;
        this.latency = h;
        this.extra = x;
    }

    public boolean isSkipped() {
        return skipped != null;
    }

    /** Operations per second over the longest client's window. */
    public double rate() {
        return wallNanos <= 0 ? 0 : totalCalls * 1e9 / wallNanos;
    }

    /** A percentile in microseconds, one decimal. */
    public double percentileMicros(double p) {
        return Math.round(latency.getValueAtPercentile(p) / 100.0) / 10.0;
    }

    public JsonObject toJson() {
        JsonObject j = new JsonObject().put("system", "orch").put("scenario", scenario.id()).put("clients", clients);
        if (isSkipped()) {
            return j.put("skipped", skipped);
        }
        j.put("calls_per_client", callsPerClient).put("calls_per_s", Math.round(rate()))
                .put("p50_us", percentileMicros(50)).put("p99_us", percentileMicros(99))
                .put("p999_us", percentileMicros(99.9));
        if (scenario == Scenario.PIPELINED) {
            j.put("pipeline", pipeline);
        }
        j.put("processes", processes).put("what", scenario.what());
        extra.forEach(e -> j.put(e.getKey(), e.getValue()));
        return j;
    }
}
