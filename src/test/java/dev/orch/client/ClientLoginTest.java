package dev.orch.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.orch.protocol.AuthProofs;
import dev.orch.testing.RawClient;
import dev.orch.testing.TestServer;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.BiFunction;
import org.junit.jupiter.api.Test;

/**
 * The Java client's side of the login order (PROTOCOL.md §3): it proves the key first and takes
 * the connection only once the server's proof in the login reply checks out.
 */
class ClientLoginTest {

    @Test
    void aWrongKeyIsTheSameErrorAsWhenTheServerProvedFirst() {
        try (TestServer s = TestServer.start()) {
            OrchAuthException e = assertThrows(OrchAuthException.class,
                    () -> OrchClient.connect(s.clientConfig().authKey("other".getBytes(StandardCharsets.UTF_8))).close());
            assertEquals("the server at " + s.address() + " does not know our auth key", e.getMessage());
        }
    }

    @Test
    void aLoginReplyWithoutTheServersProofIsRefused() throws Exception {
        assertRefused((cn, sn) -> null);
    }

    @Test
    void aLoginReplyWithAWrongProofIsRefused() throws Exception {
        assertRefused((cn, sn) -> AuthProofs.b64(AuthProofs.serverProof("other".getBytes(StandardCharsets.UTF_8), cn, sn)));
        // The client's own proof handed back: right bytes for the wrong label.
        assertRefused((cn, sn) -> AuthProofs.b64(AuthProofs.clientProof(TestServer.KEY, sn, cn)));
        assertRefused((cn, sn) -> "%%");
    }

    /**
     * A peer that takes the client's proof and answers the login with {@code proof} (absent when
     * null): the connect must fail as for a wrong key, and the client must send nothing more.
     */
    private static void assertRefused(BiFunction<byte[], byte[], String> proof) throws Exception {
        try (ServerSocket port = new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"))) {
            CompletableFuture<Boolean> proved = new CompletableFuture<>();
            CompletableFuture<JsonObject> after = new CompletableFuture<>();
            Thread peer = new Thread(() -> {
                try (RawClient c = new RawClient(port.accept())) {
                    JsonObject challenge = c.read();
                    byte[] clientNonce = AuthProofs.unb64(challenge.getJsonObject("body").getString("clientNonce"));
                    byte[] serverNonce = AuthProofs.nonce();
                    c.write(new JsonObject().put("type", "message").put("address", challenge.getString("replyAddress"))
                            .put("body", new JsonObject().put("serverNonce", AuthProofs.b64(serverNonce)).put("alg", AuthProofs.ALGORITHM)));
                    JsonObject login = c.read();
                    proved.complete(AuthProofs.matches(AuthProofs.clientProof(TestServer.KEY, serverNonce, clientNonce),
                            AuthProofs.unb64(login.getJsonObject("body").getString("proof"))));
                    JsonObject body = new JsonObject().put("session", "fake").put("protocol", 1).put("server", "orch/fake")
                            .put("maxFrame", 16777216).put("idleTimeout", 120);
                    String p = proof.apply(clientNonce, serverNonce);
                    if (p != null) {
                        body.put("serverProof", p);
                    }
                    c.write(new JsonObject().put("type", "message").put("address", login.getString("replyAddress")).put("body", body));
                    after.complete(c.read());
                } catch (IOException | RuntimeException e) {
                    // A reset as the client closes: it sent nothing.
                    proved.complete(false);
                    after.complete(null);
                }
            });
            peer.setDaemon(true);
            peer.start();
            ClientConfig cfg = new ClientConfig().host("127.0.0.1").port(port.getLocalPort()).authKey(TestServer.KEY)
                    .connectTimeout(Duration.ofSeconds(10));
            OrchAuthException e = assertThrows(OrchAuthException.class, () -> OrchClient.connect(cfg).close());
            assertEquals("the server at 127.0.0.1:" + port.getLocalPort() + " does not know our auth key", e.getMessage());
            assertTrue(proved.get(10, TimeUnit.SECONDS), "the client proved the key before the server had");
            assertNull(after.get(10, TimeUnit.SECONDS), "the client closed without a frame after the login");
            peer.join(10_000);
        }
    }
}
