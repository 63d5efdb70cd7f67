package dev.orch.cli;

import dev.orch.cli.common.CliException;
import dev.orch.cli.common.JsonArgs;
import dev.orch.client.OrchClient;
import dev.orch.process.ProcessEndpoint;
import dev.orch.process.ProcessSpec;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.PrintWriter;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code orch spawn [options] -- CMD [ARG…]}: starts a supervised process and prints its id. */
@Command(name = "spawn", mixinStandardHelpOptions = true, description = "Start CMD under the server's supervision (or on --node) and print its id.")
class SpawnCommand extends ClientCommand {
    @Option(names = "--name", paramLabel = "NAME", description = "Name, unique among live processes.")
    String name;

    @Option(names = "--restart", paramLabel = "POLICY", defaultValue = "never",
            description = "Restart policy: never, on-failure or always (default: ${DEFAULT-VALUE}).")
    String restart;

    @Option(names = "--max-restarts", paramLabel = "K", description = "At most K automatic restarts (default: no limit).")
    Integer maxRestarts;

    @Option(names = "--env", paramLabel = "K=V", description = "Environment variable for CMD (repeatable).")
    List<String> env;

    @Option(names = "--cwd", paramLabel = "DIR", description = "Working directory of CMD.")
    String cwd;

    @Option(names = "--node", paramLabel = "NODE", description = "Run on this attached node (default: the server's machine).")
    String node;

    @Parameters(paramLabel = "CMD", arity = "1..*", description = "Command and arguments (after --).")
    List<String> command;

    @Override
    protected void validate() {
        if (!restart.matches("never|on-failure|always")) {
            throw CliException.usage("--restart must be never, on-failure or always");
        }
        if (name != null && !ProcessSpec.isValidName(name)) {
            throw CliException.usage("invalid --name '" + ProcessSpec.shown(name) + "': " + ProcessSpec.NAME_RULE);
        }
        if (maxRestarts != null && maxRestarts < 0) {
            throw CliException.usage("--max-restarts must not be negative");
        }
        if (cwd != null) {
            try {
                // Relative to where the user typed it, not to wherever the server was started.
                cwd = Path.of(cwd).toAbsolutePath().toString();
            } catch (InvalidPathException e) {
                throw CliException.usage("--cwd: " + e.getMessage());
            }
        }
        if (env != null) {
            for (String e : env) {
                if (e.indexOf('=') <= 0) {
                    throw CliException.usage("--env must be K=V: " + e);
                }
            }
        }
    }

    @Override
    protected void run(OrchClient c, PrintWriter out) {
        JsonObject req = new JsonObject().put("op", "spawn").put("command", new JsonArray(List.copyOf(command)))
                .put("restart", restart);
        if (name != null) {
            req.put("name", name);
        }
        if (maxRestarts != null) {
            req.put("maxRestarts", maxRestarts);
        }
        if (env != null) {
            req.put("env", new JsonArray(List.copyOf(env)));
        }
        if (cwd != null) {
            req.put("cwd", cwd);
        }
        if (node != null) {
            req.put("node", node);
        }
        JsonObject r = (JsonObject) c.request(ProcessEndpoint.ADDRESS, req);
        out.println(output.json() ? JsonArgs.encode(r) : r.getString("id"));
        out.flush();
    }
}
