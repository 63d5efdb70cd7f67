package dev.orch.bench;

import dev.orch.client.ClientConfig;
import dev.orch.client.OrchClient;
import dev.orch.protocol.FrameCodec;
import io.vertx.core.Vertx;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.PrintStream;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.atomic.AtomicLong;

/** The two roles of {@code orch bench-worker}: a client of {@code --processes}, and the UtilityClass host. */
public final class ChildMain {
    /** Exit code of a client whose parent went away (or told it to stop) before it was done. */
    static final int PARENT_GONE = 1;

    private ChildMain() {
    }

    /** Hosts UtilityClass, prints "ready", and serves until stdin closes. */
    public static void host(Vertx vertx, ClientConfig config, BufferedReader stdin, PrintStream out) throws IOException {
        try (OrchClient c = OrchClient.connect(config.name("orch-bench-worker"))) {
            c.host(Scenario.UTILITY, Utility.EXPOSED, (a, k) -> new Utility());
            out.println("ready");
            out.flush();
            while (stdin.readLine() != null) {
                // Nothing to do: the parent closes stdin to stop us.
            }
        }
    }

    /**
     * Runs one client: "ready" once warmed up, waits for "go", prints "done" when its timed calls
     * are over, then waits for "report" and prints one JSON result line. Meanwhile it prints
     * "progress N" (timed calls so far) every {@code progressMillis}: the parent's progress line,
     * and its sign that this process is alive.
     *
     * <p>The end of stdin before the result is printed means the parent is gone (killed, or
     * stopping its clients after another one failed): the process then stops at once, whatever
     * it is doing, and says nothing (the parent, if any, reports what went wrong). See
     * {@link #watchParent}, which the caller starts first of all.
     */
    public static void client(Vertx vertx, ClientConfig config, Scenario s, BenchSettings settings,
            ParentLink parent, PrintStream out, long progressMillis) throws Exception {
        AtomicLong done = new AtomicLong();
        Thread beat = new Thread(() -> {
            while (!Thread.currentThread().isInterrupted()) {
                out.println("progress " + done.get());
                out.flush();
                try {
                    Thread.sleep(progressMillis);
                } catch (InterruptedException e) {
                    return;
                }
            }
        }, "bench-progress");
        beat.setDaemon(true);
        beat.start();
        ClientRun.StartGate gate = () -> {
            say(out, "ready");
            parent.await("go");
        };
        ClientRun run = new ClientRun(settings, done);
        ClientResult r;
        if (s == Scenario.TCP_PINGPONG) {
            r = run.pingPong(config.host(), config.port(), gate);
            sayDone(out, done);
            parent.await("report");
        } else {
            try (OrchClient c = OrchClient.connect(config.name("orch-bench-client"))) {
                r = run.run(s, c, gate);
                sayDone(out, done);
                parent.await("report");
            }
        }
        beat.interrupt();
        beat.join(1000);
        parent.finished();
        out.println(FrameCodec.toJson(r.toJson()));
        out.flush();
    }

    private static void say(PrintStream out, String word) {
        out.println(word);
        out.flush();
    }

    /** "done", after the final count (the heartbeat's may be a quarter second old). */
    private static void sayDone(PrintStream out, AtomicLong done) {
        out.println("progress " + done.get());
        out.println("done");
        out.flush();
    }

    /**
     * Starts reading the parent's lines: call it before anything else, so that a client whose
     * parent died while it started (its key copy gone with the parent) stops at once, silently.
     */
    public static ParentLink watchParent(BufferedReader stdin) {
        return new ParentLink(stdin);
    }

    /**
     * The parent's lines, read by a thread of their own so that the end of stdin is seen at once,
     * not at the next handshake: a client whose parent was killed would otherwise go on calling
     * the server until its timed calls were over.
     *
     * <p>The parent says "go" to every client at once, and asks for results ("report") only once
     * every client is "done": compressing the histogram, encoding it, closing the connection and
     * the JVM's exit all take CPU that would otherwise slow the clients still being timed (with
     * four client JVMs on two CPUs, a first JSON encoding that set up data binding cost the others
     * a tenth of their rate).
     */
    public static final class ParentLink {
        private final BlockingQueue<String> lines = new LinkedBlockingQueue<>();
        private volatile boolean finished;

        private ParentLink(BufferedReader stdin) {
            Thread t = new Thread(() -> {
                try {
                    String l;
                    while ((l = stdin.readLine()) != null) {
                        lines.add(l.trim());
                    }
                } catch (IOException e) {
                    // Closed: the same as the end.
                }
                if (!finished) {
                    // halt, not exit: no shutdown hook may keep a client calling for its parent.
                    Runtime.getRuntime().halt(PARENT_GONE);
                }
            }, "bench-parent");
            t.setDaemon(true);
            t.start();
        }

        void await(String word) throws InterruptedException {
            while (!lines.take().equals(word)) {
                // Wait for the parent.
            }
        }

        /** From here on the end of stdin is expected. */
        void finished() {
            finished = true;
        }
    }
}
