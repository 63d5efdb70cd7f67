package dev.orch.server;

import dev.orch.auth.AuthKeys;
import dev.orch.objects.TypeRegistry;
import dev.orch.process.Fleet;
import dev.orch.process.ProcessEndpoint;
import dev.orch.process.ProcessSupervisor;
import dev.orch.protocol.Addresses;
import java.io.IOException;
import java.nio.file.Path;
import io.netty.util.concurrent.EventExecutor;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Verticle;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.NetServer;
import io.vertx.core.net.NetServerOptions;
import io.vertx.core.net.PemKeyCertOptions;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import org.jboss.logging.Logger;

/**
 * The orch manager server: a TCP listener speaking the bridge protocol, the manager service and
 * the object shards, all on one Vert.x instance. Create with {@link #start}; stop with
 * {@link #close}.
 */
public final class OrchServer {
    private static final Logger LOG = Logger.getLogger(OrchServer.class);
    /** Distinct negative ports for the servers started on port 0 (see {@link #listen}). */
    private static final AtomicInteger RANDOM_PORT_KEYS = new AtomicInteger();
    private static final long CONNECTION_CLOSE_WAIT_MS = 2000;

    private final Vertx vertx;
    private final ServerConfig config;
    private final Sessions sessions = new Sessions();
    private final ServerState state;
    private final List<String> deployments = new CopyOnWriteArrayList<>();
    private final Promise<Void> closed = Promise.promise();
    private final List<Runnable> shutdownListeners = new CopyOnWriteArrayList<>();
    private final List<NetServer> listeners = new CopyOnWriteArrayList<>();
    private volatile int actualPort;
    private ManagerService manager;
    private ProcessSupervisor supervisor;
    private ProcessEndpoint processes;
    private Fleet fleet;
    private Path temporaryKeyFile;

    /** The object shards, one per event loop. */
    private final List<ObjectShard> shards = new CopyOnWriteArrayList<>();

    private OrchServer(Vertx vertx, ServerConfig config) {
        this.vertx = vertx;
        this.config = config;
        this.state = new ServerState(config.maxPendingLogins());
    }

    /**
     * Starts a server on {@code vertx}; the future completes once it accepts connections and its
     * initial objects exist.
     */
    public static Future<OrchServer> start(Vertx vertx, ServerConfig config) {
        Objects.requireNonNull(config.authKey(), "auth key");
        OrchServer s = new OrchServer(vertx, config);
        return s.doStart().map(v -> s);
    }

    private Future<Void> doStart() {
        SharedJsonCodec.register(vertx);
        int shardCount = eventLoops();
        if (config.tlsCert() != null) {
            // Checked here, synchronously (two small files and one signature), so the shards
            // are deployed from the caller as before; from a callback they land on other loops.
            try {
                TlsFiles.check(vertx, config.tlsCert(), config.tlsKey());
            } catch (IllegalArgumentException e) {
                return Future.failedFuture(e);
            }
        }
        Future<String> shardsDeployed = deploy(() -> {
            ObjectShard s = new ObjectShard(sessions, state.referents());
            shards.add(s);
            return s;
        }, shardCount);
        return shardsDeployed
                .compose(v -> {
                    manager = new ManagerService(TypeRegistry.builtins(), List.copyOf(shards), sessions, state.referents(), this::requestShutdown,
                            config.hostTimeout().toMillis());
                    return startOnFirstShard(manager);
                })
                .compose(v -> createInitialObjects())
                .compose(v -> listen())
                .compose(v -> startProcesses());
    }

    /**
     * The server's event loops when not configured: half the CPUs (at least one). orch's clients
     * usually run beside it (the workers it spawns, in the same pod), and on a machine the server
     * shares with them, fewer loops that each find several ready connections per wake-up beat
     * one loop per connection (on 2 CPUs, 4 client processes made 15-18k calls/s against 1 or 2
     * loops, 12-13k against 4). Each loop is a core's worth of throughput.
     */
    public static int defaultEventLoops() {
        return Math.max(1, Runtime.getRuntime().availableProcessors() / 2);
    }

    /** The configured number of event loops, at most the loops this Vert.x instance has. */
    private int eventLoops() {
        int available = 0;
        for (EventExecutor ignored : vertx.nettyEventLoopGroup()) {
            available++;
        }
        int wanted = config.eventLoops() > 0 ? config.eventLoops() : defaultEventLoops();
        if (wanted > available) {
            LOG.warnf("%d event loops asked for, Vert.x has %d (set QUARKUS_VERTX_EVENT_LOOPS_POOL_SIZE for more)",
                    wanted, available);
        }
        return Math.max(1, Math.min(wanted, available));
    }

    /** The logged-in connections (for tests in this package). */
    Collection<BridgeConnection> connections() {
        return sessions.connections();
    }

    /** How many event loops serve connections and objects. */
    public int eventLoopCount() {
        return shards.size();
    }

    private ObjectShard shardOnThisLoop() {
        for (ObjectShard s : shards) {
            if (s.thread() == Thread.currentThread()) {
                return s;
            }
        }
        return null;
    }

    /**
     * Starts the manager on the first shard's context rather than deploying it on a loop of its
     * own. A create is answered by the manager after the shard on the client's loop has built the
     * object: on one loop (the default on 2 CPUs) that is one thread, not two event loops waking
     * each other four times: create and release went from about 4,100 to 10,000 a second with
     * the client in the server's JVM (orch bench --embedded, 2 vCPUs). Its event-bus
     * consumers belong to that context, and go when the shard is undeployed.
     */
    private Future<Void> startOnFirstShard(ManagerService m) {
        ObjectShard first = shards.get(0);
        Promise<Void> started = Promise.promise();
        first.loopContext().runOnContext(v -> {
            try {
                m.init(vertx, first.loopContext());
                m.start(started);
            } catch (Exception e) {
                started.tryFail(e);
            }
        });
        return started.future();
    }

    private Future<String> deploy(java.util.function.Supplier<Verticle> supplier, int instances) {
        return vertx.deployVerticle(supplier, new DeploymentOptions().setInstances(instances))
                .onSuccess(deployments::add);
    }

    private Future<Void> createInitialObjects() {
        List<Future<?>> all = new ArrayList<>();
        for (ServerConfig.InitialObject o : config.objects()) {
            JsonObject req = new JsonObject().put("op", "create").put("typeid", o.typeid).put("name", o.name).put("args", o.args);
            Promise<Void> p = Promise.promise();
            // Through the manager's own context, like any request.
            vertx.eventBus().request(Addresses.MANAGER, req, ar -> {
                if (ar.succeeded()) {
                    p.complete();
                } else {
                    p.fail(new IllegalArgumentException("--object " + o.name + ": " + ar.cause().getMessage()));
                }
            });
            all.add(p.future());
        }
        return Future.all(all).mapEmpty();
    }

    private Future<Void> listen() {
        // One listener per shard, opened on the shard's own event loop: Vert.x hands a
        // listener's connections to the loop it was opened on, so each connection finds a shard
        // on its loop and its objects' calls take the direct path. Vert.x spreads a port's
        // connections over the listeners sharing it. Port 0 would give each listener a private
        // random port; a negative port means "one random port shared by every server listening
        // on this same negative value", so port 0 becomes a negative value unique to this server.
        int port = config.port() == 0 ? -RANDOM_PORT_KEYS.incrementAndGet() : config.port();
        Future<Void> chain = Future.succeededFuture();
        for (ObjectShard shard : shards) {
            // One after the other, so the first binds the port and the rest join it.
            chain = chain.compose(v -> {
                Promise<Void> opened = Promise.promise();
                shard.runOnLoop(() -> openListener(port).onComplete(opened));
                return opened.future();
            });
        }
        return chain.map(v -> {
            actualPort = listeners.get(0).actualPort();
            LOG.infof("orch server listening on %s:%d (%d event loop%s)", config.host(), actualPort, shards.size(),
                    shards.size() == 1 ? "" : "s");
            return null;
        });
    }

    /** Opens one TCP listener on the calling event loop. */
    private Future<Void> openListener(int port) {
        NetServerOptions options = new NetServerOptions().setHost(config.host()).setPort(port)
                .setTcpNoDelay(true).setReuseAddress(true);
        if (config.tlsCert() != null) {
            options.setSsl(true).setKeyCertOptions(new PemKeyCertOptions()
                    .setCertPath(config.tlsCert().toString()).setKeyPath(config.tlsKey().toString()));
        }
        NetServer server = vertx.createNetServer(options);
        // While stopping too: a new connection's login is answered 503 ShuttingDown.
        server.connectHandler(socket -> new BridgeConnection(vertx, socket, config, sessions, state, shardOnThisLoop()).start());
        return server.listen().map(s -> {
            listeners.add(s);
            return null;
        });
    }

    private Future<Void> startProcesses() {
        String host = config.host();
        if (host.equals("0.0.0.0") || host.equals("::") || host.equals("[::]")) {
            host = "127.0.0.1";
        }
        String childAddress = (host.contains(":") ? "[" + host + "]" : host) + ":" + actualPort;
        Path keyFile;
        try {
            keyFile = childKeyFile();
        } catch (IOException e) {
            return Future.failedFuture(new IllegalStateException("cannot write the key file for children: " + e.getMessage()));
        }
        supervisor = new ProcessSupervisor(vertx, ProcessSupervisor.Config.defaults()
                .withOrch(childAddress, keyFile.toString())
                // Over TLS children trust the server's own certificate, so they connect with no options.
                .withOrchTls(config.tlsCert() != null, config.tlsCert())
                .withStopGrace(config.stopGrace()));
        fleet = new Fleet(vertx, config.heartbeat().toMillis());
        fleet.start();
        processes = new ProcessEndpoint(vertx, supervisor, fleet, sessions::isAlive);
        vertx.eventBus().<String>consumer(ManagerService.SESSION_CLOSED, m -> processes.sessionClosed(m.body()));
        state.addService(ProcessEndpoint.ADDRESS);
        return processes.register();
    }

    /**
     * Children get the key as a file path, never the key itself in their environment; a key that
     * came from {@code ORCH_AUTHKEY} is written to a private file for them.
     */
    private Path childKeyFile() throws IOException {
        if (config.authKeyFile() != null) {
            return config.authKeyFile();
        }
        Path f = AuthKeys.privateCopy(config.authKey());
        temporaryKeyFile = f;
        return f;
    }

    /** The port actually bound (useful with port 0). */
    public int port() {
        return actualPort;
    }

    public String host() {
        return config.host();
    }

    public Vertx vertx() {
        return vertx;
    }

    public ServerConfig config() {
        return config;
    }

    /** Number of logged-in sessions. */
    public int sessionCount() {
        return sessions.count();
    }

    /** Declares another event-bus service clients may send to, such as {@code orch.process}. */
    public void addService(String address) {
        state.addService(address);
    }

    /** Runs {@code listener} when a client asks the server to shut down. */
    public void onShutdownRequest(Runnable listener) {
        shutdownListeners.add(listener);
    }

    private void requestShutdown() {
        LOG.info("shutdown requested by a client");
        if (shutdownListeners.isEmpty()) {
            close();
        } else {
            shutdownListeners.forEach(Runnable::run);
        }
    }

    /** Completes once {@link #close} has finished. */
    public Future<Void> closeFuture() {
        return closed.future();
    }

    /** Stops accepting, closes every connection and undeploys the services. Idempotent. */
    public synchronized Future<Void> close() {
        if (state.stopping()) {
            return closed.future();
        }
        state.stopping(true);
        // Parked calls (Queue.get, Lock.acquire…) would only hold up the drain below.
        shards.forEach(ObjectShard::stopping);
        // Listeners stay open while draining: closing a Vert.x NetServer closes its connections,
        // and clients must still receive the answers of calls in flight (new requests get 503).
        Future<?> stopChildren = supervisor == null ? Future.succeededFuture() : supervisor.close();
        stopChildren.onComplete(ar -> drain(System.nanoTime() + config.drainTimeout().toNanos(), () -> {
            // Connections first, and the listeners only once they are closed: a listener closes
            // its connections at once, which would drop the last answers (the 503s of parked
            // calls) still queued for the end of their loop's turn.
            List<Future<Void>> closings = new ArrayList<>();
            sessions.connections().forEach(c -> closings.add(c.close()));
            Promise<Void> connectionsClosed = Promise.promise();
            Future.join(closings).onComplete(c -> connectionsClosed.tryComplete());
            // A socket whose last frames cannot be flushed (a peer that stopped reading) does not hold up the exit.
            vertx.setTimer(CONNECTION_CLOSE_WAIT_MS, t -> connectionsClosed.tryComplete());
            connectionsClosed.future().onComplete(c -> closeListenersAndServices());
        }));
        return closed.future();
    }

    private void closeListenersAndServices() {
        List<Future<?>> undeploys = new ArrayList<>();
        listeners.forEach(l -> undeploys.add(l.close()));
        for (String id : deployments) {
            undeploys.add(vertx.undeploy(id));
        }
        if (processes != null) {
            undeploys.add(processes.unregister());
        }
        if (fleet != null) {
            fleet.stop();
        }
        Future.join(undeploys).onComplete(x -> {
            if (temporaryKeyFile != null) {
                temporaryKeyFile.toFile().delete();
            }
            closed.tryComplete();
        });
    }

    /** Lets requests already in flight finish (new ones get 503) until none is left or the deadline. */
    private void drain(long deadline, Runnable then) {
        boolean busy = sessions.connections().stream().anyMatch(c -> c.inFlight() > 0);
        if (!busy || System.nanoTime() >= deadline) {
            then.run();
        } else {
            vertx.setTimer(20, t -> drain(deadline, then));
        }
    }

}
