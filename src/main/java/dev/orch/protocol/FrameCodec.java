package dev.orch.protocol;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonObject;
import io.vertx.core.json.jackson.JacksonCodec;

/** Encodes frames: a 4-byte big-endian length, then that many bytes of UTF-8 JSON. */
public final class FrameCodec {
    /** Default largest frame accepted, 16 MiB. */
    public static final int DEFAULT_MAX_FRAME = 16 * 1024 * 1024;

    private FrameCodec() {
    }

    public static Buffer encode(JsonObject frame) {
        Buffer json = frame.toBuffer();
        Buffer out = Buffer.buffer(json.length() + 4);
        out.appendInt(json.length());
        out.appendBuffer(json);
        return out;
    }

    /** The frame as one array, length prefix included, ready for a blocking socket. */
    public static byte[] encodeBytes(JsonObject frame) {
        Buffer json = frame.toBuffer();
        int n = json.length();
        byte[] out = new byte[n + 4];
        out[0] = (byte) (n >>> 24);
        out[1] = (byte) (n >>> 16);
        out[2] = (byte) (n >>> 8);
        out[3] = (byte) n;
        json.getBytes(0, n, out, 4);
        return out;
    }

    /** Parses a payload held in {@code bytes[offset, offset+length)}; nothing of the array is retained. */
    public static JsonObject decode(byte[] bytes, int offset, int length) {
        return decode(Buffer.buffer(io.netty.buffer.Unpooled.wrappedBuffer(bytes, offset, length)));
    }

    /** Parses one frame's JSON payload; throws {@link OrchException} 400 if it is not a JSON object. */
    public static JsonObject decode(Buffer payload) {
        try {
            // Vert.x's streaming parser: the application's mapper (Quarkus installs a databind
            // one as Json.CODEC) builds the same maps and lists at about twice the cost per frame.
            Object value = JacksonCodec.fromParser(JacksonCodec.createParser(payload), Object.class);
            if (value instanceof JsonObject) {
                return (JsonObject) value;
            }
            throw OrchException.badRequest("frame is not a JSON object");
        } catch (DecodeException e) {
            throw OrchException.badRequest("frame is not valid JSON");
        }
    }
}
