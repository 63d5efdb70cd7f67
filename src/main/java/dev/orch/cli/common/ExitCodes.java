package dev.orch.cli.common;

/** Exit codes of every orch command. */
public final class ExitCodes {
    public static final int OK = 0;
    /** The object's method failed, or the server refused the request. */
    public static final int REMOTE_ERROR = 1;
    public static final int USAGE = 2;
    /** Cannot connect or authenticate. */
    public static final int CONNECT = 3;
    public static final int NOT_FOUND = 4;
    /**
     * The reader of our output went away (a closed pipe): 128 + SIGPIPE, what a shell reports for
     * a command that a broken pipe ended, so {@code orch events | head -1} ends as {@code yes | head -1} does.
     */
    public static final int OUTPUT_CLOSED = 141;

    private ExitCodes() {
    }
}
