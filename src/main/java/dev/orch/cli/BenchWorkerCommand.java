package dev.orch.cli;

import dev.orch.bench.BenchSettings;
import dev.orch.bench.ChildMain;
import dev.orch.bench.Scenario;
import dev.orch.cli.common.CliException;
import dev.orch.cli.common.ClientOptions;
import dev.orch.cli.common.ExitCodes;
import dev.orch.cli.common.VerboseOption;
import dev.orch.client.ClientConfig;
import io.vertx.core.Vertx;
import jakarta.inject.Inject;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code orch bench-worker host|client}: the child processes of {@code orch bench}; not for people. */
@Command(name = "bench-worker", mixinStandardHelpOptions = true, hidden = true, description = "Child process of 'orch bench' (host UtilityClass, or run one client).")
class BenchWorkerCommand implements Callable<Integer> {
    @Mixin
    ClientOptions client;

    @Mixin
    VerboseOption verbose;

    @Inject
    Vertx vertx;

    @Parameters(index = "0", paramLabel = "ROLE", description = "host or client")
    String role;

    @Option(names = "--scenario")
    String scenario;

    @Option(names = "--calls", defaultValue = "20000")
    int calls;

    @Option(names = "--pipeline", defaultValue = "64")
    int pipeline;

    @Option(names = "--warmup", defaultValue = "200")
    int warmup;

    @Option(names = "--settle", defaultValue = "0")
    double settle;

    @Option(names = "--chained")
    boolean chained;

    /** How often a client prints "progress N": often when the parent shows a progress line. */
    @Option(names = "--progress-ms", defaultValue = "1000")
    long progressMillis;

    @Override
    public Integer call() throws Exception {
        BufferedReader stdin = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        // A client watches its parent first: one whose parent is gone stops here, silently.
        ChildMain.ParentLink parent = "client".equals(role) ? ChildMain.watchParent(stdin) : null;
        // Several JVMs start at once on a small machine: give the login time.
        ClientConfig config = client.config("orch-bench-child").connectTimeout(Duration.ofSeconds(60));
        PrintStream out = System.out;
        switch (role) {
            case "host":
                ChildMain.host(vertx, config.callTimeout(Duration.ofSeconds(60)), stdin, out);
                return ExitCodes.OK;
            case "client": {
                BenchSettings s = new BenchSettings();
                s.calls = calls;
                s.pipeline = pipeline;
                s.warmup = warmup;
                s.settle = Duration.ofMillis((long) (settle * 1000));
                s.chained = chained;
                Duration t = client.timeout();
                s.timeout = t.isZero() ? Duration.ofDays(1) : t;
                ChildMain.client(vertx, config, Scenario.of(scenario == null ? "method" : scenario), s, parent, out,
                        Math.max(50, progressMillis));
                return ExitCodes.OK;
            }
            default:
                throw CliException.usage("ROLE must be host or client");
        }
    }
}
