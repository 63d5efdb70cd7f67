package dev.orch.process;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Drains one of a child's pipes into a {@link LogRing}, on a dedicated daemon thread.
 *
 * <p>Why a thread per pipe rather than NIO: the JDK exposes a child's pipes only as blocking
 * {@link InputStream}s (no selectable channel), and a thread blocked in {@code read} costs no CPU;
 * with a small stack, a thousand children cost two thousand parked threads and a little memory.
 * The thread does nothing but read, split and append, so the child is only ever held up by the
 * kernel's pipe buffer while we are busy copying, never by a slow client.
 */
final class PipeReader implements Runnable {
    /** Longer lines are cut into pieces of this size (marked {@code eol=false}). */
    static final int MAX_LINE = 64 * 1024;
    private static final int CHUNK = 64 * 1024;
    private static final long STACK = 256 * 1024;

    private final InputStream in;
    private final LogRing ring;
    private final boolean stderr;
    private final ByteArrayOutputStream partial = new ByteArrayOutputStream();

    private PipeReader(InputStream in, LogRing ring, boolean stderr) {
        this.in = in;
        this.ring = ring;
        this.stderr = stderr;
    }

    /** Starts a daemon thread that reads {@code in} until EOF. */
    static Thread start(InputStream in, LogRing ring, boolean stderr, String name) {
        Thread t = new Thread(null, new PipeReader(in, ring, stderr), name, STACK);
        t.setDaemon(true);
        t.start();
        return t;
    }

    @Override
    public void run() {
        byte[] buf = new byte[CHUNK];
        List<byte[]> lines = new ArrayList<>();
        List<Boolean> eols = new ArrayList<>();
        try (InputStream s = in) {
            int n;
            while ((n = s.read(buf)) > 0) {
                split(buf, n, lines, eols);
                if (!lines.isEmpty()) {
                    ring.append(stderr, lines, eols);
                    lines = new ArrayList<>();
                    eols = new ArrayList<>();
                }
            }
        } catch (IOException e) {
            // The stream closes when the process is destroyed; keep what we have.
        }
        if (partial.size() > 0) {
            lines.add(partial.toByteArray());
            eols.add(Boolean.FALSE);
            ring.append(stderr, lines, eols);
        }
    }

    private void split(byte[] buf, int n, List<byte[]> lines, List<Boolean> eols) {
        int start = 0;
        for (int i = 0; i < n; i++) {
            if (buf[i] == '\n') {
                if (partial.size() == 0) {
                    lines.add(Arrays.copyOfRange(buf, start, i));
                } else {
                    partial.write(buf, start, i - start);
                    lines.add(partial.toByteArray());
                    partial.reset();
                }
                eols.add(Boolean.TRUE);
                start = i + 1;
            } else if (partial.size() + (i + 1 - start) >= MAX_LINE) {
                partial.write(buf, start, i + 1 - start);
                lines.add(partial.toByteArray());
                eols.add(Boolean.FALSE);
                partial.reset();
                start = i + 1;
            }
        }
        if (start < n) {
            partial.write(buf, start, n - start);
        }
    }
}
