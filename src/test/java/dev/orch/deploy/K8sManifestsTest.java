package dev.orch.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerPort;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServicePort;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.VolumeMount;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicy;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Static checks of what {@code kubectl kustomize k8s/} renders. */
class K8sManifestsTest {
    static final String SERVICE = "orch-server";
    static final int DEFAULT_GRACE = 10;

    static RenderedManifests m;

    @BeforeAll
    static void render() throws Exception {
        Optional<Path> kubectl = RenderedManifests.kubectl();
        Assumptions.assumeTrue(kubectl.isPresent(),
                "kubectl is not on PATH: the k8s/ manifests cannot be rendered, so they are not checked");
        m = RenderedManifests.render(kubectl.get());
    }

    static PodSpec pod(String deployment) {
        return m.get(Deployment.class, deployment).getSpec().getTemplate().getSpec();
    }

    static Container only(PodSpec pod) {
        assertEquals(1, pod.getContainers().size(), "one container per pod");
        return pod.getContainers().get(0);
    }

    static Optional<String> env(Container c, String name) {
        return c.getEnv().stream().filter(e -> name.equals(e.getName())).map(EnvVar::getValue).findFirst();
    }

    static String argAfter(List<String> args, String option) {
        int i = args.indexOf(option);
        return i >= 0 && i + 1 < args.size() ? args.get(i + 1) : null;
    }

    @Test
    void rendersTheWholeSet() {
        assertEquals(4, m.resources.size(), "Secret, server Deployment, Service, worker Deployment");
        m.get(Secret.class, "orch-authkey");
        m.get(Deployment.class, "orch-server");
        m.get(Service.class, SERVICE);
        m.get(Deployment.class, "orch-worker");
    }

    @Test
    void unknownFieldsAreDetected() {
        String typo = """
                apiVersion: apps/v1
                kind: Deployment
                metadata: {name: x}
                spec:
                  selector: {matchLabels: {a: b}}
                  template:
                    metadata: {labels: {a: b}}
                    spec:
                      containers:
                        - name: c
                          image: i
                          readinesProbe: {tcpSocket: {port: 1}}
                """;
        var e = assertThrows(IllegalArgumentException.class, () -> RenderedManifests.parse(typo));
        assertTrue(e.getMessage().contains("readinesProbe"), e.getMessage());
        assertThrows(Exception.class, () -> RenderedManifests.parse("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n"));
    }

    @Test
    void serverIsASingleInstanceListeningOnAllInterfaces() {
        Deployment d = m.get(Deployment.class, "orch-server");
        assertEquals(1, d.getSpec().getReplicas());
        assertEquals("Recreate", d.getSpec().getStrategy().getType(), "never two servers at once");
        Container c = only(pod("orch-server"));
        assertEquals("server", c.getArgs().get(0));
        String listen = argAfter(c.getArgs(), "--listen");
        assertNotNull(listen, "server args need --listen");
        assertTrue(listen.startsWith("0.0.0.0:"), "the server must listen on 0.0.0.0 in the pod: " + listen);
        int port = Integer.parseInt(listen.substring("0.0.0.0:".length()));
        assertTrue(c.getPorts().stream().anyMatch(p -> p.getContainerPort() == port),
                "the listen port is a declared container port");
    }

    @Test
    void theTlsComponentSecuresServerWorkersAndDirectCalls() throws Exception {
        RenderedManifests t = RenderedManifests.renderWithTls(RenderedManifests.kubectl().orElseThrow());
        Container server = only(t.get(Deployment.class, "orch-server").getSpec().getTemplate().getSpec());
        Container base = only(pod("orch-server"));
        assertEquals(base.getArgs(), server.getArgs().subList(0, base.getArgs().size()), "the base args stay first");
        assertEquals("/etc/orch/tls/tls.crt", argAfter(server.getArgs(), "--tls-cert"));
        assertEquals("/etc/orch/tls/tls.key", argAfter(server.getArgs(), "--tls-key"));
        assertEquals(Optional.of("/etc/orch/tls/ca.crt"), env(server, "ORCH_TLS_CA"), "the liveness probe's orch health needs it");
        Container worker = only(t.get(Deployment.class, "orch-worker").getSpec().getTemplate().getSpec());
        assertEquals(Optional.of("/etc/orch/tls/ca.crt"), env(worker, "ORCH_TLS_CA"));
        assertEquals(Optional.of("/etc/orch/tls/tls.crt"), env(worker, "ORCH_DIRECT_CERT"));
        assertEquals(Optional.of("/etc/orch/tls/tls.key"), env(worker, "ORCH_DIRECT_KEY"));
        for (String d : List.of("orch-server", "orch-worker")) {
            PodSpec p = t.get(Deployment.class, d).getSpec().getTemplate().getSpec();
            VolumeMount mount = only(p).getVolumeMounts().stream().filter(v -> "/etc/orch/tls".equals(v.getMountPath()))
                    .findFirst().orElseThrow(() -> new AssertionError(d + " does not mount /etc/orch/tls"));
            assertTrue(mount.getReadOnly(), d);
            Volume v = p.getVolumes().stream().filter(x -> mount.getName().equals(x.getName())).findFirst().orElseThrow();
            assertEquals("orch-tls", v.getSecret().getSecretName(), d);
            // Everything else is the base's.
            assertEquals(only(pod(d)).getVolumeMounts().size() + 1, only(p).getVolumeMounts().size(), d);
        }
    }

    @Test
    void theNetpolComponentAdmitsOnlyTheApplicationsPods() throws Exception {
        RenderedManifests n = RenderedManifests.renderWith(RenderedManifests.kubectl().orElseThrow(), "netpol");
        Map<String, String> admitted = Map.of("app.kubernetes.io/part-of", "orch");
        for (String d : List.of("orch-server", "orch-worker")) {
            Deployment dep = n.get(Deployment.class, d);
            NetworkPolicy policy = n.get(NetworkPolicy.class, d);
            Map<String, String> podLabels = dep.getSpec().getTemplate().getMetadata().getLabels();
            // The policy applies to this Deployment's pods, and to no other's.
            assertTrue(podLabels.entrySet().containsAll(policy.getSpec().getPodSelector().getMatchLabels().entrySet()), d);
            assertEquals(dep.getSpec().getSelector().getMatchLabels(), policy.getSpec().getPodSelector().getMatchLabels(), d);
            assertEquals(List.of("Ingress"), policy.getSpec().getPolicyTypes(), d + ": egress stays open");
            assertEquals(1, policy.getSpec().getIngress().size(), d);
            var rule = policy.getSpec().getIngress().get(0);
            assertEquals(1, rule.getFrom().size(), d);
            assertEquals(admitted, rule.getFrom().get(0).getPodSelector().getMatchLabels(), d);
            assertEquals(null, rule.getFrom().get(0).getNamespaceSelector(), d + ": this namespace only");
            // Both kinds of pod carry the admitted label: workers reach the server and each other.
            assertTrue(podLabels.entrySet().containsAll(admitted.entrySet()), d + " pods: " + podLabels);
        }
        // The server admits its own port only; workers' direct ports are free, so any port.
        var serverRule = n.get(NetworkPolicy.class, "orch-server").getSpec().getIngress().get(0);
        assertEquals(1, serverRule.getPorts().size());
        String portName = serverRule.getPorts().get(0).getPort().getStrVal();
        assertTrue(only(pod("orch-server")).getPorts().stream().anyMatch(p -> portName.equals(p.getName()) && p.getContainerPort() == 55555),
                "the admitted port is the server's: " + portName);
        assertTrue(n.get(NetworkPolicy.class, "orch-worker").getSpec().getIngress().get(0).getPorts().isEmpty());
        // Without the component, no policy.
        assertTrue(m.all(NetworkPolicy.class).isEmpty());
    }

    @Test
    void containersKeepTheImageEntrypoint() {
        for (String d : List.of("orch-server", "orch-worker")) {
            Container c = only(pod(d));
            assertTrue(c.getCommand() == null || c.getCommand().isEmpty(),
                    d + ": a command would replace tini as PID 1");
        }
    }

    @Test
    void authKeyIsAMountedSecretFileNeverEnv() {
        Secret s = m.get(Secret.class, "orch-authkey");
        Map<String, byte[]> data = ManifestCommands.secretData(s);
        for (String d : List.of("orch-server", "orch-worker")) {
            PodSpec pod = pod(d);
            Container c = only(pod);
            for (EnvVar e : c.getEnv()) {
                assertFalse(e.getName().equals("ORCH_AUTHKEY"), d + ": the key must not be in env");
                assertTrue(e.getValueFrom() == null || e.getValueFrom().getSecretKeyRef() == null,
                        d + ": env " + e.getName() + " takes a secret");
            }
            String keyFile = env(c, "ORCH_AUTHKEY_FILE").orElseThrow(() -> new AssertionError(d + ": no ORCH_AUTHKEY_FILE"));
            boolean found = false;
            for (VolumeMount vm : c.getVolumeMounts()) {
                Volume v = volume(pod, vm.getName());
                if (v.getSecret() == null) {
                    continue;
                }
                assertEquals(s.getMetadata().getName(), v.getSecret().getSecretName(), d + ": Secret reference");
                assertTrue(Boolean.TRUE.equals(vm.getReadOnly()), d + ": key mount read-only");
                assertEquals(0440, v.getSecret().getDefaultMode(), d + ": key file mode");
                for (var item : v.getSecret().getItems()) {
                    assertTrue(data.containsKey(item.getKey()), d + ": Secret has no key " + item.getKey());
                    if (keyFile.equals(vm.getMountPath() + "/" + item.getPath())) {
                        found = true;
                    }
                }
            }
            assertTrue(found, d + ": ORCH_AUTHKEY_FILE " + keyFile + " is not a mounted Secret item");
            assertNotNull(pod.getSecurityContext().getFsGroup(), d + ": fsGroup makes the 0440 key readable");
        }
    }

    @Test
    void serviceSelectsTheServerAndItsPort() {
        Service svc = m.get(Service.class, SERVICE);
        Map<String, String> selector = svc.getSpec().getSelector();
        assertFalse(selector == null || selector.isEmpty());
        var serverLabels = m.get(Deployment.class, "orch-server").getSpec().getTemplate().getMetadata().getLabels();
        var workerLabels = m.get(Deployment.class, "orch-worker").getSpec().getTemplate().getMetadata().getLabels();
        assertTrue(serverLabels.entrySet().containsAll(selector.entrySet()), "selector matches the server pods");
        assertFalse(workerLabels.entrySet().containsAll(selector.entrySet()), "selector must not match workers");
        assertEquals(selector, m.get(Deployment.class, "orch-server").getSpec().getSelector().getMatchLabels());
        Container server = only(pod("orch-server"));
        for (ServicePort p : svc.getSpec().getPorts()) {
            assertNotNull(containerPort(server, p.getTargetPort()), "targetPort " + p.getTargetPort() + " is a server port");
        }
    }

    @Test
    void workerAttachesThroughTheServiceWithItsPodName() {
        Service svc = m.get(Service.class, SERVICE);
        Container c = only(pod("orch-worker"));
        List<String> args = c.getArgs();
        assertEquals("connect", args.get(0));
        String address = args.get(1);
        int port = svc.getSpec().getPorts().get(0).getPort();
        assertEquals(SERVICE + ":" + port, address, "worker address = Service name and port");
        assertEquals("$(POD_NAME)", argAfter(args, "--name"));
        EnvVar podName = c.getEnv().stream().filter(e -> e.getName().equals("POD_NAME")).findFirst().orElseThrow();
        assertEquals("metadata.name", podName.getValueFrom().getFieldRef().getFieldPath());
        assertTrue(args.indexOf("--") > 0 && args.indexOf("--") < args.size() - 1, "a command after --");
    }

    @Test
    void serverHasProbes() {
        Container c = only(pod("orch-server"));
        assertNotNull(c.getReadinessProbe(), "readiness probe");
        assertNotNull(c.getLivenessProbe(), "liveness probe");
        assertNotNull(c.getReadinessProbe().getTcpSocket(), "readiness is a cheap TCP check");
        assertNotNull(containerPort(c, c.getReadinessProbe().getTcpSocket().getPort()));
        List<String> live = c.getLivenessProbe().getExec().getCommand();
        assertEquals(List.of(ManifestCommands.IMAGE_BINARY, "health"), live.subList(0, 2));
        assertTrue(c.getLivenessProbe().getPeriodSeconds() >= 20, "exec probe starts a JVM in the JVM image: slow period");
        assertTrue(c.getLivenessProbe().getTimeoutSeconds() >= 5, "room for a JVM start");
    }

    @Test
    void securityContextsAreRestrictive() {
        for (String d : List.of("orch-server", "orch-worker")) {
            PodSpec pod = pod(d);
            var psc = pod.getSecurityContext();
            assertEquals(Boolean.TRUE, psc.getRunAsNonRoot(), d);
            assertTrue(psc.getRunAsUser() != null && psc.getRunAsUser() > 0, d + ": numeric non-root uid");
            assertEquals("RuntimeDefault", psc.getSeccompProfile().getType(), d);
            assertEquals(Boolean.FALSE, pod.getAutomountServiceAccountToken(), d);
            Container c = only(pod);
            var sc = c.getSecurityContext();
            assertEquals(Boolean.FALSE, sc.getAllowPrivilegeEscalation(), d);
            assertEquals(Boolean.TRUE, sc.getReadOnlyRootFilesystem(), d);
            assertEquals(List.of("ALL"), sc.getCapabilities().getDrop(), d);
            assertTrue(sc.getCapabilities().getAdd() == null || sc.getCapabilities().getAdd().isEmpty(), d);
            assertTrue(sc.getPrivileged() == null || !sc.getPrivileged(), d);
            // A read-only root needs writable ORCH_HOME and /tmp.
            String home = env(c, "ORCH_HOME").orElseThrow(() -> new AssertionError(d + ": no ORCH_HOME"));
            for (String dir : List.of(home, "/tmp")) {
                VolumeMount vm = c.getVolumeMounts().stream().filter(x -> x.getMountPath().equals(dir)).findFirst()
                        .orElseThrow(() -> new AssertionError(d + ": " + dir + " is not mounted"));
                assertNotNull(volume(pod, vm.getName()).getEmptyDir(), d + ": " + dir + " is an emptyDir");
            }
        }
    }

    @Test
    void resourcesAreSet() {
        for (String d : List.of("orch-server", "orch-worker")) {
            var r = only(pod(d)).getResources();
            Map<String, Quantity> req = r.getRequests();
            assertTrue(req.containsKey("cpu") && req.containsKey("memory"), d + ": requests");
            assertTrue(r.getLimits().containsKey("memory"), d + ": memory limit");
        }
    }

    @Test
    void terminationGraceCoversTheServerGrace() {
        PodSpec pod = pod("orch-server");
        String g = argAfter(only(pod).getArgs(), "--grace");
        int grace = g == null ? DEFAULT_GRACE : Integer.parseInt(g);
        long period = pod.getTerminationGracePeriodSeconds();
        assertTrue(period >= grace + 5, "terminationGracePeriodSeconds " + period + " < grace " + grace + " + margin");
        assertTrue(pod("orch-worker").getTerminationGracePeriodSeconds() >= DEFAULT_GRACE + 5);
    }

    static Volume volume(PodSpec pod, String name) {
        return pod.getVolumes().stream().filter(v -> name.equals(v.getName())).findFirst()
                .orElseThrow(() -> new AssertionError("no volume " + name));
    }

    static ContainerPort containerPort(Container c, IntOrString port) {
        return c.getPorts().stream().filter(p -> port.getStrVal() != null
                ? port.getStrVal().equals(p.getName())
                : port.getIntVal().equals(p.getContainerPort())).findFirst().orElse(null);
    }
}
