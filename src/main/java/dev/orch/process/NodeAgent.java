package dev.orch.process;

import dev.orch.client.ClientConfig;
import dev.orch.client.OrchClient;
import dev.orch.protocol.Addresses;
import dev.orch.protocol.OrchException;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * {@code orch connect --name NODE}: makes this machine a node. It runs a local
 * {@link ProcessSupervisor} behind a local {@link ProcessEndpoint} (on this agent's own Vert.x)
 * and serves the server's {@code {"op":"node","request":{…}}} messages on its
 * {@code orch.host.SESSION} address by passing the request to that endpoint. The supervisor's
 * events and log follows are forwarded to the server ({@code node-event}, {@code node-lines}).
 * Its processes keep running while the server is away; on reconnect the agent attaches again
 * with its current table. PROTOCOL.md §11.
 */
public final class NodeAgent extends AttachedLink {
    private final String name;
    private final ProcessSupervisor supervisor;
    private final ProcessEndpoint endpoint;
    private final CpuMeter cpu = new CpuMeter();
    private final Map<String, MessageConsumer<Object>> follows = new ConcurrentHashMap<>();
    private MessageConsumer<Object> events;

    /**
     * @param vertx       this agent's own Vert.x (its event bus carries the local endpoint)
     * @param orchAddress the {@code ORCH_ADDRESS} its children get
     * @param keyFile     the {@code ORCH_AUTHKEY_FILE} its children get; they also get this
     *                    agent's TLS settings ({@code ORCH_TLS_CA} or {@code ORCH_TLS})
     */
    public NodeAgent(Vertx vertx, ClientConfig config, String name, String orchAddress, String keyFile, Duration grace) {
        super(vertx, config);
        this.name = name;
        this.supervisor = new ProcessSupervisor(vertx, ProcessSupervisor.Config.defaults().withOrch(orchAddress, keyFile)
                .withOrchTls(config.tls(), config.tlsCa()).withStopGrace(grace));
        this.endpoint = new ProcessEndpoint(vertx, supervisor);
    }

    /** Registers the local endpoint, then attaches (retrying until {@code connectLimit}). */
    public void open(Duration connectLimit) throws Exception {
        endpoint.register().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
        CompletableFuture<Void> ready = new CompletableFuture<>();
        events = vertx.eventBus().consumer(Addresses.EVENTS, m -> {
            CompletableFuture<Object> f = request(new JsonObject().put("op", "node-event").put("event", m.body()));
            if (f != null) {
                f.exceptionally(e -> null);
            }
        });
        events.completionHandler(ar -> ready.complete(null));
        ready.get(10, TimeUnit.SECONDS);
        start();
        awaitFirst(connectLimit);
    }

    public ProcessSupervisor supervisor() {
        return supervisor;
    }

    @Override
    protected JsonObject attach(OrchClient c) throws Exception {
        c.serve(hostAddress(c), this::onServerRequest);
        JsonArray table = supervisor.ps(true).toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
        JsonArray processes = new JsonArray();
        for (Object o : table) {
            JsonObject p = (JsonObject) o;
            if (!"server".equals(p.getString("id"))) {
                processes.add(new JsonObject().put("id", p.getString("id")).put("name", p.getString("name"))
                        .put("pid", p.getValue("pid")).put("state", p.getString("state"))
                        .put("exitCode", p.getValue("exitCode")).put("restarts", p.getValue("restarts")));
            }
        }
        return (JsonObject) c.request(ProcessEndpoint.ADDRESS, new JsonObject().put("op", "attach").put("kind", Fleet.NODE)
                .put("name", name).put("pid", ProcessHandle.current().pid()).put("host", hostname()).put("processes", processes));
    }

    @Override
    protected JsonObject heartbeat() {
        JsonObject self = Metrics.table(List.of(), cpu).getJsonObject(0);
        return new JsonObject().put("op", "heartbeat").put("cpuPercent", self.getValue("cpuPercent"))
                .put("rssBytes", self.getValue("rssBytes"));
    }

    private CompletableFuture<Object> onServerRequest(Object body) {
        JsonObject b = body instanceof JsonObject ? (JsonObject) body : new JsonObject();
        if (!"node".equals(b.getString("op")) || !(b.getValue("request") instanceof JsonObject)) {
            return CompletableFuture.failedFuture(OrchException.badRequest("a node serves only {\"op\":\"node\",\"request\":{…}}"));
        }
        JsonObject req = b.getJsonObject("request");
        Future<Void> ready = Future.succeededFuture();
        String follow = "logs".equals(req.getString("op")) ? req.getString("follow") : null;
        if (follow != null) {
            ready = followTo(follow);
        }
        Future<Object> reply = ready.compose(v -> vertx.eventBus().request(ProcessEndpoint.ADDRESS, req)).map(m -> m.body());
        CompletableFuture<Object> out = new CompletableFuture<>();
        reply.onComplete(ar -> {
            if (ar.succeeded()) {
                out.complete(ar.result());
            } else {
                Throwable t = ar.cause();
                if (follow != null) {
                    unfollowLocal(follow);
                }
                out.completeExceptionally(t instanceof ReplyException
                        ? OrchException.fromWire(((ReplyException) t).failureCode(), t.getMessage()) : t);
            }
        });
        return out;
    }

    /** A local consumer on the follow address, relaying each batch to the server. */
    private Future<Void> followTo(String address) {
        unfollowLocal(address);
        MessageConsumer<Object> c = vertx.eventBus().consumer(address, m -> {
            JsonObject msg = m.body() instanceof JsonObject ? (JsonObject) m.body() : new JsonObject();
            JsonObject fwd = new JsonObject().put("op", "node-lines").put("follow", address).put("id", msg.getValue("id"));
            if (msg.getBoolean("end", false)) {
                fwd.put("end", true);
                unfollowLocal(address);
            } else {
                fwd.put("lines", msg.getJsonArray("lines", new JsonArray()));
            }
            CompletableFuture<Object> f = request(fwd);
            if (f != null) {
                f.exceptionally(e -> null);
            }
        });
        follows.put(address, c);
        io.vertx.core.Promise<Void> p = io.vertx.core.Promise.promise();
        c.completionHandler(p);
        return p.future();
    }

    private void unfollowLocal(String address) {
        MessageConsumer<Object> c = follows.remove(address);
        if (c != null) {
            c.unregister();
        }
    }

    /** Stops every local process (with the grace), detaches and closes. */
    public void shutdown() {
        try {
            supervisor.close().toCompletionStage().toCompletableFuture().get(120, TimeUnit.SECONDS);
        } catch (Exception e) {
            // Closing anyway.
        }
        close();
        if (events != null) {
            events.unregister();
        }
        endpoint.unregister();
    }
}
