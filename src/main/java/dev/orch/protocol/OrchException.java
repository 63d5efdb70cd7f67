package dev.orch.protocol;

/**
 * A typed failure: a protocol {@link ErrorCode}, an error name (such as {@code KeyError} for a
 * method that raised, or the code's default name) and a detail message.
 * Thrown by objects on the server and by the client when the server answers with an error.
 */
public class OrchException extends RuntimeException {
    private final ErrorCode code;
    private final String name;
    private final String detail;

    public OrchException(ErrorCode code, String name, String detail) {
        super(name + ": " + detail);
        this.code = code;
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
        ErrorCode code = ErrorCode.of(failureCode);
        String msg = message == null ? "" : message;
        int colon = msg.indexOf(": ");
        if (colon > 0 && isName(msg.substring(0, colon))) {
            return new OrchException(code, msg.substring(0, colon), msg.substring(colon + 2));
        }
        return new OrchException(code, msg);
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

    public ErrorCode code() {
        return code;
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
