package dev.orch.protocol;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.Base64;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * The mutual HMAC-SHA256 handshake of protocol v1. The key never crosses the wire:
 * each side proves it holds the key by MACing both nonces with a role label. The client proves
 * first; the {@link #serverProof} goes out only in the login reply, so a peer that has not proved
 * the key gets no MAC to guess it against offline (PROTOCOL.md §3).
 */
public final class AuthProofs {
    public static final String ALGORITHM = "HMAC-SHA256";
    public static final int NONCE_BYTES = 32;
    private static final byte[] SERVER_LABEL = "orch-server".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] CLIENT_LABEL = "orch-client".getBytes(StandardCharsets.US_ASCII);
    private static final SecureRandom RANDOM = new SecureRandom();

    private AuthProofs() {
    }

    public static byte[] nonce() {
        byte[] n = new byte[NONCE_BYTES];
        RANDOM.nextBytes(n);
        return n;
    }

    /** HMAC(key, "orch-server" ‖ clientNonce ‖ serverNonce). */
    public static byte[] serverProof(byte[] key, byte[] clientNonce, byte[] serverNonce) {
        return hmac(key, SERVER_LABEL, clientNonce, serverNonce);
    }

    /** HMAC(key, "orch-client" ‖ serverNonce ‖ clientNonce). */
    public static byte[] clientProof(byte[] key, byte[] serverNonce, byte[] clientNonce) {
        return hmac(key, CLIENT_LABEL, serverNonce, clientNonce);
    }

    /** Constant-time comparison. */
    public static boolean matches(byte[] expected, byte[] actual) {
        return actual != null && MessageDigest.isEqual(expected, actual);
    }

    public static String b64(byte[] bytes) {
        return Base64.getEncoder().encodeToString(bytes);
    }

    /** Decodes standard base64, or returns null if the text is not base64. */
    public static byte[] unb64(String text) {
        if (text == null) {
            return null;
        }
        try {
            return Base64.getDecoder().decode(text);
        } catch (IllegalArgumentException e) {
            return null;
        }
    }

    private static byte[] hmac(byte[] key, byte[]... parts) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(key, "HmacSHA256"));
            for (byte[] p : parts) {
                mac.update(p);
            }
            return mac.doFinal();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HmacSHA256 unavailable", e);
        }
    }
}
