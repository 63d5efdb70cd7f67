package dev.orch.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.orch.it.Procs;
import io.quarkus.test.junit.main.LaunchResult;
import io.quarkus.test.junit.main.QuarkusMainIntegrationTest;
import io.quarkus.test.junit.main.QuarkusMainLauncher;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/**
 * {@link CliCases} against the built artifact (the JVM jar, or the native executable with {@code
 * -Dnative}), plus what needs {@code target/orch} itself: servers as child processes.
 */
@QuarkusMainIntegrationTest
public class CliIT extends CliCases {

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
    void aKeyFileFromTheEnvironmentThatCannotBeReadExits3() {
        // Not an option of the command: no key to log in with, as when there is none at all.
        Procs.Result r = Procs.orch(Map.of("ORCH_AUTHKEY_FILE", "/nonexistent/orch-key"), "health", "--address", "127.0.0.1:1");
        assertEquals(3, r.exit, r::toString);
        assertEquals(java.util.List.of("orch: cannot read auth key file /nonexistent/orch-key: no such file"), r.errLines(), r::toString);
    }

    @Test
    void detachSaysWhyItCannotUseTheHome(@org.junit.jupiter.api.io.TempDir Path tmp) throws Exception {
        // It printed only a path ("orch: /x/afile/sub: Not a directory", or the log's path).
        Path file = Files.writeString(tmp.resolve("afile"), "");
        Path readOnly = Files.createDirectory(tmp.resolve("ro"));
        Files.setPosixFilePermissions(readOnly, java.nio.file.attribute.PosixFilePermissions.fromString("r-xr-xr-x"));
        Map<Path, String> cases = new java.util.LinkedHashMap<>();
        cases.put(file.resolve("sub"), "orch: cannot create the orch home " + file.resolve("sub") + ": not a directory");
        cases.put(file, "orch: cannot use " + file + " as the orch home: not a directory");
        if (!Files.isWritable(readOnly)) { // root may write anywhere
            cases.put(readOnly, "orch: cannot create log file " + readOnly.resolve("server-1.log") + ": permission denied");
        }
        for (Map.Entry<Path, String> c : cases.entrySet()) {
            Procs.Result r = Procs.orch(Map.of("ORCH_HOME", c.getKey().toString()), "server", "--detach", "--listen", "127.0.0.1:1",
                    "--authkey-file", keyFile.toString());
            assertEquals(1, r.exit, r::toString);
            assertEquals(java.util.List.of(c.getValue()), r.errLines(), r::toString);
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
    void aCallSetsUpNoJacksonDataBinding() throws Exception {
        // Vert.x's JsonObject.encode() and Json.decodeValue go through the application's mapper,
        // whose first use sets up Jackson data binding: a tenth of a second of every CLI command.
        // Arguments, frames and results take the streaming codec instead. (JVM launcher only: a
        // native executable has no class loading to log.)
        Procs.assumeJvmLauncher();
        Procs.Server s = Procs.server(Map.of(), "--object", "v=Value:[0]", "--authkey-file", keyFile.toString());
        try {
            Path log = Files.createTempFile("orch-classes-", ".log");
            Map<String, String> env = Map.of("ORCH_JAVA_OPTS", "-Xlog:class+load=info:file=" + log);
            Procs.Result set = Procs.orch(env, "call", "v", "set", "{\"a\":[1,2.5,\"é\"]}", "--address", s.address,
                    "--authkey-file", keyFile.toString());
            assertEquals(0, set.exit, set::toString);
            Procs.Result get = Procs.orch(env, "call", "v", "get", "--address", s.address, "--authkey-file", keyFile.toString());
            assertEquals(0, get.exit, get::toString);
            assertEquals("{\"a\":[1,2.5,\"é\"]}", get.out.trim());
            String classes = Files.readString(log);
            Files.delete(log);
            assertTrue(classes.contains("dev.orch.client.OrchClient "), "the class log is written");
            assertFalse(classes.contains("io.vertx.core.json.Json "), "io.vertx.core.json.Json was loaded");
            assertFalse(classes.contains("com.fasterxml.jackson.databind.ser.BeanSerializerFactory "), "a data-binding serializer was set up");
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
