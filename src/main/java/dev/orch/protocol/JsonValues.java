package dev.orch.protocol;

import com.fasterxml.jackson.core.JsonGenerationException;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.databind.JsonMappingException;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.core.json.jackson.DatabindCodec;
import java.io.IOException;
import java.io.OutputStream;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.format.DateTimeFormatter;
import java.util.Collection;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.OptionalInt;
import java.util.OptionalLong;

/**
 * Writes a Java value as a frame carries it. JSON's own types (JsonObject, JsonArray, maps,
 * lists, strings, numbers, booleans, null) are written as Vert.x writes them, and the rest is
 * held to what the Python client does with the same value, so a value either arrives as what it
 * was or is refused where it is sent:
 * <ul>
 * <li>A map key that is not a string becomes one as Python's {@code json} makes it: a number as
 * its {@code toString} ({@code 1} → {@code "1"}), a boolean {@code "true"}/{@code "false"},
 * null {@code "null"}; a character or an enum (its name) too. Two keys that become the same
 * string ({@code 1} and {@code "1"}) are refused: the receiver would silently keep one.
 * Any other key type is refused ({@link NotJsonException}).</li>
 * <li>Sets and other collections and {@code Object[]} are arrays; an {@link Instant} an
 * ISO-8601 string and an enum its name (as Vert.x writes them).</li>
 * <li>An {@link Optional} (and {@code OptionalInt}, {@code OptionalLong}, {@code OptionalDouble})
 * is its value, or null when empty: what a typed proxy's {@code Optional} result reads back.</li>
 * <li>A handle of a shared object ({@link References.Referable}) is a reference to it.</li>
 * <li>{@code byte[]} and Vert.x {@link Buffer}s are refused ({@link NotJsonException}), as
 * Python's client refuses bytes: no receiver would know a base64 string for bytes.</li>
 * <li>Anything else (a POJO, a {@code java.util.Date}, an {@code int[]}) is written by the
 * application's JSON mapper, on the same generator: NaN, binary data, depth and colliding keys
 * within it are refused alike.</li>
 * </ul>
 * NaN and the infinities are refused by the {@link JsonOnly} generator values are written to, and
 * a {@code BigDecimal} beyond a double's range as the server would refuse it.
 */
public final class JsonValues {
    private JsonValues() {
    }

    /**
     * Vert.x's mapper, taught {@code Optional} (as Quarkus's own mapper is) the first time a
     * value needs it: a record with an {@code Optional} field is written as its value or null,
     * as a typed proxy reads it back. Registering twice is a no-op, so an application that did
     * so already is left as it was.
     */
    private static final class Mapper {
        static final com.fasterxml.jackson.databind.ObjectMapper INSTANCE =
                DatabindCodec.mapper().registerModule(new com.fasterxml.jackson.datatype.jdk8.Jdk8Module());
    }

    /**
     * Writes {@code value} to {@code g}.
     *
     * @throws IllegalArgumentException for a value that cannot be sent ({@link NotJsonException}
     *         for one of a type JSON has no form for)
     * @throws IOException from the generator (its depth limit among them)
     */
    public static void write(Object value, JsonGenerator g) throws IOException {
        Object v = value instanceof JsonObject ? ((JsonObject) value).getMap()
                : value instanceof JsonArray ? ((JsonArray) value).getList() : value;
        if (v == null) {
            g.writeNull();
        } else if (v instanceof String) {
            writeString((String) v, g);
        } else if (v instanceof Map) {
            writeObject((Map<?, ?>) v, g);
        } else if (v instanceof Collection) {
            g.writeStartArray();
            for (Object item : (Collection<?>) v) {
                write(item, g);
            }
            g.writeEndArray();
        } else if (v instanceof Number) {
            writeNumber((Number) v, g);
        } else if (v instanceof Boolean) {
            g.writeBoolean((Boolean) v);
        } else if (v instanceof Object[]) {
            g.writeStartArray();
            for (Object item : (Object[]) v) {
                write(item, g);
            }
            g.writeEndArray();
        } else if (v instanceof CharSequence) {
            writeString(v.toString(), g);
        } else if (v instanceof Instant) {
            g.writeString(DateTimeFormatter.ISO_INSTANT.format((Instant) v));
        } else if (v instanceof Enum) {
            g.writeString(((Enum<?>) v).name());
        } else if (v instanceof Optional) {
            write(((Optional<?>) v).orElse(null), g);
        } else if (v instanceof OptionalInt) {
            write(((OptionalInt) v).isPresent() ? ((OptionalInt) v).getAsInt() : null, g);
        } else if (v instanceof OptionalLong) {
            write(((OptionalLong) v).isPresent() ? ((OptionalLong) v).getAsLong() : null, g);
        } else if (v instanceof OptionalDouble) {
            write(((OptionalDouble) v).isPresent() ? ((OptionalDouble) v).getAsDouble() : null, g);
        } else if (v instanceof References.Referable) {
            write(References.canonical(((References.Referable) v).referenceId()), g);
        } else if (v instanceof byte[] || v instanceof Buffer) {
            throw binary();
        } else {
            writeWithMapper(v, g);
        }
    }

    /** Strings from this length on are looked at for plain ASCII, which goes out as a block. */
    private static final int LONG_STRING = 256;
    /** Characters of a long string sampled before the whole is checked (see writeString). */
    private static final int SAMPLES = 16;

    /**
     * Writes a string value. Jackson writes a {@code String} a character at a time, which made a
     * 1 KiB payload cost the server as much again as the rest of a call. Plain ASCII, the usual
     * long payload (text, base64), has nothing to escape: its ISO-8859-1 bytes (a copy of the
     * String's own when it holds Latin-1) are checked eight at a time ({@link PlainAscii}) and
     * copied between the quotes as a block (1 KiB: 0.9 → 0.45 µs, by microbenchmark, where
     * Jackson's own byte loop took as long as its char loop). ASCII with escapes is handed
     * over as bytes, whose escapes Jackson looks for with a byte loop before copying them as a
     * block (1 KiB: 1.2 → 0.8 µs); the check for it is three passes the JVM vectorizes: the
     * ASCII bytes (anything else becomes '?'), a string of them, compared with the original.
     * Failed checks cost about what they save, so they are made only when a sample of the
     * characters is ASCII.
     */
    static void writeString(String s, JsonGenerator g) throws IOException {
        int n = s.length();
        // Bytes go only to a generator of bytes (a Writer's refuses them: FrameCodec.toJson), and
        // raw ones only to a generator that escapes no more than JSON requires.
        if (n >= LONG_STRING && sampleIsAscii(s, n) && g.getOutputTarget() instanceof OutputStream) {
            if (g.getCharacterEscapes() == null) {
                byte[] latin1 = s.getBytes(StandardCharsets.ISO_8859_1);
                if (PlainAscii.is(s, latin1)) {
                    g.writeRawUTF8String(latin1, 0, n);
                    return;
                }
            }
            byte[] ascii = s.getBytes(StandardCharsets.US_ASCII);
            if (new String(ascii, StandardCharsets.ISO_8859_1).equals(s)) {
                g.writeUTF8String(ascii, 0, ascii.length);
                return;
            }
        }
        g.writeString(s);
    }

    private static boolean sampleIsAscii(String s, int n) {
        int step = n / SAMPLES;
        for (int i = 0; i < n; i += step) {
            if (s.charAt(i) >= 0x80) {
                return false;
            }
        }
        return s.charAt(n - 1) < 0x80;
    }

    private static void writeNumber(Number n, JsonGenerator g) throws IOException {
        if (n instanceof Integer) {
            g.writeNumber((Integer) n);
        } else if (n instanceof Long) {
            g.writeNumber((Long) n);
        } else if (n instanceof Double) {
            g.writeNumber((Double) n);
        } else if (n instanceof Float) {
            g.writeNumber((Float) n);
        } else if (n instanceof Short) {
            g.writeNumber((Short) n);
        } else if (n instanceof Byte) {
            g.writeNumber((Byte) n);
        } else if (n instanceof BigInteger) {
            g.writeNumber((BigInteger) n);
        } else if (n instanceof BigDecimal) {
            // Refused here as the server refuses it: a Python worker called directly would
            // otherwise take it as infinity.
            if (Double.isInfinite(n.doubleValue())) {
                throw new IllegalArgumentException("number " + Characters.clip(n.toString(), 40)
                        + " cannot be sent: it is out of range (a double is at most about 1.8e308)");
            }
            g.writeNumber((BigDecimal) n);
        } else {
            g.writeNumber(n.doubleValue());
        }
    }

    private static void writeObject(Map<?, ?> map, JsonGenerator g) throws IOException {
        g.writeStartObject();
        boolean checked = false;
        for (Map.Entry<?, ?> e : map.entrySet()) {
            Object k = e.getKey();
            if (k instanceof String) {
                g.writeFieldName((String) k);
            } else {
                // Keys that are all strings cannot collide; only a map with others is checked.
                if (!checked) {
                    checkKeys(map);
                    checked = true;
                }
                g.writeFieldName(keyText(k));
            }
            write(e.getValue(), g);
        }
        g.writeEndObject();
    }

    private static void checkKeys(Map<?, ?> map) {
        Map<String, Object> seen = new HashMap<>();
        for (Object k : map.keySet()) {
            String text = k instanceof String ? (String) k : keyText(k);
            if (seen.containsKey(text)) {
                throw new IllegalArgumentException("map keys " + shownKey(seen.get(text)) + " and " + shownKey(k)
                        + " both become the JSON key " + Frames.shownValue(text) + " and cannot be sent: an object holds one of them");
            }
            seen.put(text, k);
        }
    }

    /** A map key as Python's {@code json} writes one that is not a string. */
    private static String keyText(Object k) {
        if (k == null) {
            return "null";
        }
        if (k instanceof Double || k instanceof Float) {
            JsonOnly.check(((Number) k).doubleValue());
            return k.toString();
        }
        if (k instanceof Number || k instanceof Boolean || k instanceof Character || k instanceof CharSequence) {
            return k.toString();
        }
        if (k instanceof Enum) {
            return ((Enum<?>) k).name();
        }
        throw new NotJsonException("a map key of type " + k.getClass().getName() + " cannot be sent: JSON keys are strings,"
                + " and only numbers, booleans, characters, enums and null are made into them");
    }

    private static String shownKey(Object k) {
        return k == null ? "null" : Frames.shownValue(k) + " (" + k.getClass().getSimpleName() + ")";
    }

    static NotJsonException binary() {
        return new NotJsonException("a byte[] cannot be sent: JSON has no bytes (encode them, as base64 text say,"
                + " or send a list of numbers)");
    }

    /**
     * A value only the application's mapper knows, written on {@code g} itself: {@link JsonOnly}
     * and the depth limit apply inside it, and duplicate detection catches a map inside it whose
     * keys collide once written (the mapper writes both).
     */
    private static void writeWithMapper(Object v, JsonGenerator g) throws IOException {
        boolean detecting = g.isEnabled(JsonGenerator.Feature.STRICT_DUPLICATE_DETECTION);
        g.enable(JsonGenerator.Feature.STRICT_DUPLICATE_DETECTION);
        try {
            Mapper.INSTANCE.writeValue(g, v);
        } catch (JsonMappingException e) {
            // The mapper wraps what the generator refused with the path to it.
            for (Throwable c = e.getCause(); c != null; c = c.getCause()) {
                if (c instanceof IllegalArgumentException) {
                    throw (IllegalArgumentException) c;
                }
                if (c instanceof IOException && FrameCodec.nestsTooDeep(c)) {
                    throw (IOException) c;
                }
            }
            throw new NotJsonException("a " + v.getClass().getName() + " cannot be sent: " + e.getOriginalMessage(), e);
        } catch (JsonGenerationException e) {
            if (String.valueOf(e.getOriginalMessage()).startsWith("Duplicate field")) {
                throw new IllegalArgumentException("a " + v.getClass().getName() + " cannot be sent: a map in it has keys that"
                        + " become the same JSON key (" + e.getOriginalMessage() + ")", e);
            }
            throw e;
        } finally {
            if (!detecting) {
                g.disable(JsonGenerator.Feature.STRICT_DUPLICATE_DETECTION);
            }
        }
    }
}
