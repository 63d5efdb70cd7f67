package dev.orch.client;

import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.nio.file.Files;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManagerFactory;

/** TLS for the client's blocking socket: trusts the configured PEM CA, or the JDK's roots without one. */
final class Tls {
    private Tls() {
    }

    /**
     * Layers TLS over a connected socket and completes the handshake within {@code timeoutMillis}.
     * With a CA file the certificate is checked against it but not against the host name (orch
     * servers and workers are addressed by IP inside clusters, and the file is the deployment's
     * own trust). With the JVM's default roots the host name is checked too: those roots vouch
     * for any public certificate, and only the name says it is this server's.
     */
    static Socket wrap(Socket plain, ClientConfig config, int timeoutMillis) throws IOException {
        SSLContext ctx;
        try {
            ctx = SSLContext.getInstance("TLS");
            ctx.init(null, config.tlsCa() == null ? null : trustManagers(config), null);
        } catch (GeneralSecurityException e) {
            throw new IOException("cannot set up TLS: " + e.getMessage(), e);
        }
        SSLSocket s = (SSLSocket) ctx.getSocketFactory().createSocket(plain, config.host(), config.port(), true);
        s.setUseClientMode(true);
        if (config.tlsCa() == null) {
            SSLParameters p = s.getSSLParameters();
            p.setEndpointIdentificationAlgorithm("HTTPS");
            s.setSSLParameters(p);
        }
        s.setSoTimeout(timeoutMillis);
        s.startHandshake();
        s.setSoTimeout(0);
        return s;
    }

    private static javax.net.ssl.TrustManager[] trustManagers(ClientConfig config) throws IOException, GeneralSecurityException {
        KeyStore store = KeyStore.getInstance(KeyStore.getDefaultType());
        store.load(null, null);
        int i = 0;
        try (InputStream pem = Files.newInputStream(config.tlsCa())) {
            for (Certificate c : CertificateFactory.getInstance("X.509").generateCertificates(pem)) {
                store.setCertificateEntry("ca" + i++, c);
            }
        } catch (java.nio.file.NoSuchFileException e) {
            // The JDK's message is the bare path, which reads like no reason at all.
            throw new IOException("cannot read TLS CA file " + config.tlsCa() + ": no such file", e);
        } catch (java.security.cert.CertificateException e) {
            throw new IOException("no certificate in TLS CA file " + config.tlsCa() + " (" + e.getMessage() + ")", e);
        }
        if (i == 0) {
            throw new IOException("no certificate in TLS CA file " + config.tlsCa());
        }
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(store);
        return tmf.getTrustManagers();
    }
}
