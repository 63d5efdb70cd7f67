package dev.orch.process;

import dev.orch.protocol.Addresses;
import dev.orch.protocol.ErrorCode;
import dev.orch.protocol.OrchException;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.Message;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The event-bus face of a {@link ProcessSupervisor}: a consumer on {@value #ADDRESS} taking
 * {@code {"op":…}} bodies (spawn, ps, logs, unfollow, stop, kill, restart, rm) and replying JSON,
 * or failing with {@code message.fail(code, "Name: detail")}. Specified in PROTOCOL.md §10.
 */
public final class ProcessEndpoint {
    /** The address of process operations. */
    public static final String ADDRESS = "orch.process";
    /** Delivery header carrying the caller's session id, set by the TCP front end. */
    public static final String SESSION_HEADER = "orch.session";
    /** Default and largest {@code tail} of a logs request. */
    public static final int DEFAULT_TAIL = 1000;
    public static final int MAX_TAIL = 100_000;

    private final Vertx vertx;
    private final ProcessSupervisor supervisor;
    private final Map<String, Follow> follows = new ConcurrentHashMap<>();
    private MessageConsumer<Object> consumer;

    private record Follow(LogRing ring, LogRing.Follower follower) {
    }

    public ProcessEndpoint(Vertx vertx, ProcessSupervisor supervisor) {
        this.vertx = vertx;
        this.supervisor = supervisor;
    }

    /** Registers the consumer; completes once the registration is in effect. */
    public Future<Void> register() {
        Promise<Void> done = Promise.promise();
        consumer = vertx.eventBus().consumer(ADDRESS, this::handle);
        consumer.completionHandler(done);
        return done.future();
    }

    /** Unregisters the consumer and ends every follow. */
    public Future<Void> unregister() {
        for (String address : new ArrayList<>(follows.keySet())) {
            unfollow(address);
        }
        return consumer == null ? Future.succeededFuture() : consumer.unregister();
    }

    /**
     * Ends the follows whose address starts with {@code prefix}; the front end calls this with
     * {@code orch.reply.SESSION.} when a session disconnects.
     */
    public void dropFollowers(String prefix) {
        for (String address : new ArrayList<>(follows.keySet())) {
            if (address.startsWith(prefix)) {
                unfollow(address);
            }
        }
    }

    /** Number of follows in effect. */
    public int followCount() {
        return follows.size();
    }

    private void handle(Message<Object> msg) {
        Future<?> result;
        try {
            if (!(msg.body() instanceof JsonObject)) {
                throw OrchException.badRequest("body must be a JSON object");
            }
            JsonObject body = (JsonObject) msg.body();
            String op = body.getValue("op") instanceof String ? body.getString("op") : null;
            if (op == null) {
                throw OrchException.badRequest("missing op");
            }
            result = dispatch(op, body, msg.headers().get(SESSION_HEADER));
        } catch (RuntimeException e) {
            result = Future.failedFuture(e);
        }
        result.onComplete(ar -> {
            if (ar.succeeded()) {
                msg.reply(ar.result());
            } else {
                OrchException e = toOrch(ar.cause());
                msg.fail(e.code().code(), e.wireMessage());
            }
        });
    }

    private Future<?> dispatch(String op, JsonObject body, String session) {
        switch (op) {
            case "spawn":
                return supervisor.spawn(ProcessSpec.fromJson(body));
            case "ps":
                return supervisor.ps(body.getBoolean("all", false)).map(a -> new JsonObject().put("processes", a));
            case "logs":
                return logs(body, session);
            case "unfollow":
                String address = string(body, "follow");
                if (address == null) {
                    throw OrchException.badRequest("unfollow needs follow");
                }
                checkFollowAddress(address, session);
                return Future.succeededFuture(new JsonObject().put("unfollowed", unfollow(address)));
            case "stop":
                return supervisor.stop(ref(body), grace(body));
            case "kill":
                return supervisor.kill(ref(body));
            case "restart":
                return supervisor.restart(ref(body));
            case "rm":
                return supervisor.rm(ref(body)).map(v -> new JsonObject().put("removed", true));
            default:
                throw OrchException.badRequest("unknown op '" + op + "'");
        }
    }

    private Future<JsonObject> logs(JsonObject body, String session) {
        int tail = number(body, "tail", DEFAULT_TAIL).intValue();
        long after = number(body, "after", 0).longValue();
        if (tail < 0 || tail > MAX_TAIL) {
            throw OrchException.badRequest("tail must be between 0 and " + MAX_TAIL);
        }
        String follow = string(body, "follow");
        if (follow != null) {
            checkFollowAddress(follow, session);
        }
        // Encoding up to 100,000 lines is too slow for an event loop: do it on a worker.
        return supervisor.logs(ref(body)).compose(l -> vertx.executeBlocking(() -> {
            LogRing.Follower f = follow == null ? null : follower(l.id(), follow);
            if (f != null) {
                unfollow(follow);
                follows.put(follow, new Follow(l.ring(), f));
            }
            List<LogLine> lines = l.ring().snapshot(tail, after, f);
            JsonArray arr = new JsonArray(new ArrayList<>(lines.size()));
            for (LogLine line : lines) {
                arr.add(line.toJson());
            }
            return new JsonObject().put("id", l.id()).put("name", l.name()).put("lines", arr)
                    .put("dropped", l.ring().dropped()).put("following", f != null);
        }, false));
    }

    /** Sends each batch as {@code {"id","lines":[…]}} and a final {@code {"id","end":true}}. */
    private LogRing.Follower follower(String id, String address) {
        return new LogRing.Follower() {
            @Override
            public void lines(List<LogLine> lines) {
                JsonArray arr = new JsonArray(new ArrayList<>(lines.size()));
                for (LogLine l : lines) {
                    arr.add(l.toJson());
                }
                vertx.eventBus().send(address, new JsonObject().put("id", id).put("lines", arr));
            }

            @Override
            public void closed() {
                follows.remove(address, follows.get(address));
                vertx.eventBus().send(address, new JsonObject().put("id", id).put("end", true));
            }
        };
    }

    private boolean unfollow(String address) {
        Follow f = follows.remove(address);
        if (f == null) {
            return false;
        }
        f.ring().unfollow(f.follower());
        vertx.eventBus().send(address, new JsonObject().put("end", true));
        return true;
    }

    private static void checkFollowAddress(String address, String session) {
        // A remote session may only have lines sent to addresses it is allowed to register (§6).
        if (session != null && !address.startsWith(Addresses.replyPrefix(session))) {
            throw new OrchException(ErrorCode.FORBIDDEN, "follow address must start with " + Addresses.replyPrefix(session));
        }
    }

    private static String ref(JsonObject body) {
        String id = string(body, "id");
        return id != null ? id : string(body, "name");
    }

    private static Duration grace(JsonObject body) {
        Number g = number(body, "grace", -1);
        return g.doubleValue() < 0 ? null : Duration.ofMillis(Math.round(g.doubleValue() * 1000));
    }

    private static String string(JsonObject body, String key) {
        Object v = body.getValue(key);
        if (v != null && !(v instanceof String)) {
            throw OrchException.badRequest(key + " must be a string");
        }
        return (String) v;
    }

    private static Number number(JsonObject body, String key, Number dflt) {
        Object v = body.getValue(key);
        if (v == null) {
            return dflt;
        }
        if (!(v instanceof Number)) {
            throw OrchException.badRequest(key + " must be a number");
        }
        return (Number) v;
    }

    private static OrchException toOrch(Throwable t) {
        if (t instanceof OrchException) {
            return (OrchException) t;
        }
        return OrchException.raised(t.getClass().getSimpleName(), String.valueOf(t.getMessage()));
    }
}
