package dev.orch.cli;

import dev.orch.client.OrchClient;
import java.io.PrintWriter;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/** {@code orch delete NAME…}: deletes named objects. */
@Command(name = "delete", mixinStandardHelpOptions = true, description = "Delete named objects.")
class DeleteCommand extends ClientCommand {
    @Parameters(arity = "1..*", paramLabel = "NAME")
    List<String> names;

    @Override
    protected void run(OrchClient c, PrintWriter out) {
        for (String n : names) {
            c.delete(n);
        }
    }
}
