package dev.orch.it;

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
 * A server stopped while it starts (a pod deleted as soon as it was created) exits, whenever the
 * SIGTERM comes: before its handler is in place the JVM's shutdown had waited for a stop that
 * never came, and the server served on.
 */
class EarlyStopIT {
    @AfterAll
    static void stop() {
        Procs.killAll();
    }

    @Test
    void aServerSignalledWhileStartingExits() throws Exception {
        Path key = Procs.keyFile("early-stop-" + System.nanoTime());
        long[] delaysMs = {300, 900, 1500, 2200};
        List<Process> servers = new ArrayList<>();
        List<Path> logs = new ArrayList<>();
        for (int i = 0; i < delaysMs.length; i++) {
            Path log = Procs.tempDir("early-stop-").resolve("server.log");
            logs.add(log);
            servers.add(Procs.start(List.of(Procs.launcher(), "server", "--listen", "127.0.0.1:0",
                    "--authkey-file", key.toString()), Map.of(), log));
        }
        long start = System.nanoTime();
        for (int i = 0; i < delaysMs.length; i++) {
            long wait = delaysMs[i] - (System.nanoTime() - start) / 1_000_000;
            if (wait > 0) {
                Thread.sleep(wait);
            }
            servers.get(i).destroy(); // SIGTERM
        }
        for (int i = 0; i < delaysMs.length; i++) {
            Process p = servers.get(i);
            assertTrue(p.waitFor(60, TimeUnit.SECONDS), "the server signalled " + delaysMs[i]
                    + " ms after its launch is still running; its log:\n" + Files.readString(logs.get(i)));
        }
    }
}
