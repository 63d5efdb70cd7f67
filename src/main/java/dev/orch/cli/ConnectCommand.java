package dev.orch.cli;

import dev.orch.auth.AuthKeys;
import dev.orch.cli.common.CliException;
import dev.orch.cli.common.ClientOptions;
import dev.orch.cli.common.ExitCodes;
import dev.orch.cli.common.Seconds;
import dev.orch.cli.common.VerboseOption;
import dev.orch.client.ClientConfig;
import dev.orch.process.NodeAgent;
import dev.orch.process.ProcessSpec;
import dev.orch.process.WorkerRunner;
import io.vertx.core.Vertx;
import jakarta.inject.Inject;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import sun.misc.Signal;

/**
 * {@code orch connect [ADDRESS] [--name N] [--label K=V]… -- CMD [ARG…]} runs CMD as a worker
 * attached to the server; without CMD (and with {@code --name}) this machine becomes a node.
 */
@Command(name = "connect", mixinStandardHelpOptions = true, description = {
    "Attach to a server as a worker running CMD, or as a node that runs spawned processes.",
    "With -- CMD, run CMD as an attached worker (exit with its code); without CMD, make this"
        + " machine a node named --name that runs 'orch spawn --node NAME' processes."})
class ConnectCommand implements Callable<Integer> {
    @Mixin
    ClientOptions client;

    @Mixin
    VerboseOption verbose;

    @Option(names = "--name", paramLabel = "N", description = "Worker name (default: its id), or the node's name.")
    String name;

    @Option(names = "--label", paramLabel = "K=V", description = "Label of the worker (repeatable).")
    List<String> labels;

    @Option(names = "--grace", paramLabel = "SECONDS", defaultValue = "10",
            description = "Time between SIGTERM and SIGKILL for what a node stops, or for what CMD leaves running"
                    + " when it ends (default: ${DEFAULT-VALUE}).")
    double grace;

    @Parameters(paramLabel = "[ADDRESS] [-- CMD [ARG…]]", arity = "0..*", description = "Server address, then the command after --.")
    List<String> params;

    @Spec
    CommandSpec spec;

    @Inject
    Vertx vertx;

    @Override
    public Integer call() throws Exception {
        List<String> all = params == null ? List.of() : params;
        List<String> original = spec.commandLine().getParseResult().originalArgs();
        int dash = original.indexOf("--");
        int cmdCount = dash < 0 ? 0 : original.size() - dash - 1;
        List<String> before = all.subList(0, all.size() - cmdCount);
        List<String> command = all.subList(all.size() - cmdCount, all.size());
        if (before.size() > 1) {
            throw CliException.usage("unexpected arguments " + before.subList(1, before.size()) + " (put the command after --)");
        }
        if (before.size() == 1) {
            // The address given where the command line says where to attach wins over -a.
            client.useAddress(before.get(0));
        }
        if (name != null) {
            // As spawn does: before connecting, so a bad name never depends on the server.
            if (!command.isEmpty() && !ProcessSpec.isValidName(name)) {
                throw CliException.usage("invalid --name '" + ProcessSpec.shown(name) + "': " + ProcessSpec.NAME_RULE);
            }
            if (command.isEmpty() && !ProcessSpec.isValidNodeName(name)) {
                throw CliException.usage("invalid node --name '" + ProcessSpec.shown(name) + "': " + ProcessSpec.NODE_NAME_RULE);
            }
        }
        Map<String, String> labelMap = new LinkedHashMap<>();
        if (labels != null) {
            for (String l : labels) {
                int eq = l.indexOf('=');
                if (eq <= 0) {
                    throw CliException.usage("--label must be K=V: " + l);
                }
                labelMap.put(l.substring(0, eq), l.substring(eq + 1));
            }
        }
        Duration stopGrace = Seconds.of("--grace", grace, 0);
        if (command.isEmpty() && name == null) {
            throw CliException.usage("a node needs --name (or give a command after --)");
        }
        if (command.isEmpty() && !labelMap.isEmpty()) {
            // Labels describe a worker's command; a node has none, and would drop them silently.
            throw CliException.usage("--label is for a worker (a command after --), not a node");
        }
        if (!command.isEmpty()) {
            try {
                WorkerRunner.checkCommand(command);
            } catch (WorkerRunner.CommandException e) {
                throw new CliException(e.exitCode(), e.getMessage());
            }
        }
        ClientConfig config = client.config("orch-connect");
        config.callTimeout(Duration.ofSeconds(30));
        Duration connectLimit = client.timeout().isZero() ? Duration.ofDays(365) : client.timeout();
        String keyFile = childKeyFile(client.key());
        if (command.isEmpty()) {
            return node(config, keyFile, connectLimit, stopGrace);
        }
        WorkerRunner w = new WorkerRunner(vertx, config, name, labelMap, new ArrayList<>(command), client.address(), keyFile,
                System.out, System.err, stopGrace);
        for (String sig : new String[] {"TERM", "INT", "HUP"}) {
            try {
                Signal.handle(new Signal(sig), s -> w.received(sig));
            } catch (IllegalArgumentException e) {
                // Not available here.
            }
        }
        try {
            return w.run(connectLimit);
        } catch (java.util.concurrent.TimeoutException e) {
            throw new CliException(ExitCodes.CONNECT, "cannot attach to " + client.address() + " within " + connectLimit.toSeconds() + " s");
        }
    }

    private int node(ClientConfig config, String keyFile, Duration connectLimit, Duration stopGrace) throws Exception {
        NodeAgent agent = new NodeAgent(vertx, config, name, client.address(), keyFile, stopGrace);
        CountDownLatch stop = new CountDownLatch(1);
        StopSignals.onStop(stop::countDown);
        try {
            agent.open(connectLimit);
        } catch (java.util.concurrent.TimeoutException e) {
            agent.shutdown();
            throw new CliException(ExitCodes.CONNECT, "cannot attach to " + client.address() + " within " + connectLimit.toSeconds() + " s");
        } catch (Exception e) {
            // Refused at once (wrong key, name taken): stop the local endpoint before reporting it.
            agent.shutdown();
            throw e;
        }
        stop.await();
        agent.shutdown();
        return ExitCodes.OK;
    }

    /** The key file CMD gets: the one we read, or a private copy of {@code ORCH_AUTHKEY}'s key. */
    private static String childKeyFile(AuthKeys.Resolved key) throws IOException {
        if (key.file() != null) {
            return key.file().toString();
        }
        return AuthKeys.privateCopy(key.key()).toString();
    }
}
