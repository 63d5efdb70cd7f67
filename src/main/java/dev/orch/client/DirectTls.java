package dev.orch.client;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.net.impl.KeyStoreHelper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.util.List;
import javax.net.ServerSocketFactory;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;

/**
 * The TLS a worker's direct port speaks when it has a certificate (PROTOCOL.md §7, TLS): the
 * same PEM files the server takes with {@code --tls-cert}/{@code --tls-key}.
 */
final class DirectTls {
    static final String CERT_ENV = "ORCH_DIRECT_CERT";
    static final String KEY_ENV = "ORCH_DIRECT_KEY";

    private DirectTls() {
    }

    /**
     * A factory of TLS server sockets presenting {@code cert} with {@code key}; throws
     * {@link IllegalArgumentException} with a one-line reason when either cannot be used.
     */
    static ServerSocketFactory serverSockets(Path cert, Path key) {
        if ((cert == null) != (key == null)) {
            throw new IllegalArgumentException(CERT_ENV + " and " + KEY_ENV + " go together");
        }
        try {
            // Vert.x's PEM reader takes PKCS#8 and PKCS#1 (RSA and EC) keys, as the server does;
            // the JDK alone reads only PKCS#8.
            KeyStore store = KeyStoreHelper.loadKeyCert(List.of(read(key)), List.of(read(cert)));
            KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
            kmf.init(store, KeyStoreHelper.DUMMY_PASSWORD.toCharArray());
            SSLContext ctx = SSLContext.getInstance("TLS");
            ctx.init(kmf.getKeyManagers(), null, null);
            return ctx.getServerSocketFactory();
        } catch (java.nio.file.NoSuchFileException e) {
            throw unusable(cert, key, "no file " + e.getFile(), e);
        } catch (IOException e) {
            throw unusable(cert, key, ClientConnection.describe(e), e);
        } catch (Exception e) {
            throw unusable(cert, key, e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage(), e);
        }
    }

    private static IllegalArgumentException unusable(Path cert, Path key, String why, Exception cause) {
        return new IllegalArgumentException("cannot use " + cert + " and " + key + " for direct calls: " + why, cause);
    }

    private static Buffer read(Path file) throws IOException {
        return Buffer.buffer(Files.readAllBytes(file));
    }
}
