package dev.orch.protocol;

import io.vertx.core.Handler;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import java.util.function.Consumer;
import java.util.function.Supplier;

/**
 * Incremental parser of length-prefixed frames. The announced length is checked against the
 * limit before any of the payload is buffered, and the buffer for a frame grows with the bytes
 * that arrive, not with the length announced: a frame being received holds at most about twice
 * what has arrived of it, and no more than its length, itself at most {@code maxFrame}.
 */
public final class FrameParser implements Handler<Buffer> {
    /** The least a buffer for a partial frame is given, when the frame needs that much. */
    private static final int MIN_ROOM = 4096;

    /** What the parser found. */
    public interface Listener {
        void onFrame(JsonObject frame);

        /** A complete frame whose payload was not a JSON object orch takes; the stream stays in sync. */
        void onMalformed(MalformedFrame error);

        /** A length outside {@code 1..maxFrame}; the parser stops, the stream cannot be trusted. */
        void onTooLarge(long announced);

        /**
         * The stream ended (see {@link #end}) and every whole frame before the end was handed on;
         * a frame cut short by the end is dropped.
         */
        default void onEnd() {
        }
    }

    /**
     * Decodes a large payload away from the thread that reads the stream. {@code decode} gives
     * the frame, or the {@link MalformedFrame} it raised; {@code deliver} must then be called
     * with that, on the reading thread. Nothing after the frame is parsed until then.
     */
    public interface Offload {
        void decode(Supplier<Object> decode, Consumer<Object> deliver);
    }

    private int maxFrame;
    private final Listener listener;
    private Offload offload;
    private int offloadAbove = Integer.MAX_VALUE;
    /** A frame is being decoded by the offload: arriving bytes are held, not parsed. */
    private boolean decoding;
    /** The unread tail of the stream, when there is one; it starts with the frame being received. */
    private Buffer pending;
    /** Bytes allocated for {@link #pending}. */
    private int capacity;
    private int expected = -1;
    private boolean failed;
    /** The stream ended while a frame was decoded elsewhere: the listener hears so after it. */
    private boolean ended;

    public FrameParser(int maxFrame, Listener listener) {
        this.maxFrame = maxFrame;
        this.listener = listener;
    }

    /** The largest payload taken now. */
    public int maxFrame() {
        return maxFrame;
    }

    /**
     * Changes the largest payload taken, from the next length read on: a server raises it once
     * its peer has logged in. May be called from a listener's callback.
     */
    public void maxFrame(int bytes) {
        this.maxFrame = bytes;
    }

    /**
     * Has payloads longer than {@code bytes} decoded by {@code offload}: a frame of megabytes
     * takes its parser tens to hundreds of milliseconds, which an event loop's other
     * connections would otherwise wait out. Frames keep their order.
     */
    public void offload(int bytes, Offload offload) {
        this.offloadAbove = bytes;
        this.offload = offload;
    }

    /**
     * Stops parsing and lets go of any partial frame: for a connection being closed, which may
     * linger a while (its last output being written) and should not hold up to a frame meanwhile.
     */
    public void stop() {
        failed = true;
        pending = null;
        capacity = 0;
    }

    /**
     * The stream has ended: once the frames before the end are handed on (one may be decoded
     * elsewhere, with bytes held behind it), the listener's {@link Listener#onEnd} is called,
     * once. Nothing is parsed after it.
     */
    public void end() {
        if (decoding) {
            ended = true;
            return;
        }
        finish();
    }

    private void finish() {
        boolean stopped = failed;
        stop();
        if (!stopped) {
            listener.onEnd();
        }
    }

    /** Bytes allocated for a partial frame now (for tests of how memory follows the input). */
    int allocated() {
        return pending == null ? 0 : capacity;
    }

    @Override
    public void handle(Buffer chunk) {
        if (failed) {
            return;
        }
        if (decoding) {
            // A reader is normally paused meanwhile; what it had read already waits its turn.
            hold(chunk);
            return;
        }
        Buffer buf;
        if (pending == null) {
            buf = chunk;
        } else {
            reserve(pending.length() + chunk.length());
            buf = pending.appendBuffer(chunk);
        }
        boolean own = buf == pending;
        int pos = 0;
        int len = buf.length();
        while (!failed) {
            if (expected < 0) {
                if (len - pos < 4) {
                    break;
                }
                long announced = buf.getUnsignedInt(pos);
                pos += 4;
                if (announced <= 0 || announced > maxFrame) {
                    failed = true;
                    pending = null;
                    listener.onTooLarge(announced);
                    return;
                }
                expected = (int) announced;
            }
            if (len - pos < expected) {
                break;
            }
            Buffer payload = buf.slice(pos, pos + expected);
            pos += expected;
            boolean elsewhere = offload != null && expected > offloadAbove;
            expected = -1;
            if (elsewhere) {
                // The payload is a slice of a buffer nobody writes to again: the socket's chunk,
                // or a pending buffer replaced below by a copy of the tail.
                decoding = true;
                pending = null;
                if (pos < len) {
                    int tail = len - pos;
                    capacity = Math.max(tail, MIN_ROOM);
                    pending = Buffer.buffer(capacity).appendBuffer(buf, pos, tail);
                }
                offload.decode(() -> decodeOrError(payload), this::delivered);
                return;
            }
            JsonObject frame;
            try {
                frame = FrameCodec.decode(payload);
            } catch (MalformedFrame e) {
                listener.onMalformed(e);
                continue;
            }
            listener.onFrame(frame);
        }
        if (pos >= len) {
            pending = null;
        } else if (!own || pos > 0) {
            // Keep only the unread tail, copied so the socket's buffer is not retained; the chunks
            // still to come are appended to it in place (see reserve).
            int tail = len - pos;
            capacity = room(tail);
            pending = Buffer.buffer(capacity).appendBuffer(buf, pos, tail);
        }
        // Otherwise pending already holds just the frame being received; it stays as it is.
    }

    private static Object decodeOrError(Buffer payload) {
        try {
            return FrameCodec.decode(payload);
        } catch (MalformedFrame e) {
            return e;
        }
    }

    /** The offloaded frame, back on the reading thread: handed on, then the held bytes parsed. */
    private void delivered(Object decoded) {
        decoding = false;
        if (failed) {
            return;
        }
        if (decoded instanceof JsonObject frame) {
            listener.onFrame(frame);
        } else {
            listener.onMalformed((MalformedFrame) decoded);
        }
        if (!failed && !decoding && pending != null) {
            Buffer held = pending;
            pending = null;
            capacity = 0;
            handle(held);
        }
        if (ended && !decoding) {
            ended = false;
            finish();
        }
    }

    /** Appends {@code chunk} to the held bytes while a frame is decoded elsewhere. */
    private void hold(Buffer chunk) {
        if (pending == null) {
            capacity = Math.max(chunk.length(), MIN_ROOM);
            pending = Buffer.buffer(capacity).appendBuffer(chunk);
            return;
        }
        int size = pending.length() + chunk.length();
        if (size > capacity) {
            capacity = (int) Math.min(Integer.MAX_VALUE - 8, Math.max(2L * capacity, size));
            pending = Buffer.buffer(capacity).appendBuffer(pending);
        }
        pending.appendBuffer(chunk);
    }

    /**
     * Makes {@link #pending} able to hold {@code size} bytes. It grows by doubling, so a large
     * frame costs time linear in its size (copying the tail again per chunk took 13 s for 15 MB),
     * while its memory follows what has arrived, not the length announced.
     */
    private void reserve(int size) {
        if (size <= capacity) {
            return;
        }
        capacity = room(size);
        pending = Buffer.buffer(capacity).appendBuffer(pending);
    }

    /**
     * Room for a buffer that starts with {@code held} bytes of the stream: twice as much (at least
     * {@link #MIN_ROOM}), but no more than the frame being received needs.
     */
    private int room(int held) {
        if (expected < 0 || expected <= held) {
            // A partial length, or bytes that complete the frame: parsed as they are.
            return held;
        }
        return (int) Math.min(expected, Math.max(2L * held, MIN_ROOM));
    }
}
