package dev.orch.it;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.orch.testing.Poll;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * orch in a locale without UTF-8 (LANG unset or C, as in many containers and cron jobs): text
 * crosses the command line, stdout and spawned commands' arguments as UTF-8, not as {@code ?}.
 */
class CliLocaleIT {
    static final Map<String, String> C_LOCALE = Map.of("LC_ALL", "C", "LANG", "C");
    static final String TEXT = "é😀";
    static Path key;
    static Procs.Server server;

    @BeforeAll
    static void start() {
        key = Procs.keyFile("locale-key-" + System.nanoTime());
        server = Procs.server(C_LOCALE, "--authkey-file", key.toString());
    }

    @AfterAll
    static void stop() {
        Procs.killAll();
    }

    static Procs.Result orch(String... args) {
        return run(HostingAcrossProcessesIT.at(server, key, args));
    }

    static Procs.Result run(String... args) {
        Procs.Result r = Procs.orch(C_LOCALE, args);
        assertEquals(0, r.exit, r::toString);
        return r;
    }

    @Test
    void textCrossesTheCommandLineAndStdoutAsUtf8() {
        orch("new", "Value", "text", "null");
        orch("call", "text", "set", TEXT);
        assertEquals("\"" + TEXT + "\"", orch("call", "text", "get").out.trim());
    }

    @Test
    void aLoneSurrogateIsPrintedAsItsEscape() {
        orch("new", "Value", "half", "\"a\\ud800b😀\"");
        assertEquals("\"a\\ud800b😀\"", orch("call", "half", "get", "-o", "json").out.trim());
    }

    @Test
    void spawnedCommandsGetTheArgumentsAsTyped() throws Exception {
        Path out = Procs.tempDir("locale-spawn-").resolve("out");
        run("spawn", "--address", server.address, "--authkey-file", key.toString(), "--", "sh", "-c", "printf %s \"$1\" > \"$2\"", "sh", TEXT, out.toString());
        Poll.until(Duration.ofSeconds(30), "the spawned command to write its argument", () -> out.toFile().length() > 0);
        assertEquals(TEXT, Files.readString(out, StandardCharsets.UTF_8));
    }
}
