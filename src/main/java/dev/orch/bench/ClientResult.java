package dev.orch.bench;

import dev.orch.protocol.FrameCodec;
import io.quarkus.runtime.annotations.RegisterForReflection;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.Base64;
import java.util.zip.DataFormatException;
import org.HdrHistogram.Histogram;

// Decoding a histogram builds it through Histogram(long, long, int), found by reflection from a
// class passed as an argument: a native image knows it only if it is registered.
/** What one client measured: its calls, its timed window and its latencies (ns), or why it skipped. */
@RegisterForReflection(targets = Histogram.class)
public final class ClientResult {
    /** Latencies up to 10 minutes, 3 significant digits. */
    static final long MAX_NANOS = 600_000_000_000L;

    final long calls;
    final long wallNanos;
    final Histogram histogram;
    final String skipped;
    /** Extra figures (e.g. server RSS), copied into the scenario's result. */
    final JsonObject extra;

    ClientResult(long calls, long wallNanos, Histogram histogram, JsonObject extra) {
        this.calls = calls;
        this.wallNanos = wallNanos;
        this.histogram = histogram;
        this.skipped = null;
        this.extra = extra == null ? new JsonObject() : extra;
    }

    private ClientResult(String skipped) {
        this.calls = 0;
        this.wallNanos = 0;
        this.histogram = newHistogram();
        this.skipped = skipped;
        this.extra = new JsonObject();
    }

    static ClientResult skipped(String reason) {
        return new ClientResult(reason);
    }

    static Histogram newHistogram() {
        return new Histogram(1, MAX_NANOS, 3);
    }

    /** One JSON line, as printed by a client process. */
    public JsonObject toJson() {
        if (skipped != null) {
            return new JsonObject().put("skipped", skipped);
        }
        ByteBuffer buf = ByteBuffer.allocate(histogram.getNeededByteBufferCapacity());
        int n = histogram.encodeIntoCompressedByteBuffer(buf);
        return new JsonObject().put("calls", calls).put("wall_ns", wallNanos)
                .put("hist", Base64.getEncoder().encodeToString(java.util.Arrays.copyOf(buf.array(), n)))
                .put("extra", extra);
    }

    /** Parses a client process's result line (with the streaming codec, as it was written). */
    public static ClientResult fromJson(String line) {
        Object j;
        try {
            j = FrameCodec.parseValue(line);
        } catch (IOException | RuntimeException e) {
            j = null;
        }
        if (!(j instanceof JsonObject)) {
            throw new IllegalArgumentException("bad result line from a client process: " + line);
        }
        return fromJson((JsonObject) j);
    }

    public static ClientResult fromJson(JsonObject j) {
        if (j.containsKey("skipped")) {
            return skipped(j.getString("skipped"));
        }
        try {
            Histogram h = Histogram.decodeFromCompressedByteBuffer(
                    ByteBuffer.wrap(Base64.getDecoder().decode(j.getString("hist"))), 1);
            return new ClientResult(j.getLong("calls"), j.getLong("wall_ns"), h, j.getJsonObject("extra"));
        } catch (DataFormatException e) {
            throw new IllegalArgumentException("bad histogram from a client process: " + e.getMessage(), e);
        }
    }
}
