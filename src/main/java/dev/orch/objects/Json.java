package dev.orch.objects;

import dev.orch.protocol.OrchException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.util.Map;

/** JSON value helpers with Python's semantics for equality, truth and repr. */
public final class Json {
    private Json() {
    }

    /**
     * Canonical form of a JSON value: integers become {@link Long} (or stay {@link BigInteger} if
     * too large), other numbers {@link Double}. A float stays a float even when it is integral
     * ({@code 1.0}), as Python keeps it: numeric equality ({@code 1 == 1.0}) is the business of
     * the comparisons and of {@link #key}, not of the stored value. Containers are left as they are.
     */
    public static Object normalize(Object v) {
        if (v instanceof Long || v instanceof String || v instanceof Boolean || v instanceof Double || v == null) {
            return v;
        }
        if (v instanceof Integer || v instanceof Short || v instanceof Byte) {
            return ((Number) v).longValue();
        }
        if (v instanceof Float) {
            return ((Float) v).doubleValue();
        }
        if (v instanceof BigInteger) {
            BigInteger b = (BigInteger) v;
            return b.bitLength() < 64 ? (Object) b.longValue() : b;
        }
        if (v instanceof BigDecimal) {
            return normalize(((BigDecimal) v).doubleValue());
        }
        if (v instanceof Map) {
            return new JsonObject(castMap(v));
        }
        if (v instanceof java.util.List) {
            return new JsonArray((java.util.List<?>) v);
        }
        return v;
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> castMap(Object v) {
        return (Map<String, Object>) v;
    }

    /**
     * A dict key's hash form: strings, numbers, booleans and null are hashable; arrays and
     * objects are not. Numerically equal numbers have one form, booleans that of 0 and 1 (as in
     * Python, where {@code True == 1} and {@code hash(True) == 1}), so tables index by it and keep
     * the key as first given ({@link #normalize}) to answer with.
     */
    public static Object key(Object v) {
        Object k = normalize(v);
        if (k instanceof Boolean) {
            return ((Boolean) k) ? 1L : 0L;
        }
        if (k instanceof JsonArray || k instanceof JsonObject) {
            throw OrchException.raised("TypeError", "unhashable type: '" + typeName(k) + "'");
        }
        if (k instanceof Double) {
            // 1 and 1.0 are one key, as in Python, so an integral float keys as its integer, at
            // any magnitude: 2.0**70 and 2**70 are one key too.
            double d = (Double) k;
            if (d == Math.rint(d) && !Double.isInfinite(d)) {
                return Math.abs(d) < 0x1p63 ? (Object) (long) d : normalize(new BigDecimal(d).toBigInteger());
            }
        }
        return k;
    }

    public static long toLong(Object v, String what) {
        Object n = normalize(v);
        if (n instanceof Long) {
            return (Long) n;
        }
        if (n instanceof Boolean) {
            return ((Boolean) n) ? 1 : 0;
        }
        if (n instanceof BigInteger) {
            // An integer, as Python would see it, just not one that fits where it is going.
            throw OrchException.raised("OverflowError", "'" + what + "' must be between -2**63 and 2**63-1");
        }
        throw OrchException.raised("TypeError", "'" + what + "' must be an integer, not " + typeName(n));
    }

    /** Python truthiness. */
    public static boolean truthy(Object v) {
        Object n = normalize(v);
        if (n == null) {
            return false;
        }
        if (n instanceof Boolean) {
            return (Boolean) n;
        }
        if (n instanceof Long) {
            return (Long) n != 0;
        }
        if (n instanceof Double) {
            return (Double) n != 0.0;
        }
        if (n instanceof String) {
            return !((String) n).isEmpty();
        }
        if (n instanceof JsonArray) {
            return !((JsonArray) n).isEmpty();
        }
        if (n instanceof JsonObject) {
            return !((JsonObject) n).isEmpty();
        }
        return true;
    }

    /** Python's name for a JSON value's type. */
    public static String typeName(Object v) {
        Object n = normalize(v);
        if (n == null) {
            return "NoneType";
        }
        if (n instanceof Boolean) {
            return "bool";
        }
        if (n instanceof Long || n instanceof BigInteger) {
            return "int";
        }
        if (n instanceof Double) {
            return "float";
        }
        if (n instanceof String) {
            return "str";
        }
        if (n instanceof JsonArray) {
            return "list";
        }
        if (n instanceof JsonObject) {
            return "dict";
        }
        return n.getClass().getSimpleName();
    }

    /** Python-like repr, for error messages such as {@code KeyError: 'x'}. */
    public static String repr(Object v) {
        Object n = normalize(v);
        if (n == null) {
            return "None";
        }
        if (n instanceof Boolean) {
            return ((Boolean) n) ? "True" : "False";
        }
        if (n instanceof String) {
            return reprString((String) n);
        }
        if (n instanceof Double) {
            return PyFloat.repr((Double) n);
        }
        if (n instanceof JsonArray || n instanceof JsonObject) {
            return n.toString();
        }
        return String.valueOf(n);
    }

    /**
     * Python's str repr: single quotes unless the text has a ' and no ", escaping the backslash,
     * the quote, and each character Python does not print ({@code str.isprintable}) by its code
     * point in hex, in 2, 4 or 8 digits as Python does.
     */
    private static String reprString(String s) {
        char quote = s.indexOf('\'') >= 0 && s.indexOf('"') < 0 ? '"' : '\'';
        StringBuilder b = new StringBuilder(s.length() + 2).append(quote);
        for (int i = 0; i < s.length(); ) {
            int c = s.codePointAt(i);
            i += Character.charCount(c);
            if (c == quote || c == '\\') {
                b.append('\\').append((char) c);
            } else if (c == '\n') {
                b.append("\\n");
            } else if (c == '\r') {
                b.append("\\r");
            } else if (c == '\t') {
                b.append("\\t");
            } else if (printable(c)) {
                b.appendCodePoint(c);
            } else if (c < 0x100) {
                b.append(String.format("\\x%02x", c));
            } else if (c < 0x10000) {
                b.append(String.format("\\u%04x", c));
            } else {
                b.append(String.format("\\U%08x", c));
            }
        }
        return b.append(quote).toString();
    }

    /**
     * Python's {@code str.isprintable} for one code point: not a control, format, surrogate,
     * private-use, unassigned or separator character, the space excepted.
     */
    private static boolean printable(int c) {
        if (c == ' ') {
            return true;
        }
        switch (Character.getType(c)) {
            case Character.CONTROL:
            case Character.FORMAT:
            case Character.SURROGATE:
            case Character.PRIVATE_USE:
            case Character.UNASSIGNED:
            case Character.LINE_SEPARATOR:
            case Character.PARAGRAPH_SEPARATOR:
            case Character.SPACE_SEPARATOR:
                return false;
            default:
                return true;
        }
    }
}
