package dev.orch.protocol;

/**
 * A value of a type JSON has no form for (a {@code byte[]}, a map key that is neither a string
 * nor a scalar, an object Jackson finds no properties in): it cannot be sent as it is. Hosted
 * answers report it as a {@code TypeError}, as Python's client reports what it cannot serialize.
 */
public final class NotJsonException extends IllegalArgumentException {
    private static final long serialVersionUID = 1L;

    public NotJsonException(String message) {
        super(message);
    }

    public NotJsonException(String message, Throwable cause) {
        super(message, cause);
    }
}
