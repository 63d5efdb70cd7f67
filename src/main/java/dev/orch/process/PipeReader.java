package dev.orch.process;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

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

    /**
     * How long an unfinished line (a prompt, a progress bar) may wait for its end before what
     * there is of it goes into the log as a piece of its own ({@code eol=false}): without this it
     * stayed out of {@code logs} and {@code logs -f} until a newline came or the process ended.
     * Long enough that a line a busy writer is still writing is not cut in two (which would show
     * as two lines in {@code --tail} and in JSON output), short enough for a person waiting.
     */
    static final long PARTIAL_AFTER_NANOS = TimeUnit.SECONDS.toNanos(1);

    private final InputStream in;
    private final LogRing ring;
    private final boolean stderr;
    /** The unfinished line; guarded by this, as {@link Partials} may take it. */
    private final ByteArrayOutputStream partial = new ByteArrayOutputStream();
    /** When {@link #partial} began, or 0 when it is empty; guarded by this. */
    private long partialSince;

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
        Partials.watch(this);
        try (InputStream s = in) {
            int n;
            while ((n = s.read(buf)) > 0) {
                synchronized (this) {
                    split(buf, n, lines, eols);
                    if (!lines.isEmpty()) {
                        ring.append(stderr, lines, eols);
                        lines = new ArrayList<>();
                        eols = new ArrayList<>();
                    }
                    partialSince = partial.size() == 0 ? 0 : partialSince != 0 ? partialSince : System.nanoTime();
                }
            }
        } catch (IOException e) {
            // The stream closes when the process is destroyed; keep what we have.
        } finally {
            Partials.unwatch(this);
        }
        synchronized (this) {
            flushPartial();
        }
    }

    /** Puts an unfinished line that has waited {@link #PARTIAL_AFTER_NANOS} into the log. */
    synchronized void flushStale(long now) {
        if (partialSince != 0 && now - partialSince >= PARTIAL_AFTER_NANOS) {
            flushPartial();
        }
    }

    private void flushPartial() {
        if (partial.size() > 0) {
            ring.append(stderr, List.of(partial.toByteArray()), List.of(Boolean.FALSE));
            partial.reset();
        }
        partialSince = 0;
    }

    /**
     * Looks at every open pipe's unfinished line a few times a second, on one daemon thread for
     * all of them: a reader blocked in {@code read} cannot time out (the JDK's pipes are plain
     * blocking streams). Started with the first pipe.
     */
    private static final class Partials {
        private static final Set<PipeReader> OPEN = ConcurrentHashMap.newKeySet();
        private static final ScheduledExecutorService TIMER = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "orch-log-partials");
            t.setDaemon(true);
            return t;
        });

        static {
            long period = PARTIAL_AFTER_NANOS / 2;
            TIMER.scheduleWithFixedDelay(() -> {
                long now = System.nanoTime();
                OPEN.forEach(r -> r.flushStale(now));
            }, period, period, TimeUnit.NANOSECONDS);
        }

        static void watch(PipeReader r) {
            OPEN.add(r);
        }

        static void unwatch(PipeReader r) {
            OPEN.remove(r);
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
