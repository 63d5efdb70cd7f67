package dev.orch.protocol;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import io.netty.buffer.ByteBuf;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.EncodeException;
import io.vertx.core.json.JsonObject;
import io.vertx.core.json.jackson.JacksonCodec;
import java.io.ByteArrayOutputStream;
import java.io.IOException;

/** Encodes frames: a 4-byte big-endian length, then that many bytes of UTF-8 JSON. */
public final class FrameCodec {
    /** Default largest frame accepted, 16 MiB. */
    public static final int DEFAULT_MAX_FRAME = 16 * 1024 * 1024;

    /** Streaming JSON, shared: a generator writes straight to its target, with no tree or mapper. */
    public static final JsonFactory STREAMING = new JsonFactory().disable(JsonGenerator.Feature.AUTO_CLOSE_TARGET);

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

    /**
     * A {@code send} frame, as {@link Frames#send} would build it, encoded with its length prefix
     * and without building the frame object: the per-request path of clients.
     */
    public static byte[] encodeSendBytes(String address, String replyAddress, JsonObject body) {
        return encodeAddressedBytes(Frames.SEND, address, replyAddress, body);
    }

    /** A {@code message} frame without a reply address (an answer), encoded like {@link #encodeSendBytes}. */
    public static byte[] encodeMessageBytes(String address, Object body) {
        return encodeAddressedBytes(Frames.MESSAGE, address, null, body);
    }

    private static byte[] encodeAddressedBytes(String type, String address, String replyAddress, Object body) {
        // One buffer per thread, reused: a fresh, growing buffer per frame costs copies, and for
        // larger frames page faults on newly touched heap.
        Out out = OUT.get();
        out.restart();
        try (JsonGenerator g = STREAMING.createGenerator(out)) {
            writeAddressed(g, type, address, replyAddress, body);
        } catch (IOException | EncodeException e) {
            // A value only the application's mapper knows how to write.
            return encodeBytes(Frames.SEND.equals(type) ? Frames.send(address, replyAddress, (JsonObject) body)
                    : Frames.message(address, replyAddress, body));
        }
        byte[] framed = out.framed();
        if (out.capacity() > MAX_KEPT_BUFFER) {
            OUT.remove();
        }
        return framed;
    }

    /**
     * Streams a frame of {@code type} with an address, the reply address if not null, and a body,
     * field for field as {@link Frames#send} and {@link Frames#message} build them.
     *
     * @throws EncodeException for a body value only the application's JSON mapper can write
     */
    public static void writeAddressed(JsonGenerator g, String type, String address, String replyAddress, Object body)
            throws IOException {
        g.writeStartObject();
        g.writeStringField(Frames.TYPE, type);
        g.writeStringField(Frames.ADDRESS, address);
        if (replyAddress != null) {
            g.writeStringField(Frames.REPLY_ADDRESS, replyAddress);
        }
        g.writeFieldName(Frames.BODY);
        JacksonCodec.encodeJson(body, g);
        g.writeEndObject();
    }

    /** Largest encoding buffer a thread keeps between frames. */
    private static final int MAX_KEPT_BUFFER = 64 * 1024;
    private static final ThreadLocal<Out> OUT = ThreadLocal.withInitial(Out::new);

    /** Collects one frame's JSON after a 4-byte hole the length goes into. */
    private static final class Out extends ByteArrayOutputStream {
        Out() {
            super(2048);
        }

        void restart() {
            count = 4;
        }

        int capacity() {
            return buf.length;
        }

        byte[] framed() {
            int n = count - 4;
            buf[0] = (byte) (n >>> 24);
            buf[1] = (byte) (n >>> 16);
            buf[2] = (byte) (n >>> 8);
            buf[3] = (byte) n;
            return toByteArray();
        }
    }

    /** Parses a payload held in {@code bytes[offset, offset+length)}; nothing of the array is retained. */
    public static JsonObject decode(byte[] bytes, int offset, int length) {
        JsonParser parser;
        try {
            parser = STREAMING.createParser(bytes, offset, length);
        } catch (IOException e) {
            throw OrchException.badRequest("frame is not valid JSON");
        }
        return decode(parser);
    }

    /** Parses one frame's JSON payload; throws {@link OrchException} 400 if it is not a JSON object. */
    public static JsonObject decode(Buffer payload) {
        ByteBuf b = payload.getByteBuf();
        if (b.hasArray()) {
            return decode(b.array(), b.arrayOffset() + b.readerIndex(), b.readableBytes());
        }
        return decode(JacksonCodec.createParser(payload));
    }

    private static JsonObject decode(JsonParser parser) {
        try {
            // Vert.x's streaming parser: the application's mapper (Quarkus installs a databind
            // one as Json.CODEC) builds the same maps and lists at about twice the cost per frame.
            Object value = JacksonCodec.fromParser(parser, Object.class);
            if (value instanceof JsonObject) {
                return (JsonObject) value;
            }
            throw OrchException.badRequest("frame is not a JSON object");
        } catch (DecodeException e) {
            throw OrchException.badRequest("frame is not valid JSON");
        }
    }
}
