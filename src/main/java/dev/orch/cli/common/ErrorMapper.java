package dev.orch.cli.common;

import dev.orch.auth.AuthKeys;
import dev.orch.client.OrchConnectException;
import dev.orch.protocol.ErrorCode;
import dev.orch.protocol.OrchException;
import java.io.PrintWriter;
import picocli.CommandLine;
import picocli.CommandLine.ParseResult;

/**
 * The one place where failures become exit codes and one-line messages. Stack traces only with
 * {@code --verbose}.
 */
public final class ErrorMapper implements CommandLine.IExecutionExceptionHandler, CommandLine.IParameterExceptionHandler {

    @Override
    public int handleExecutionException(Exception ex, CommandLine cmd, ParseResult parseResult) {
        return report(ex, cmd.getErr(), verbose(parseResult));
    }

    /**
     * Prints a failure as {@code handleExecutionException} does: one {@code orch: …} line, and
     * the stack trace if {@code verbose}. For commands that go on after a failure and so must
     * report it themselves.
     *
     * @return the exit code for the failure
     */
    public static int report(Throwable failure, PrintWriter err, boolean verbose) {
        Throwable e = unwrap(failure);
        if (e instanceof CliException && ((CliException) e).quiet()) {
            return exitCode(e);
        }
        // Messages quote what the user or a remote sent; escaped, they stay on one line and cannot
        // drive the terminal.
        err.println("orch: " + Table.printable(message(e)));
        if (verbose) {
            e.printStackTrace(err);
        }
        err.flush();
        return exitCode(e);
    }

    /** True if {@code -v/--verbose} was given to {@code cmd}'s command or to any command above it. */
    public static boolean verbose(CommandLine cmd) {
        CommandLine root = cmd;
        while (root.getParent() != null) {
            root = root.getParent();
        }
        return verbose(root.getParseResult());
    }

    /** Usage errors: one line, like every other error, pointing at the command's help. */
    @Override
    public int handleParseException(CommandLine.ParameterException ex, String[] args) {
        CommandLine cmd = ex.getCommandLine();
        PrintWriter err = cmd.getErr();
        err.println("orch: " + Table.printable(usageMessage(ex)) + " (see '" + cmd.getCommandSpec().qualifiedName() + " --help')");
        err.flush();
        return ExitCodes.USAGE;
    }

    static String usageMessage(CommandLine.ParameterException ex) {
        if (ex instanceof CommandLine.UnmatchedArgumentException) {
            CommandLine.UnmatchedArgumentException u = (CommandLine.UnmatchedArgumentException) ex;
            // Where a subcommand was expected, a stray word is a command we do not have. The top
            // command stops at the first word it does not know (OrchMain), so the words after it
            // are in the list too: they were not looked at.
            if (!ex.getCommandLine().getSubcommands().isEmpty() && !u.getUnmatched().isEmpty()) {
                String first = u.getUnmatched().get(0);
                return u.isUnknownOption() ? "Unknown option: '" + first + "'" : "unknown command '" + first + "'";
            }
        }
        if (ex.getArgSpec() == null && ex.getValue() != null && !ex.getCommandLine().getSubcommands().isEmpty()
                && !ex.getCommandLine().getSubcommands().containsKey(ex.getValue())) {
            // 'orch help xyz': picocli's HelpCommand says "Unknown subcommand 'xyz'."
            return "unknown command '" + ex.getValue() + "'";
        }
        String m = ex.getMessage();
        return m == null ? "bad usage" : m.strip().replaceAll("\\s*\\R\\s*", " ");
    }

    static Throwable unwrap(Throwable e) {
        Throwable t = e;
        while ((t instanceof CommandLine.ExecutionException || t instanceof java.util.concurrent.CompletionException
                || t instanceof java.util.concurrent.ExecutionException) && t.getCause() != null) {
            t = t.getCause();
        }
        return t;
    }

    /** The exit code for a failure (see {@link ExitCodes}). */
    public static int exitCode(Throwable e) {
        if (e instanceof CliException) {
            return ((CliException) e).exitCode();
        }
        if (e instanceof OrchConnectException || e instanceof AuthKeys.KeyException) {
            return ExitCodes.CONNECT;
        }
        if (e instanceof OrchException) {
            ErrorCode c = ((OrchException) e).code();
            if (c == ErrorCode.NOT_FOUND) {
                return ExitCodes.NOT_FOUND;
            }
            if (c == ErrorCode.UNAUTHENTICATED) {
                return ExitCodes.CONNECT;
            }
            return ExitCodes.REMOTE_ERROR;
        }
        if (e instanceof IllegalArgumentException) {
            return ExitCodes.USAGE;
        }
        return ExitCodes.REMOTE_ERROR;
    }

    static String message(Throwable e) {
        if (e instanceof OrchException) {
            OrchException oe = (OrchException) e;
            String d = oe.detail();
            // An exception raised without a message (queue.Empty) has nothing after its name.
            return (d == null || d.isBlank() ? oe.name() : oe.wireMessage()) + " (" + oe.failureCode() + ")";
        }
        String m = e.getMessage();
        return m == null || m.isBlank() ? e.getClass().getSimpleName() : m;
    }

    private static boolean verbose(ParseResult pr) {
        for (ParseResult p = pr; p != null; p = p.subcommand()) {
            if (p.hasMatchedOption("--verbose")) {
                return true;
            }
        }
        return false;
    }
}
