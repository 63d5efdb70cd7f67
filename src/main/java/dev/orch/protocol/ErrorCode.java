package dev.orch.protocol;

/**
 * Failure codes carried in {@code err} frames and in event-bus reply failures.
 * The numeric values are part of protocol v1; see {@code src/docs/PROTOCOL.md}.
 */
public enum ErrorCode {
    BAD_REQUEST(400, "BadRequest"),
    UNAUTHENTICATED(401, "Unauthenticated"),
    FORBIDDEN(403, "Forbidden"),
    NOT_FOUND(404, "NotFound"),
    NAME_TAKEN(409, "NameTaken"),
    HOST_GONE(410, "HostGone"),
    FRAME_TOO_LARGE(413, "FrameTooLarge"),
    TOO_MANY(429, "TooMany"),
    /** The caller withdrew a parked call (a {@code cancel}, PROTOCOL.md §5). */
    CANCELLED(499, "Cancelled"),
    REMOTE(500, "RemoteError"),
    /** A hosting worker answered a call with something that is not a result or an error. */
    BAD_REPLY(502, "BadReply"),
    SHUTTING_DOWN(503, "ShuttingDown"),
    TIMEOUT(504, "Timeout");

    private final int code;
    private final String defaultName;

    ErrorCode(int code, String defaultName) {
        this.code = code;
        this.defaultName = defaultName;
    }

    /** The numeric code sent as {@code failureCode}. */
    public int code() {
        return code;
    }

    /** The error name used when no more specific one (such as {@code KeyError}) applies. */
    public String defaultName() {
        return defaultName;
    }

    /**
     * The code for a number, or {@link #REMOTE} for a number this version does not know (a
     * worker's own, such as 418: the number itself is kept in {@link OrchException#failureCode()}).
     */
    public static ErrorCode of(int code) {
        for (ErrorCode c : values()) {
            if (c.code == code) {
                return c;
            }
        }
        return REMOTE;
    }

    /**
     * The failure code a JSON value holds, or -1 if it holds none: an integer from 400 to 599.
     * {@code 400.9} and {@code 4294967696} (2^32 + 400) are no codes, though a cast to int reads
     * both as 400.
     */
    public static int fromJson(Object value) {
        if (value instanceof Integer || value instanceof Long || value instanceof Short || value instanceof Byte) {
            long v = ((Number) value).longValue();
            if (v >= 400 && v <= 599) {
                return (int) v;
            }
        }
        return -1;
    }

    /**
     * Whether a method may fail with {@code code} (PROTOCOL.md §7): 400 to 599, but not 401 or
     * 413, which speak of the caller's own connection and would mislead it.
     */
    public static boolean isMethodFailure(int code) {
        return code >= 400 && code <= 599 && code != UNAUTHENTICATED.code && code != FRAME_TOO_LARGE.code;
    }
}
