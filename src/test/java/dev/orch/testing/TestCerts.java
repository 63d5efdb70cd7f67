package dev.orch.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.nio.file.Path;
import org.junit.jupiter.api.Assumptions;

/** Self-signed certificates for TLS tests, made with openssl (tests are skipped without it). */
public final class TestCerts {
    /** A PEM certificate and its unencrypted PKCS#8 key. */
    public static final class Pair {
        public final Path cert;
        public final Path key;

        Pair(Path cert, Path key) {
            this.cert = cert;
            this.key = key;
        }
    }

    private TestCerts() {
    }

    /** A certificate for 127.0.0.1 and localhost, written as {@code NAME-cert.pem} and {@code NAME-key.pem} in {@code dir}. */
    public static Pair selfSigned(Path dir, String name) throws IOException, InterruptedException {
        return selfSigned(dir, name, "IP:127.0.0.1,DNS:localhost");
    }

    /** A certificate whose subjectAltName is {@code san} (openssl syntax, e.g. {@code DNS:localhost}). */
    public static Pair selfSigned(Path dir, String name, String san) throws IOException, InterruptedException {
        Path cert = dir.resolve(name + "-cert.pem");
        Path key = dir.resolve(name + "-key.pem");
        Process p;
        try {
            p = new ProcessBuilder("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                    "-subj", "/CN=localhost", "-addext", "subjectAltName=" + san,
                    "-keyout", key.toString(), "-out", cert.toString()).redirectErrorStream(true).start();
        } catch (IOException e) {
            Assumptions.abort("openssl is not installed: " + e.getMessage());
            throw e;
        }
        String output = new String(p.getInputStream().readAllBytes());
        assertEquals(0, p.waitFor(), output);
        return new Pair(cert, key);
    }
}
