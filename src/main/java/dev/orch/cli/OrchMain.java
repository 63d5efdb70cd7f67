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
        return new CommandLine(OrchCommand.class, factory)
                .setExecutionExceptionHandler(errors)
                .setParameterExceptionHandler(errors)
                .setCaseInsensitiveEnumValuesAllowed(true)
                .execute(CommandLineBytes.recover(args));
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
