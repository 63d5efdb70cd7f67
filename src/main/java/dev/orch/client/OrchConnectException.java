package dev.orch.client;

/** The server could not be reached, refused the login, or the connection was lost. */
public class OrchConnectException extends RuntimeException {
    public OrchConnectException(String message) {
        super(message);
    }

    public OrchConnectException(String message, Throwable cause) {
        super(message, cause);
    }
}
