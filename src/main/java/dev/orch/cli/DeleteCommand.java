package dev.orch.cli;

import dev.orch.cli.common.JsonArgs;
import dev.orch.client.OrchClient;
import io.vertx.core.json.JsonObject;
import java.io.PrintWriter;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/**
 * {@code orch delete NAME…}: deletes named objects, printing each name once it is deleted
 * ({@code -o json}: {@code {"name":NAME,"deleted":true}} per line, as {@code orch rm} prints one
 * object per process). Every name is tried; the first failure decides the exit code.
 */
@Command(name = "delete", mixinStandardHelpOptions = true, description = "Delete named objects; print each name deleted.")
class DeleteCommand extends ClientCommand {
    @Parameters(arity = "1..*", paramLabel = "NAME")
    List<String> names;

    @Override
    protected void run(OrchClient c, PrintWriter out) {
        forEachReporting(names, n -> {
            c.delete(n);
            // One line per name as it goes, as the order of output and errors tells what happened.
            out.println(output.json() ? JsonArgs.encode(new JsonObject().put("name", n).put("deleted", true)) : n);
            out.flush();
        });
    }
}
