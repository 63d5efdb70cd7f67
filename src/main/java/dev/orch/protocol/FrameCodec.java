package dev.orch.protocol;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonFactoryBuilder;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParseException;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.JsonTokenId;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.StreamWriteConstraints;
import com.fasterxml.jackson.core.StreamWriteFeature;
import com.fasterxml.jackson.core.exc.StreamConstraintsException;
import com.fasterxml.jackson.core.json.JsonWriteFeature;
import io.netty.buffer.ByteBuf;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.StringWriter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Encodes frames: a 4-byte big-endian length, then that many bytes of UTF-8 JSON. */
public final class FrameCodec {
    /** Default largest frame accepted, 16 MiB. */
    public static final int DEFAULT_MAX_FRAME = 16 * 1024 * 1024;

    /**
     * Largest frame taken before login, 64 KiB (PROTOCOL.md §1, §3): login frames are tiny, and a
     * peer that has not proved it knows the key must not make a server hold megabytes.
     */
    public static final int MAX_LOGIN_FRAME = 64 * 1024;

    /**
     * How deep a frame may nest objects and arrays, itself included (PROTOCOL.md §1). Every
     * client must be able to take what the server sends; Python's decoder recurses, and a
     * caller's own stack takes part of its 1,000 levels.
     */
    public static final int MAX_DEPTH = 256;

    /**
     * Streaming JSON, shared: a generator writes straight to its target, with no tree or mapper.
     * Parsers and generators both stop at {@link #MAX_DEPTH}. Characters beyond the BMP (emoji)
     * go out as their four UTF-8 bytes, as Vert.x's own encoding writes them, not as two escaped
     * UTF-16 surrogates three times the size. Parsers of a byte array read plain ASCII strings
     * as a block ({@link FrameJsonFactory}).
     */
    public static final JsonFactory STREAMING = new FrameJsonFactory(new JsonFactoryBuilder()
            .streamReadConstraints(StreamReadConstraints.builder().maxNestingDepth(MAX_DEPTH).build())
            .streamWriteConstraints(StreamWriteConstraints.builder().maxNestingDepth(MAX_DEPTH).build())
            .disable(StreamWriteFeature.AUTO_CLOSE_TARGET)
            .enable(JsonWriteFeature.COMBINE_UNICODE_SURROGATES_IN_UTF8));

    private FrameCodec() {
    }

    public static Buffer encode(JsonObject frame) {
        return Buffer.buffer(encodeBytes(frame));
    }

    /**
     * The frame as one array, length prefix included, ready for a blocking socket. Written by the
     * streaming generator: Vert.x's {@code toBuffer()} would go through the application's JSON
     * mapper, whose first use sets up Jackson data binding, a tenth of a second of a CLI command.
     */
    public static byte[] encodeBytes(JsonObject frame) {
        Out out = OUT.get();
        out.restart();
        try (JsonGenerator g = new JsonOnly(STREAMING.createGenerator(out))) {
            JsonValues.write(frame, g);
        } catch (IOException e) {
            throw unwritable(e);
        }
        return finish(out);
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
        try (JsonGenerator g = new JsonOnly(STREAMING.createGenerator(out))) {
            writeAddressed(g, type, address, replyAddress, body);
        } catch (IOException e) {
            throw unwritable(e);
        }
        return finish(out);
    }

    /** The error for a value the generator could not write: its depth, or a fault of its own. */
    private static RuntimeException unwritable(IOException e) {
        if (nestsTooDeep(e)) {
            return tooDeep();
        }
        return new IllegalArgumentException("the value cannot be written as JSON: " + e.getMessage(), e);
    }

    private static byte[] finish(Out out) {
        byte[] framed = out.framed();
        if (out.capacity() > MAX_KEPT_BUFFER) {
            OUT.remove();
        }
        return framed;
    }

    /**
     * Compact JSON of a value as frames carry it (a JsonObject, JsonArray, map, list, string,
     * number, boolean or null), written like a frame ({@link JsonValues}): no data-binding mapper
     * is set up for it. Refuses NaN and the infinities ({@link IllegalArgumentException}).
     */
    public static String toJson(Object value) {
        StringWriter out = new StringWriter();
        try (JsonGenerator g = new JsonOnly(STREAMING.createGenerator(out))) {
            JsonValues.write(value, g);
        } catch (IOException e) {
            throw unwritable(e);
        }
        return out.toString();
    }

    /**
     * Parses one JSON value, of any type, with the rules a frame's values follow (nesting depth,
     * numbers a double can hold); objects and arrays come back as JsonObject and JsonArray.
     *
     * @throws IOException if {@code text} is not exactly one JSON value
     * @throws OrchException (400) for a number out of a double's range
     */
    public static Object parseValue(String text) throws IOException {
        try (JsonParser parser = STREAMING.createParser(text)) {
            if (parser.nextToken() == null) {
                throw new JsonParseException(parser, "no JSON value");
            }
            Object v = value(parser);
            if (parser.nextToken() != null) {
                throw new JsonParseException(parser, "data after the JSON value");
            }
            return v instanceof Map ? new JsonObject(cast(v)) : v instanceof List ? new JsonArray((List<?>) v) : v;
        }
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> cast(Object map) {
        return (Map<String, Object>) map;
    }

    /**
     * Streams a frame of {@code type} with an address, the reply address if not null, and a body,
     * field for field as {@link Frames#send} and {@link Frames#message} build them.
     *
     * @throws IllegalArgumentException for a body value that cannot be sent ({@link JsonValues})
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
        JsonValues.write(body, g);
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

    /**
     * Parses a payload held in {@code bytes[offset, offset+length)}; nothing of the array is
     * retained. Throws {@link MalformedFrame} (400) if it is not a JSON object orch takes.
     */
    public static JsonObject decode(byte[] bytes, int offset, int length) throws MalformedFrame {
        if (!Utf8.wellFormed(bytes, offset, length)) {
            throw malformed("frame is not valid UTF-8", bytes, offset, length);
        }
        try (JsonParser parser = STREAMING.createParser(bytes, offset, length)) {
            return decode(parser);
        } catch (IOException e) {
            throw malformed(why(e), bytes, offset, length);
        } catch (OrchException e) {
            throw malformed(e.detail(), bytes, offset, length);
        }
    }

    /** Parses one frame's JSON payload; throws {@link MalformedFrame} (400) as {@link #decode(byte[], int, int)}. */
    public static JsonObject decode(Buffer payload) throws MalformedFrame {
        ByteBuf b = payload.getByteBuf();
        if (b.hasArray()) {
            return decode(b.array(), b.arrayOffset() + b.readerIndex(), b.readableBytes());
        }
        return decode(payload.getBytes(), 0, payload.length());
    }

    /** A frame object, as Vert.x's own parser builds it (maps and lists, wrapped on access). */
    private static JsonObject decode(JsonParser parser) throws IOException {
        if (parser.nextToken() != JsonToken.START_OBJECT) {
            throw OrchException.badRequest("frame is not a JSON object");
        }
        Map<String, Object> frame = object(parser);
        if (parser.nextToken() != null) {
            throw OrchException.badRequest("frame has data after its JSON object");
        }
        return new JsonObject(frame);
    }

    private static Object value(JsonParser parser) throws IOException {
        switch (parser.currentTokenId()) {
            case JsonTokenId.ID_START_OBJECT:
                return object(parser);
            case JsonTokenId.ID_START_ARRAY:
                return array(parser);
            case JsonTokenId.ID_STRING:
                return parser.getText();
            case JsonTokenId.ID_NUMBER_INT:
                return parser.getNumberValue();
            case JsonTokenId.ID_NUMBER_FLOAT: {
                double d = parser.getDoubleValue();
                if (Double.isInfinite(d)) {
                    // It would be written back as the string "Infinity": refuse it instead.
                    throw OrchException.badRequest("number " + parser.getText() + " is out of range (a double is at most about 1.8e308)");
                }
                return d;
            }
            case JsonTokenId.ID_TRUE:
                return Boolean.TRUE;
            case JsonTokenId.ID_FALSE:
                return Boolean.FALSE;
            case JsonTokenId.ID_NULL:
                return null;
            default:
                throw OrchException.badRequest("frame is not valid JSON");
        }
    }

    private static Map<String, Object> object(JsonParser parser) throws IOException {
        Map<String, Object> map = new LinkedHashMap<>();
        String key;
        while ((key = parser.nextFieldName()) != null) {
            parser.nextToken();
            map.put(key, value(parser));
        }
        return map;
    }

    private static List<Object> array(JsonParser parser) throws IOException {
        List<Object> list = new ArrayList<>();
        while (parser.nextToken() != JsonToken.END_ARRAY) {
            list.add(value(parser));
        }
        return list;
    }

    private static String why(IOException e) {
        if (nestsTooDeep(e)) {
            return tooDeep().detail();
        }
        if (e instanceof StreamConstraintsException) {
            return "frame exceeds a JSON limit: " + ((StreamConstraintsException) e).getOriginalMessage();
        }
        if (String.valueOf(e.getMessage()).contains("surrogate pair in field name")) {
            // Jackson takes a lone surrogate escape in a string value but not in an object key.
            return "an object key holds a lone surrogate (\\ud800-\\udfff not part of a pair), which orch takes in"
                    + " string values only";
        }
        return "frame is not valid JSON";
    }

    /** The error for a value that would nest deeper than {@link #MAX_DEPTH} in its frame. */
    public static OrchException tooDeep() {
        return OrchException.badRequest("value nests deeper than " + MAX_DEPTH + " levels of objects and arrays (the frame included)");
    }

    /**
     * The error for an answer that would nest deeper than {@link #MAX_DEPTH} in its frame: a
     * request that was fine got a result no client could be sent, so the call fails (500), not
     * the request (400).
     */
    public static OrchException resultTooDeep() {
        return OrchException.raised("ValueError", "the result nests deeper than " + MAX_DEPTH
                + " levels of objects and arrays (the frame included)");
    }

    /** Whether {@code e}, from a parser or generator of {@link #STREAMING}, is its depth limit. */
    public static boolean nestsTooDeep(Throwable e) {
        Throwable c = e instanceof StreamConstraintsException ? e : e.getCause();
        return c instanceof StreamConstraintsException && String.valueOf(c.getMessage()).contains("nesting depth");
    }

    /**
     * The error for a payload that failed, with the envelope fields that precede the fault:
     * orch's clients write {@code type}, {@code address} and {@code replyAddress} before the body.
     */
    private static MalformedFrame malformed(String why, byte[] bytes, int offset, int length) {
        String type = null;
        String address = null;
        String replyAddress = null;
        try (JsonParser p = STREAMING.createParser(bytes, offset, length)) {
            if (p.nextToken() == JsonToken.START_OBJECT) {
                String name;
                while ((name = p.nextFieldName()) != null) {
                    JsonToken t = p.nextToken();
                    if (t == JsonToken.VALUE_STRING) {
                        if (Frames.TYPE.equals(name)) {
                            type = p.getText();
                        } else if (Frames.ADDRESS.equals(name)) {
                            address = p.getText();
                        } else if (Frames.REPLY_ADDRESS.equals(name)) {
                            replyAddress = p.getText();
                        }
                    } else if (t != null && t.isStructStart()) {
                        p.skipChildren();
                    }
                }
            }
        } catch (IOException | RuntimeException e) {
            // The fault itself: what was read before it is all there is.
        }
        return new MalformedFrame(why, type, address, replyAddress);
    }
}
