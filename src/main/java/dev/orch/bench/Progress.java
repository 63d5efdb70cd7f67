package dev.orch.bench;

import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.BooleanSupplier;
import java.util.function.LongSupplier;

/**
 * A progress line on stderr, rewritten in place every quarter second while a scenario runs:
 * "warming up" until the clients start timing, then the timed calls done so far.
 */
public class Progress {
    /** Shows nothing (stderr is not a terminal). */
    public static final Progress NONE = new Progress(null);

    private final PrintStream err;
    private volatile Thread ticker;

    public Progress(PrintStream err) {
        this.err = err;
    }

    /** Whether this shows anything (clients in other processes then report their counts more often). */
    public boolean shown() {
        return err != null;
    }

    /**
     * Whether this process's stderr is a terminal: the progress line is for a person watching
     * stderr, whatever stdout is ({@code orch bench > out.json} shows it; {@code 2> file} must
     * not get escape sequences). Java 17 has no isatty, and {@code System.console()} needs stdin
     * and stdout to be terminals; on Linux {@code /proc/self/fd/2} names the terminal device,
     * which costs one readlink and works in a native image too. Elsewhere (no /proc) the
     * console decides. TERM=dumb: a terminal that cannot take the escape sequences.
     */
    public static boolean stderrIsTerminal() {
        if ("dumb".equals(System.getenv("TERM"))) {
            return false;
        }
        Path fd2 = Path.of("/proc/self/fd/2");
        if (Files.exists(Path.of("/proc/self/fd"))) {
            try {
                return isTerminalDevice(Files.readSymbolicLink(fd2).toString());
            } catch (Exception e) {
                return false; // closed, or not a link: no terminal to draw on
            }
        }
        return System.console() != null;
    }

    /** A terminal's device path: a pseudo-terminal, a virtual console or a serial line. */
    static boolean isTerminalDevice(String path) {
        return path.startsWith("/dev/pts/") || path.startsWith("/dev/tty") || path.equals("/dev/console");
    }

    void start(String label, long expected, LongSupplier done, BooleanSupplier timing) {
        if (err == null) {
            return;
        }
        Thread t = new Thread(() -> {
            long t0 = System.nanoTime();
            long timed0 = 0;
            while (!Thread.currentThread().isInterrupted()) {
                long now = System.nanoTime();
                if (timed0 == 0 && timing.getAsBoolean()) {
                    timed0 = now;
                }
                if (timed0 == 0) {
                    err.printf("\r\033[Korch bench: %s  warming up  %.1f s", label, (now - t0) / 1e9);
                } else {
                    err.printf("\r\033[Korch bench: %s  %,d/%,d  %.1f s", label, done.getAsLong(), expected, (now - timed0) / 1e9);
                }
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
