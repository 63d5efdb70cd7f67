package dev.orch.objects.builtin;

import dev.orch.objects.Json;
import dev.orch.protocol.OrchException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.List;
import java.util.function.UnaryOperator;

/**
 * A Python slice resolved against a sequence length, as {@code slice.indices(len)} does. On the
 * wire a slice is a JSON object {@code {"start":..,"stop":..,"step":..}}; each field may be null or
 * absent. Other fields are rejected so a typo does not silently mean "whole list".
 */
final class Slice {
    final int start;
    final int stop;
    final int step;
    /** Number of items the slice selects. */
    final int length;

    private Slice(int start, int stop, int step, int length) {
        this.start = start;
        this.stop = stop;
        this.step = step;
        this.length = length;
    }

    static Slice resolve(JsonObject spec, int len) {
        for (String f : spec.fieldNames()) {
            if (!f.equals("start") && !f.equals("stop") && !f.equals("step")) {
                throw OrchException.raised("TypeError", "slice has no field '" + f + "'");
            }
        }
        Long stepArg = field(spec, "step");
        long step = stepArg == null ? 1 : stepArg;
        if (step == 0) {
            throw OrchException.raised("ValueError", "slice step cannot be zero");
        }
        // Clamping to ±len keeps every later sum within int range.
        step = Math.max(-(long) Integer.MAX_VALUE, Math.min(Integer.MAX_VALUE, step));
        Long startArg = field(spec, "start");
        Long stopArg = field(spec, "stop");
        long start = startArg == null ? (step < 0 ? len - 1 : 0) : adjust(startArg, len, step);
        long stop = stopArg == null ? (step < 0 ? -1 : len) : adjust(stopArg, len, step);
        long length;
        if (step < 0) {
            length = stop < start ? (start - stop - 1) / -step + 1 : 0;
        } else {
            length = start < stop ? (stop - start - 1) / step + 1 : 0;
        }
        return new Slice((int) start, (int) stop, (int) step, (int) length);
    }

    private static long adjust(long i, int len, long step) {
        if (i < 0) {
            i = Math.max(i, -(long) len - 1) + len;
            if (i < 0) {
                i = step < 0 ? -1 : 0;
            }
        } else if (i >= len) {
            i = step < 0 ? len - 1 : len;
        }
        return i;
    }

    private static Long field(JsonObject spec, String name) {
        Object v = Json.normalize(spec.getValue(name));
        if (v == null) {
            return null;
        }
        if (!Py.isInteger(v)) {
            throw OrchException.raised("TypeError", "slice indices must be integers or None or have an __index__ method");
        }
        return Py.toIndex(v);
    }

    /** The list index of the slice's {@code i}-th item. */
    int at(int i) {
        return start + i * step;
    }

    /** The items this slice selects from {@code items}, each through {@code out}. */
    JsonArray select(List<Object> items, UnaryOperator<Object> out) {
        JsonArray selected = new JsonArray();
        for (int i = 0; i < length; i++) {
            selected.add(out.apply(items.get(at(i))));
        }
        return selected;
    }

    /**
     * Python's slice assignment: a simple slice is replaced by {@code seq} whatever its length;
     * an extended one takes exactly as many items as it selects ({@code ValueError}, naming the
     * {@code kind} of sequence, otherwise).
     */
    void assign(List<Object> items, List<Object> seq, String kind) {
        if (step == 1) {
            List<Object> range = items.subList(start, Math.max(start, stop));
            range.clear();
            range.addAll(seq);
            return;
        }
        if (seq.size() != length) {
            throw OrchException.raised("ValueError", "attempt to assign " + kind + " of size " + seq.size()
                    + " to extended slice of size " + length);
        }
        for (int i = 0; i < length; i++) {
            items.set(at(i), seq.get(i));
        }
    }
}
