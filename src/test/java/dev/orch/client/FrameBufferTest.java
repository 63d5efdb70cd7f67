package dev.orch.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.orch.protocol.FrameCodec;
import io.vertx.core.json.JsonObject;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import org.junit.jupiter.api.Test;

/** The blocking reader's buffer (client, and a worker's direct port) takes memory as bytes arrive. */
class FrameBufferTest {

    /** A stream that hands out at most {@code chunk} bytes per read, as a socket does. */
    private static InputStream chunked(byte[] bytes, int chunk) {
        return new ByteArrayInputStream(bytes) {
            @Override
            public synchronized int read(byte[] b, int off, int len) {
                return super.read(b, off, Math.min(len, chunk));
            }
        };
    }

    @Test
    void aLargeFrameGrowsTheBufferWithWhatArrivedNotWithItsAnnouncedLength() throws IOException {
        String big = "x".repeat(15 * 1000 * 1000);
        byte[] frame = FrameCodec.encodeBytes(new JsonObject().put("type", "send").put("big", big));
        FrameBuffer b = new FrameBuffer(16 * 1024);
        InputStream in = chunked(frame, 64 * 1024);
        int received = 0;
        while (!(b.hasLength() && b.holds(b.length()))) {
            assertTrue(b.fill(in));
            received = frame.length - in.available();
            assertTrue(b.allocated() <= Math.max(2 * received, 16 * 1024), b.allocated() + " bytes held for " + received);
        }
        assertEquals(frame.length, received);
        assertEquals(big, b.take(b.length()).getString("big"));
    }

    @Test
    void aPeerThatAnnouncesMuchAndSendsLittleGetsLittle() throws IOException {
        FrameBuffer b = new FrameBuffer(16 * 1024);
        byte[] start = new byte[20 * 1024];
        start[0] = 0x7f;
        InputStream in = chunked(start, 64 * 1024);
        while (in.available() > 0) {
            assertTrue(b.fill(in));
        }
        assertTrue(b.allocated() <= 40 * 1024, b.allocated() + " bytes held for 20 KiB of a 2 GB frame");
    }
}
