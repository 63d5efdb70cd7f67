package dev.orch.cli;

import dev.orch.cli.common.CommandLineBytes;
import dev.orch.cli.common.ErrorMapper;
import io.quarkus.runtime.QuarkusApplication;
import io.quarkus.runtime.annotations.QuarkusMain;
import jakarta.inject.Inject;
import picocli.CommandLine;

/** Entry point: builds the command line with the CDI-aware factory and the one error mapper. */
@QuarkusMain
public class OrchMain implements QuarkusApplication {
    @Inject
    CommandLine.IFactory factory;

    @Override
    public int run(String... args) {
        if (exiting()) {
            // A SIGTERM or SIGINT came while Quarkus was starting: the JVM is exiting (with the
            // signal's code, 143 or 130) but its Quarkus hook waits for this method to return.
            // A command that runs until stopped (events, logs -f, ps --watch) would keep it
            // waiting for good, and a second signal cannot help once the JVM is exiting.
            return 0;
        }
        ErrorMapper errors = new ErrorMapper();
        CommandLine orch = new CommandLine(OrchCommand.class, factory)
                .setExecutionExceptionHandler(errors)
                .setParameterExceptionHandler(errors)
                .setCaseInsensitiveEnumValuesAllowed(true);
        // A first word orch does not know is an unknown command, whatever follows: picocli would
        // otherwise go on to a command named later ('orch help call' ran 'call' without its
        // arguments). Only the top command: a subcommand's stray word is reported as it is.
        orch.getCommandSpec().parser().stopAtUnmatched(true);
        sameVersion(orch, orch.getCommandSpec().versionProvider());
        return orch.execute(CommandLineBytes.recover(args));
    }

    /**
     * Every command's {@code -V} prints what {@code orch -V} prints: mixinStandardHelpOptions
     * gives each one the option, but only the top command names a version provider, and without
     * one {@code -V} printed nothing and skipped the command.
     */
    static void sameVersion(CommandLine cmd, CommandLine.IVersionProvider version) {
        for (CommandLine sub : cmd.getSubcommands().values()) {
            sub.getCommandSpec().versionProvider(version);
            sameVersion(sub, version);
        }
    }

    /** Whether the JVM has begun to exit: it then takes no more shutdown hooks. */
    static boolean exiting() {
        Thread probe = new Thread(() -> { });
        try {
            Runtime.getRuntime().addShutdownHook(probe);
            Runtime.getRuntime().removeShutdownHook(probe);
            return false;
        } catch (IllegalStateException e) {
            return true;
        }
    }
}
