package dev.orch.client;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.DeserializationContext;
import com.fasterxml.jackson.databind.JsonDeserializer;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.deser.std.StdScalarDeserializer;
import com.fasterxml.jackson.databind.module.SimpleModule;
import dev.orch.protocol.Characters;
import dev.orch.protocol.Frames;
import java.io.IOException;
import java.lang.reflect.Array;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.List;
import java.util.function.LongFunction;

/**
 * Jackson deserializers for Java's scalar types that take a JSON value only as what it is, where
 * Jackson's defaults coerce: 2.7 into the int 2, null into 0, 1 into {@code true}, 1 into
 * {@code "1"}. A value a type does not take fails (a {@link com.fasterxml.jackson.databind.exc.MismatchedInputException})
 * instead of arriving changed. An integral type takes a JSON number with an exact integral value
 * in its range: {@code 2} and {@code 2.0} (a client in another language may send whole numbers as
 * floats), never {@code 2.5}. A {@code double} or {@code float} takes a number it can hold,
 * rounded as Java's widening rounds ({@code 0.1}, 2**53+1), but not one beyond its range that
 * would become infinite ({@code 10**400}) or, for a {@code float}, a nonzero one that would
 * become 0 ({@code 1e-50}). A primitive takes no null; its box does.
 */
final class StrictScalars {
    private StrictScalars() {
    }

    static SimpleModule module() {
        SimpleModule m = new SimpleModule("orch-strict-scalars");
        Integral<Integer> ints = integral(m, int.class, Integer.class, "an int", Integer.MIN_VALUE, Integer.MAX_VALUE, v -> (int) v);
        Integral<Long> longs = integral(m, long.class, Long.class, "a long", Long.MIN_VALUE, Long.MAX_VALUE, v -> v);
        Integral<Short> shorts = integral(m, short.class, Short.class, "a short", Short.MIN_VALUE, Short.MAX_VALUE, v -> (short) v);
        integral(m, byte.class, Byte.class, "a byte", Byte.MIN_VALUE, Byte.MAX_VALUE, v -> (byte) v);
        Floating<Double> doubles = floating(m, double.class, Double.class, "a number", d -> d);
        Floating<Float> floats = floating(m, float.class, Float.class, "a float", d -> (float) d);
        Bool bools = new Bool(boolean.class);
        m.addDeserializer(boolean.class, bools);
        m.addDeserializer(Boolean.class, new Bool(Boolean.class));
        m.addDeserializer(char.class, new Char(char.class));
        m.addDeserializer(Character.class, new Char(Character.class));
        m.addDeserializer(String.class, new Text());
        m.addDeserializer(BigInteger.class, new Big());
        // Jackson's own arrays of primitives coerce as its scalars do (byte[] and char[] are
        // base64 and text in JSON, and stay Jackson's).
        m.addDeserializer(int[].class, new PrimitiveArray<>(int[].class, ints));
        m.addDeserializer(long[].class, new PrimitiveArray<>(long[].class, longs));
        m.addDeserializer(short[].class, new PrimitiveArray<>(short[].class, shorts));
        m.addDeserializer(double[].class, new PrimitiveArray<>(double[].class, doubles));
        m.addDeserializer(float[].class, new PrimitiveArray<>(float[].class, floats));
        m.addDeserializer(boolean[].class, new PrimitiveArray<>(boolean[].class, bools));
        return m;
    }

    private static <T> Integral<T> integral(SimpleModule m, Class<T> primitive, Class<T> boxed, String name, long min,
            long max, LongFunction<T> box) {
        Integral<T> p = new Integral<>(primitive, name, min, max, box);
        m.addDeserializer(primitive, p);
        m.addDeserializer(boxed, new Integral<>(boxed, name, min, max, box));
        return p;
    }

    private static <T> Floating<T> floating(SimpleModule m, Class<T> primitive, Class<T> boxed, String name,
            java.util.function.DoubleFunction<T> box) {
        Floating<T> p = new Floating<>(primitive, name, box);
        m.addDeserializer(primitive, p);
        m.addDeserializer(boxed, new Floating<>(boxed, name, box));
        return p;
    }

    /** What the parser is at, as a message shows it: a string quoted and clipped, a number as written. */
    static String shown(JsonParser p) throws IOException {
        JsonToken t = p.currentToken();
        if (t == null) {
            return "nothing";
        }
        switch (t) {
            case START_OBJECT:
            case FIELD_NAME:
                return "an object";
            case START_ARRAY:
                return "an array";
            case VALUE_STRING:
                return Frames.shownValue(p.getText());
            case VALUE_NULL:
                return "null";
            default:
                return Characters.clip(p.getText(), 40); // 10**400 need not be shown whole
        }
    }

    /** A scalar deserializer that fails with "expected NAME, got VALUE" and takes null only when boxed. */
    private abstract static class Scalar<T> extends StdScalarDeserializer<T> {
        final String name;

        Scalar(Class<T> type, String name) {
            super(type);
            this.name = name;
        }

        <R> R refuse(JsonParser p, DeserializationContext ctxt, String why) throws IOException {
            return ctxt.reportInputMismatch(this, "expected %s, got %s%s", name, shown(p), why);
        }

        @Override
        public T getNullValue(DeserializationContext ctxt) throws JsonMappingException {
            if (handledType().isPrimitive()) {
                return ctxt.reportInputMismatch(this, "expected %s, got null", name);
            }
            return null;
        }
    }

    private static final class Integral<T> extends Scalar<T> {
        private final long min;
        private final long max;
        private final LongFunction<T> box;

        Integral(Class<T> type, String name, long min, long max, LongFunction<T> box) {
            super(type, name);
            this.min = min;
            this.max = max;
            this.box = box;
        }

        @Override
        public T deserialize(JsonParser p, DeserializationContext ctxt) throws IOException {
            JsonToken t = p.currentToken();
            if (t == JsonToken.VALUE_NUMBER_INT) {
                if (p.getNumberType() == JsonParser.NumberType.BIG_INTEGER) {
                    return refuse(p, ctxt, " (out of range)");
                }
                long v = p.getLongValue();
                return v < min || v > max ? refuse(p, ctxt, " (out of range)") : box.apply(v);
            }
            if (t == JsonToken.VALUE_NUMBER_FLOAT) {
                if (p.getNumberType() == JsonParser.NumberType.BIG_DECIMAL) {
                    return exact(p, ctxt, p.getDecimalValue());
                }
                double d = p.getDoubleValue();
                if (d != Math.rint(d) || Double.isInfinite(d)) {
                    return refuse(p, ctxt, " (not a whole number)");
                }
                // (double) max + 1 is exact where max itself may round up (Long.MAX_VALUE).
                return d >= min && d < (double) max + 1.0 ? box.apply((long) d) : refuse(p, ctxt, " (out of range)");
            }
            return refuse(p, ctxt, "");
        }

        private T exact(JsonParser p, DeserializationContext ctxt, BigDecimal d) throws IOException {
            long v;
            try {
                v = d.longValueExact();
            } catch (ArithmeticException e) {
                return refuse(p, ctxt, d.stripTrailingZeros().scale() > 0 ? " (not a whole number)" : " (out of range)");
            }
            return v < min || v > max ? refuse(p, ctxt, " (out of range)") : box.apply(v);
        }
    }

    private static final class Floating<T> extends Scalar<T> {
        private final java.util.function.DoubleFunction<T> box;

        Floating(Class<T> type, String name, java.util.function.DoubleFunction<T> box) {
            super(type, name);
            this.box = box;
        }

        @Override
        public T deserialize(JsonParser p, DeserializationContext ctxt) throws IOException {
            JsonToken t = p.currentToken();
            if (t != JsonToken.VALUE_NUMBER_INT && t != JsonToken.VALUE_NUMBER_FLOAT) {
                return refuse(p, ctxt, "");
            }
            double d = p.getDoubleValue();
            // Frames hold no infinities: one here is an integer beyond a double (10**400).
            if (Double.isInfinite(d)) {
                return refuse(p, ctxt, " (out of range)");
            }
            T v = box.apply(d);
            if (v instanceof Float) {
                // Rounding is Java's widening; becoming infinite or zero is losing the number.
                float f = (Float) v;
                if (Float.isInfinite(f) || (f == 0 && d != 0)) {
                    return refuse(p, ctxt, " (out of range)");
                }
            }
            return v;
        }
    }

    private static final class Bool extends Scalar<Boolean> {
        Bool(Class<Boolean> type) {
            super(type, "a boolean");
        }

        @Override
        public Boolean deserialize(JsonParser p, DeserializationContext ctxt) throws IOException {
            JsonToken t = p.currentToken();
            if (t == JsonToken.VALUE_TRUE || t == JsonToken.VALUE_FALSE) {
                return t == JsonToken.VALUE_TRUE;
            }
            return refuse(p, ctxt, "");
        }
    }

    private static final class Char extends Scalar<Character> {
        Char(Class<Character> type) {
            super(type, "a string of one character");
        }

        @Override
        public Character deserialize(JsonParser p, DeserializationContext ctxt) throws IOException {
            if (p.currentToken() == JsonToken.VALUE_STRING && p.getTextLength() == 1) {
                return p.getText().charAt(0);
            }
            return refuse(p, ctxt, "");
        }
    }

    private static final class Text extends Scalar<String> {
        Text() {
            super(String.class, "a string");
        }

        @Override
        public String deserialize(JsonParser p, DeserializationContext ctxt) throws IOException {
            return p.currentToken() == JsonToken.VALUE_STRING ? p.getText() : refuse(p, ctxt, "");
        }
    }

    private static final class Big extends Scalar<BigInteger> {
        Big() {
            super(BigInteger.class, "an integer");
        }

        @Override
        public BigInteger deserialize(JsonParser p, DeserializationContext ctxt) throws IOException {
            JsonToken t = p.currentToken();
            if (t == JsonToken.VALUE_NUMBER_INT) {
                return p.getBigIntegerValue();
            }
            if (t == JsonToken.VALUE_NUMBER_FLOAT) {
                try {
                    return p.getDecimalValue().toBigIntegerExact();
                } catch (ArithmeticException | NumberFormatException e) {
                    return refuse(p, ctxt, " (not a whole number)");
                }
            }
            return refuse(p, ctxt, "");
        }
    }

    /** An array of primitives whose elements go through {@code element}, so they take what it takes. */
    private static final class PrimitiveArray<A> extends StdScalarDeserializer<A> {
        private final JsonDeserializer<?> element;

        PrimitiveArray(Class<A> type, JsonDeserializer<?> element) {
            super(type);
            this.element = element;
        }

        @Override
        public A deserialize(JsonParser p, DeserializationContext ctxt) throws IOException {
            if (!p.isExpectedStartArrayToken()) {
                return ctxt.reportInputMismatch(this, "expected an array, got %s", shown(p));
            }
            List<Object> items = new ArrayList<>();
            while (p.nextToken() != JsonToken.END_ARRAY) {
                try {
                    items.add(p.currentToken() == JsonToken.VALUE_NULL ? element.getNullValue(ctxt) : element.deserialize(p, ctxt));
                } catch (JsonMappingException e) {
                    throw JsonMappingException.wrapWithPath(e, items, items.size());
                }
            }
            Object array = Array.newInstance(handledType().getComponentType(), items.size());
            for (int i = 0; i < items.size(); i++) {
                Array.set(array, i, items.get(i));
            }
            @SuppressWarnings("unchecked")
            A a = (A) array;
            return a;
        }
    }
}
