package dev.orch.cli;

import dev.orch.bench.BenchResult;
import dev.orch.bench.BenchRunner;
import dev.orch.bench.BenchSettings;
import dev.orch.bench.Progress;
import dev.orch.bench.Scenario;
import dev.orch.cli.common.CliException;
import dev.orch.cli.common.ClientOptions;
import dev.orch.cli.common.ExitCodes;
import dev.orch.cli.common.JsonArgs;
import dev.orch.cli.common.OutputOptions;
import dev.orch.cli.common.Table;
import dev.orch.cli.common.VerboseOption;
import dev.orch.client.ClientConfig;
import dev.orch.server.OrchServer;
import dev.orch.server.ServerConfig;
import io.vertx.core.Vertx;
import jakarta.inject.Inject;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code orch bench}: calls/s and latency percentiles of orch's scenarios, side by side with CPython's manager. */
@Command(name = "bench", mixinStandardHelpOptions = true, description = {
    "Benchmark a server: calls/s and p50/p99/p999 latency per scenario.",
    "Scenarios: " + Scenario.DEFAULT_LIST + ", connections (opt-in).",
    "'method' and 'echo_1k' call server-side objects (one hop, like CPython's manager);",
    "'hosted_method' and 'hosted_echo_1k' call a UtilityClass hosted by a worker process",
    "that the bench starts itself (one hop with direct calls; two with ORCH_DIRECT=off)."})
class BenchCommand implements Callable<Integer> {
    @Mixin
    ClientOptions client;

    @Mixin
    OutputOptions output;

    @Mixin
    VerboseOption verbose;

    @Spec
    CommandSpec spec;

    @Inject
    Vertx vertx;

    @Option(names = "--clients", paramLabel = "N", defaultValue = "1", description = "Concurrent clients, each on its own connection (default: ${DEFAULT-VALUE}).")
    int clients;

    @Option(names = "--calls", paramLabel = "N", defaultValue = "20000",
            description = "Calls per client (default: ${DEFAULT-VALUE}; create_proxy makes N/10, pipelined N*10).")
    int calls;

    @Option(names = "--pipeline", paramLabel = "W", defaultValue = "64", description = "Calls in flight per connection in 'pipelined' (default: ${DEFAULT-VALUE}).")
    int pipeline;

    @Option(names = "--warmup", paramLabel = "N", defaultValue = "10000",
            description = "Untimed calls per client first, so the JIT has compiled the call path (default: ${DEFAULT-VALUE}).")
    int warmup;

    @Option(names = "--settle", paramLabel = "SECONDS", defaultValue = "20",
            description = "Then keep warming up until the JIT has compiled nothing for 0.5 s, at most this long"
                    + " (default: ${DEFAULT-VALUE}; 0: the warm-up calls only).")
    double settle;

    @Option(names = "--scenarios", paramLabel = "LIST", split = ",", defaultValue = Scenario.DEFAULT_LIST,
            description = "Comma-separated scenarios (default: ${DEFAULT-VALUE}).")
    List<String> scenarios;

    @Option(names = "--embedded", description = "Start an in-process server on a free port instead of connecting to one.")
    boolean embedded;

    @Option(names = "--processes", description = "Run each client as a separate OS process (this orch binary).")
    boolean processes;

    @Option(names = "--connections", paramLabel = "N", defaultValue = "1000", description = "Connections held by the 'connections' scenario (default: ${DEFAULT-VALUE}).")
    int connections;

    @Option(names = "--server-pid", paramLabel = "PID", description = "Server process id, to report its RSS (implied with --embedded).")
    long serverPid;

    @Option(names = "--worker", paramLabel = "MODE", defaultValue = "process",
            description = "Where the UtilityClass worker runs: process (a child orch process) or inproc (default: ${DEFAULT-VALUE}).")
    String workerMode;

    @Option(names = "--chained", description = "Start each call from the previous reply's callback instead of blocking a thread (isolates the client's thread hand-offs).")
    boolean chained;

    @Override
    public Integer call() throws Exception {
        ClientCommand.inheritOutput(spec, output);
        BenchSettings s = settings();
        s.chained = chained;
        List<Scenario> list;
        try {
            list = Scenario.parseList(String.join(",", scenarios));
        } catch (IllegalArgumentException e) {
            throw CliException.usage(e.getMessage());
        }
        if (!workerMode.equals("process") && !workerMode.equals("inproc")) {
            throw CliException.usage("--worker must be process or inproc");
        }
        PrintWriter out = spec.commandLine().getOut();
        Vertx serverVertx = null;
        OrchServer server = null;
        ClientConfig config;
        try {
            if (embedded) {
                byte[] key = new byte[24];
                new SecureRandom().nextBytes(key);
                key = java.util.Base64.getUrlEncoder().withoutPadding().encode(key);
                serverVertx = Vertx.vertx();
                server = OrchServer.start(serverVertx, new ServerConfig().host("127.0.0.1").port(0).authKey(key)
                        .version(OrchCommand.version())).toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
                config = new ClientConfig().port(server.port()).authKey(key).callTimeout(s.timeout).name("orch-bench");
                s.serverPid = ProcessHandle.current().pid();
            } else {
                config = client.config("orch-bench");
            }
            // For a person watching stderr, whatever stdout is (orch bench -o json > out.json shows
            // it); never escape sequences into a file or a pipe.
            Progress progress = Progress.stderrIsTerminal() ? new Progress(System.err) : Progress.NONE;
            List<BenchResult> results;
            try (BenchRunner runner = new BenchRunner(vertx, config, s)
                    .selfCommand(selfCommand(), workerMode.equals("process")).progress(progress)) {
                if (!output.json()) {
                    out.printf("orch bench against %s%s: %d client%s (%s), %d calls each, warm-up %d, %s calls%s%n",
                            config.address(), embedded ? " (embedded)" : "", s.clients, s.clients == 1 ? "" : "s",
                            processes ? "processes" : "threads", s.calls, s.warmupFor(s.calls),
                            chained ? "chained" : "blocking", hostedNote(list, config));
                    out.flush();
                }
                results = runner.run(list, r -> {
                    if (output.json()) {
                        out.println(JsonArgs.encode(r.toJson()));
                        out.flush();
                    }
                });
            }
            if (!output.json()) {
                render(results, out);
            }
        } finally {
            if (server != null) {
                server.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
            }
            if (serverVertx != null) {
                serverVertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
            }
        }
        return ExitCodes.OK;
    }

    private BenchSettings settings() {
        if (clients < 1 || calls < 1 || pipeline < 1 || warmup < 0 || connections < 1 || !(settle >= 0)) {
            throw CliException.usage("--clients, --calls, --pipeline and --connections must be positive,"
                    + " --warmup and --settle not negative");
        }
        BenchSettings s = new BenchSettings();
        s.clients = clients;
        s.calls = calls;
        s.pipeline = pipeline;
        s.warmup = warmup;
        s.settle = Duration.ofMillis((long) (settle * 1000));
        s.connections = connections;
        s.processes = processes;
        s.serverPid = serverPid;
        Duration t = client.timeout();
        s.timeout = t.isZero() ? Duration.ofDays(1) : t;
        return s;
    }

    private void render(List<BenchResult> results, PrintWriter out) {
        Table t = new Table("SCENARIO", "CLIENTS", "CALLS", "CALLS/S", "P50_US", "P99_US", "P999_US", "NOTE");
        for (BenchResult r : results) {
            if (r.isSkipped()) {
                t.row(r.scenario.id(), r.clients, "-", "-", "-", "-", "-", "skipped: " + r.skipped);
                continue;
            }
            String note = r.scenario == Scenario.PIPELINED ? "W=" + r.pipeline : "";
            if (r.chained()) {
                note = "chained";
            }
            if (!r.extra.isEmpty()) {
                note = (note.isEmpty() ? "" : note + " ") + JsonArgs.encode(r.extra);
            }
            t.row(r.scenario.id(), r.clients, r.totalCalls, String.format(Locale.ROOT, "%,d", Math.round(r.rate())),
                    r.percentileMicros(50), r.percentileMicros(99), r.percentileMicros(99.9), note);
        }
        t.print(out);
        if (output.wide()) {
            for (BenchResult r : results) {
                out.println(r.scenario.id() + ": " + r.what());
            }
        }
        out.println("load average: " + loadAverage());
        out.flush();
    }

    /**
     * For hosted scenarios: the UtilityClass worker asked for, and whether direct calls are on
     * (each hosted row's JSON says what happened: an already connected worker is used as it is).
     */
    private String hostedNote(List<Scenario> list, ClientConfig config) {
        if (list.stream().noneMatch(Scenario::hosted)) {
            return "";
        }
        boolean direct;
        try {
            direct = config.directMode().enabled();
        } catch (IllegalArgumentException e) {
            direct = false;
        }
        return ", UtilityClass worker: " + (workerMode.equals("process") ? "a process" : "in this process")
                + ", direct calls " + (direct ? "on" : "off (" + dev.orch.client.DirectMode.ENV + ")");
    }

    static String loadAverage() {
        try {
            String[] p = Files.readString(Path.of("/proc/loadavg")).trim().split("\\s+");
            return p[0] + " " + p[1] + " " + p[2];
        } catch (Exception e) {
            return "unknown";
        }
    }

    /** The command that started this process, without the orch arguments (java -jar …, or the native binary). */
    private List<String> selfCommand() {
        ProcessHandle.Info info = ProcessHandle.current().info();
        if (info.command().isEmpty()) {
            return List.of();
        }
        List<String> all = new ArrayList<>();
        all.add(info.command().get());
        all.addAll(Arrays.asList(info.arguments().orElse(new String[0])));
        CommandSpec root = spec;
        while (root.parent() != null) {
            root = root.parent();
        }
        int orchArgs = root.commandLine().getParseResult() == null ? 0 : root.commandLine().getParseResult().originalArgs().size();
        return new ArrayList<>(all.subList(0, Math.max(1, all.size() - orchArgs)));
    }
}
