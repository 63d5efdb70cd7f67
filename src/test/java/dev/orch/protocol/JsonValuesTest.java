package dev.orch.protocol;

import static org.junit.jupiter.api.Assertions.assertEquals;

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
}
