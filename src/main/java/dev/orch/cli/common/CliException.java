package dev.orch.cli.common;

/** A failure to report as one line on stderr with a given exit code. */
public class CliException extends RuntimeException {
    private final int exitCode;
    private final boolean quiet;

    public CliException(int exitCode, String message) {
        super(message);
        this.exitCode = exitCode;
        this.quiet = false;
    }

    private CliException(int exitCode) {
        super(null, null, false, false);
        this.exitCode = exitCode;
        this.quiet = true;
    }

    public CliException(int exitCode, String message, Throwable cause) {
        super(message, cause);
        this.exitCode = exitCode;
        this.quiet = false;
    }

    public int exitCode() {
        return exitCode;
    }

    /** True for a failure that ends the command without a message (see {@link #outputClosed}). */
    public boolean quiet() {
        return quiet;
    }

    public static CliException usage(String message) {
        return new CliException(ExitCodes.USAGE, message);
    }

    /**
     * Stdout (or stderr) was closed by its reader: exit {@link ExitCodes#OUTPUT_CLOSED} without a
     * word, as a command killed by SIGPIPE does; there is no one left to read an error anyway.
     */
    public static CliException outputClosed() {
        return new CliException(ExitCodes.OUTPUT_CLOSED);
    }

    /**
     * Throws {@link #outputClosed} if writing to {@code out} has failed. A PrintWriter (and the
     * System.out under it) swallows write errors, so a command that streams until interrupted
     * would otherwise write into a closed pipe forever.
     */
    public static void checkOutput(java.io.PrintWriter out) {
        if (out.checkError() || System.out.checkError()) {
            throw outputClosed();
        }
    }
}
