package dev.orch.bench;

import java.io.PrintStream;
import java.util.concurrent.atomic.AtomicLong;

/** A progress line on stderr, rewritten in place every quarter second while a scenario runs. */
public class Progress {
    /** Shows nothing (not a terminal, or JSON for a machine). */
    public static final Progress NONE = new Progress(null);

    private final PrintStream err;
    private volatile Thread ticker;

    public Progress(PrintStream err) {
        this.err = err;
    }

    void start(String label, long expected, AtomicLong done) {
        if (err == null) {
            return;
        }
        Thread t = new Thread(() -> {
            long t0 = System.nanoTime();
            while (!Thread.currentThread().isInterrupted()) {
                long n = done.get();
                double secs = (System.nanoTime() - t0) / 1e9;
                err.printf("\r\033[Korch bench: %s  %,d/%,d  %.1f s", label, n, expected, secs);
                err.flush();
                try {
                    Thread.sleep(250);
                } catch (InterruptedException e) {
                    return;
                }
            }
        }, "bench-progress");
        t.setDaemon(true);
        ticker = t;
        t.start();
    }

    void stop() {
        Thread t = ticker;
        if (t != null) {
            t.interrupt();
            try {
                t.join(1000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            err.print("\r\033[K");
            err.flush();
            ticker = null;
        }
    }
}
