package dev.orch.protocol;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.core.JsonGenerator;
import io.vertx.core.json.JsonObject;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

class JsonValuesTest {

    /** What Jackson's own writeString makes of {@code s}: the reference for every form below. */
    private static String jackson(String s) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (JsonGenerator g = FrameCodec.STREAMING.createGenerator(out)) {
            g.writeString(s);
        }
        return out.toString(StandardCharsets.UTF_8);
    }

    /** The same through a Writer's generator, which writes a lone surrogate as it is. */
    private static String jacksonText(String s) throws IOException {
        java.io.StringWriter out = new java.io.StringWriter();
        try (JsonGenerator g = FrameCodec.STREAMING.createGenerator(out)) {
            g.writeString(s);
        }
        return out.toString();
    }

    private static String bytesGenerator(Object value) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (JsonGenerator g = FrameCodec.STREAMING.createGenerator(out)) {
            JsonValues.write(value, g);
        }
        return out.toString(StandardCharsets.UTF_8);
    }

    @Test
    void longStringsAreWrittenAsJacksonWritesThemWhateverTheyHold() throws IOException {
        String ascii = "x".repeat(1024);
        List<String> cases = List.of(
                ascii,
                "y".repeat(255), "y".repeat(256), "z".repeat(70_000),
                ascii + "\"quoted\" and \\backslash\\ " + ascii,
                ascii + "\n\t\u0000\u001f\u007f" + ascii,
                ascii + "é" + ascii,                 // a sample can miss it: the whole check must not
                "é" + ascii,
                ascii + "\ud83d\ude00" + ascii,       // an emoji: four UTF-8 bytes
                ascii + "\ud800" + ascii,             // a lone surrogate: Jackson's escape, not '?'
                ascii + "?" + ascii,                  // a real '?' beside them
                "\u4e2d".repeat(1024),
                "\u4e2d".repeat(600) + "x".repeat(424));
        for (String s : cases) {
            assertEquals(jackson(s), bytesGenerator(s), () -> "bytes, length " + s.length());
            // A Writer's generator refuses bytes: the string goes the ordinary way there.
            assertEquals(jacksonText(s), FrameCodec.toJson(s), () -> "text, length " + s.length());
            JsonObject frame = new JsonObject().put("type", "message").put("address", "r1")
                    .put("body", new JsonObject().put("result", s));
            byte[] encoded = FrameCodec.encodeBytes(frame);
            assertEquals(s, FrameCodec.decode(encoded, 4, encoded.length - 4)
                    .getJsonObject("body").getString("result"), () -> "round trip, length " + s.length());
        }
    }

    @Test
    void aLongCharSequenceIsWrittenAsItsString() throws IOException {
        StringBuilder sb = new StringBuilder("a\"b".repeat(200));
        assertEquals(jackson(sb.toString()), bytesGenerator(sb));
    }

    @Test
    void plainAsciiIsWrittenByteForByteAsJacksonWritesIt() throws IOException {
        // Every ASCII character at every place in an eight-byte word of a long string: those
        // JSON escapes must leave the block copy, the rest must be taken as they are.
        for (int c = 0; c < 0x80; c++) {
            for (int at = 0; at < 17; at++) {
                String s = "p".repeat(at) + (char) c + "q".repeat(300);
                assertEquals(jackson(s), bytesGenerator(s), "character " + c + " at " + at);
            }
        }
        String kib = "abcdefgh0123456789?".repeat(54).substring(0, 1024);
        // Beyond U+00FF a character's ISO-8859-1 byte is '?': beside real ones, where a sample
        // misses it (the characters sampled are at multiples of a sixteenth of the length, and
        // the last), it must not pass for one.
        List<String> cases = List.of(kib, kib + "a\u4e2d" + kib, kib + "a\u0100" + kib, kib + "a\uffff" + kib,
                "?".repeat(150) + "\u4e2d" + "?".repeat(150), "?".repeat(150) + "\ud800" + "?".repeat(150),
                kib + "a\u00ff" + kib, kib + "a\u0080" + kib, "z".repeat(20_000), "?".repeat(256));
        for (String s : cases) {
            assertEquals(jackson(s), bytesGenerator(s), () -> "length " + s.length());
        }
        // In containers, after other values: the separators and quotes are the generator's.
        JsonObject frame = new JsonObject().put("a", kib).put("b", new io.vertx.core.json.JsonArray().add(kib).add(1).add(kib));
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (JsonGenerator g = FrameCodec.STREAMING.createGenerator(out)) {
            g.writeStartObject();
            g.writeStringField("a", kib);
            g.writeArrayFieldStart("b");
            g.writeString(kib);
            g.writeNumber(1);
            g.writeString(kib);
            g.writeEndArray();
            g.writeEndObject();
        }
        assertEquals(out.toString(StandardCharsets.UTF_8), bytesGenerator(frame));
    }

    /** A generator that escapes '/' too, as an application's mapper may set one up. */
    private static String escapingSlashes(boolean jacksonItself, String s) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (JsonGenerator g = FrameCodec.STREAMING.createGenerator(out)) {
            g.setCharacterEscapes(new com.fasterxml.jackson.core.io.CharacterEscapes() {
                private final int[] escapes = standardAsciiEscapesForJSON();

                {
                    escapes['/'] = ESCAPE_STANDARD;
                }

                @Override
                public int[] getEscapeCodesForAscii() {
                    return escapes;
                }

                @Override
                public com.fasterxml.jackson.core.SerializableString getEscapeSequence(int ch) {
                    return null;
                }
            });
            if (jacksonItself) {
                g.writeString(s);
            } else {
                JsonValues.write(s, g);
            }
        }
        return out.toString(StandardCharsets.UTF_8);
    }

    @Test
    void aGeneratorWithEscapesOfItsOwnKeepsThem() throws IOException {
        String s = "a/b".repeat(200);
        String escaped = escapingSlashes(true, s);
        assertTrue(escaped.startsWith("\"a\\u002Fb"), escaped);
        assertEquals(escaped, escapingSlashes(false, s));
    }
}
