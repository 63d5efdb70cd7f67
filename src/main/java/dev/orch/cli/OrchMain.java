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
        ErrorMapper errors = new ErrorMapper();
        return new CommandLine(OrchCommand.class, factory)
                .setExecutionExceptionHandler(errors)
                .setParameterExceptionHandler(errors)
                .setCaseInsensitiveEnumValuesAllowed(true)
                .execute(CommandLineBytes.recover(args));
    }
}
