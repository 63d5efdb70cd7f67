package dev.orch.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.orch.testing.TestCerts;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Runs the server and worker containers of the rendered manifests as local processes from
 * target/orch, with their command, args and env exactly as written (see ManifestCommands for the
 * only substitutions), and checks that the worker attaches and shows in {@code orch ps -o json}.
 */

class ManifestProcessesIT {
    static final String POD = "orch-worker-it-0";

    @TempDir
    Path root;

    final List<Process> started = new ArrayList<>();

    @AfterEach
    void stop() throws InterruptedException {
        // Workers first, then the server: SIGTERM, as the kubelet does, then the grace period.
        for (Process p : reversedCopy(started)) {
            p.destroy();
            if (!p.waitFor(20, TimeUnit.SECONDS)) {
                p.destroyForcibly();
            }
        }
    }

    @Test
    void workerFromTheManifestAttachesToTheServerFromTheManifest() throws Exception {
        var kubectl = RenderedManifests.kubectl();
        Assumptions.assumeTrue(kubectl.isPresent(), "kubectl is not on PATH: the k8s/ manifests cannot be rendered");
        RenderedManifests m = RenderedManifests.render(kubectl.get());
        attaches(m, Map.of("orch-authkey", m.get(Secret.class, "orch-authkey")));
    }

    @Test
    void withTheTlsComponentTheWorkerAttachesOverTls() throws Exception {
        var kubectl = RenderedManifests.kubectl();
        Assumptions.assumeTrue(kubectl.isPresent(), "kubectl is not on PATH: the k8s/ manifests cannot be rendered");
        RenderedManifests m = RenderedManifests.renderWithTls(kubectl.get());
        // The Secret the component expects from the user: a certificate naming 127.0.0.1, its CA (itself).
        TestCerts.Pair certs = TestCerts.selfSigned(Files.createDirectories(root.resolve("certs")), "orch");
        Secret tls = new SecretBuilder().withNewMetadata().withName("orch-tls").endMetadata()
                .addToData("tls.crt", base64(certs.cert)).addToData("tls.key", base64(certs.key))
                .addToData("ca.crt", base64(certs.cert)).build();
        attaches(m, Map.of("orch-authkey", m.get(Secret.class, "orch-authkey"), "orch-tls", tls));
        // The server spoke TLS only: a plain-text client is turned away.
        var plain = new ManifestCommands.LocalCommand(List.of(launcher().toString(), "ps", "--address", local),
                Map.of("ORCH_AUTHKEY_FILE", root.resolve("worker/etc/orch/authkey/authkey").toString()));
        assertEquals(3, run(plain, root.resolve("plain.log")), () -> read(root.resolve("plain.log")));
    }

    String local;

    static Path launcher() {
        Path launcher = Path.of(System.getProperty("orch.launcher", "target/orch")).toAbsolutePath();
        assertTrue(Files.isExecutable(launcher), launcher + ": run ./mvnw package first");
        return launcher;
    }

    static String base64(Path file) throws IOException {
        return java.util.Base64.getEncoder().encodeToString(Files.readAllBytes(file));
    }

    static String read(Path file) {
        try {
            return Files.readString(file);
        } catch (IOException e) {
            return "";
        }
    }

    /** Runs the server and a worker of {@code m}; returns once the worker shows in orch ps. */
    void attaches(RenderedManifests m, Map<String, Secret> secrets) throws Exception {
        Path launcher = launcher();
        PodSpec server = m.get(Deployment.class, "orch-server").getSpec().getTemplate().getSpec();
        PodSpec worker = m.get(Deployment.class, "orch-worker").getSpec().getTemplate().getSpec();

        int port = freePort();
        local = "127.0.0.1:" + port;
        // The Service name and the pod's listen address both become loopback + a free port.
        var addresses = Map.of("orch-server:55555", local, "0.0.0.0:55555", local, "127.0.0.1:55555", local);
        var serverCmd = ManifestCommands.container(server, "server", secrets,
                new ManifestCommands.Options(launcher, root.resolve("server"), "orch-server-it", "default", addresses));
        var workerCmd = ManifestCommands.container(worker, "worker", secrets,
                new ManifestCommands.Options(launcher, root.resolve("worker"), POD, "default", addresses));

        start(serverCmd, root.resolve("server.log"));
        waitForPort(port, 60);
        // The liveness probe, translated the same way, must pass once the server is up.
        var probe = ManifestCommands.exec(server, "server",
                server.getContainers().get(0).getLivenessProbe().getExec().getCommand(), secrets,
                new ManifestCommands.Options(launcher, root.resolve("server"), "orch-server-it", "default", addresses));
        assertEquals(0, run(probe, root.resolve("probe.log")), "liveness probe command");

        start(workerCmd, root.resolve("worker.log"));
        // orch ps with the worker's environment (same key file).
        var ps = new ManifestCommands.LocalCommand(List.of(launcher.toString(), "ps", "-o", "json", "--address", local),
                workerCmd.env());
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        String last = "";
        while (System.nanoTime() < deadline) {
            Path out = root.resolve("ps.json");
            if (run(ps, out) == 0) {
                last = Files.readString(out);
                if (mentions(new ObjectMapper().readTree(last), POD)) {
                    return;
                }
            }
            Thread.sleep(500);
        }
        throw new AssertionError("worker " + POD + " not in orch ps -o json: " + last
                + "\nserver log:\n" + Files.readString(root.resolve("server.log"))
                + "\nworker log:\n" + Files.readString(root.resolve("worker.log")));
    }

    /** True when some string value in the JSON is exactly {@code text}. */
    static boolean mentions(JsonNode n, String text) {
        if (n.isTextual()) {
            return n.asText().equals(text);
        }
        for (JsonNode c : n) {
            if (mentions(c, text)) {
                return true;
            }
        }
        return false;
    }

    ProcessBuilder builder(ManifestCommands.LocalCommand c, Path log) {
        ProcessBuilder pb = new ProcessBuilder(c.command()).redirectErrorStream(true)
                .redirectOutput(log.toFile());
        // A container's environment is its spec's env plus the image's; locally keep only what
        // finds programs (sh, sleep, java for the JVM launcher).
        Map<String, String> env = pb.environment();
        env.keySet().removeIf(k -> !k.equals("PATH") && !k.equals("JAVA_HOME") && !k.equals("JAVA"));
        env.putAll(c.env());
        return pb;
    }

    void start(ManifestCommands.LocalCommand c, Path log) throws IOException {
        started.add(builder(c, log).start());
    }

    int run(ManifestCommands.LocalCommand c, Path log) throws Exception {
        Process p = builder(c, log).start();
        if (!p.waitFor(60, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            return -1;
        }
        return p.exitValue();
    }

    static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    static void waitForPort(int port, int seconds) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        while (System.nanoTime() < deadline) {
            try (Socket s = new Socket()) {
                s.connect(new InetSocketAddress("127.0.0.1", port), 500);
                return;
            } catch (IOException e) {
                Thread.sleep(200);
            }
        }
        throw new AssertionError("server did not open 127.0.0.1:" + port + " in " + seconds + " s");
    }

    static <T> List<T> reversedCopy(List<T> l) {
        List<T> r = new ArrayList<>(l);
        java.util.Collections.reverse(r);
        return r;
    }
}
