package dev.orch.server;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import dev.orch.protocol.FrameCodec;
import dev.orch.protocol.Frames;
import dev.orch.protocol.OrchException;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufOutputStream;
import io.netty.buffer.Unpooled;
import io.vertx.core.json.EncodeException;
import io.vertx.core.json.JsonObject;
import io.vertx.core.json.jackson.JacksonCodec;
import java.io.IOException;
import java.io.OutputStream;

/**
 * The frames one connection has yet to write, encoded straight into one growing buffer: each
 * frame's JSON is streamed after its length prefix, with no intermediate array and, for
 * messages, no frame object. Used on the connection's event loop only.
 */
final class FrameOut {
    private static final JsonFactory JSON = FrameCodec.STREAMING;

    /** The largest answer payload sent (the server's {@code --max-frame}). */
    private final int maxAnswer;
    private ByteBuf buf;
    private ByteBufOutputStream stream;

    /**
     * @param maxAnswer the largest payload of an answer ({@code message} without reply address);
     *        a larger one becomes its caller's error
     */
    FrameOut(int maxAnswer) {
        this.maxAnswer = maxAnswer;
    }

    boolean isEmpty() {
        return buf == null;
    }

    /** Bytes queued. */
    int size() {
        return buf == null ? 0 : buf.readableBytes();
    }

    /** Queues {@code frame}. */
    void frame(JsonObject frame) {
        int start = begin();
        try (JsonGenerator g = JSON.createGenerator((OutputStream) stream)) {
            JacksonCodec.encodeJson(frame, g);
        } catch (IOException | EncodeException e) {
            fallback(start, frame);
            return;
        }
        end(start);
    }

    /**
     * Queues a {@code message} frame, as {@link Frames#message} would build it. False when, being
     * an answer no client could take (too large, or nested too deep), it was queued as its
     * caller's error instead: what the call took must then be given back.
     */
    boolean message(String address, String replyAddress, Object body) {
        int start = begin();
        try (JsonGenerator g = JSON.createGenerator((OutputStream) stream)) {
            FrameCodec.writeAddressed(g, Frames.MESSAGE, address, replyAddress, body);
        } catch (IOException | RuntimeException e) {
            buf.writerIndex(start);
            if (FrameCodec.nestsTooDeep(e)) {
                // A result clients could not all decode (PROTOCOL.md §1): its caller gets an
                // error. The request was fine (items() wraps a value two levels deeper than it
                // was stored), so an answer fails as one larger than --max-frame does, not as 400.
                frame(Frames.err(address, replyAddress == null ? FrameCodec.resultTooDeep() : FrameCodec.tooDeep()));
            } else {
                // Values here came from JSON, so none should fail; if one does, its caller hears.
                frame(Frames.err(address, OrchException.raised("ValueError", "the result cannot be sent: " + e.getMessage())));
            }
            return false;
        }
        int length = buf.writerIndex() - start - 4;
        if (replyAddress == null && length > maxAnswer) {
            // Clients take frames up to the limit they were told at login, and a frame that
            // large counts as unread output at once: the caller gets an error, not the answer,
            // and keeps its connection. An item put in within the limit can still come out
            // larger (a longer reply address, numbers written longer), so the caller gives back
            // what the call took.
            buf.writerIndex(start);
            frame(Frames.err(address, OrchException.raised("ValueError", "the result is " + length
                    + " bytes; the orch server sends frames of at most " + maxAnswer + " (server --max-frame)")));
            return false;
        }
        end(start);
        return true;
    }

    /**
     * Replaces the queued frame that takes bytes {@code start} to {@code end} with {@code frame};
     * the frames after it move, so replace the last first.
     */
    void replace(int start, int end, JsonObject frame) {
        byte[] after = new byte[buf.writerIndex() - end];
        buf.getBytes(end, after);
        buf.writerIndex(start);
        frame(frame);
        buf.writeBytes(after);
    }

    /** The queued frames, leaving this empty; null if none. The caller owns (and releases) them. */
    ByteBuf take() {
        ByteBuf b = buf;
        buf = null;
        stream = null;
        return b;
    }

    private int begin() {
        if (buf == null) {
            buf = Unpooled.buffer(512);
            stream = new ByteBufOutputStream(buf);
        }
        int start = buf.writerIndex();
        buf.writeInt(0);
        return start;
    }

    private void end(int start) {
        buf.setInt(start, buf.writerIndex() - start - 4);
    }

    /** Values the streaming encoder does not know (only the application's JSON mapper does). */
    private void fallback(int start, JsonObject frame) {
        buf.writerIndex(start);
        byte[] json = frame.toBuffer().getBytes();
        buf.writeInt(json.length);
        buf.writeBytes(json);
    }
}
