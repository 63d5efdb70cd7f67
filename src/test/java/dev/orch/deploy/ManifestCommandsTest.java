package dev.orch.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The translation manifest → local command line that ManifestProcessesIT runs. */
class ManifestCommandsTest {
    static RenderedManifests m;

    @TempDir
    Path root;

    @BeforeAll
    static void render() throws Exception {
        Optional<Path> kubectl = RenderedManifests.kubectl();
        Assumptions.assumeTrue(kubectl.isPresent(), "kubectl is not on PATH: the k8s/ manifests cannot be rendered");
        m = RenderedManifests.render(kubectl.get());
    }

    ManifestCommands.Options options() {
        return new ManifestCommands.Options(Path.of("/repo/target/orch"), root, "orch-worker-test", "default",
                Map.of("orch-server:55555", "127.0.0.1:40001", "0.0.0.0:55555", "127.0.0.1:40001"));
    }

    static PodSpec pod(String name) {
        return m.get(Deployment.class, name).getSpec().getTemplate().getSpec();
    }

    static Map<String, Secret> secrets() {
        return Map.of("orch-authkey", m.get(Secret.class, "orch-authkey"));
    }

    @Test
    void server() throws Exception {
        var cmd = ManifestCommands.container(pod("orch-server"), "server", secrets(), options());
        assertEquals(List.of("/repo/target/orch", "server", "--listen", "127.0.0.1:40001", "--grace", "10"),
                cmd.command());
        Path key = root.resolve("etc/orch/authkey/authkey");
        assertEquals(key.toString(), cmd.env().get("ORCH_AUTHKEY_FILE"));
        assertEquals(new String(ManifestCommands.secretData(m.get(Secret.class, "orch-authkey")).get("authkey"),
                StandardCharsets.UTF_8), Files.readString(key));
        assertEquals(root.resolve("var/lib/orch").toString(), cmd.env().get("ORCH_HOME"));
        assertEquals(true, Files.isDirectory(root.resolve("var/lib/orch")));
        assertEquals(true, Files.isDirectory(root.resolve("tmp")));
    }

    @Test
    void worker() throws Exception {
        var cmd = ManifestCommands.container(pod("orch-worker"), "worker", secrets(), options());
        assertEquals(List.of("/repo/target/orch", "connect", "127.0.0.1:40001", "--name", "orch-worker-test", "--"),
                cmd.command().subList(0, 6));
        assertEquals("orch-worker-test", cmd.env().get("POD_NAME"));
        assertEquals(root.resolve("etc/orch/authkey/authkey").toString(), cmd.env().get("ORCH_AUTHKEY_FILE"));
    }

    @Test
    void livenessProbe() throws Exception {
        PodSpec pod = pod("orch-server");
        var probe = pod.getContainers().get(0).getLivenessProbe().getExec().getCommand();
        var cmd = ManifestCommands.exec(pod, "server", probe, secrets(),
                new ManifestCommands.Options(Path.of("/repo/target/orch"), root, "p", "default",
                        Map.of("127.0.0.1:55555", "127.0.0.1:40001")));
        assertEquals(List.of("/repo/target/orch", "health", "--address", "127.0.0.1:40001"), cmd.command());
    }

    @Test
    void expansionFollowsKubernetesRules() {
        var vars = Map.of("A", "x", "B", "y");
        assertEquals("x-y", ManifestCommands.expand("$(A)-$(B)", vars));
        assertEquals("$(A)", ManifestCommands.expand("$$(A)", vars));
        assertEquals("$(UNSET) x", ManifestCommands.expand("$(UNSET) $(A)", vars));
        assertEquals("$HOSTNAME $", ManifestCommands.expand("$HOSTNAME $", vars));
        assertEquals("$(A", ManifestCommands.expand("$(A", vars));
    }

    @Test
    void localizeRewritesAddressesAndMountedPaths() {
        var mounts = Map.of("/etc/orch", Path.of("/t/etc/orch"), "/etc/orch/authkey", Path.of("/t/key"));
        var addr = Map.of("orch-server:55555", "127.0.0.1:1");
        assertEquals("/t/key/authkey", ManifestCommands.localize("/etc/orch/authkey/authkey", mounts, addr));
        assertEquals("/t/etc/orch/x", ManifestCommands.localize("/etc/orch/x", mounts, addr));
        assertEquals("/etc/orchestra", ManifestCommands.localize("/etc/orchestra", mounts, addr));
        assertEquals("127.0.0.1:1", ManifestCommands.localize("orch-server:55555", mounts, addr));
        assertEquals("--address=127.0.0.1:1", ManifestCommands.localize("--address=orch-server:55555", mounts, addr));
        assertEquals("orch-server:555550", ManifestCommands.localize("orch-server:555550", mounts, addr));
    }

    @Test
    void missingSecretOrKeyIsAnError() {
        PodSpec pod = pod("orch-server");
        assertThrows(IllegalArgumentException.class,
                () -> ManifestCommands.container(pod, "server", Map.of(), options()));
        Secret empty = new io.fabric8.kubernetes.api.model.SecretBuilder().withNewMetadata().withName("orch-authkey")
                .endMetadata().addToStringData("other", "x").build();
        assertThrows(IllegalArgumentException.class,
                () -> ManifestCommands.container(pod, "server", Map.of("orch-authkey", empty), options()));
    }
}
