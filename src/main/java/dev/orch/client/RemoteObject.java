package dev.orch.client;

import dev.orch.protocol.DirectOffer;
import dev.orch.protocol.References;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/** A handle on a shared object: its identity and its methods, called through the client. */
public final class RemoteObject implements References.Referable {
    private final OrchClient client;
    private final String id;
    private final String typeid;
    private final String name;
    private final String address;
    private final JsonArray exposed;
    private final String host;
    private final DirectOffer direct;

    RemoteObject(OrchClient client, String id, String typeid, String name, String address, JsonArray exposed,
            String host, DirectOffer direct) {
        this.client = client;
        this.id = id;
        this.typeid = typeid;
        this.name = name;
        this.address = address;
        this.exposed = exposed;
        this.host = host;
        this.direct = direct;
    }

    /** The session of the worker hosting this object, or null when the server holds it. */
    public String host() {
        return host;
    }

    /** Where the hosting worker takes direct calls ({@code HOST:PORT}), or null. */
    public String direct() {
        return direct == null ? null : direct.address();
    }

    /** True when the hosting worker takes direct calls over TLS. */
    public boolean directTls() {
        return direct != null && direct.tls();
    }

    DirectOffer directOffer() {
        return direct;
    }

    public String id() {
        return id;
    }

    public String typeid() {
        return typeid;
    }

    /** The name, or null for an anonymous object. */
    public String name() {
        return name;
    }

    public String address() {
        return address;
    }

    @SuppressWarnings("unchecked")
    public List<String> exposed() {
        return (List<String>) (List<?>) exposed.getList();
    }

    /**
     * A reference to this object, {@code {"orch.ref": ID}}, to store in another server-side
     * object (PROTOCOL.md §5), which then keeps it alive; a RemoteObject anywhere in a call's
     * arguments goes as its reference by itself. Read back, {@link OrchClient#adopt} makes a handle of it.
     */
    public JsonObject ref() {
        return References.canonical(id);
    }

    @Override
    public String referenceId() {
        return id;
    }

    /** Calls a method and waits (at most the client's call timeout) for its JSON result. */
    public Object call(String method, Object... args) {
        return client.invokeSync(this, method, OrchClient.toArray(args), null);
    }

    /** Calls a method with keyword arguments. */
    public Object call(String method, JsonArray args, JsonObject kwargs) {
        return client.invokeSync(this, method, args, kwargs);
    }

    /**
     * Calls a method that waits on the server (Python's {@code Event.wait}, {@code Barrier.wait},
     * {@code Semaphore.acquire}, {@code Condition.wait}, {@code Queue.get}…) with {@code timeout}
     * as its {@code timeout} keyword argument, and waits for its answer that long plus the
     * client's call timeout: {@link #call} would give up at the call timeout alone, however
     * long the method was asked to wait. The method's own answer to its timeout comes back as
     * usual ({@code false} from {@code Event.wait}, {@code Empty} from {@code Queue.get}…). A
     * negative timeout is zero.
     */
    public Object callWithTimeout(String method, java.time.Duration timeout, Object... args) {
        return callParked(method, OrchClient.toArray(args), RemoteQueue.seconds(timeout), timeout);
    }

    /** Calls a method whose own timeout argument lets it park on the server for up to {@code serverWait}. */
    Object callParked(String method, JsonArray args, JsonObject kwargs, java.time.Duration serverWait) {
        return client.invokeParked(this, method, args, kwargs, serverWait);
    }

    OrchClient client() {
        return client;
    }

    /**
     * Calls a method without waiting; many calls may be in flight on one connection. For a call
     * the server holds parked ({@code get} on an empty queue), {@code cancel} on the returned
     * future withdraws it there (see {@link RemoteQueue#takeAsync}). Completing the future by
     * other means ({@code orTimeout}, {@code complete}) only drops the answer when it comes, with
     * whatever it took; give up on a parked call with {@code cancel}.
     */
    public CompletableFuture<Object> callAsync(String method, Object... args) {
        return client.invoke(this, method, OrchClient.toArray(args), null);
    }

    public CompletableFuture<Object> callAsync(String method, JsonArray args, JsonObject kwargs) {
        return client.invoke(this, method, args, kwargs);
    }

    /** This object as a queue ({@code Queue} or {@code JoinableQueue}). */
    public RemoteQueue asQueue() {
        requireType("Queue", "JoinableQueue");
        return new RemoteQueue(this);
    }

    /**
     * This object as a lock ({@code Lock} or {@code RLock}), held by this client's session, not a
     * thread: over an {@code RLock} threads of one client do not exclude each other (see
     * {@link RemoteLock}).
     */
    public RemoteLock asLock() {
        requireType("Lock", "RLock");
        return new RemoteLock(this);
    }

    private void requireType(String... typeids) {
        for (String t : typeids) {
            if (t.equals(typeid)) {
                return;
            }
        }
        throw new IllegalArgumentException(this + " is not a " + String.join(" or ", typeids));
    }

    /**
     * A typed view of this object through a Java interface (see {@link TypedProxy}).
     *
     * @throws IllegalArgumentException if {@code type} is not an interface, or has a method whose
     *     types cannot work (the message names it)
     */
    public <T> T as(Class<T> type) {
        return TypedProxy.create(this, type);
    }

    @Override
    public String toString() {
        return "<RemoteObject " + typeid + " " + (name != null ? "'" + name + "' " : "") + "id=" + id + ">";
    }
}
