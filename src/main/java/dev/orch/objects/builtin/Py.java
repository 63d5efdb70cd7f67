package dev.orch.objects.builtin;

import dev.orch.objects.Json;
import dev.orch.protocol.OrchException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Python semantics over JSON values, shared by the built-in types: equality, ordering, iteration,
 * integer conversion and deep normalization.
 *
 * <p>Equality is <em>normalized</em> equality: numbers are equal when numerically equal ({@code 1}
 * and {@code 1.0}), and booleans are the numbers 0 and 1 ({@code true == 1}), as in Python.
 * Ordering follows Python: numbers (and booleans, as 0/1) with numbers, strings by code point,
 * arrays lexicographically; anything else raises {@code TypeError}.
 */
final class Py {
    private Py() {
    }

    /**
     * A deep copy of a JSON value with every number in canonical form ({@link Json#normalize}), so
     * a stored value never shares structure with the caller's.
     */
    static Object store(Object v) {
        Object n = Json.normalize(v);
        if (n instanceof JsonObject) {
            Map<String, Object> m = new LinkedHashMap<>();
            for (Map.Entry<String, Object> e : ((JsonObject) n).getMap().entrySet()) {
                m.put(e.getKey(), store(e.getValue()));
            }
            return new JsonObject(m);
        }
        if (n instanceof JsonArray) {
            List<Object> l = new ArrayList<>();
            for (Object e : ((JsonArray) n).getList()) {
                l.add(store(e));
            }
            return new JsonArray(l);
        }
        return n;
    }

    /** A stored value as handed back to a caller: containers are copied so callers cannot alias state. */
    static Object out(Object stored) {
        if (stored instanceof JsonObject) {
            return ((JsonObject) stored).copy();
        }
        if (stored instanceof JsonArray) {
            return ((JsonArray) stored).copy();
        }
        return stored;
    }

    /** Normalized deep equality (see class comment). */
    static boolean equal(Object a, Object b) {
        Object x = Json.normalize(a);
        Object y = Json.normalize(b);
        if (x == null || y == null) {
            return x == y;
        }
        if (isNumber(x) && isNumber(y)) {
            return compareNumbers(x, y) == 0;
        }
        if (x instanceof JsonArray && y instanceof JsonArray) {
            JsonArray p = (JsonArray) x;
            JsonArray q = (JsonArray) y;
            if (p.size() != q.size()) {
                return false;
            }
            for (int i = 0; i < p.size(); i++) {
                if (!equal(p.getValue(i), q.getValue(i))) {
                    return false;
                }
            }
            return true;
        }
        if (x instanceof JsonObject && y instanceof JsonObject) {
            JsonObject p = (JsonObject) x;
            JsonObject q = (JsonObject) y;
            if (p.size() != q.size()) {
                return false;
            }
            for (String k : p.fieldNames()) {
                if (!q.containsKey(k) || !equal(p.getValue(k), q.getValue(k))) {
                    return false;
                }
            }
            return true;
        }
        return x.equals(y);
    }

    /** Python's {@code <} ordering, as a comparator; raises {@code TypeError} for unorderable pairs. */
    static int compare(Object a, Object b) {
        Object x = Json.normalize(a);
        Object y = Json.normalize(b);
        if (isNumber(x) && isNumber(y)) {
            return compareNumbers(x, y);
        }
        if (x instanceof String && y instanceof String) {
            return compareCodePoints((String) x, (String) y);
        }
        if (x instanceof JsonArray && y instanceof JsonArray) {
            JsonArray p = (JsonArray) x;
            JsonArray q = (JsonArray) y;
            int n = Math.min(p.size(), q.size());
            for (int i = 0; i < n; i++) {
                // Python compares the first unequal pair, so equal but unorderable items are fine.
                if (!equal(p.getValue(i), q.getValue(i))) {
                    return compare(p.getValue(i), q.getValue(i));
                }
            }
            return Integer.compare(p.size(), q.size());
        }
        throw OrchException.raised("TypeError", "'<' not supported between instances of '"
                + Json.typeName(x) + "' and '" + Json.typeName(y) + "'");
    }

    /** A number in Python's sense: booleans are the ints 0 and 1. */
    private static boolean isNumber(Object n) {
        return n instanceof Long || n instanceof Double || n instanceof BigInteger || n instanceof Boolean;
    }

    private static int compareNumbers(Object x, Object y) {
        if (x instanceof Boolean) {
            x = ((Boolean) x) ? 1L : 0L;
        }
        if (y instanceof Boolean) {
            y = ((Boolean) y) ? 1L : 0L;
        }
        if (x instanceof Long && y instanceof Long) {
            return Long.compare((Long) x, (Long) y);
        }
        if (x instanceof Double && y instanceof Double) {
            // Not Double.compare, for which -0.0 < 0.0; in Python they are equal.
            double p = (Double) x;
            double q = (Double) y;
            return p < q ? -1 : p > q ? 1 : 0;
        }
        return decimal(x).compareTo(decimal(y));
    }

    private static BigDecimal decimal(Object n) {
        if (n instanceof Long) {
            return BigDecimal.valueOf((Long) n);
        }
        if (n instanceof BigInteger) {
            return new BigDecimal((BigInteger) n);
        }
        // Exact binary value, as Python compares floats with ints exactly.
        return new BigDecimal((Double) n);
    }

    private static int compareCodePoints(String a, String b) {
        int i = 0;
        int j = 0;
        while (i < a.length() && j < b.length()) {
            int ca = a.codePointAt(i);
            int cb = b.codePointAt(j);
            if (ca != cb) {
                return Integer.compare(ca, cb);
            }
            i += Character.charCount(ca);
            j += Character.charCount(cb);
        }
        return Boolean.compare(i < a.length(), j < b.length());
    }

    /**
     * The items of an iterable JSON value, as Python iterates them: an array's elements, a string's
     * characters, an object's keys. Returns null for a value that is not iterable.
     */
    static List<Object> iterateOrNull(Object v) {
        Object n = Json.normalize(v);
        if (n instanceof JsonArray) {
            List<Object> items = new ArrayList<>(((JsonArray) n).size());
            for (Object e : ((JsonArray) n).getList()) {
                items.add(store(e));
            }
            return items;
        }
        if (n instanceof String) {
            List<Object> items = new ArrayList<>();
            ((String) n).codePoints().forEach(cp -> items.add(new String(Character.toChars(cp))));
            return items;
        }
        if (n instanceof JsonObject) {
            return new ArrayList<>(((JsonObject) n).fieldNames());
        }
        return null;
    }

    /** Like {@link #iterateOrNull} but raises Python's {@code TypeError} for a non-iterable. */
    static List<Object> iterate(Object v) {
        List<Object> items = iterateOrNull(v);
        if (items == null) {
            throw OrchException.raised("TypeError", "'" + Json.typeName(v) + "' object is not iterable");
        }
        return items;
    }

    /**
     * An integer argument, as Python's {@code __index__}: ints and booleans; ints too large for a
     * long saturate (callers clamp or range-check anyway).
     */
    static long toIndex(Object v) {
        Object n = Json.normalize(v);
        if (n instanceof Long) {
            return (Long) n;
        }
        if (n instanceof Boolean) {
            return ((Boolean) n) ? 1 : 0;
        }
        if (n instanceof BigInteger) {
            return ((BigInteger) n).signum() > 0 ? Long.MAX_VALUE : Long.MIN_VALUE;
        }
        throw OrchException.raised("TypeError", "'" + Json.typeName(n) + "' object cannot be interpreted as an integer");
    }

    /**
     * A sequence index resolved against {@code size}, negative ones from the end; {@code
     * TypeError: notInteger} for a non-integer, {@code IndexError: outOfRange} outside.
     */
    static int position(Object index, int size, String notInteger, String outOfRange) {
        if (!isInteger(index)) {
            throw OrchException.raised("TypeError", notInteger);
        }
        long i = toIndex(index);
        if (i < 0) {
            i += size;
        }
        if (i < 0 || i >= size) {
            throw OrchException.raised("IndexError", outOfRange);
        }
        return (int) i;
    }

    static boolean isInteger(Object v) {
        Object n = Json.normalize(v);
        return n instanceof Long || n instanceof Boolean || n instanceof BigInteger;
    }
}
