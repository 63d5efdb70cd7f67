package dev.orch.cli;

import dev.orch.cli.common.JsonArgs;
import dev.orch.client.OrchClient;
import java.io.PrintWriter;
import picocli.CommandLine.Command;

/** {@code orch health}: exits 0 only if the server answers an authenticated request. */
@Command(name = "health", mixinStandardHelpOptions = true, description = "Exit 0 if the server answers an authenticated request (for probes).")
class HealthCommand extends ClientCommand {
    @Override
    protected void run(OrchClient c, PrintWriter out) {
        c.status();
        if (!output.json()) {
            out.println("ok " + c.serverVersion());
        } else {
            out.println(JsonArgs.encode(new io.vertx.core.json.JsonObject().put("ok", true).put("server", c.serverVersion())));
        }
    }
}
