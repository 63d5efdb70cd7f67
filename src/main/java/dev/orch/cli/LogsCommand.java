package dev.orch.cli;

import dev.orch.cli.common.CliException;
import dev.orch.cli.common.JsonArgs;
import dev.orch.client.OrchClient;
import dev.orch.client.OrchConnectException;
import dev.orch.process.ProcessEndpoint;
import dev.orch.protocol.Addresses;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.BufferedOutputStream;
import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.concurrent.LinkedBlockingQueue;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code orch logs [-f] [--tail N] ID|NAME}: prints a process's output, exactly as written. */
@Command(name = "logs", mixinStandardHelpOptions = true, description = "Print a process's captured output (stdout lines on stdout, stderr lines on stderr).")
class LogsCommand extends ClientCommand {
    @Parameters(paramLabel = "ID|NAME", description = "Process id or name.")
    String ref;

    @Option(names = {"-f", "--follow"}, description = "Keep printing new output until Ctrl-C or the log ends.")
    boolean follow;

    @Option(names = "--tail", paramLabel = "N", defaultValue = "1000", description = "Print at most the last N lines (default: ${DEFAULT-VALUE}).")
    int tail;

    private long lastSeq;
    private final OutputStream stdout = new BufferedOutputStream(new FileOutputStream(FileDescriptor.out));
    private final OutputStream stderr = new BufferedOutputStream(new FileOutputStream(FileDescriptor.err));

    @Override
    protected void validate() {
        if (tail < 0 || tail > ProcessEndpoint.MAX_TAIL) {
            throw CliException.usage("--tail must be between 0 and " + ProcessEndpoint.MAX_TAIL);
        }
    }

    @Override
    protected void run(OrchClient c, PrintWriter out) throws Exception {
        JsonObject req = new JsonObject().put("op", "logs").put("id", ref).put("tail", tail);
        LinkedBlockingQueue<JsonObject> stream = new LinkedBlockingQueue<>();
        if (follow) {
            String address = Addresses.replyPrefix(c.session()) + "logs";
            c.subscribe(address, b -> stream.add(b instanceof JsonObject ? (JsonObject) b : new JsonObject()));
            req.put("follow", address);
        }
        JsonObject r = (JsonObject) c.request(ProcessEndpoint.ADDRESS, req);
        if (output.json() && !follow) {
            out.println(JsonArgs.encode(r));
            out.flush();
            CliException.checkOutput(out);
            return;
        }
        print(r.getJsonArray("lines", new JsonArray()));
        if (!follow) {
            return;
        }
        // The server ends the log before it closes the connection when it stops in order; a
        // connection that closes first is a server lost (exit 3, as orch events does).
        JsonObject lost = new JsonObject();
        c.closedFuture().thenRun(() -> stream.add(lost));
        while (true) {
            JsonObject m = stream.take();
            if (m == lost) {
                throw new OrchConnectException("connection to the orch server ended");
            }
            if (m.containsKey("lines")) {
                print(m.getJsonArray("lines"));
            }
            if (m.getBoolean("end", false)) {
                return;
            }
        }
    }

    private void print(JsonArray lines) {
        try {
            write(lines);
        } catch (IOException e) {
            // Only our stdout or stderr can fail here: the reader went away (orch logs -f | head).
            throw CliException.outputClosed();
        }
    }

    private void write(JsonArray lines) throws IOException {
        for (Object o : lines) {
            JsonObject l = (JsonObject) o;
            long seq = l.getLong("seq", 0L);
            if (seq != 0 && seq <= lastSeq) {
                continue; // already printed (the stream may start before the reply arrives)
            }
            lastSeq = Math.max(lastSeq, seq);
            if (output.json()) {
                stdout.write((JsonArgs.encode(l) + "\n").getBytes(StandardCharsets.UTF_8));
                continue;
            }
            byte[] bytes = l.containsKey("b64") ? Base64.getDecoder().decode(l.getString("b64"))
                    : l.getString("text", "").getBytes(StandardCharsets.UTF_8);
            OutputStream s = "err".equals(l.getString("stream")) ? stderr : stdout;
            s.write(bytes);
            if (l.getBoolean("eol", true)) {
                s.write('\n');
            }
        }
        stdout.flush();
        stderr.flush();
    }
}
