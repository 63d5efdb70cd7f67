package dev.orch.protocol;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonFactoryBuilder;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadConstraints;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class FrameJsonFactoryTest {
    private static final JsonFactory JACKSON = new JsonFactoryBuilder()
            .streamReadConstraints(StreamReadConstraints.builder().maxNestingDepth(FrameCodec.MAX_DEPTH).build())
            .build();

    /**
     * Everything a parser reports of {@code json}, token by token: each string's text read twice
     * and as characters, the location after it, and the error it stops at, if any.
     */
    private static List<String> tokens(JsonFactory factory, byte[] json) {
        List<String> seen = new ArrayList<>();
        try (JsonParser p = factory.createParser(json, 0, json.length)) {
            JsonToken t;
            while ((t = p.nextToken()) != null) {
                String entry = t.name();
                if (t == JsonToken.VALUE_STRING || t == JsonToken.FIELD_NAME) {
                    String text = p.getText();
                    entry += " " + text + " " + p.getText() + " "
                            + new String(p.getTextCharacters(), p.getTextOffset(), p.getTextLength());
                }
                seen.add(entry + " @" + p.currentLocation().getByteOffset());
            }
        } catch (JsonProcessingException e) {
            seen.add(e.getClass().getSimpleName() + ": " + e.getOriginalMessage());
        } catch (IOException e) {
            seen.add(e.toString());
        }
        return seen;
    }

    private static void assertAsJackson(String json) {
        assertAsJackson(json.getBytes(StandardCharsets.UTF_8));
    }

    private static void assertAsJackson(byte[] json) {
        List<String> expected = tokens(JACKSON, json);
        List<String> actual = tokens(FrameCodec.STREAMING, json);
        assertEquals(expected, actual, () -> new String(json, StandardCharsets.UTF_8));
    }

    private static String quoted(String s) {
        return "{\"k\":\"" + s + "\"}";
    }

    @Test
    void stringsReadAsJacksonReadsThemWhateverTheyHold() {
        String kib = "abcdefgh0123456789?".repeat(54).substring(0, 1024);
        for (String s : List.of("", "a", "seven77", "eight888", "nine99999", kib, "x".repeat(70_000),
                kib + "\\\"quoted\\\" and \\\\backslash\\\\" + kib, // escapes after a plain run
                kib + "\\n\\t\\u0000\\u00e9\\ud83d\\ude00\\ud800" + kib, // escaped controls and beyond
                kib + "é中😀" + kib, "é" + kib, kib + "\u007f" + kib)) {
            assertAsJackson(quoted(s));
            assertAsJackson("{\"a\":[\"" + s + "\",\"" + s + "\",{\"" + s + "\":\"" + s + "\"}],\"b\":1}");
        }
        // Every ASCII character raw, at every place in an eight-byte word: Jackson refuses the
        // controls (its error, at its place), takes the rest.
        for (int c = 1; c < 0x80; c++) {
            if (c == '"' || c == '\\') {
                continue;
            }
            for (int at = 0; at < 17; at++) {
                assertAsJackson(quoted("p".repeat(at) + (char) c + "q".repeat(20)));
            }
        }
    }

    @Test
    void malformedStringsFailAsJacksonMakesThemFail() {
        assertAsJackson("{\"k\":\"never closed");
        assertAsJackson("{\"k\":\"" + "x".repeat(1000));
        assertAsJackson("{\"k\":\"tab\there\"}");
        assertAsJackson("{\"k\":\"ok\" \"next\"}");
        assertAsJackson("{\"k\":\"bad \\q escape\"}");
    }

    @Test
    void inputsThatAreNotPlainUtf8ObjectsGoThroughJacksonsDetection() {
        assertAsJackson(" {\"k\":\"leading space\"}");
        assertAsJackson("\ufeff{\"k\":\"byte-order mark\"}");
        assertAsJackson("[\"array\"]");
        assertAsJackson("\"a string\"");
        assertAsJackson("{");
        assertAsJackson("{}");
        assertAsJackson("{\"k\":\"utf-16\"}".getBytes(StandardCharsets.UTF_16LE));
        assertAsJackson("{\"k\":\"utf-16\"}".getBytes(StandardCharsets.UTF_16BE));
    }

    @Test
    void aStringPastTheLengthLimitGetsJacksonsOwnError() throws IOException {
        StreamReadConstraints ten = StreamReadConstraints.builder().maxStringLength(10).build();
        JsonFactory limited = new FrameJsonFactory(new JsonFactoryBuilder().streamReadConstraints(ten));
        JsonFactory jackson = new JsonFactoryBuilder().streamReadConstraints(ten).build();
        for (String s : List.of("x".repeat(10), "x".repeat(11), "x".repeat(1000))) {
            byte[] json = quoted(s).getBytes(StandardCharsets.UTF_8);
            assertEquals(tokens(jackson, json), tokens(limited, json), s);
        }
        byte[] json = quoted("x".repeat(11)).getBytes(StandardCharsets.UTF_8);
        assertTrue(tokens(limited, json).get(2).contains("exceeds the maximum"), tokens(limited, json).toString());
    }

    @Test
    void plainObjectsGetTheBlockReadingParser() throws IOException {
        byte[] json = quoted("v").getBytes(StandardCharsets.UTF_8);
        try (JsonParser p = FrameCodec.STREAMING.createParser(json, 0, json.length)) {
            assertInstanceOf(FrameJsonFactory.PlainStringParser.class, p);
        }
    }
}
