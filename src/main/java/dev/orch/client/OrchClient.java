package dev.orch.client;

import dev.orch.protocol.Addresses;
import dev.orch.protocol.DirectOffer;
import dev.orch.protocol.ErrorCode;
import dev.orch.protocol.FrameCodec;
import dev.orch.protocol.OrchException;
import dev.orch.protocol.References;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import javax.net.ServerSocketFactory;

/**
 * A connection to an orch server: create, look up and release shared objects, call their methods
 * (blocking with a timeout, or asynchronously with many calls in flight), and host object types
 * for other clients. When a blocking call's thread is interrupted, or its call timeout passes,
 * while the server holds the call parked (a {@code get} on an empty queue), the client withdraws
 * it there and throws an {@link OrchException} ({@code CANCELLED} or {@code TIMEOUT}), so the
 * call takes nothing later; an answer already on its way is returned instead. The thread's
 * interrupt status is kept. Calls on hosted objects and manager operations cannot be withdrawn:
 * an interrupt or timeout only ends the wait for them. A server that answers nothing for a
 * second after such a cancel, or does not read a request written past its call timeout or
 * interrupt, is taken to be gone: the connection is closed and the call fails with
 * {@link OrchConnectException}, its outcome unknown.
 *
 * <pre>{@code
 * try (OrchClient c = OrchClient.connect(new ClientConfig().address("127.0.0.1:55555").authKey(key))) {
 *     RemoteObject d = c.create("dict");
 *     d.call("__setitem__", "k", 1);
 * }
 * }</pre>
 */
public final class OrchClient implements AutoCloseable {
    private static final org.jboss.logging.Logger LOG = org.jboss.logging.Logger.getLogger(OrchClient.class);
    /** This library's version, from the jar's manifest ({@code dev} when run from classes). */
    static final String VERSION = java.util.Optional.ofNullable(OrchClient.class.getPackage().getImplementationVersion()).orElse("dev");

    private final ClientConfig config;
    private final DirectMode direct;
    private final ClientConnection connection;
    private final DirectRoutes directRoutes;
    private final Map<String, HostedType> hostedTypes = new ConcurrentHashMap<>();
    private final Map<String, java.util.Set<String>> hostedExposed = new ConcurrentHashMap<>();
    private final Map<String, HostedInstance> hostedObjects = new ConcurrentHashMap<>();
    private volatile ExecutorService hostExecutor;
    /** Null until this client hosts a type, and when it offers no direct calls. */
    private DirectServer directServer;
    private boolean directTried;

    private OrchClient(ClientConfig config) {
        this.config = config;
        this.direct = config.directMode();
        this.connection = new ClientConnection(config);
        this.directRoutes = direct.enabled() ? new DirectRoutes(config, connection::session) : null;
    }

    /**
     * Connects to the server the environment names ({@link ClientConfig#fromEnvironment}): what a
     * worker started by {@code orch spawn} or {@code orch connect} needs.
     */
    public static OrchClient connect() {
        return connect(ClientConfig.fromEnvironment());
    }

    /**
     * Connects and logs in within the configured connect timeout. The client needs no event loop:
     * a calling thread sends its request and reads its own reply (see {@link ClientConnection}).
     */
    public static OrchClient connect(ClientConfig config) {
        Objects.requireNonNull(config, "config");
        if (config.authKey() == null) {
            throw new IllegalArgumentException("no auth key");
        }
        OrchClient c = new OrchClient(config);
        try {
            c.connection.open();
        } catch (OrchException e) {
            if (e.code() == ErrorCode.TIMEOUT) {
                // One deadline covers TCP connect, TLS handshake and login: a peer that accepts
                // and then stays silent must not hold the caller longer than asked.
                throw new OrchConnectException("no answer from " + config.address() + " within "
                        + config.connectTimeout().toMillis() + " ms (is it an orch server? does it expect TLS?)");
            }
            throw e;
        }
        return c;
    }

    /** This client's session id. */
    public String session() {
        return connection.session();
    }

    /** The server's version string from the login reply, e.g. {@code orch/0.1.0}. */
    public String serverVersion() {
        return connection.loginReply().getString("server");
    }

    public ClientConfig config() {
        return config;
    }

    /**
     * Completes when the connection closes, after the subscription handlers have had the messages
     * read before; a subscription handler that waits for it (get, join) gets an
     * {@link IllegalStateException}, as it would wait for ever.
     */
    public CompletableFuture<Void> closedFuture() {
        return connection.closedFuture();
    }

    public boolean isOpen() {
        return connection.isOpen();
    }

    // ---- manager operations ----

    /** Creates an anonymous object, released by {@link #release} or when this client disconnects. */
    public RemoteObject create(String typeid, Object... args) {
        return create(null, typeid, toArray(args), new JsonObject());
    }

    /** Creates an object; with a name it lives until {@link #delete}. */
    public RemoteObject create(String name, String typeid, JsonArray args, JsonObject kwargs) {
        return describe(call(Addresses.MANAGER, createRequest(name, typeid, args, kwargs)));
    }

    public CompletableFuture<Object> createAsync(String name, String typeid, JsonArray args, JsonObject kwargs) {
        return manager(createRequest(name, typeid, args, kwargs));
    }

    private static JsonObject createRequest(String name, String typeid, JsonArray args, JsonObject kwargs) {
        JsonObject req = new JsonObject().put("op", "create").put("typeid", typeid)
                .put("args", args == null ? new JsonArray() : args).put("kwargs", kwargs == null ? new JsonObject() : kwargs);
        if (name != null) {
            req.put("name", name);
        }
        return req;
    }

    /** Looks up a named object. */
    public RemoteObject lookup(String name) {
        return describe(call(Addresses.MANAGER, new JsonObject().put("op", "lookup").put("name", name)));
    }

    /** Looks up an object by id (taking a reference if it is anonymous). */
    public RemoteObject lookupId(String id) {
        return describe(call(Addresses.MANAGER, new JsonObject().put("op", "lookup").put("id", id)));
    }

    /** A named queue, created ({@code Queue(maxsize)}) if it does not exist yet. */
    public RemoteQueue queue(String name, int maxsize) {
        return named(name, "Queue", new JsonArray().add(maxsize)).asQueue();
    }

    /** A named lock, created if it does not exist yet. */
    public RemoteLock lock(String name) {
        return named(name, "Lock", new JsonArray()).asLock();
    }

    /** Looks up {@code name}, creating it as {@code typeid(args)} when missing (races resolve to one object). */
    public RemoteObject named(String name, String typeid, JsonArray args) {
        try {
            return lookup(name);
        } catch (OrchException e) {
            if (e.code() != ErrorCode.NOT_FOUND) {
                throw e;
            }
        }
        try {
            return create(name, typeid, args, new JsonObject());
        } catch (OrchException e) {
            if (e.code() == ErrorCode.NAME_TAKEN) {
                return lookup(name);
            }
            throw e;
        }
    }

    /**
     * The object a reference in a call's result names (PROTOCOL.md §5: an object stored in
     * another, read back). The answer gave this session a reference to it, which this handle
     * now owns: {@link #release} it when done, as one from {@link #create}. Throws
     * IllegalArgumentException when {@code reference} is not one, and a 404 OrchException when
     * it names an object that was gone when the answer was made.
     */
    public RemoteObject adopt(Object reference) {
        String id = References.idIn(reference);
        if (id == null) {
            throw new IllegalArgumentException("not a reference to a shared object: " + reference);
        }
        if (((JsonObject) reference).getValue("typeid") == null) {
            throw OrchException.notFound("no object '" + id + "'");
        }
        return describe(reference);
    }

    /** Drops this session's reference to an anonymous object. */
    public void release(RemoteObject object) {
        call(Addresses.MANAGER, new JsonObject().put("op", "release").put("id", object.id()));
    }

    /** Deletes a named object. */
    public void delete(String name) {
        call(Addresses.MANAGER, new JsonObject().put("op", "delete").put("name", name));
    }

    /** Every type the server knows: {@code [{"typeid","exposed","host"}]}. */
    public JsonArray types() {
        return ((JsonObject) call(Addresses.MANAGER, new JsonObject().put("op", "types"))).getJsonArray("types");
    }

    /** Every object: {@code [{"id","typeid","name","refs","host"}]}. */
    public JsonArray objects() {
        return ((JsonObject) call(Addresses.MANAGER, new JsonObject().put("op", "objects"))).getJsonArray("objects");
    }

    /**
     * The server's counts, {@code {"objects","types","sessions"}}: the cheapest answer the manager
     * gives, whatever the size of its tables (what {@code orch health} asks for).
     */
    public JsonObject status() {
        return (JsonObject) call(Addresses.MANAGER, new JsonObject().put("op", "status"));
    }

    /** Asks the server to stop. */
    public void shutdown() {
        call(Addresses.MANAGER, new JsonObject().put("op", "shutdown"));
    }

    /** Sends a request to any service address the server offers and waits for the reply body. */
    public Object request(String address, JsonObject body) {
        return call(address, body);
    }

    /**
     * As {@link #request(String, JsonObject)}, for a request the server answers only after
     * waiting on purpose ({@code serverWait}, a stop's grace): the call timeout then bounds a
     * server that does not answer, not that wait.
     */
    public Object request(String address, JsonObject body, Duration serverWait) {
        return connection.call(address, body, callTimeoutPlus(serverWait));
    }

    /** Sends a request and waits at most the call timeout for its reply body. */
    Object call(String address, JsonObject body) {
        return connection.call(address, body, config.callTimeout());
    }

    public CompletableFuture<Object> requestAsync(String address, JsonObject body) {
        return connection.request(address, body);
    }

    /**
     * Receives messages for {@code address} (e.g. {@code orch.events}). The handler runs on a
     * thread of this client's, one message at a time in the order they came, not on the thread
     * that reads the connection: a slow handler holds up no call (though with 10,000 messages
     * waiting for it, reading waits too). {@link #closedFuture} completes after it has handled
     * the messages read before the connection closed. Subscribing again to an address replaces
     * its handler. Returns once the server has taken the subscription (within the call timeout).
     *
     * @throws OrchException if the server refuses it (403 for an address this session may not
     *         register, PROTOCOL.md §6; 429 past its registrations limit), or does not answer in time
     * @throws OrchConnectException if the connection is closed
     */
    public void subscribe(String address, java.util.function.Consumer<Object> handler) {
        Objects.requireNonNull(address, "address");
        Objects.requireNonNull(handler, "handler");
        connection.requireOpen();
        connection.subscribe(address, handler, config.callTimeout());
    }

    /**
     * Serves requests delivered to {@code address} (e.g. this session's {@code orch.host.SESSION}):
     * {@code handler} gets each body and completes with the answer, or fails with an
     * {@link OrchException} sent back as an error. Messages without a reply address get no answer.
     * Serving an address again replaces its handler. Returns once the server has taken it.
     *
     * @throws OrchException if the server refuses it, as for {@link #subscribe}
     * @throws OrchConnectException if the connection is closed
     */
    public void serve(String address, java.util.function.Function<Object, CompletableFuture<Object>> handler) {
        Objects.requireNonNull(address, "address");
        Objects.requireNonNull(handler, "handler");
        connection.requireOpen();
        connection.registerAcknowledged(address, in -> {
            CompletableFuture<Object> f;
            try {
                f = handler.apply(in.body);
            } catch (RuntimeException e) {
                f = CompletableFuture.failedFuture(e);
            }
            if (in.replyAddress != null) {
                HostedAnswers.Framing framing = served(in.replyAddress);
                f.whenComplete((r, t) -> {
                    if (t != null) {
                        Throwable c = t instanceof CompletionException && t.getCause() != null ? t.getCause() : t;
                        connection.sendEncoded(HostedAnswers.failure(framing, answerLimit(), c));
                    } else {
                        connection.sendEncoded(HostedAnswers.answer(framing, answerLimit(), () -> r));
                    }
                });
            }
        }, config.callTimeout());
    }

    /** What {@link #serve} sends: the handler's object as the body, any other value as {@code {"result":…}}. */
    private static HostedAnswers.Framing served(String replyAddress) {
        HostedAnswers.Framing results = HostedAnswers.viaServer(replyAddress);
        return new HostedAnswers.Framing() {
            @Override
            public byte[] result(Object result) {
                return result instanceof JsonObject ? FrameCodec.encodeSendBytes(replyAddress, null, (JsonObject) result)
                        : results.result(result);
            }

            @Override
            public byte[] failure(OrchException e) {
                return results.failure(e);
            }
        };
    }

    /**
     * The largest answer this process may send the server (its login reply's {@code maxFrame}),
     * the limit {@link HostedAnswers} holds every hosted answer to, direct ones too.
     */
    long answerLimit() {
        Object limit = connection.loginReply().getValue("maxFrame");
        // A server that does not say takes what the protocol's default allows.
        return limit instanceof Number && ((Number) limit).longValue() > 0 ? ((Number) limit).longValue()
                : FrameCodec.DEFAULT_MAX_FRAME;
    }

    /**
     * Sends a message without a reply address (no answer is expected); one the server refuses is
     * logged as a warning, as nothing else would tell.
     *
     * @throws OrchConnectException if the connection is closed
     */
    public void send(String address, JsonObject body) {
        Objects.requireNonNull(address, "address");
        connection.requireOpen();
        connection.send(address, body);
    }

    public void unsubscribe(String address) {
        connection.unregister(address);
    }

    private CompletableFuture<Object> manager(JsonObject req) {
        return connection.request(Addresses.MANAGER, req);
    }

    RemoteObject describe(Object reply) {
        JsonObject d = (JsonObject) reply;
        Object host = d.getValue("host");
        return new RemoteObject(this, d.getString("id"), d.getString("typeid"), d.getString("name"),
                d.getString("address"), d.getJsonArray("exposed", new JsonArray()),
                host instanceof String ? (String) host : null, DirectOffer.fromDescription(d));
    }

    // ---- calls ----

    CompletableFuture<Object> invoke(RemoteObject target, String method, JsonArray args, JsonObject kwargs) {
        ClientConnection d = directFor(target);
        if (d == null) {
            return new CallFuture(connection.request(target.address(), callBody(method, args, kwargs)));
        }
        return d.request(target.address(), callBody(method, args, kwargs))
                .handle((r, t) -> {
                    if (t == null) {
                        return unwrapResult(r);
                    }
                    Throwable c = t instanceof CompletionException && t.getCause() != null ? t.getCause() : t;
                    if (c instanceof OrchConnectException && !directRoutes.isClosed()) {
                        throw DirectRoutes.hostGone(target.direct(), (OrchConnectException) c);
                    }
                    throw c instanceof RuntimeException ? (RuntimeException) c : new CompletionException(c);
                });
    }

    /** Calls a method and waits: the caller's own thread sends the call and reads the answer. */
    Object invokeSync(RemoteObject target, String method, JsonArray args, JsonObject kwargs) {
        return invokeSync(target, method, args, kwargs, config.callTimeout());
    }

    /**
     * Calls a method that may park on the server for up to {@code serverWait} (its own timeout
     * argument), and waits that long plus the call timeout: giving up earlier would leave the
     * call parked, to take an item or a lock nobody receives.
     */
    Object invokeParked(RemoteObject target, String method, JsonArray args, JsonObject kwargs, Duration serverWait) {
        return invokeSync(target, method, args, kwargs, callTimeoutPlus(serverWait));
    }

    /** The call timeout with {@code serverWait} added: none stays none, and a negative wait adds nothing. */
    private Duration callTimeoutPlus(Duration serverWait) {
        Duration t = config.callTimeout();
        return t.isZero() || t.isNegative() || serverWait.isNegative() ? t : plusOrForever(t, serverWait);
    }

    /** {@code a + b}, or zero (no limit) past what a Duration holds: a wait that long is for ever. */
    private static Duration plusOrForever(Duration a, Duration b) {
        try {
            return a.plus(b);
        } catch (ArithmeticException e) {
            return Duration.ZERO;
        }
    }

    private Object invokeSync(RemoteObject target, String method, JsonArray args, JsonObject kwargs, Duration timeout) {
        ClientConnection d = directFor(target);
        if (d == null) {
            // Withdrawn past its timeout, a call on a server object still running (a notified
            // Condition.wait taking its lock back) is waited for; a hosted one is not.
            return unwrapResult(target.host() == null
                    ? connection.callServerObject(target.address(), callBody(method, args, kwargs), timeout)
                    : connection.call(target.address(), callBody(method, args, kwargs), timeout));
        }
        try {
            return unwrapResult(d.call(target.address(), callBody(method, args, kwargs), timeout));
        } catch (OrchConnectException e) {
            // This client's own close is no news of the worker: its calls fail as the others do.
            throw directRoutes.isClosed() ? e : DirectRoutes.hostGone(target.direct(), e);
        }
    }

    /** The worker's own connection for calls on {@code target}, or null to call through the server. */
    private ClientConnection directFor(RemoteObject target) {
        if (directRoutes == null || target.directOffer() == null || target.host() == null) {
            return null;
        }
        if (target.host().equals(connection.session())) {
            // Our own object: the server route reaches this process's handler without a second socket.
            return null;
        }
        return directRoutes.connection(target.directOffer(), target.host());
    }

    private static JsonObject callBody(String method, JsonArray args, JsonObject kwargs) {
        JsonObject body = new JsonObject().put("method", method);
        if (args != null && !args.isEmpty()) {
            body.put("args", args);
        }
        if (kwargs != null && !kwargs.isEmpty()) {
            body.put("kwargs", kwargs);
        }
        return body;
    }

    /**
     * The future of an asynchronous call through the server. {@code cancel} asks the server to
     * withdraw the call rather than dropping its answer, which could carry an item taken for it.
     */
    private final class CallFuture extends CompletableFuture<Object> {
        private final CompletableFuture<Object> request;

        CallFuture(CompletableFuture<Object> request) {
            this.request = request;
            request.whenComplete((reply, error) -> {
                if (error != null) {
                    completeExceptionally(error);
                    return;
                }
                try {
                    complete(unwrapResult(reply));
                } catch (RuntimeException e) {
                    completeExceptionally(e);
                }
            });
        }

        /**
         * For a call the server may be holding parked, asks it to withdraw the call and returns
         * false: this future then ends cancelled, or with the answer already on its way. Other
         * calls are cancelled here at once, as any CompletableFuture.
         */
        @Override
        public boolean cancel(boolean mayInterruptIfRunning) {
            if (!isDone() && connection.withdraw(request)) {
                return false;
            }
            return super.cancel(mayInterruptIfRunning);
        }
    }

    private Object unwrapResult(Object reply) {
        // A direct call's answer comes from the worker itself, unchecked by the server.
        if (!(reply instanceof JsonObject)) {
            throw new OrchException(ErrorCode.BAD_REPLY, "the answer to a call is not a JSON object");
        }
        JsonObject r = (JsonObject) reply;
        if (!r.containsKey("result")) {
            throw new OrchException(ErrorCode.BAD_REPLY, "the answer to a call has no 'result'");
        }
        return r.getValue("result");
    }

    static JsonArray toArray(Object... args) {
        return args == null ? new JsonArray() : new JsonArray(Arrays.asList(args));
    }

    // ---- hosting ----

    /**
     * Hosts {@code typeid} in this process: every {@code create} of it, from any client, calls
     * {@code factory} here, and method calls on the result run here, on a pool of threads
     * (calls on one object may run concurrently, as in Python's manager).
     */
    public void host(String typeid, List<String> exposed, HostedType factory) {
        ensureHostAddress();
        hostedTypes.put(typeid, factory);
        hostedExposed.put(typeid, java.util.Set.copyOf(exposed));
        JsonObject req = new JsonObject().put("op", "host").put("typeid", typeid).put("exposed", new JsonArray(exposed));
        DirectOffer d = offerDirect();
        if (d != null) {
            d.putInto(req);
        }
        call(Addresses.MANAGER, req);
    }

    /**
     * Where this process takes direct calls, listening on first use: beside its connection to the
     * server unless the direct setting names an address, over TLS when it has a certificate for
     * direct calls. Null when direct calls are off, or when the server connection uses TLS and
     * there is no certificate (calls encrypted to the server must not reach a worker in the clear).
     */
    private synchronized DirectOffer offerDirect() {
        if (!directTried) {
            directTried = true;
            boolean certified = config.directCert() != null || config.directKey() != null;
            if (direct.enabled() && (certified || !config.tls())) {
                ServerSocketFactory sockets;
                try {
                    sockets = certified ? DirectTls.serverSockets(config.directCert(), config.directKey())
                            : ServerSocketFactory.getDefault();
                } catch (IllegalArgumentException e) {
                    // A certificate that was meant to be used: failing beats a silently slower route.
                    throw new OrchConnectException(e.getMessage(), e);
                }
                HostPort fixed = direct.listen();
                try {
                    java.net.InetAddress host = fixed != null ? java.net.InetAddress.getByName(fixed.host())
                            : connection.localAddress();
                    directServer = DirectServer.open(host, fixed != null ? fixed.port() : 0, sockets, certified,
                            config.authKey(), session(), answerLimit(), hostedObjects::get);
                    // Without its session the objects are the server's to forget: stop serving them.
                    DirectServer opened = directServer;
                    connection.closedFuture().thenRun(opened::close);
                } catch (java.io.IOException e) {
                    if (fixed != null) {
                        throw new OrchConnectException("cannot listen for direct calls on " + fixed + ": "
                                + ClientConnection.describe(e), e);
                    }
                    LOG.warnf("cannot listen for direct calls (%s); calls to this worker go through the server",
                            ClientConnection.describe(e));
                }
            }
        }
        return directServer == null ? null : directServer.offer();
    }

    /** Direct calls running in this process now (for tests). */
    synchronized int directRunning() {
        return directServer == null ? 0 : directServer.running();
    }

    /** Where this process takes direct calls, or null (for tests). */
    synchronized DirectServer directServer() {
        return directServer;
    }

    /** Where this process takes direct calls on the objects it hosts, or null. */
    public synchronized String directAddress() {
        return directServer == null ? null : directServer.address();
    }

    /**
     * Hosts a plain Java class: the public methods of {@code type} become the exposed methods, and
     * each {@code create} calls {@code factory} for an instance of it (see {@link ReflectiveObject}
     * for how calls choose among overloads and convert their arguments). {@code type} may be an
     * interface the instances implement. A supplier takes no arguments, so a {@code create} that
     * passes some fails with a {@code TypeError}; for constructor arguments, host a
     * {@link HostedType} with {@link #host(String, List, HostedType)} instead.
     *
     * @throws IllegalArgumentException when some of those methods could not be called (a class
     *     that is not public, in a package its module does not open)
     */
    public void host(String typeid, java.util.function.Supplier<?> factory, Class<?> type) {
        ReflectiveObject.requireCallable(type);
        host(typeid, ReflectiveObject.exposedMethods(type), (args, kwargs) -> {
            // Dropping them would hand the creator an object built otherwise than it asked.
            if (!args.isEmpty() || !kwargs.isEmpty()) {
                throw OrchException.raised("TypeError", typeid + "() takes no arguments");
            }
            Object target = factory.get();
            if (target != null && !type.isInstance(target)) {
                throw OrchException.raised("TypeError", "the factory of '" + typeid + "' returned a "
                        + target.getClass().getName() + ", not a " + type.getName());
            }
            // A null instance is refused where every factory's is (hostCreate).
            return target == null ? null : new ReflectiveObject(target, type);
        });
    }

    private synchronized void ensureHostAddress() {
        if (hostExecutor != null) {
            return;
        }
        hostExecutor = Executors.newCachedThreadPool(r -> {
            Thread t = new Thread(r, "orch-host");
            t.setDaemon(true);
            return t;
        });
        connection.register(Addresses.host(session()), this::onHostRequest);
    }

    private void onHostRequest(ClientConnection.Incoming in) {
        if (!(in.body instanceof JsonObject)) {
            return;
        }
        JsonObject req = (JsonObject) in.body;
        String op = req.getString("op", "");
        String id = req.getString("id");
        if ("create".equals(op) && in.replyAddress != null && id != null) {
            hostExecutor.execute(() -> hostCreate(in.replyAddress, id, req));
        } else if ("release".equals(op) && id != null) {
            hostedObjects.remove(id);
            connection.unregister(Addresses.object(id));
        }
    }

    private void hostCreate(String replyAddress, String id, JsonObject req) {
        HostedType type = hostedTypes.get(req.getString("typeid", ""));
        try {
            if (type == null) {
                throw OrchException.notFound("this worker does not host '" + req.getString("typeid") + "'");
            }
            String typeid = req.getString("typeid");
            HostedObject obj = type.create(req.getJsonArray("args", new JsonArray()), req.getJsonObject("kwargs", new JsonObject()));
            if (obj == null) {
                throw OrchException.raised("TypeError", "the factory of '" + typeid + "' returned null");
            }
            hostedObjects.put(id, new HostedInstance(typeid, obj, hostedExposed.getOrDefault(typeid, java.util.Set.of())));
            connection.register(Addresses.object(id), in -> onCall(obj, in));
            connection.send(replyAddress, new JsonObject().put("id", id));
        } catch (Throwable e) {
            // Whatever the factory throws (an Error too) must reach the creator, who would
            // otherwise wait for its call timeout; a huge message is cut to fit a frame.
            connection.sendEncoded(HostedAnswers.failure(HostedAnswers.viaServer(replyAddress), answerLimit(), e));
        }
    }

    private void onCall(HostedObject obj, ClientConnection.Incoming in) {
        if (in.replyAddress == null || !(in.body instanceof JsonObject)) {
            return;
        }
        JsonObject call = (JsonObject) in.body;
        // Encoded here, so that a result that is not JSON, or too large for the server, fails
        // the call instead of leaving the caller without an answer or this worker disconnected.
        Runnable work = () -> connection.sendEncoded(HostedAnswers.answer(HostedAnswers.viaServer(in.replyAddress),
                answerLimit(), () -> obj.call(call.getString("method"), call.getJsonArray("args", new JsonArray()),
                        call.getJsonObject("kwargs", new JsonObject()), call.getString("session"))));
        // Run the call on the thread that read it, so the answer needs no thread wake-up; only
        // when that thread must go on reading for a waiting caller does a pool thread take it.
        if (!connection.runOffReader(work)) {
            hostExecutor.execute(work);
        }
    }

    @Override
    public void close() {
        synchronized (this) {
            if (directServer != null) {
                directServer.close();
            }
        }
        if (directRoutes != null) {
            directRoutes.close();
        }
        connection.close();
        if (hostExecutor != null) {
            hostExecutor.shutdownNow();
        }
    }
}
