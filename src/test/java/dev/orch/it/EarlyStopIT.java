package dev.orch.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/**
 * Commands stopped while they start exit, whenever the SIGTERM comes. A server (a pod deleted as
 * soon as it was created): before its handler was in place the JVM's shutdown had waited for a
 * stop that never came, and the server served on.
 */
class EarlyStopIT {
    static final java.util.regex.Pattern STACK_TRACE = java.util.regex.Pattern.compile("(?m)^\\s+at [\\w$.]+\\(|Exception|^Caused by:");

    @AfterAll
    static void stop() {
        Procs.killAll();
    }

    @Test
    void aServerSignalledWhileStartingExits() throws Exception {
        Path key = Procs.keyFile("early-stop-" + System.nanoTime());
        signalWhileStarting("server", List.of("server", "--listen", "127.0.0.1:0", "--authkey-file", key.toString()));
    }

    /**
     * {@code orch connect -- CMD} signalled while it attaches: the SIGTERM reaches CMD once it
     * runs. It had been dropped when CMD was not running yet or not yet recorded, and CMD ran on.
     */
    @Test
    void aWorkerSignalledWhileAttachingEnds() throws Exception {
        Path key = Procs.keyFile("early-connect-" + System.nanoTime());
        Procs.Server server = Procs.server(Map.of(), "--authkey-file", key.toString());
        signalWhileStarting("orch connect", List.of("connect", "--address", server.address, "--authkey-file", key.toString(),
                "--", "sleep", "1000"));
    }

    /** Stopped while it waits for a server that is not there, orch connect ends at once, CMD never started. */
    @Test
    void aWorkerStoppedWhileItCannotAttachEndsWithoutStartingItsCommand() throws Exception {
        Path key = Procs.keyFile("no-server-" + System.nanoTime());
        int port;
        try (java.net.ServerSocket s = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            port = s.getLocalPort(); // closed again: nothing listens there
        }
        Path marker = Procs.tempDir("no-server-").resolve("started");
        Path log = marker.resolveSibling("out.log");
        Process p = Procs.start(List.of(Procs.launcher(), "connect", "--address", "127.0.0.1:" + port, "--authkey-file",
                key.toString(), "--timeout", "120", "--", "sh", "-c", "touch \"$0\"; exec sleep 1000", marker.toString()),
                Map.of(), log);
        Thread.sleep(3000); // started, and retrying its attach
        p.destroy();
        assertTrue(p.waitFor(20, TimeUnit.SECONDS), "orch connect still waits for its attach; its output:\n" + Procs.readOrEmpty(log));
        assertEquals(143, p.exitValue(), () -> "exit code; output:\n" + Procs.readOrEmpty(log));
        assertFalse(Files.exists(marker), "the command was started after all");
    }


    /**
     * A client command stopped while it starts ends with the signal's code (143, 130) and prints
     * nothing. When the signal came after Quarkus had started but while picocli was building the
     * commands (their CDI container stopped under it by the JVM's shutdown), Quarkus logged
     * "Failed to start application" with a 25-line stack trace. The moments are found in the
     * JVM's class-load log (ORCH_JAVA_OPTS); a native executable is signalled after delays.
     */
    @Test
    void aCommandSignalledWhileStartingEndsWithoutAWord() throws Exception {
        Path key = Procs.keyFile("early-command-" + System.nanoTime());
        Procs.Server server = Procs.server(Map.of(), "--authkey-file", key.toString());
        boolean jvm = Procs.isJvmLauncher();
        // Quarkus making its Vert.x, then picocli building the commands: the window where it
        // broke, a few tens of milliseconds, is between OrchCommand and the last command.
        String[] moments = jvm
                ? new String[] {"io.vertx.core.impl.VertxBuilder ", "dev.orch.cli.OrchCommand ", "dev.orch.cli.SpawnCommand ",
                    "dev.orch.cli.EventsCommand "}
                : new String[] {"5", "20", "50", "100"};
        Path dir = Procs.tempDir("early-command-");
        List<Process> started = new ArrayList<>();
        List<String> what = new ArrayList<>();
        List<java.util.concurrent.CompletableFuture<Void>> signalled = new ArrayList<>();
        // A thread each: every command is watched for its moment at the same time (the load
        // only widens the windows).
        java.util.concurrent.ExecutorService watchers = java.util.concurrent.Executors.newCachedThreadPool();
        try {
            for (String moment : moments) {
                for (String signal : new String[] {"TERM", "INT"}) {
                    int i = started.size();
                    Path classes = dir.resolve("classes-" + i);
                    ProcessBuilder pb = new ProcessBuilder(Procs.launcher(), "events", "--address", server.address,
                            "--authkey-file", key.toString())
                            .redirectOutput(dir.resolve("out-" + i).toFile()).redirectError(dir.resolve("err-" + i).toFile());
                    Procs.isolate(pb.environment(), jvm ? Map.of("ORCH_JAVA_OPTS", "-Xlog:class+load=info:file=" + classes) : Map.of());
                    Process p = pb.start();
                    Procs.track(p.pid());
                    started.add(p);
                    String label = "orch events with SIG" + signal + " at " + moment.strip();
                    what.add(label);
                    signalled.add(java.util.concurrent.CompletableFuture.runAsync(() -> {
                        try {
                            if (jvm) {
                                Procs.awaitText(classes, moment, p, Procs.START_TIMEOUT);
                            } else {
                                Thread.sleep(Long.parseLong(moment));
                            }
                            new ProcessBuilder("kill", "-s", signal, String.valueOf(p.pid())).start().waitFor();
                        } catch (Exception e) {
                            throw new AssertionError(label, e);
                        }
                    }, watchers));
                }
            }
            for (java.util.concurrent.CompletableFuture<Void> f : signalled) {
                f.get(Procs.START_TIMEOUT.toSeconds() + 10, TimeUnit.SECONDS);
            }
        } finally {
            watchers.shutdownNow();
        }
        for (int i = 0; i < started.size(); i++) {
            Process p = started.get(i);
            String w = what.get(i);
            Path err = dir.resolve("err-" + i);
            assertTrue(p.waitFor(60, TimeUnit.SECONDS), w + ": still running; stderr:\n" + Procs.readOrEmpty(err));
            assertEquals(w.contains("SIGTERM") ? 143 : 130, p.exitValue(), () -> w + ": exit code; stderr:\n" + Procs.readOrEmpty(err));
            assertEquals("", Procs.readOrEmpty(err), w + ": stderr");
        }
    }

    /**
     * Starts {@code orch ARGS} four times, SIGTERMs each at another moment of its start, and sees
     * each end without a stack trace.
     */
    private static void signalWhileStarting(String what, List<String> args) throws Exception {
        long[] delaysMs = {300, 900, 1500, 2200};
        List<Process> started = new ArrayList<>();
        List<Path> logs = new ArrayList<>();
        for (int i = 0; i < delaysMs.length; i++) {
            Path log = Procs.tempDir("early-stop-").resolve("out.log");
            logs.add(log);
            List<String> cmd = new ArrayList<>(List.of(Procs.launcher()));
            cmd.addAll(args);
            started.add(Procs.start(cmd, Map.of(), log));
        }
        long start = System.nanoTime();
        for (int i = 0; i < delaysMs.length; i++) {
            long wait = delaysMs[i] - (System.nanoTime() - start) / 1_000_000;
            if (wait > 0) {
                Thread.sleep(wait);
            }
            started.get(i).destroy(); // SIGTERM
        }
        for (int i = 0; i < delaysMs.length; i++) {
            Process p = started.get(i);
            assertTrue(p.waitFor(60, TimeUnit.SECONDS), what + " signalled " + delaysMs[i]
                    + " ms after its launch is still running; its output:\n" + Procs.readOrEmpty(logs.get(i)));
            String output = Procs.readOrEmpty(logs.get(i));
            assertFalse(STACK_TRACE.matcher(output).find(), what + " signalled " + delaysMs[i]
                    + " ms after its launch printed a stack trace:\n" + output);
        }
    }
}
