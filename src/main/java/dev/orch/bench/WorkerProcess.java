package dev.orch.bench;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A child process of the benchmark (the hosting worker, or one client): prints lines on stdout,
 * reads "go" on stdin; stopped when closed (a child takes the end of its stdin as the order to
 * stop, and so notices its parent's death too).
 *
 * <p>A thread reads each child's stdout as it comes, so that the parent hears at once when any
 * child of a group exits, not only the one it is waiting for. A client child also prints
 * "progress N" now and then (its timed calls so far): those lines feed {@link #progress()} and
 * show that the child is alive, and are not returned as lines.
 */
final class WorkerProcess implements AutoCloseable {
    /** End of the child's stdout (a distinct instance, compared by identity). */
    @SuppressWarnings("StringOperationCanBeSimplified")
    private static final String EOF = new String("<eof>");
    private static final String PROGRESS = "progress ";

    private final Process process;
    private final Writer in;
    private final BlockingQueue<String> lines = new LinkedBlockingQueue<>();
    private final AtomicLong progress = new AtomicLong();
    /** Notified on every line that is queued, so one thread can wait for a group of children. */
    private final Object signal;
    private final long startedAt = System.nanoTime();
    private volatile long lastHeard;

    WorkerProcess(List<String> command, Map<String, String> env, Object signal) throws IOException {
        ProcessBuilder pb = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.INHERIT);
        pb.environment().putAll(env);
        this.signal = signal;
        process = pb.start();
        in = new OutputStreamWriter(process.getOutputStream(), StandardCharsets.UTF_8);
        BufferedReader out = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
        Thread t = new Thread(() -> read(out), "bench-child-" + process.pid());
        t.setDaemon(true);
        t.start();
    }

    private void read(BufferedReader out) {
        try {
            String l;
            while ((l = out.readLine()) != null) {
                lastHeard = System.nanoTime();
                if (l.startsWith(PROGRESS)) {
                    try {
                        progress.set(Long.parseLong(l.substring(PROGRESS.length()).trim()));
                    } catch (NumberFormatException e) {
                        // Not ours to judge: the count stays as it was.
                    }
                    continue;
                }
                queue(l.trim());
            }
        } catch (IOException e) {
            // Closed: the same as the end.
        }
        queue(EOF);
    }

    private void queue(String l) {
        lines.add(l);
        synchronized (signal) {
            signal.notifyAll();
        }
    }

    /** Timed calls the child has reported so far. */
    long progress() {
        return progress.get();
    }

    /**
     * Waits until every child of {@code ps} (all sharing one signal) has said {@code word},
     * skipping other lines. Fails as soon as one of them exits, or when one says nothing at all
     * for {@code firstLineMillis} after it started, or nothing more for {@code silenceMillis}.
     */
    static void expectAll(List<WorkerProcess> ps, String word, long firstLineMillis, long silenceMillis) throws Exception {
        if (ps.isEmpty()) {
            return;
        }
        Object signal = ps.get(0).signal;
        List<WorkerProcess> waiting = new ArrayList<>(ps);
        synchronized (signal) {
            while (true) {
                for (java.util.Iterator<WorkerProcess> it = waiting.iterator(); it.hasNext(); ) {
                    if (it.next().took(word)) {
                        it.remove();
                    }
                }
                if (waiting.isEmpty()) {
                    return;
                }
                long now = System.nanoTime();
                for (WorkerProcess p : waiting) {
                    p.checkAlive(now, firstLineMillis, silenceMillis, word);
                }
                signal.wait(250);
            }
        }
    }

    /** Skips lines until {@code word}; see {@link #expectAll}. */
    void expect(String word, long firstLineMillis, long silenceMillis) throws Exception {
        expectAll(List.of(this), word, firstLineMillis, silenceMillis);
    }

    /** The next line, failing as {@link #expectAll} does. */
    String nextLine(long silenceMillis) throws Exception {
        synchronized (signal) {
            while (true) {
                String l = lines.poll();
                if (l == EOF) {
                    throw exited();
                }
                if (l != null) {
                    return l;
                }
                checkAlive(System.nanoTime(), silenceMillis, silenceMillis, "its result");
                signal.wait(250);
            }
        }
    }

    /** Consumes the queued lines up to {@code word}: true if it came. Throws if the child has exited. */
    private boolean took(String word) throws Exception {
        String l;
        while ((l = lines.poll()) != null) {
            if (l == EOF) {
                throw exited();
            }
            if (l.equals(word)) {
                return true;
            }
        }
        return false;
    }

    private void checkAlive(long now, long firstLineMillis, long silenceMillis, String word) {
        long heard = lastHeard;
        if (heard == 0 && now - startedAt > TimeUnit.MILLISECONDS.toNanos(firstLineMillis)) {
            throw new IllegalStateException("bench child process " + process.pid() + " did not start within "
                    + seconds(firstLineMillis) + " s");
        }
        if (heard != 0 && now - heard > TimeUnit.MILLISECONDS.toNanos(silenceMillis)) {
            throw new IllegalStateException("bench child process " + process.pid() + " silent for "
                    + seconds(silenceMillis) + " s, waiting for '" + word + "'");
        }
    }

    private static String seconds(long millis) {
        return java.math.BigDecimal.valueOf(millis, 3).stripTrailingZeros().toPlainString();
    }

    private IllegalStateException exited() throws InterruptedException {
        if (!process.waitFor(5, TimeUnit.SECONDS)) {
            return new IllegalStateException("bench child process " + process.pid() + " closed its output");
        }
        int code = process.exitValue();
        if (code > 128 && code < 160) {
            return new IllegalStateException("bench child process " + process.pid() + " was killed by signal "
                    + (code - 128) + " (exit code " + code + ")");
        }
        return new IllegalStateException("bench child process " + process.pid() + " exited (code " + code
                + "); see its stderr above");
    }

    /** Writes a line to the child; if it has exited, says so as {@link #expectAll} does. */
    void send(String line) throws Exception {
        try {
            in.write(line + "\n");
            in.flush();
        } catch (IOException e) {
            if (process.waitFor(5, TimeUnit.SECONDS)) {
                throw exited();
            }
            throw new IOException("cannot write to bench child process " + process.pid() + ": " + e.getMessage(), e);
        }
    }

    long pid() {
        return process.pid();
    }

    /** Closes the child's stdin (its order to stop), then waits a moment before killing it. */
    @Override
    public void close() {
        try {
            in.close();
        } catch (IOException e) {
            // Gone already.
        }
        try {
            if (!process.waitFor(2, TimeUnit.SECONDS)) {
                process.destroy();
                if (!process.waitFor(5, TimeUnit.SECONDS)) {
                    process.destroyForcibly();
                }
            }
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
        }
    }

    /** Closes every child at once: each is told to stop before the first is waited for. */
    static void closeAll(List<WorkerProcess> ps) {
        for (WorkerProcess p : ps) {
            try {
                p.in.close();
            } catch (IOException e) {
                // Gone already.
            }
        }
        ps.forEach(WorkerProcess::close);
    }
}
