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
    /** Calls in flight per client: 1, or for {@code pipelined} min(W, calls). */
    public final int pipeline;
    public final boolean processes;
    public final JsonObject extra;
    /** How the calls were made: see {@link #mode}. */
    private boolean chained;
    private Boolean direct;
    private String worker;

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

    /**
     * Records how the calls were made: {@code chained} (each started from the previous reply's
     * callback) when the scenario used it; for a hosted scenario, whether the clients called the
     * worker directly (one hop) or through the server (two), and where that worker ran
     * ({@code process}, {@code inproc}, or {@code existing}: one that was already connected).
     */
    BenchResult mode(boolean chained, Boolean direct, String worker) {
        this.chained = chained;
        this.direct = direct;
        this.worker = worker;
        return this;
    }

    /** Whether each call was started from the previous reply's callback. */
    public boolean chained() {
        return chained;
    }

    /** What was measured, in words that are true of this run. */
    public String what() {
        if (!scenario.hosted()) {
            return scenario.what() + (chained ? "; each call chained from the previous reply" : "");
        }
        String where;
        if (worker == null) {
            where = "a worker";
        } else {
            switch (worker) {
                case "process":
                    where = "a worker process the bench started";
                    break;
                case "inproc":
                    where = "the bench process itself (--worker inproc)";
                    break;
                default:
                    where = "a worker that was already connected";
                    break;
            }
        }
        String route = direct == null ? "" : direct ? "; called directly: one hop" : "; called through the server: two hops";
        return scenario.what() + " on a type hosted by " + where + route + (chained ? "; each call chained from the previous reply" : "");
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
        j.put("processes", processes).put("chained", chained);
        if (scenario.hosted()) {
            if (direct != null) {
                j.put("direct", direct);
            }
            if (worker != null) {
                j.put("worker", worker);
            }
        }
        j.put("what", what());
        extra.forEach(e -> j.put(e.getKey(), e.getValue()));
        return j;
    }
}
