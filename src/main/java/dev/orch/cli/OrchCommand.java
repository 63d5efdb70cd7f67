package dev.orch.cli;

import org.eclipse.microprofile.config.ConfigProvider;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/** {@code orch}: the top command; alone it prints the usage. */
@Command(name = "orch", mixinStandardHelpOptions = true, versionProvider = OrchCommand.Version.class,
        description = "Process orchestrator and shared-object manager.",
        subcommands = {
            ServerCommand.class,
            NewCommand.class,
            CallCommand.class,
            TypesCommand.class,
            ObjectsCommand.class,
            DeleteCommand.class,
            ShutdownCommand.class,
            HealthCommand.class,
            SpawnCommand.class,
            PsCommand.class,
            LogsCommand.class,
            ProcessOpCommand.Stop.class,
            ProcessOpCommand.Kill.class,
            ProcessOpCommand.Restart.class,
            ProcessOpCommand.Rm.class,
            EventsCommand.class,
            ConnectCommand.class,
            BenchCommand.class,
            BenchWorkerCommand.class,
            CommandLine.HelpCommand.class,
        })
public class OrchCommand implements Runnable {
    @Spec
    CommandSpec spec;

    /** {@code orch -o json objects}: also accepted before the subcommand. */
    @picocli.CommandLine.Mixin
    dev.orch.cli.common.OutputOptions output;

    /** {@code orch -v call …}: also accepted before the subcommand (see ErrorMapper). */
    @picocli.CommandLine.Mixin
    dev.orch.cli.common.VerboseOption verbose;

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(), "missing command");
    }

    /** The version from the build. */
    public static String version() {
        return ConfigProvider.getConfig().getOptionalValue("quarkus.application.version", String.class).orElse("dev");
    }

    /** Prints {@code orch VERSION}. */
    public static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            return new String[] {"orch " + version()};
        }
    }
}
