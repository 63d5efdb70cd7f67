package dev.orch.cli;

import dev.orch.cli.common.CliException;
import dev.orch.cli.common.JsonArgs;
import dev.orch.client.OrchClient;
import dev.orch.client.OrchConnectException;
import dev.orch.protocol.Addresses;
import io.vertx.core.json.JsonObject;
import java.io.PrintWriter;
import java.util.concurrent.CompletableFuture;
import picocli.CommandLine.Command;

/** {@code orch events}: prints lifecycle events as they happen, until interrupted. */
@Command(name = "events", mixinStandardHelpOptions = true, description = "Print lifecycle events (process, worker, node) as they happen, until Ctrl-C.")
class EventsCommand extends ClientCommand {
    @Override
    protected void run(OrchClient c, PrintWriter out) throws Exception {
        // True once our reader has gone (orch events | head -1), false if the server went away.
        CompletableFuture<Boolean> end = new CompletableFuture<>();
        c.subscribe(Addresses.EVENTS, body -> {
            if (!(body instanceof JsonObject)) {
                return;
            }
            synchronized (out) {
                out.println(output.json() ? JsonArgs.encode(body) : readable((JsonObject) body));
                out.flush();
                try {
                    CliException.checkOutput(out);
                } catch (CliException e) {
                    end.complete(true);
                }
            }
        });
        c.closedFuture().thenRun(() -> end.complete(false));
        if (end.join()) {
            throw CliException.outputClosed();
        }
        // Only Ctrl-C ends the stream on purpose; a server that went away is a failure (exit 3).
        throw new OrchConnectException("connection to the orch server ended");
    }

    /** {@code TIME EVENT ID (NAME) key=value…}. */
    static String readable(JsonObject e) {
        StringBuilder sb = new StringBuilder();
        sb.append(e.getString("time", "-")).append(' ').append(e.getString("event", "?"));
        if (e.getValue("id") != null) {
            sb.append(' ').append(e.getValue("id"));
        }
        if (e.getValue("name") != null && !e.getValue("name").equals(e.getValue("id"))) {
            sb.append(" (").append(e.getValue("name")).append(')');
        }
        for (String k : new String[] {"node", "state", "pid", "exitCode", "restarts", "delayMs", "reason"}) {
            Object v = e.getValue(k);
            if (v != null && !(k.equals("restarts") && Integer.valueOf(0).equals(v))) {
                sb.append(' ').append(k).append('=').append(v);
            }
        }
        return sb.toString();
    }
}
