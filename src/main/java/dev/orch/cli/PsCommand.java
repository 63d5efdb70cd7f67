package dev.orch.cli;

import dev.orch.cli.common.CliException;
import dev.orch.cli.common.JsonArgs;
import dev.orch.cli.common.Table;
import dev.orch.client.OrchClient;
import dev.orch.client.OrchConnectException;
import dev.orch.process.ProcessEndpoint;
import dev.orch.protocol.Addresses;
import dev.orch.protocol.Characters;
import dev.orch.protocol.ErrorCode;
import dev.orch.protocol.OrchException;
import dev.orch.protocol.Timestamps;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.PrintWriter;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Locale;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code orch ps}: the server, its processes, attached workers and nodes, with their descendants. */
@Command(name = "ps", mixinStandardHelpOptions = true, description = "List the server, its processes, attached workers and nodes' processes, with descendants.")
class PsCommand extends ClientCommand {
    private static final int COMMAND_WIDTH = 48;
    /** Names may be 128 characters; the table shows this many (all of it with -o wide or json). */
    private static final int NAME_WIDTH = 32;

    @Option(names = "--all", description = "Include ended processes (exited, failed, stopped).")
    boolean all;

    @Option(names = "--watch", description = "Keep the table current (from server events and a 2 s refresh) until Ctrl-C.")
    boolean watch;

    @Override
    protected void run(OrchClient c, PrintWriter out) throws Exception {
        if (!watch) {
            print(fetch(c), out);
            return;
        }
        LinkedBlockingQueue<Object> changes = new LinkedBlockingQueue<>();
        c.subscribe(Addresses.EVENTS, changes::add);
        c.closedFuture().thenRun(() -> changes.add(Boolean.FALSE)); // wake at once, not after the 2 s
        boolean tty = System.console() != null;
        String last = null;
        while (c.isOpen()) {
            JsonArray rows;
            try {
                rows = fetch(c);
            } catch (OrchException e) {
                if (e.code() == ErrorCode.SHUTTING_DOWN) {
                    break;
                }
                throw e;
            }
            String text = output.json() ? JsonArgs.encode(rows) + "\n" : render(rows);
            if (output.json()) {
                // One document per line and nothing else, for whatever reads JSON lines.
                if (!text.equals(last)) {
                    out.print(text);
                }
            } else if (tty) {
                out.print("\033[H\033[2J" + text);
            } else if (!text.equals(last)) {
                out.print("--- " + Instant.now().truncatedTo(ChronoUnit.MILLIS) + "\n" + text);
            }
            out.flush();
            CliException.checkOutput(out);
            last = text;
            // Wake on the next event (then let a burst settle) or after 2 s.
            if (changes.poll(2, TimeUnit.SECONDS) != null) {
                Thread.sleep(100); // debounce: one redraw per burst of events
                changes.clear();
            }
        }
        // Only Ctrl-C ends a watch on purpose; a server that went away is a failure (exit 3).
        throw new OrchConnectException("connection to the orch server ended");
    }

    private JsonArray fetch(OrchClient c) {
        JsonObject r = (JsonObject) c.request(ProcessEndpoint.ADDRESS, new JsonObject().put("op", "ps").put("all", all));
        return r.getJsonArray("processes");
    }

    private void print(JsonArray rows, PrintWriter out) {
        out.print(output.json() ? JsonArgs.encode(rows) + "\n" : render(rows));
        out.flush();
    }

    String render(JsonArray rows) {
        return render(rows, output.wide());
    }

    /** The table of {@code rows}; {@code wide} adds columns and shows names and commands whole. */
    static String render(JsonArray rows, boolean wide) {
        Table t = wide
                ? new Table("ID", "NAME", "NODE", "PID", "STATE", "RESTARTS", "CPU%", "RSS", "UPTIME", "EXIT", "STARTED", "COMMAND")
                : new Table("ID", "NAME", "NODE", "PID", "STATE", "RESTARTS", "CPU%", "RSS", "UPTIME", "COMMAND");
        for (Object o : rows) {
            JsonObject p = (JsonObject) o;
            boolean running = "running".equals(p.getString("state"));
            String up = running ? uptime(p.getString("startedAt")) : null;
            String cmd = command(p.getJsonArray("command"), wide);
            if (wide) {
                t.row(p.getValue("id"), p.getValue("name"), p.getValue("node"), p.getValue("pid"), p.getValue("state"),
                        p.getValue("restarts"), cpu(p.getValue("cpuPercent")), rss(p.getValue("rssBytes")), up,
                        p.getValue("exitCode"), Timestamps.millis(p.getString("startedAt")), cmd);
            } else {
                Object name = p.getValue("name");
                t.row(p.getValue("id"), name instanceof String ? Characters.clip((String) name, NAME_WIDTH) : name,
                        p.getValue("node"), p.getValue("pid"), p.getValue("state"),
                        p.getValue("restarts"), cpu(p.getValue("cpuPercent")), rss(p.getValue("rssBytes")), up, cmd);
            }
            JsonArray kids = p.getJsonArray("children", new JsonArray());
            for (Object k : kids) {
                JsonObject ch = (JsonObject) k;
                String ccmd = command(ch.getJsonArray("command"), wide);
                if (wide) {
                    t.row(" └", "", p.getValue("node"), ch.getValue("pid"), "running", "", cpu(ch.getValue("cpuPercent")),
                            rss(ch.getValue("rssBytes")), "", "", "", ccmd);
                } else {
                    t.row(" └", "", p.getValue("node"), ch.getValue("pid"), "running", "", cpu(ch.getValue("cpuPercent")),
                            rss(ch.getValue("rssBytes")), "", ccmd);
                }
            }
        }
        return t.render();
    }

    static String command(JsonArray cmd, boolean full) {
        if (cmd == null || cmd.isEmpty()) {
            return null;
        }
        StringBuilder sb = new StringBuilder();
        for (Object a : cmd) {
            if (sb.length() > 0) {
                sb.append(' ');
            }
            sb.append(a);
        }
        String s = sb.toString();
        return full ? s : Characters.clip(s, COMMAND_WIDTH);
    }

    static String cpu(Object v) {
        return v instanceof Number ? String.format(Locale.ROOT, "%.1f", ((Number) v).doubleValue()) : null;
    }

    /** Bytes as {@code 512B}, {@code 12.3K}, {@code 12.3M}, {@code 1.2G}. */
    static String rss(Object v) {
        if (!(v instanceof Number)) {
            return null;
        }
        double b = ((Number) v).doubleValue();
        String[] units = {"B", "K", "M", "G", "T"};
        int u = 0;
        // 1,048,570 bytes is 1023.99K, which one decimal would print as 1024.0K: the unit goes up
        // where the rounding would.
        while (b >= 1023.95 && u < units.length - 1) {
            b /= 1024;
            u++;
        }
        return u == 0 ? (long) b + "B" : String.format(Locale.ROOT, "%.1f%s", b, units[u]);
    }

    static String uptime(String startedAt) {
        if (startedAt == null) {
            return null;
        }
        try {
            return duration(Duration.between(Instant.parse(startedAt), Instant.now()));
        } catch (RuntimeException e) {
            return null;
        }
    }

    /** {@code 45s}, {@code 12m05s}, {@code 1h02m}, {@code 3d04h}. */
    static String duration(Duration d) {
        long s = Math.max(0, d.getSeconds());
        if (s < 60) {
            return s + "s";
        }
        if (s < 3600) {
            return String.format(Locale.ROOT, "%dm%02ds", s / 60, s % 60);
        }
        if (s < 86400) {
            return String.format(Locale.ROOT, "%dh%02dm", s / 3600, (s % 3600) / 60);
        }
        return String.format(Locale.ROOT, "%dd%02dh", s / 86400, (s % 86400) / 3600);
    }
}
