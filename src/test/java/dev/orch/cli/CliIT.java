package dev.orch.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.orch.it.Procs;
import io.quarkus.test.junit.main.LaunchResult;
import io.quarkus.test.junit.main.QuarkusMainIntegrationTest;
import io.quarkus.test.junit.main.QuarkusMainLauncher;
import java.nio.file.Files;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/**
 * {@link CliTest}'s assertions against the built artifact (the JVM jar, or the native executable
 * with {@code -Dnative}), plus what needs {@code target/orch} itself: servers as child processes.
 */
@QuarkusMainIntegrationTest
public class CliIT extends CliTest {

    @AfterAll
    static void killChildren() {
        Procs.killAll();
    }

    @Test
    void aBadDirectSettingIsAOneLineUsageError() {
        for (String bad : new String[] {"sometimes", "0.0.0.0:7000"}) {
            Procs.Result r = Procs.orch(Map.of("ORCH_DIRECT", bad),
                    "types", "--address", "127.0.0.1:1", "--authkey-file", keyFile.toString());
            assertEquals(2, r.exit, r::toString);
            assertTrue(r.err.contains("orch: ORCH_DIRECT"), r::toString);
            assertEquals(1, r.errLines().size(), r::toString);
        }
    }

    @Test
    void serverObjectOptionCreatesAnObject(QuarkusMainLauncher l) throws Exception {
        Procs.Server s = Procs.server(Map.of(), "--object", "greeting=Value:[\"educative\"]", "--authkey-file", keyFile.toString());
        try {
            LaunchResult r = l.launch(at(s.address, keyFile, "call", "greeting", "get"));
            assertExit(0, r);
            assertEquals("\"educative\"", r.getOutput().trim());
        } finally {
            s.process.destroy();
            assertTrue(s.process.waitFor(30, TimeUnit.SECONDS), s::log);
        }
    }

    @Test
    void shutdownStopsAChildServerWithExit0(QuarkusMainLauncher l) throws Exception {
        Procs.Server s = Procs.server(Map.of(), "--authkey-file", keyFile.toString());
        assertEquals(s.process.pid(), s.pid, "the ready file names the server's own pid");
        LaunchResult r = l.launch(at(s.address, keyFile, "shutdown"));
        assertExit(0, r);
        assertTrue(s.process.waitFor(30, TimeUnit.SECONDS), () -> "server still running after 'orch shutdown':\n" + s.log());
        assertEquals(0, s.process.exitValue(), s::log);
        assertTrue(Files.exists(s.log));
    }
}
