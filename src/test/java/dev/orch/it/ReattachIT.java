package dev.orch.it;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.orch.testing.Poll;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/** {@code orch connect} after its server is gone: it keeps trying, and says why it cannot attach again. */
class ReattachIT {
    @AfterAll
    static void stop() {
        Procs.killAll();
    }

    @Test
    void aWorkerRefusedWhenItAttachesAgainSaysWhy() throws Exception {
        Path key = Procs.keyFile("reattach-first-" + System.nanoTime());
        Procs.Server first = Procs.server(Map.of(), "--authkey-file", key.toString());
        Path log = Procs.tempDir("reattach-").resolve("connect.log");
        Process worker = Procs.start(List.of(Procs.launcher(), "connect", "--address", first.address,
                "--authkey-file", key.toString(), "--", "sleep", "1000"), Map.of(), log);
        try (var client = Procs.client(first.address, key)) {
            Poll.until(Procs.START_TIMEOUT, "the worker to attach", () -> Procs.psRows(client).encode().contains("\"sleep\",\"1000\""));
        }
        first.process.destroyForcibly();
        assertTrue(first.process.waitFor(30, TimeUnit.SECONDS));

        // Restarted on the same port without the key it had (an emptyDir ORCH_HOME, say).
        Path other = Procs.keyFile("reattach-other-" + System.nanoTime());
        Path dir = Procs.tempDir("reattach-server-");
        Process second = Procs.start(List.of(Procs.launcher(), "server", "--listen", first.address, "--authkey-file",
                other.toString()), Map.of("ORCH_READY_FILE", dir.resolve("ready").toString()), dir.resolve("server.log"));
        Procs.awaitReadyFile(dir.resolve("ready"), second, dir.resolve("server.log"));
        Poll.until(Duration.ofSeconds(40), "orch connect to say why it cannot attach again", () -> Procs.readOrEmpty(log).contains("cannot attach again"));
        assertTrue(worker.isAlive(), "orch connect keeps its command and keeps trying");
        String said = Procs.readOrEmpty(log);
        assertTrue(said.indexOf("cannot attach again") == said.lastIndexOf("cannot attach again"), "said once:\n" + said);
    }

}
