package dev.orch.server;

import io.vertx.core.Vertx;
import io.vertx.core.net.PemKeyCertOptions;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.PrivateKey;
import java.security.Signature;
import java.security.cert.CertificateExpiredException;
import java.security.cert.CertificateNotYetValidException;
import java.security.cert.X509Certificate;
import javax.net.ssl.KeyManager;
import javax.net.ssl.X509KeyManager;

/**
 * Checks the server's certificate and key before it listens. Vert.x accepts a key that belongs to
 * another certificate, or a certificate that has expired, and the server then starts and fails
 * every handshake ("Invalid CertificateVerify signature" on the client); its own load errors name
 * a PEM delimiter but not the file.
 */
final class TlsFiles {
    private static final byte[] PROBE = "orch tls key check".getBytes(StandardCharsets.US_ASCII);

    private TlsFiles() {
    }

    /** Throws {@link IllegalArgumentException} naming the file and the problem. */
    static void check(Vertx vertx, Path cert, Path key) {
        X509Certificate leaf = firstCertificate(cert);
        try {
            leaf.checkValidity();
        } catch (CertificateExpiredException e) {
            throw new IllegalArgumentException("TLS certificate " + cert + " expired on " + leaf.getNotAfter().toInstant());
        } catch (CertificateNotYetValidException e) {
            throw new IllegalArgumentException("TLS certificate " + cert + " is not valid before " + leaf.getNotBefore().toInstant());
        }
        PrivateKey privateKey = privateKey(vertx, cert, key);
        String algorithm = privateKey == null ? null : signatureAlgorithm(privateKey);
        if (algorithm == null) {
            return;  // A key type we cannot test; the handshake will tell.
        }
        try {
            Signature s = Signature.getInstance(algorithm);
            s.initSign(privateKey);
            s.update(PROBE);
            byte[] signed = s.sign();
            Signature v = Signature.getInstance(algorithm);
            v.initVerify(leaf.getPublicKey());
            v.update(PROBE);
            if (v.verify(signed)) {
                return;
            }
        } catch (GeneralSecurityException e) {
            // A key of another type than the certificate's: not a match either.
        }
        throw new IllegalArgumentException("TLS key " + key + " does not belong to certificate " + cert);
    }

    private static X509Certificate firstCertificate(Path cert) {
        byte[] pem;
        try {
            pem = Files.readAllBytes(cert);
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot read TLS certificate " + cert + ": " + e.getMessage());
        }
        // The JDK would take DER too, where Vert.x wants PEM.
        if (!new String(pem, StandardCharsets.ISO_8859_1).contains("-----BEGIN CERTIFICATE-----")) {
            throw new IllegalArgumentException("no PEM certificate (-----BEGIN CERTIFICATE-----) in " + cert);
        }
        try (InputStream in = Files.newInputStream(cert)) {
            return (X509Certificate) java.security.cert.CertificateFactory.getInstance("X.509").generateCertificate(in);
        } catch (IOException | GeneralSecurityException e) {
            throw new IllegalArgumentException("bad TLS certificate " + cert + ": " + e.getMessage());
        }
    }

    private static PrivateKey privateKey(Vertx vertx, Path cert, Path key) {
        KeyManager[] managers;
        try {
            managers = new PemKeyCertOptions().setCertPath(cert.toString()).setKeyPath(key.toString())
                    .getKeyManagerFactory(vertx).getKeyManagers();
        } catch (Exception e) {
            // The certificate has been read above, so what Vert.x cannot load is the key.
            String m = e.getMessage();
            throw new IllegalArgumentException("bad TLS key " + key + ": "
                    + (m == null ? e.getClass().getSimpleName() : m)
                    + (m != null && m.contains("PRIVATE KEY") ? " (an unencrypted PKCS#8 or PKCS#1 PEM key is needed)" : ""));
        }
        for (KeyManager m : managers) {
            if (m instanceof X509KeyManager) {
                X509KeyManager km = (X509KeyManager) m;
                for (String type : new String[] {"RSA", "EC", "EdDSA", "Ed25519", "RSASSA-PSS"}) {
                    String[] aliases = km.getServerAliases(type, null);
                    if (aliases != null && aliases.length > 0) {
                        return km.getPrivateKey(aliases[0]);
                    }
                }
            }
        }
        return null; // a key type the aliases above do not cover: the handshake will tell
    }

    private static String signatureAlgorithm(PrivateKey k) {
        switch (k.getAlgorithm()) {
            case "RSA":
                return "SHA256withRSA";
            case "EC":
                return "SHA256withECDSA";
            case "EdDSA":
            case "Ed25519":
                return "Ed25519";
            default:
                return null;
        }
    }
}
