package dev.orch.cli;

import dev.orch.cli.common.ClientOptions;
import dev.orch.cli.common.ErrorMapper;
import dev.orch.cli.common.ExitCodes;
import dev.orch.cli.common.OutputOptions;
import dev.orch.cli.common.VerboseOption;
import dev.orch.client.ClientConfig;
import dev.orch.client.DirectMode;
import dev.orch.client.OrchClient;
import java.io.PrintWriter;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.function.Consumer;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/** Base of the commands that talk to a server: connect, run, render, return an exit code. */
abstract class ClientCommand implements Callable<Integer> {
    @Mixin
    ClientOptions client;

    @Mixin
    OutputOptions output;

    @Mixin
    VerboseOption verbose;

    @Spec
    CommandSpec spec;

    private int exitCode = ExitCodes.OK;

    @Override
    public Integer call() throws Exception {
        inheritOutput(spec, output);
        validate();
        // One call or two: a direct connection to a worker would cost more than the hop it saves,
        // unless ORCH_DIRECT asks for it.
        ClientConfig config = client.config("orch-cli/" + spec.name());
        String direct = System.getenv(DirectMode.ENV);
        if (direct == null || direct.isBlank()) {
            config.direct("off");
        }
        try (OrchClient c = OrchClient.connect(config)) {
            run(c, spec.commandLine().getOut());
        }
        return exitCode;
    }

    /** "-o FORMAT" given before the subcommand ({@code orch -o json CMD}) applies unless the subcommand has its own. */
    static void inheritOutput(CommandSpec spec, OutputOptions output) {
        picocli.CommandLine parent = spec.commandLine().getParent();
        if (!spec.commandLine().getParseResult().hasMatchedOption("--output") && parent != null
                && parent.getParseResult() != null && parent.getParseResult().hasMatchedOption("--output")
                && parent.getCommand() instanceof OrchCommand) {
            output.format = ((OrchCommand) parent.getCommand()).output.format;
        }
    }

    /**
     * Runs {@code action} on every item, even after one fails: each failure is reported on stderr
     * as it happens, and the first one decides the exit code. For commands on several names,
     * whose user must learn about every item that was not acted on, not only the first. A lost
     * connection ends the loop: every item after it would only repeat that error.
     */
    protected void forEachReporting(List<String> items, Consumer<String> action) {
        PrintWriter err = spec.commandLine().getErr();
        boolean verbose = ErrorMapper.verbose(spec.commandLine());
        for (String item : items) {
            try {
                action.accept(item);
            } catch (RuntimeException e) {
                int code = ErrorMapper.report(e, err, verbose);
                if (exitCode == ExitCodes.OK) {
                    exitCode = code;
                }
                if (code == ExitCodes.CONNECT) {
                    return;
                }
            }
        }
    }

    /**
     * Checks the options before connecting, so a usage error (exit 2) never depends on whether a
     * server answers; throws {@link dev.orch.cli.common.CliException#usage}.
     */
    protected void validate() {
    }

    /** Does the work with a connected client; throws to fail. */
    protected abstract void run(OrchClient client, PrintWriter out) throws Exception;
}
