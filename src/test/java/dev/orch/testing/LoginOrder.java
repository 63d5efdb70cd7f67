package dev.orch.testing;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.orch.protocol.AuthProofs;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Set;
import java.util.function.Supplier;

/**
 * The order of the login (PROTOCOL.md §3), checked on the wire for anything that takes logins:
 * the client proves it holds the key first, and only then does the other side prove it. A MAC
 * given before that would let anyone who connects guess the key offline.
 */
public final class LoginOrder {
    private LoginOrder() {
    }

    /** Asserts the login order on fresh connections from {@code connect}, which takes {@code key}. */
    public static void assertClientProvesFirst(Supplier<RawClient> connect, byte[] key) throws IOException {
        byte[] clientNonce = AuthProofs.nonce();
        JsonObject challenge = new JsonObject().put("op", "challenge").put("clientNonce", AuthProofs.b64(clientNonce));
        try (RawClient c = connect.get()) {
            JsonObject reply = c.request("orch.auth", challenge).getJsonObject("body");
            assertEquals(Set.of("serverNonce", "alg"), reply.fieldNames(), "no proof before the client's: " + reply.encode());
            byte[] serverNonce = AuthProofs.unb64(reply.getString("serverNonce"));
            assertEquals(AuthProofs.NONCE_BYTES, serverNonce.length);
            byte[] wrong = AuthProofs.clientProof("wrong".getBytes(StandardCharsets.UTF_8), serverNonce, clientNonce);
            JsonObject refused = c.request("orch.auth", new JsonObject().put("op", "login").put("proof", AuthProofs.b64(wrong)));
            assertEquals("err", refused.getString("type"), refused.encode());
            assertEquals(401, refused.getInteger("failureCode"), refused.encode());
            assertFalse(refused.encode().contains("serverProof"), refused.encode());
            assertTrue(c.closedByServer(), "closed after a wrong proof");
        }
        try (RawClient c = connect.get()) {
            byte[] serverNonce = AuthProofs.unb64(c.request("orch.auth", challenge).getJsonObject("body").getString("serverNonce"));
            JsonObject login = c.request("orch.auth", new JsonObject().put("op", "login")
                    .put("proof", AuthProofs.b64(AuthProofs.clientProof(key, serverNonce, clientNonce))));
            JsonObject body = login.getJsonObject("body");
            assertEquals("message", login.getString("type"), login.encode());
            assertArrayEquals(AuthProofs.serverProof(key, clientNonce, serverNonce), AuthProofs.unb64(body.getString("serverProof")),
                    body.encode());
        }
    }
}
