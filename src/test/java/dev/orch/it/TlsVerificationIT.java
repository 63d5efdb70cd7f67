package dev.orch.it;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.orch.testing.TestCerts;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/**
 * What a client checks of a server's certificate: with a CA file, the chain; with the JVM's
 * default roots, which vouch for any public certificate, the host name as well.
 */
class TlsVerificationIT {
    @AfterAll
    static void stop() {
        Procs.killAll();
    }

    @Test
    void withTheDefaultRootsTheHostNameMustMatch() throws Exception {
        Path dir = Procs.tempDir("tls-names-");
        // Named localhost only: not 127.0.0.1.
        TestCerts.Pair certs = TestCerts.selfSigned(dir, "named", "DNS:localhost");
        Path key = Procs.keyFile("tls-names-key-" + System.nanoTime());
        Procs.Server server = Procs.server(Map.of(), "--authkey-file", key.toString(),
                "--tls-cert", certs.cert.toString(), "--tls-key", certs.key.toString());
        String port = server.address.substring(server.address.lastIndexOf(':') + 1);

        // The JVM's default trust store, replaced by one holding this certificate (as if a public CA
        // had signed it): through ORCH_JAVA_OPTS, which only the JVM launcher reads.
        Procs.assumeJvmLauncher();
        Path store = dir.resolve("roots.p12");
        Procs.Result imported = Procs.run(List.of(Path.of(System.getProperty("java.home"), "bin", "keytool").toString(),
                "-importcert", "-noprompt", "-alias", "orch", "-file", certs.cert.toString(), "-keystore", store.toString(),
                "-storetype", "PKCS12", "-storepass", "changeit"), Map.of(), Procs.RUN_TIMEOUT);
        assertEquals(0, imported.exit, imported::toString);
        Map<String, String> roots = Map.of("ORCH_JAVA_OPTS",
                "-Djavax.net.ssl.trustStore=" + store + " -Djavax.net.ssl.trustStorePassword=changeit", "ORCH_TLS", "1");

        Procs.Result byName = Procs.orch(roots, "health", "--address", "localhost:" + port, "--authkey-file", key.toString());
        assertEquals(0, byName.exit, byName::toString);
        Procs.Result byIp = Procs.orch(roots, "health", "--address", "127.0.0.1:" + port, "--authkey-file", key.toString(),
                "--timeout", "5");
        assertEquals(3, byIp.exit, () -> "a certificate that does not name 127.0.0.1 was accepted: " + byIp);
        assertEquals(1, byIp.errLines().size(), byIp::toString);
        // With the certificate as the CA file, the chain is what counts.
        Procs.Result withCa = Procs.orch(Map.of(), "health", "--address", "127.0.0.1:" + port, "--authkey-file", key.toString(),
                "--tls-ca", certs.cert.toString());
        assertEquals(0, withCa.exit, withCa::toString);
    }
}
