package dev.orch.cli;

import dev.orch.cli.common.JsonArgs;
import dev.orch.client.OrchClient;
import dev.orch.client.RemoteObject;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.PrintWriter;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code orch new TYPEID NAME [ARG…]}: creates a named object. */
@Command(name = "new", mixinStandardHelpOptions = true, description = "Create a named object (it lives until 'orch delete').")
class NewCommand extends ClientCommand {
    @Parameters(index = "0", paramLabel = "TYPEID", description = "Type, e.g. dict, list, Value, Queue, or a hosted type.")
    String typeid;

    @Parameters(index = "1", paramLabel = "NAME", description = "Name of the new object.")
    String name;

    @Parameters(index = "2..*", paramLabel = "ARG", description = "Constructor arguments, each JSON (a bare word is a string).")
    List<String> args;

    @Option(names = {"-k", "--kwarg"}, paramLabel = "NAME=JSON", description = "Keyword argument.")
    List<String> kwargs;

    private JsonArray jsonArgs;
    private JsonObject jsonKwargs;

    @Override
    protected void validate() {
        jsonArgs = JsonArgs.array(args);
        jsonKwargs = JsonArgs.kwargs(kwargs);
    }

    @Override
    protected void run(OrchClient c, PrintWriter out) {
        RemoteObject o = c.create(name, typeid, jsonArgs, jsonKwargs);
        if (output.json()) {
            out.println(JsonArgs.encode(new JsonObject().put("id", o.id()).put("typeid", o.typeid()).put("name", o.name())
                    .put("address", o.address()).put("exposed", o.exposed())));
        } else {
            out.println(o.id());
        }
    }
}
