package dev.orch.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.orch.testing.Poll;
import dev.orch.testing.TestCerts;
import io.vertx.core.json.JsonObject;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A TLS server's children, and {@code orch connect}'s command, reach it with no options: orch
 * hands them {@code ORCH_TLS_CA} beside {@code ORCH_ADDRESS} and {@code ORCH_AUTHKEY_FILE}.
 */
class TlsEnvironmentIT {
    static TestCerts.Pair certs;
    static Path key;
    static Procs.Server server;

    @BeforeAll
    static void start() throws Exception {
        certs = TestCerts.selfSigned(Procs.tempDir("tls-env-"), "orch");
        key = Procs.keyFile("tls-env-key-" + System.nanoTime());
        server = Procs.server(Map.of(), "--authkey-file", key.toString(),
                "--tls-cert", certs.cert.toString(), "--tls-key", certs.key.toString());
    }

    @AfterAll
    static void stop() {
        Procs.killAll();
    }

    /** {@code orch ARGS} at the server with the key, TLS settings from {@code env} only. */
    static Procs.Result orch(Map<String, String> env, String... args) {
        return Procs.orch(env, HostingAcrossProcessesIT.at(server, key, args));
    }

    @Test
    void clientsTakeTlsFromTheEnvironment() {
        Map<String, String> tls = Map.of("ORCH_TLS_CA", certs.cert.toString());
        Procs.Result made = orch(tls, "new", "Value", "env_v", "41");
        assertEquals(0, made.exit, made::toString);
        Procs.Result got = orch(tls, "call", "env_v", "get");
        assertEquals("41", got.out.trim(), got::toString);
        // Without it the client speaks plain TCP to a TLS port, and says so in one line.
        Procs.Result plain = orch(Map.of(), "call", "env_v", "get");
        assertEquals(3, plain.exit, plain::toString);
        assertEquals(1, plain.errLines().size(), plain::toString);
        Procs.Result bad = orch(Map.of("ORCH_TLS", "maybe"), "call", "env_v", "get");
        assertEquals(2, bad.exit, bad::toString);
        assertEquals(1, bad.errLines().size(), bad::toString);
        assertTrue(bad.err.contains("ORCH_TLS"), bad::toString);
    }

    @Test
    void aSpawnedChildReachesTheTlsServerWithNoOptions() {
        Map<String, String> tls = Map.of("ORCH_TLS_CA", certs.cert.toString());
        assertEquals(0, orch(tls, "new", "Value", "kid_v", "7").exit);
        // Options before "--": what follows is the child's command line, with none of them.
        Procs.Result spawned = Procs.orch(tls, "spawn", "--address", server.address, "--authkey-file", key.toString(),
                "--name", "tls-kid", "--", Procs.launcher(), "call", "kid_v", "get");
        assertEquals(0, spawned.exit, spawned::toString);
        JsonObject[] kid = new JsonObject[1];
        try (var client = dev.orch.client.OrchClient.connect(Procs.clientConfig(server.address, key).tls(true, certs.cert))) {
            Poll.until(Duration.ofSeconds(60), "the child to finish", () -> {
                kid[0] = Procs.psRows(client).stream().map(JsonObject.class::cast)
                        .filter(p -> "tls-kid".equals(p.getString("name"))).findFirst().orElse(null);
                return kid[0] != null && !List.of("starting", "running").contains(kid[0].getString("state"));
            });
        }
        Procs.Result logs = orch(tls, "logs", "tls-kid");
        assertEquals("exited", kid[0].getString("state"), () -> kid[0] + "\n" + logs);
        assertTrue(logs.out.lines().anyMatch("7"::equals), () -> kid[0] + "\n" + logs);
    }

    @Test
    void benchChildrenConnectAsTheBenchDoes() {
        // --tls-ca on the command line only: the worker and client processes must get it from the bench.
        Procs.Result r = Procs.orch(Map.of("ORCH_DIRECT_CERT", certs.cert.toString(), "ORCH_DIRECT_KEY", certs.key.toString()),
                HostingAcrossProcessesIT.at(server, key, "bench", "--tls-ca", certs.cert.toString(), "--processes",
                        "--clients", "1", "--calls", "200", "--warmup", "20", "--settle", "1",
                        "--scenarios", "method,hosted_method", "-o", "json"));
        assertEquals(0, r.exit, r::toString);
        List<String> scenarios = r.out.lines().filter(l -> !l.isBlank()).map(l -> new JsonObject(l).getString("scenario")).toList();
        assertEquals(List.of("method", "hosted_method"), scenarios, r::toString);
    }

    @Test
    void orchConnectHandsItsTlsSettingsToItsCommand() {
        Map<String, String> tls = Map.of("ORCH_TLS_CA", certs.cert.toString());
        assertEquals(0, orch(tls, "new", "Value", "conn_v", "9").exit);
        Procs.Result r = Procs.orch(Map.of(), "connect", server.address, "--authkey-file", key.toString(),
                "--tls-ca", certs.cert.toString(), "--name", "tls-conn", "--", Procs.launcher(), "call", "conn_v", "get");
        assertEquals(0, r.exit, r::toString);
        assertTrue(r.out.lines().anyMatch("9"::equals), r::toString);
        assertNotEquals("", r.out.trim());
    }
}
