package dev.orch.process;

import dev.orch.protocol.Timestamps;
import io.vertx.core.json.JsonObject;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Base64;

/**
 * One captured line, kept as the bytes the child wrote (without its {@code '\n'}).
 *
 * @param seq    position in the process's log, increasing by one per line over both streams
 * @param stderr whether it came from stderr
 * @param time   capture time, epoch milliseconds
 * @param bytes  the line's bytes, newline excluded ({@code '\r'} kept)
 * @param eol    whether a newline followed; false for a last line without one and for the
 *               pieces of a line cut at {@link PipeReader#MAX_LINE} bytes
 */
public record LogLine(long seq, boolean stderr, long time, byte[] bytes, boolean eol) {

    /**
     * The line in JSON: {@code {"seq","stream":"out"|"err","time","text"}} when the bytes are valid
     * UTF-8, otherwise {@code "b64"} (standard base64 of the raw bytes) instead of {@code "text"};
     * {@code "eol":false} is added when no newline followed. Concatenating each line's bytes plus
     * a newline where {@code eol} is not false gives back exactly what the child wrote.
     */
    public JsonObject toJson() {
        JsonObject j = new JsonObject().put("seq", seq).put("stream", stderr ? "err" : "out")
                .put("time", Timestamps.millis(Instant.ofEpochMilli(time)));
        String text = utf8(bytes);
        if (text != null) {
            j.put("text", text);
        } else {
            j.put("b64", Base64.getEncoder().encodeToString(bytes));
        }
        if (!eol) {
            j.put("eol", false);
        }
        return j;
    }

    /** The bytes as text if they are valid UTF-8, else null. */
    static String utf8(byte[] bytes) {
        boolean ascii = true;
        for (byte b : bytes) {
            if (b < 0) {
                ascii = false;
                break;
            }
        }
        if (ascii) {
            return new String(bytes, StandardCharsets.ISO_8859_1);
        }
        try {
            return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(bytes)).toString();
        } catch (CharacterCodingException e) {
            return null;
        }
    }
}
