package dev.orch.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.orch.testing.Poll;
import dev.orch.testing.TestCerts;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/**
 * Three OS processes: an {@code orch server}, a worker JVM hosting {@code UtilityClass}, and
 * {@code orch} commands creating and calling it.
 */
class HostingAcrossProcessesIT {
    static final Duration BOUND = Duration.ofSeconds(60);

    @AfterAll
    static void cleanup() {
        Procs.killAll();
    }

    static String[] at(Procs.Server s, Path key, String... args) {
        String[] a = new String[args.length + 4];
        System.arraycopy(args, 0, a, 0, args.length);
        a[args.length] = "--address";
        a[args.length + 1] = s.address;
        a[args.length + 2] = "--authkey-file";
        a[args.length + 3] = key.toString();
        return a;
    }

    /** The HOST column of {@code typeid} in {@code orch types}, or null if it is not listed. */
    static String hostOf(String typeid, String typesTable) {
        Matcher m = Pattern.compile("(?m)^" + Pattern.quote(typeid) + "\\s+(\\S+)\\s").matcher(typesTable);
        return m.find() ? m.group(1) : null;
    }

    /** Starts {@link UtilityWorker} in its own JVM and waits for it to host its type. */
    static Process utilityWorker(Path workerLog, Map<String, String> env, String... args) throws Exception {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        List<String> cmd = new ArrayList<>(List.of(java, "-cp", System.getProperty("java.class.path"),
                UtilityWorker.class.getName()));
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(workerLog.toFile()));
        pb.environment().putAll(env);
        Process worker = pb.start();
        Procs.track(worker.pid());
        Poll.until(BOUND, "worker prints ready", () -> {
            assertTrue(worker.isAlive(), () -> "worker died: " + read(workerLog));
            return read(workerLog).lines().anyMatch("ready"::equals);
        });
        return worker;
    }

    @Test
    void aWorkerProcessHostsATypeThatTheCliCalls() throws Exception {
        Path key = Procs.keyFile("hosting-key-" + System.nanoTime());
        Procs.Server server = Procs.server(Map.of(), "--authkey-file", key.toString());

        Path workerLog = Procs.tempDir("utility-worker-").resolve("worker.log");
        Process worker = utilityWorker(workerLog, Map.of(), server.address, key.toString());

        Procs.Result types = Procs.orch(at(server, key, "types"));
        assertEquals(0, types.exit, types::toString);
        String host = hostOf("UtilityClass", types.out);
        assertNotNull(host, types::toString);
        assertNotEquals("server", host, () -> "hosted by the worker's session: " + types);
        assertTrue(types.out.contains("capitalize"), types::toString);
        Procs.Result wide = Procs.orch(at(server, key, "types", "-o", "wide"));
        assertEquals(0, wide.exit, wide::toString);
        assertTrue(Pattern.compile("(?m)^UtilityClass\\s+" + Pattern.quote(host) + "\\s+127\\.0\\.0\\.1:\\d+\\s+\\S*capitalize")
                .matcher(wide.out).find(), wide::toString);
        assertTrue(Pattern.compile("(?m)^dict\\s+server\\s+-\\s").matcher(wide.out).find(), wide::toString);

        Procs.Result created = Procs.orch(at(server, key, "new", "UtilityClass", "u1"));
        assertEquals(0, created.exit, created::toString);

        Procs.Result hello = Procs.orch(at(server, key, "call", "u1", "capitalize", "hello"));
        assertEquals(0, hello.exit, hello::toString);
        assertEquals("\"Hello\"", hello.out.trim());

        Procs.Result mixed = Procs.orch(at(server, key, "call", "u1", "capitalize", "wORLD"));
        assertEquals(0, mixed.exit, mixed::toString);
        assertEquals("\"World\"", mixed.out.trim());

        Procs.Result objects = Procs.orch(at(server, key, "objects"));
        assertEquals(0, objects.exit, objects::toString);
        assertTrue(Pattern.compile("(?m)\\su1\\s+UtilityClass\\s+\\d+\\s+" + Pattern.quote(host) + "$").matcher(objects.out).find(),
                objects::toString);

        // One-shot commands keep to the server; with ORCH_DIRECT they call the worker's own port.
        Procs.Result viaServer = Procs.orch(at(server, key, "call", "u1", "where"));
        assertEquals(0, viaServer.exit, viaServer::toString);
        assertFalse(viaServer.out.contains("orch-direct-"), viaServer::toString);
        Procs.Result direct = Procs.orch(Map.of("ORCH_DIRECT", "on"), at(server, key, "call", "u1", "where"));
        assertEquals(0, direct.exit, direct::toString);
        assertTrue(direct.out.contains("\"orch-direct-"), direct::toString);

        // A direct call in flight when the worker dies fails at once with 410, not at its timeout.
        Path napLog = Procs.tempDir("nap-").resolve("nap.log");
        List<String> nap = new ArrayList<>(List.of(Procs.launcher()));
        nap.addAll(List.of(at(server, key, "call", "u1", "nap", "60")));
        Process napping = Procs.start(nap, Map.of("ORCH_DIRECT", "on"), napLog);
        Poll.until(BOUND, "the nap to reach the worker", () -> read(workerLog).contains("napping on orch-direct-"));

        // SIGKILL: no goodbye from the worker; the server sees the connection drop.
        worker.destroyForcibly();
        assertTrue(worker.waitFor(30, TimeUnit.SECONDS));
        assertTrue(napping.waitFor(30, TimeUnit.SECONDS), () -> "the call in flight is still waiting: " + read(napLog));
        assertEquals(1, napping.exitValue(), () -> read(napLog));
        assertTrue(read(napLog).contains("HostGone") && read(napLog).contains("410"), () -> read(napLog));

        try (var client = Procs.client(server.address, key)) {
            Poll.until(BOUND, "calls to u1 fail once the host is gone", () -> {
                try {
                    client.lookup("u1").call("capitalize", "x");
                    return false;
                } catch (RuntimeException e) {
                    return true;
                }
            });
        }
        Procs.Result last = Procs.orch(at(server, key, "call", "u1", "capitalize", "x"));
        assertEquals(1, last.exit, last::toString);
        assertTrue(last.err.contains("HostGone") && last.err.contains("410"), last::toString);
        assertFalse(last.errLines().stream().anyMatch(l -> l.trim().startsWith("at ")), last::toString);

        Procs.Result after = Procs.orch(at(server, key, "types"));
        assertEquals(0, after.exit, after::toString);
        assertFalse(after.out.contains("UtilityClass"), after::toString);
        assertTrue(server.process.isAlive(), server::log);
    }

    @Test
    void aJavaWorkerSpawnedByTheServerConnectsWithNothingButItsEnvironment() throws Exception {
        Path key = Procs.keyFile("spawned-java-key-" + System.nanoTime());
        Procs.Server server = Procs.server(Map.of(), "--authkey-file", key.toString());
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        // Options before "--": what follows is the worker's command line, untouched.
        Procs.Result spawn = Procs.orch("spawn", "--address", server.address, "--authkey-file", key.toString(), "--name", "java-worker",
                "--", java, "-cp", System.getProperty("java.class.path"), UtilityWorker.class.getName());
        assertEquals(0, spawn.exit, spawn::toString);
        try {
            try (var client = Procs.client(server.address, key)) {
                Poll.until(BOUND, "the spawned worker hosts UtilityClass", () -> client.types().stream()
                        .anyMatch(t -> "UtilityClass".equals(((io.vertx.core.json.JsonObject) t).getString("typeid"))));
            }
            assertEquals(0, Procs.orch(at(server, key, "new", "UtilityClass", "spawned-u")).exit);
            Procs.Result hello = Procs.orch(at(server, key, "call", "spawned-u", "capitalize", "hello"));
            assertEquals(0, hello.exit, hello::toString);
            assertEquals("\"Hello\"", hello.out.trim());
        } finally {
            Procs.Result stop = Procs.orch(at(server, key, "stop", "--grace", "5", "java-worker"));
            assertEquals(0, stop.exit, stop::toString);
        }
    }

    @Test
    void overTlsAWorkerWithACertificateIsCalledDirectlyOverTls() throws Exception {
        Path dir = Procs.tempDir("direct-tls-");
        TestCerts.Pair certs = TestCerts.selfSigned(dir, "orch");
        Path key = Procs.keyFile("direct-tls-key-" + System.nanoTime());
        Procs.Server server = Procs.server(Map.of(), "--authkey-file", key.toString(),
                "--tls-cert", certs.cert.toString(), "--tls-key", certs.key.toString());
        Process worker = utilityWorker(dir.resolve("worker.log"),
                Map.of("ORCH_DIRECT_CERT", certs.cert.toString(), "ORCH_DIRECT_KEY", certs.key.toString()),
                server.address, key.toString(), certs.cert.toString());

        Procs.Result wide = Procs.orch(at(server, key, "types", "-o", "wide", "--tls-ca", certs.cert.toString()));
        assertEquals(0, wide.exit, wide::toString);
        assertTrue(Pattern.compile("(?m)^UtilityClass\\s+\\S+\\s+tls://127\\.0\\.0\\.1:\\d+\\s").matcher(wide.out).find(),
                wide::toString);
        Procs.Result created = Procs.orch(at(server, key, "new", "UtilityClass", "tu1", "--tls-ca", certs.cert.toString()));
        assertEquals(0, created.exit, created::toString);
        Procs.Result direct = Procs.orch(Map.of("ORCH_DIRECT", "on"),
                at(server, key, "call", "tu1", "where", "--tls-ca", certs.cert.toString()));
        assertEquals(0, direct.exit, direct::toString);
        assertTrue(direct.out.contains("\"orch-direct-"), direct::toString);
        Procs.Result hello = Procs.orch(Map.of("ORCH_DIRECT", "on"),
                at(server, key, "call", "tu1", "capitalize", "hELLO", "--tls-ca", certs.cert.toString()));
        assertEquals("\"Hello\"", hello.out.trim(), hello::toString);
        worker.destroy();
        assertTrue(worker.waitFor(30, TimeUnit.SECONDS));
    }

    static String read(Path p) {
        try {
            return Files.readString(p);
        } catch (java.io.IOException e) {
            return "";
        }
    }
}
