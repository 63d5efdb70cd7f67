package dev.orch.cli;

import dev.orch.cli.common.JsonArgs;
import dev.orch.client.OrchClient;
import dev.orch.client.RemoteObject;
import dev.orch.protocol.ErrorCode;
import dev.orch.protocol.OrchException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.PrintWriter;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code orch call NAME_OR_ID METHOD [ARG…]}: calls a method and prints its JSON result. */
@Command(name = "call", mixinStandardHelpOptions = true, description = "Call a method of an object and print the JSON result.")
class CallCommand extends ClientCommand {
    @Parameters(index = "0", paramLabel = "NAME_OR_ID", description = "Object name, or id.")
    String target;

    @Parameters(index = "1", paramLabel = "METHOD", description = "Method name.")
    String method;

    @Parameters(index = "2..*", paramLabel = "ARG", description = "Arguments, each JSON (a bare word is a string).")
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
        RemoteObject o = resolve(c, target);
        Object result = o.call(method, jsonArgs, jsonKwargs);
        if (result instanceof RemoteObject) {
            out.println(((RemoteObject) result).id());
        } else {
            out.println(JsonArgs.encode(result));
        }
    }

    /** A name first, then an id. */
    static RemoteObject resolve(OrchClient c, String target) {
        try {
            return c.lookup(target);
        } catch (OrchException e) {
            if (e.code() != ErrorCode.NOT_FOUND) {
                throw e;
            }
        }
        try {
            return c.lookupId(target);
        } catch (OrchException e) {
            if (e.code() == ErrorCode.NOT_FOUND) {
                throw OrchException.notFound("no object named or with id '" + target + "'");
            }
            throw e;
        }
    }
}
