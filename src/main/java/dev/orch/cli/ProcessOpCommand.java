package dev.orch.cli;

import dev.orch.cli.common.CliException;
import dev.orch.cli.common.JsonArgs;
import dev.orch.cli.common.Seconds;
import dev.orch.client.OrchClient;
import dev.orch.process.ProcessEndpoint;
import io.vertx.core.json.JsonObject;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * stop, kill, restart, rm: one op on each named process. Every process is tried and every failure
 * reported; the first failure decides the exit code.
 */
abstract class ProcessOpCommand extends ClientCommand {
    @Parameters(paramLabel = "ID|NAME", arity = "1..*", description = "Process ids (p1, w1, p1@node) or names.")
    List<String> refs;

    abstract String op();

    JsonObject extra(JsonObject req) {
        return req;
    }

    @Override
    protected void run(OrchClient c, PrintWriter out) {
        forEachReporting(refs, ref -> {
            JsonObject r = (JsonObject) c.request(ProcessEndpoint.ADDRESS, extra(new JsonObject().put("op", op()).put("id", ref)));
            out.println(output.json() ? JsonArgs.encode(r.put("ref", ref)) : r.getString("id", ref));
            out.flush();
        });
    }

    @Command(name = "stop", mixinStandardHelpOptions = true, description = "Stop processes: SIGTERM to the process group, SIGKILL after the grace period.")
    static class Stop extends ProcessOpCommand {
        @Option(names = "--grace", paramLabel = "S", description = "Seconds between SIGTERM and SIGKILL (default: the server's).")
        Double grace;

        @Override
        protected void validate() {
            if (grace != null) {
                Seconds.of("--grace", grace, 0); // the rules of every option in seconds
            }
        }

        @Override
        protected Duration serverSideWait() {
            return grace == null ? Duration.ZERO : Seconds.of("--grace", grace, 0);
        }

        @Override
        String op() {
            return "stop";
        }

        @Override
        JsonObject extra(JsonObject req) {
            return grace == null ? req : req.put("grace", grace);
        }
    }

    @Command(name = "kill", mixinStandardHelpOptions = true, description = "Kill processes with SIGKILL at once.")
    static class Kill extends ProcessOpCommand {
        @Override
        String op() {
            return "kill";
        }
    }

    @Command(name = "restart", mixinStandardHelpOptions = true, description = "Stop (if running) and start processes again.")
    static class Restart extends ProcessOpCommand {
        @Override
        String op() {
            return "restart";
        }
    }

    @Command(name = "rm", mixinStandardHelpOptions = true, description = "Forget ended processes (and their logs).")
    static class Rm extends ProcessOpCommand {
        @Override
        String op() {
            return "rm";
        }
    }
}
