package dev.orch.cli;

import dev.orch.client.OrchClient;
import java.io.PrintWriter;
import picocli.CommandLine.Command;

/** {@code orch shutdown}: stops the server. */
@Command(name = "shutdown", mixinStandardHelpOptions = true, description = "Stop the server (its children are stopped too).")
class ShutdownCommand extends ClientCommand {
    @Override
    protected void run(OrchClient c, PrintWriter out) {
        c.shutdown();
    }
}
