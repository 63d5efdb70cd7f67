package dev.orch.client;

import dev.orch.protocol.FrameCodec;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.io.InputStream;

/**
 * Bytes read from a blocking socket and not yet taken as frames (PROTOCOL.md §1: a 4-byte
 * big-endian length, then the JSON payload). For one reading thread at a time.
 */
final class FrameBuffer {
    private byte[] buf;
    private int start;
    private int end;

    FrameBuffer(int initialSize) {
        buf = new byte[initialSize];
    }

    /** Whether the next frame's length prefix is in. */
    boolean hasLength() {
        return end - start >= 4;
    }

    /** The payload length the next frame announces (negative when above {@code Integer.MAX_VALUE}). */
    int length() {
        return ((buf[start] & 0xff) << 24) | ((buf[start + 1] & 0xff) << 16)
                | ((buf[start + 2] & 0xff) << 8) | (buf[start + 3] & 0xff);
    }

    /** Whether the whole next frame, of payload length {@code len}, is in. */
    boolean holds(int len) {
        return end - start - 4 >= len;
    }

    /**
     * Parses the next frame, of payload length {@code len}, and drops it; a payload that is not
     * a JSON object is dropped too (the framing is intact) and throws the codec's 400.
     */
    JsonObject take(int len) {
        int at = start + 4;
        start += 4 + len;
        if (start == end) {
            start = 0;
            end = 0;
        }
        // Nothing overwrites the dropped bytes before the next fill.
        return FrameCodec.decode(buf, at, len);
    }

    /** Reads what the stream has; false at the end of the stream. */
    boolean fill(InputStream in) throws IOException {
        // A length above Integer.MAX_VALUE reads negative here: callers refuse those first.
        makeRoom(hasLength() ? 4L + length() : 4);
        int n = in.read(buf, end, buf.length - end);
        if (n < 0) {
            return false;
        }
        end += n;
        return true;
    }

    /**
     * Ensures there is space to read into, for a next frame of {@code frameSize} bytes with its
     * length. The buffer grows as the frame arrives, doubling what is held but never past the
     * frame: a peer that announces a large frame and sends little of it gets little memory, and
     * a large frame still costs linear time.
     */
    private void makeRoom(long frameSize) {
        if (end < buf.length) {
            return;
        }
        int held = end - start;
        // The frame is not all in (held < frameSize), so from a full buffer (start 0) this grows.
        long size = Math.min(frameSize, Math.max(2L * held, buf.length));
        byte[] target = size > buf.length ? new byte[(int) size] : buf;
        System.arraycopy(buf, start, target, 0, held);
        end = held;
        start = 0;
        buf = target;
    }

    /** Bytes allocated now (for tests of how memory follows the input). */
    int allocated() {
        return buf.length;
    }
}
