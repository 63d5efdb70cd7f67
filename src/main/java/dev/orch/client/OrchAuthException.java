package dev.orch.client;

/**
 * The server refused our auth key (or proved it does not hold it). Unlike other connect failures
 * this never passes by itself, so callers that retry (orch connect) stop at once.
 */
public class OrchAuthException extends OrchConnectException {
    public OrchAuthException(String message) {
        super(message);
    }
}
