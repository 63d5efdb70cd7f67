package dev.orch.protocol;

/**
 * A typed failure: a protocol {@link ErrorCode}, an error name (such as {@code KeyError} for a
 * method that raised, or the code's default name) and a detail message.
 * Thrown by objects on the server and by the client when the server answers with an error.
 */
public class OrchException extends RuntimeException {
    private final ErrorCode code;
    private final int failureCode;
    private final String name;
    private final String detail;

    public OrchException(ErrorCode code, String name, String detail) {
        this(code, code.code(), name, detail);
    }

    /**
     * A failure with a numeric code, which need not have an {@link ErrorCode}: a hosted method may
     * fail with any code a method may (PROTOCOL.md §7), such as 418. {@link #code()} is then
     * {@link ErrorCode#REMOTE}, and the number goes on the wire as it is.
     */
    public OrchException(int failureCode, String name, String detail) {
        this(ErrorCode.of(failureCode), failureCode, name, detail);
    }

    private OrchException(ErrorCode code, int failureCode, String name, String detail) {
        super(name + ": " + detail);
        this.code = code;
        this.failureCode = failureCode;
        this.name = name;
        this.detail = detail;
    }

    public OrchException(ErrorCode code, String detail) {
        this(code, code.defaultName(), detail);
    }

    /** A method failure ({@code 500}) with a Python-style error name, e.g. {@code KeyError}. */
    public static OrchException raised(String errorName, String detail) {
        return new OrchException(ErrorCode.REMOTE, errorName, detail);
    }

    public static OrchException notFound(String detail) {
        return new OrchException(ErrorCode.NOT_FOUND, detail);
    }

    public static OrchException badRequest(String detail) {
        return new OrchException(ErrorCode.BAD_REQUEST, detail);
    }

    /**
     * Rebuilds the exception from its wire message {@code "Name: detail"}. A message without a
     * name prefix keeps the code's default name.
     */
    public static OrchException fromWire(int failureCode, String message) {
        String msg = message == null ? "" : message;
        int colon = msg.indexOf(": ");
        if (colon > 0 && isName(msg.substring(0, colon))) {
            return new OrchException(failureCode, msg.substring(0, colon), msg.substring(colon + 2));
        }
        return new OrchException(failureCode, ErrorCode.of(failureCode).defaultName(), msg);
    }

    private static boolean isName(String s) {
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (!(Character.isLetterOrDigit(c) || c == '_' || c == '.')) {
                return false;
            }
        }
        return true;
    }

    /** The code, or {@link ErrorCode#REMOTE} for a number without a name here (see {@link #failureCode()}). */
    public ErrorCode code() {
        return code;
    }

    /** The numeric code as on the wire ({@code failureCode}); a method's own may have no {@link ErrorCode}. */
    public int failureCode() {
        return failureCode;
    }

    /** The error name, e.g. {@code KeyError} or {@code NotFound}. */
    public String name() {
        return name;
    }

    /** The message without the name prefix. */
    public String detail() {
        return detail;
    }

    /** The message as sent on the wire: {@code "Name: detail"}. */
    public String wireMessage() {
        return getMessage();
    }
}
