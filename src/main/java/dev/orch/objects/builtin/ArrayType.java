package dev.orch.objects.builtin;

import dev.orch.objects.Args;
import dev.orch.objects.BasicObject;
import dev.orch.objects.Invocation;
import dev.orch.objects.Json;
import dev.orch.objects.ObjectContext;
import dev.orch.objects.SharedObject;
import dev.orch.objects.SharedType;
import dev.orch.protocol.OrchException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code Array}: what Python's {@code SyncManager.Array(typecode, sequence, lock=True)} makes, an
 * {@code array.array} behind a proxy with {@code __len__}, {@code __getitem__} and
 * {@code __setitem__}. Its items keep to the typecode as Python's array does (integers within
 * the C type's range, real numbers, or single characters); its length is fixed, except by a
 * slice assignment, as in Python.
 */
public final class ArrayType implements SharedType {
    public static final ArrayType INSTANCE = new ArrayType();

    /** ArrayProxy's methods in Python, and {@code __repr__}, which Python's manager answers for every object. */
    static final List<String> EXPOSED = List.of("__len__", "__getitem__", "__setitem__", "__repr__");

    /** Python's typecodes (on a 64-bit Linux, {@code l} and {@code L} are 64 bits, as {@code q} and {@code Q}). */
    private static final String TYPECODES = "bBuhHiIlLqQfd";

    private ArrayType() {
    }

    @Override
    public String typeid() {
        return "Array";
    }

    @Override
    public List<String> exposed() {
        return EXPOSED;
    }

    @Override
    public SharedObject create(ObjectContext context, JsonArray args, JsonObject kwargs) {
        // lock= is SyncManager's (the array behind a manager needs none); taken and ignored.
        Args a = Args.bind("Array", args, kwargs, "typecode", "sequence", "lock");
        Object code = a.get(0);
        if (!(code instanceof String) || ((String) code).codePointCount(0, ((String) code).length()) != 1) {
            throw OrchException.raised("TypeError", "array() argument 1 must be a unicode character, not "
                    + (code instanceof String ? "str of length " + ((String) code).length() : Json.typeName(code)));
        }
        char c = ((String) code).charAt(0);
        if (TYPECODES.indexOf(c) < 0) {
            throw OrchException.raised("ValueError", "bad typecode (must be b, B, u, h, H, i, I, l, L, q, Q, f or d)");
        }
        Instance array = new Instance(c);
        Object seq = a.get(1);
        if (c == 'u' && seq instanceof String) {
            // array('u', 'abc'): a string's characters, as Python takes it for this typecode only.
            array.items.addAll(Py.iterate(seq));
        } else if (seq instanceof String) {
            throw OrchException.raised("TypeError", "cannot use a str to initialize an array with typecode '" + c + "'");
        } else {
            for (Object item : Py.iterate(seq)) {
                array.items.add(array.item(item));
            }
        }
        return array;
    }

    /** One array: its typecode and items (Long, BigInteger, Double or a one-character String). */
    static final class Instance extends BasicObject {
        final char typecode;
        final List<Object> items = new ArrayList<>();
        /** The C type's range, for an integer typecode. */
        private final BigInteger min;
        private final BigInteger max;

        Instance(char typecode) {
            this.typecode = typecode;
            int bits = switch (typecode) {
                case 'b', 'B' -> 8;
                case 'h', 'H' -> 16;
                case 'i', 'I' -> 32;
                default -> 64;
            };
            boolean unsigned = Character.isUpperCase(typecode);
            this.min = unsigned ? BigInteger.ZERO : BigInteger.ONE.shiftLeft(bits - 1).negate();
            this.max = unsigned ? BigInteger.ONE.shiftLeft(bits).subtract(BigInteger.ONE)
                    : BigInteger.ONE.shiftLeft(bits - 1).subtract(BigInteger.ONE);
        }

        @Override
        protected Object call(Invocation call) {
            switch (call.method()) {
                case "__len__":
                    Args.bind(call);
                    return (long) items.size();
                case "__getitem__":
                    return getItem(Args.bind(call, "index").get(0));
                case "__setitem__": {
                    Args a = Args.bind(call, "index", "value");
                    setItem(a.get(0), a.get(1));
                    return null;
                }
                case "__repr__":
                    Args.bind(call);
                    return repr();
                default:
                    throw noSuchMethod("Array", call.method());
            }
        }

        /**
         * Python's {@code repr(array)}: {@code array('i', [1, 2])}, {@code array('u', 'ab')} for
         * characters, {@code array('d')} when empty; floats as Python prints them.
         */
        String repr() {
            StringBuilder b = new StringBuilder(16 + 4 * items.size()).append("array('").append(typecode).append('\'');
            if (items.isEmpty()) {
                return b.append(')').toString();
            }
            b.append(", ");
            if (typecode == 'u') {
                StringBuilder text = new StringBuilder(items.size());
                for (Object c : items) {
                    text.append((String) c);
                }
                return b.append(Json.repr(text.toString())).append(')').toString();
            }
            b.append('[');
            for (int i = 0; i < items.size(); i++) {
                if (i > 0) {
                    b.append(", ");
                }
                b.append(Json.repr(items.get(i)));
            }
            return b.append("])").toString();
        }

        private Object getItem(Object index) {
            if (index instanceof JsonObject) {
                return Slice.resolve((JsonObject) index, items.size()).select(items, item -> item);
            }
            return items.get(position(index, "array index out of range"));
        }

        private void setItem(Object index, Object value) {
            if (!(index instanceof JsonObject)) {
                items.set(position(index, "array assignment index out of range"), item(value));
                return;
            }
            Slice s = Slice.resolve((JsonObject) index, items.size());
            if (!(value instanceof JsonArray)) {
                throw OrchException.raised("TypeError", "can only assign array (not \"" + Json.typeName(value) + "\") to array slice");
            }
            // Every item checked before anything changes.
            List<Object> seq = new ArrayList<>();
            for (Object v : (JsonArray) value) {
                seq.add(item(Json.normalize(v)));
            }
            s.assign(items, seq, "array");
        }

        private int position(Object index, String outOfRange) {
            return Py.position(index, items.size(), "array indices must be integers", outOfRange);
        }

        /** {@code v} as this array stores it, or Python's error for an item of the wrong kind. */
        Object item(Object v) {
            switch (typecode) {
                case 'f':
                case 'd': {
                    if (!(v instanceof Long || v instanceof Double || v instanceof BigInteger || v instanceof Boolean)) {
                        throw OrchException.raised("TypeError", "must be real number, not " + Json.typeName(v));
                    }
                    double d = v instanceof Boolean ? ((Boolean) v ? 1 : 0) : ((Number) v).doubleValue();
                    if (Double.isInfinite(d)) {
                        throw OrchException.raised("OverflowError", "int too large to convert to float");
                    }
                    // A C float keeps 24 bits of mantissa: what Python's array('f') gives back.
                    double stored = typecode == 'f' ? (double) (float) d : d;
                    if (Double.isInfinite(stored)) {
                        // Python keeps inf, but JSON has no infinity to hand it back with: refused
                        // here rather than read back later as the string "Infinity".
                        throw OrchException.raised("OverflowError",
                                Json.repr(d) + " is out of range for array typecode 'f' (a C float)");
                    }
                    return stored;
                }
                case 'u':
                    if (!(v instanceof String) || ((String) v).codePointCount(0, ((String) v).length()) != 1) {
                        throw OrchException.raised("TypeError", "array item must be unicode character");
                    }
                    return v;
                default:
                    return integer(v);
            }
        }

        private Object integer(Object v) {
            BigInteger n;
            if (v instanceof Long) {
                n = BigInteger.valueOf((Long) v);
            } else if (v instanceof BigInteger) {
                n = (BigInteger) v;
            } else if (v instanceof Boolean) {
                n = (Boolean) v ? BigInteger.ONE : BigInteger.ZERO;
            } else {
                throw OrchException.raised("TypeError", "'" + Json.typeName(v) + "' object cannot be interpreted as an integer");
            }
            if (n.compareTo(min) < 0 || n.compareTo(max) > 0) {
                throw OrchException.raised("OverflowError", n + " is out of range for array typecode '" + typecode
                        + "' (" + min + " to " + max + ")");
            }
            return n.bitLength() < 64 ? (Object) n.longValue() : n;
        }
    }
}
