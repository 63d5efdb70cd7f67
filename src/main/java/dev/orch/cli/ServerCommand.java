package dev.orch.cli;

import dev.orch.auth.AuthKeys;
import dev.orch.cli.common.CliException;
import dev.orch.cli.common.ErrorMapper;
import dev.orch.cli.common.ExitCodes;
import dev.orch.cli.common.JsonArgs;
import dev.orch.cli.common.OptionFiles;
import dev.orch.cli.common.Seconds;
import dev.orch.cli.common.VerboseOption;
import dev.orch.client.HostPort;
import dev.orch.server.OrchServer;
import dev.orch.server.ServerConfig;
import io.quarkus.runtime.ApplicationLifecycleManager;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import jakarta.inject.Inject;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.jboss.logging.Logger;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code orch server}: runs the manager server in the foreground, or detached with {@code --detach}. */
@Command(name = "server", mixinStandardHelpOptions = true, description = "Run the manager server (foreground until SIGTERM, SIGINT or 'orch shutdown').")
class ServerCommand implements Callable<Integer> {
    private static final Logger LOG = Logger.getLogger("dev.orch.server");
    /** Set by {@code --detach} for the child: where to write "HOST:PORT" once listening. */
    static final String ENV_READY_FILE = "ORCH_READY_FILE";
    /** The smallest --max-frame: a login, with a client name, takes a few hundred bytes. */
    static final int MIN_FRAME = 1024;

    @Option(names = {"-l", "--listen"}, paramLabel = "HOST:PORT", defaultValue = "127.0.0.1:55555",
            description = "Address to listen on (default: ${DEFAULT-VALUE}; port 0 picks a free one).")
    String listen;

    @Option(names = "--authkey-file", paramLabel = "FILE",
            description = "Auth key file (default: $ORCH_AUTHKEY, $ORCH_AUTHKEY_FILE, then $ORCH_HOME/authkey, created if missing).")
    Path authKeyFile;

    @Option(names = "--object", paramLabel = "NAME=TYPEID[:JSON_ARGS]",
            description = "Create a named object at start, e.g. greeting=Value:[\"educative\"].")
    List<String> objects;

    @Option(names = "--max-frame", paramLabel = "BYTES", defaultValue = "16777216",
            description = "Largest frame accepted, at least 1024 (default: ${DEFAULT-VALUE}).")
    int maxFrame;

    @Option(names = "--idle-timeout", paramLabel = "SECONDS", defaultValue = "120",
            description = "Close connections idle this long (default: ${DEFAULT-VALUE}, at least 1).")
    double idleTimeout;

    @Option(names = "--login-timeout", paramLabel = "SECONDS", defaultValue = "30",
            description = "Close connections not logged in this long after their connect, at least 0.1"
                    + " (default: ${DEFAULT-VALUE}).")
    double loginTimeout;

    @Option(names = "--max-pending-logins", paramLabel = "N",
            description = "Connections that may wait to log in at once; past it the one that waited longest is closed"
                    + " (default: ${DEFAULT-VALUE}).", defaultValue = "1024")
    int maxPendingLogins;

    @Option(names = "--max-pending-output", paramLabel = "BYTES",
            description = "Close a connection whose unread output passes this (default: twice --max-frame, at least 32 MiB).")
    Long maxPendingOutput;

    @Option(names = "--grace", paramLabel = "SECONDS", defaultValue = "10",
            description = "On stop, time children get between SIGTERM and SIGKILL (default: ${DEFAULT-VALUE}).")
    double grace;

    @Option(names = "--heartbeat", paramLabel = "SECONDS", defaultValue = "2",
            description = "Heartbeat interval of workers and nodes, at least 0.05; 3 missed make them lost"
                    + " (default: ${DEFAULT-VALUE}).")
    double heartbeat;

    @Option(names = "--event-loops", paramLabel = "N",
            description = "Event loops serving connections and objects (default: half the CPUs, at least 1).")
    Integer eventLoops;

    @Option(names = "--tls-cert", paramLabel = "PEM", description = "TLS certificate (PEM); needs --tls-key.")
    Path tlsCert;

    @Option(names = "--tls-key", paramLabel = "PEM", description = "TLS private key (PEM, PKCS#8 or PKCS#1).")
    Path tlsKey;

    @Option(names = "--detach", description = "Start in the background; return once the server accepts logins.")
    boolean detach;

    @Mixin
    VerboseOption verbose;

    @Spec
    CommandSpec spec;

    @Inject
    Vertx vertx;

    @Override
    public Integer call() throws Exception {
        ServerConfig config = config();
        if (detach) {
            return new Detacher(spec.commandLine().getOut(), spec.commandLine().getErr(),
                    ErrorMapper.verbose(spec.commandLine())).detach(config);
        }
        // The stop handler goes in before the start: a SIGTERM while the server starts (a pod
        // deleted at once) would otherwise start the JVM's shutdown, whose hook waits for this
        // method, which would wait for a stop that never comes.
        Stop stop = new Stop();
        StopSignals.onStop(stop::request);
        OrchServer server;
        try {
            server = OrchServer.start(vertx, config).toCompletionStage().toCompletableFuture().get();
        } catch (java.util.concurrent.ExecutionException e) {
            Throwable c = e.getCause();
            throw new CliException(ExitCodes.REMOTE_ERROR, "cannot start server on " + listen + ": " + describe(c), c);
        }
        CountDownLatch stopped = new CountDownLatch(1);
        server.closeFuture().onComplete(v -> stopped.countDown());
        stop.started(server);
        String ready = System.getenv(ENV_READY_FILE);
        if (ready != null) {
            Files.writeString(Path.of(ready), config.host() + ":" + server.port() + "\n" + ProcessHandle.current().pid() + "\n");
        }
        // A signal that came before the handler was in place started the JVM's shutdown instead.
        while (!stopped.await(1, TimeUnit.SECONDS)) {
            if (ApplicationLifecycleManager.isVmShuttingDown()) {
                stop.request();
            }
        }
        LOG.info("stopped");
        return ExitCodes.OK;
    }

    /** A stop asked for by a signal, before or after the server has started. */
    private static final class Stop {
        private OrchServer server;
        private boolean requested;

        void request() {
            OrchServer s;
            synchronized (this) {
                requested = true;
                s = server;
            }
            if (s != null) {
                LOG.info("stopping");
                s.close();
            }
        }

        void started(OrchServer s) {
            boolean now;
            synchronized (this) {
                server = s;
                now = requested;
            }
            if (now) {
                request();
            }
        }
    }

    private ServerConfig config() throws AuthKeys.KeyException {
        HostPort hp;
        try {
            hp = HostPort.parse(listen, 55555);
        } catch (IllegalArgumentException e) {
            throw CliException.usage("--listen: " + e.getMessage());
        }
        if (maxFrame < MIN_FRAME) {
            // Below this not even a login fits, and clients would be refused without a reason.
            throw CliException.usage("--max-frame must be at least " + MIN_FRAME + " bytes");
        }
        Duration idleAfter = Seconds.of("--idle-timeout", idleTimeout, 1);
        Duration stopGrace = Seconds.of("--grace", grace, 0);
        Duration heartbeatEvery = Seconds.of("--heartbeat", heartbeat, 0.05);
        Duration loginWithin = Seconds.of("--login-timeout", loginTimeout, 0.1);
        // Less than one frame could never be written: every client reading its answers slowly
        // would be closed.
        if (maxPendingOutput != null && maxPendingOutput < maxFrame) {
            throw CliException.usage("--max-pending-output must be at least --max-frame (" + maxFrame + " bytes)");
        }
        if (maxPendingLogins < 1) {
            throw CliException.usage("--max-pending-logins must be at least 1");
        }
        if (eventLoops != null && eventLoops < 1) {
            throw CliException.usage("--event-loops must be at least 1");
        }
        if ((tlsCert == null) != (tlsKey == null)) {
            throw CliException.usage("--tls-cert and --tls-key go together");
        }
        OptionFiles.requireReadable("--tls-cert", tlsCert);
        OptionFiles.requireReadable("--tls-key", tlsKey);
        AuthKeys.Resolved key;
        try {
            key = AuthKeys.fromEnvironment().forServer(authKeyFile);
        } catch (AuthKeys.KeyException e) {
            // A bad --authkey-file is a bad option; a key file the environment names, or one we
            // cannot create, keeps the server from starting.
            throw new CliException(authKeyFile != null ? ExitCodes.USAGE : ExitCodes.REMOTE_ERROR, e.getMessage());
        }
        if (key.generated()) {
            LOG.infof("generated a new auth key in %s", key.file());
        }
        String exposed = key.file() == null ? null : AuthKeys.exposureWarning(key.file());
        if (exposed != null) {
            LOG.warn(exposed);
        }
        ServerConfig c = new ServerConfig().host(hp.host()).port(hp.port()).authKey(key.key()).authKeyFile(key.file())
                .maxFrame(maxFrame).idleTimeout(idleAfter).loginTimeout(loginWithin)
                .maxPendingOutput(maxPendingOutput == null ? 0 : maxPendingOutput).maxPendingLogins(maxPendingLogins)
                .stopGrace(stopGrace).heartbeat(heartbeatEvery).version(OrchCommand.version());
        c.eventLoops(eventLoops == null ? 0 : eventLoops);
        if (tlsCert != null) {
            c.tls(tlsCert, tlsKey);
        }
        if (objects != null) {
            java.util.Set<String> names = new java.util.HashSet<>();
            for (String spec : objects) {
                if (!names.add(parseObject(c, spec))) {
                    // Caught here, or it would surface as NameTaken once the server is half up.
                    throw CliException.usage("--object " + spec + ": the name is given twice");
                }
            }
        }
        return c;
    }

    /** {@code NAME=TYPEID[:JSON_ARGS]}; returns NAME. */
    static String parseObject(ServerConfig c, String spec) {
        int eq = spec.indexOf('=');
        if (eq <= 0) {
            throw CliException.usage("--object must be NAME=TYPEID[:JSON_ARGS]: " + spec);
        }
        String name = spec.substring(0, eq);
        String rest = spec.substring(eq + 1);
        int colon = rest.indexOf(':');
        String typeid = colon < 0 ? rest : rest.substring(0, colon);
        if (typeid.isEmpty()) {
            throw CliException.usage("--object " + spec + ": missing TYPEID");
        }
        JsonArray args = new JsonArray();
        if (colon >= 0) {
            Object parsed;
            try {
                parsed = JsonArgs.parse(rest.substring(colon + 1));
            } catch (CliException e) {
                throw CliException.usage("--object " + spec + ": " + e.getMessage());
            }
            if (!(parsed instanceof JsonArray)) {
                throw CliException.usage("--object " + spec + ": JSON_ARGS must be a JSON array, e.g. [\"hello\"]");
            }
            args = (JsonArray) parsed;
        }
        c.object(name, typeid, args);
        return name;
    }

    static String describe(Throwable t) {
        String m = t.getMessage();
        if (t instanceof java.net.BindException || (m != null && m.contains("Address already in use"))) {
            return "address already in use";
        }
        return m == null ? t.getClass().getSimpleName() : m;
    }

}
