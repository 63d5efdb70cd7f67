package dev.orch.cli;

import dev.orch.cli.common.CliException;
import dev.orch.cli.common.JsonArgs;
import dev.orch.cli.common.Seconds;
import dev.orch.client.OrchClient;
import dev.orch.process.ProcessEndpoint;
import dev.orch.protocol.ErrorCode;
import dev.orch.protocol.OrchException;
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

    /** How long the server waits on purpose before it answers the op (a stop's grace). */
    Duration serverWait(OrchClient c) {
        return Duration.ZERO;
    }

    /**
     * The server's default stop grace, which a stop without {@code --grace} and a restart wait
     * out; zero from a server that does not say (the timeout alone then bounds the wait).
     */
    static Duration serverGrace(OrchClient c) {
        try {
            Object g = ((JsonObject) c.request(ProcessEndpoint.ADDRESS, new JsonObject().put("op", "settings"))).getValue("grace");
            return g instanceof Number && ((Number) g).doubleValue() >= 0
                    ? Duration.ofMillis(Math.round(Math.min(((Number) g).doubleValue(), ProcessEndpoint.MAX_GRACE_SECONDS) * 1000))
                    : Duration.ZERO;
        } catch (OrchException e) {
            if (e.code() != ErrorCode.BAD_REQUEST) {
                throw e;
            }
            return Duration.ZERO; // a server older than the op
        }
    }

    @Override
    protected void run(OrchClient c, PrintWriter out) {
        Duration wait = serverWait(c);
        forEachReporting(refs, ref -> {
            JsonObject r = (JsonObject) c.request(ProcessEndpoint.ADDRESS, extra(new JsonObject().put("op", op()).put("id", ref)), wait);
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
        Duration serverWait(OrchClient c) {
            return grace == null ? serverGrace(c) : Seconds.of("--grace", grace, 0);
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
        Duration serverWait(OrchClient c) {
            return serverGrace(c); // a running process is stopped first
        }

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
