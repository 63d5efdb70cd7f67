package dev.orch.process;

import dev.orch.protocol.Addresses;
import dev.orch.protocol.ErrorCode;
import dev.orch.protocol.NoRecipient;
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
import java.util.function.Predicate;

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
    /** Largest {@code grace} of a stop, in seconds: a year, as the CLI's options in seconds. */
    public static final long MAX_GRACE_SECONDS = 365L * 24 * 3600;

    private final Vertx vertx;
    private final ProcessSupervisor supervisor;
    private final Map<String, Follow> follows = new ConcurrentHashMap<>();
    /** Follows served by a node agent: follow address to node name. */
    private final Map<String, String> nodeFollows = new ConcurrentHashMap<>();
    private final Fleet fleet;
    /** Whether a session is still connected; its follows must not outlive it. */
    private final Predicate<String> sessionOpen;
    private MessageConsumer<Object> consumer;

    private record Follow(LogRing ring, LogRing.Follower follower) {
    }

    public ProcessEndpoint(Vertx vertx, ProcessSupervisor supervisor) {
        this(vertx, supervisor, null);
    }

    /** With a {@link Fleet}, the endpoint also serves workers and nodes (PROTOCOL.md §11). */
    public ProcessEndpoint(Vertx vertx, ProcessSupervisor supervisor, Fleet fleet) {
        this(vertx, supervisor, fleet, s -> true);
    }

    /**
     * {@code sessionOpen} must turn false before {@link #sessionClosed} is called for that
     * session: a follow put in place after its session's close then sees it and ends itself.
     */
    public ProcessEndpoint(Vertx vertx, ProcessSupervisor supervisor, Fleet fleet, Predicate<String> sessionOpen) {
        this.vertx = vertx;
        this.supervisor = supervisor;
        this.fleet = fleet;
        this.sessionOpen = sessionOpen;
    }

    /**
     * A session disconnected: its follows end, and a worker or node it attached is lost unless it
     * detached first (then the follows served by that node end too).
     */
    public void sessionClosed(String session) {
        dropFollowers(Addresses.replyPrefix(session));
        if (fleet != null) {
            fleet.sessionClosed(session);
            List<String> live = fleet.liveNodes();
            for (Map.Entry<String, String> e : new ArrayList<>(nodeFollows.entrySet())) {
                if (!live.contains(e.getValue()) && nodeFollows.remove(e.getKey(), e.getValue())) {
                    vertx.eventBus().send(e.getKey(), new JsonObject().put("end", true));
                }
            }
        }
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
        for (String address : new ArrayList<>(nodeFollows.keySet())) {
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
                msg.fail(e.failureCode(), e.wireMessage());
            }
        });
    }

    private Future<?> dispatch(String op, JsonObject body, String session) {
        switch (op) {
            case "spawn":
                return spawn(body);
            case "ps":
                return ps(flag(body, "all"));
            case "settings":
                // What a client must know to wait for a stop well: the grace it gets by default.
                return Future.succeededFuture(new JsonObject().put("grace", supervisor.stopGrace().toMillis() / 1000.0));
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
                Duration grace = grace(body); // checked before anything is stopped
                return route(ref(body), r -> supervisor.stop(r, grace),
                        w -> fleet.stopWorker(w.id, (grace == null ? supervisor.stopGrace() : grace).toMillis()),
                        (node, rid) -> toNode(node, body.copy().put("id", rid).put("name", (String) null), stopTimeout(grace)));
            case "kill":
                return route(ref(body), supervisor::kill, w -> fleet.stopWorker(w.id, 0),
                        (node, rid) -> toNode(node, body.copy().put("id", rid).put("name", (String) null), 60_000));
            case "restart":
                return route(ref(body), supervisor::restart, w -> {
                    throw OrchException.badRequest("worker " + w.id + " is run by orch connect; it cannot be restarted from here");
                }, (node, rid) -> toNode(node, body.copy().put("id", rid).put("name", (String) null), 60_000));
            case "rm": {
                String ref = ref(body);
                if (fleet != null && ref != null && ref.startsWith(Fleet.NODE_PREFIX)) {
                    // A lost node that will not come back: forget it and its processes.
                    String name = ref.substring(Fleet.NODE_PREFIX.length());
                    fleet.rmLostNode(name);
                    return Future.succeededFuture(new JsonObject().put("id", ref).put("removed", true));
                }
                // The reply names the id removed, which a name alone does not tell the caller.
                return route(ref, r -> supervisor.rm(r).map(id -> new JsonObject().put("id", id).put("removed", true)),
                        w -> Future.succeededFuture(new JsonObject().put("id", w.id).put("removed", fleet.rmWorker(w.id))),
                        (node, rid) -> {
                            if (fleet.forgetLostNodeProcess(node, rid)) {
                                // Its node is lost: nothing there can be asked, and the entry says
                                // only what was last known, so it is forgotten here.
                                return Future.succeededFuture(new JsonObject().put("id", rid + "@" + node).put("removed", true));
                            }
                            return toNode(node, body.copy().put("id", rid).put("name", (String) null), 60_000)
                                    .map(r -> {
                                        fleet.forgetNodeProcess(node, rid);
                                        return r;
                                    });
                        });
            }
            case "attach":
            case "heartbeat":
            case "output":
            case "exit":
            case "detach":
            case "node-event":
            case "node-lines":
                return fleetOp(op, body, session);
            default:
                throw OrchException.badRequest("unknown op '" + op + "'");
        }
    }

    // ---- workers and nodes ----

    private Future<?> spawn(JsonObject body) {
        ProcessSpec spec = ProcessSpec.fromJson(body);
        if (fleet != null && spec.name() != null && !fleet.liveNodes().isEmpty()) {
            // Names are unique among live processes of every node, not only the target node's.
            return ps(false).compose(table -> {
                for (Object o : table.getJsonArray("processes")) {
                    JsonObject p = (JsonObject) o;
                    if (spec.name().equals(p.getString("name")) && isLive(p.getString("state"))) {
                        return Future.failedFuture(new OrchException(ErrorCode.NAME_TAKEN,
                                "a process named '" + spec.name() + "' is running on node " + p.getString("node")));
                    }
                }
                return spawnChecked(spec, body);
            });
        }
        return spawnChecked(spec, body);
    }

    private static boolean isLive(String state) {
        return !("exited".equals(state) || "failed".equals(state) || "stopped".equals(state) || "lost".equals(state));
    }

    private Future<?> spawnChecked(ProcessSpec spec, JsonObject body) {
        if (fleet != null && spec.node() != null && !ProcessSpec.LOCAL.equals(spec.node())) {
            String node = spec.node();
            JsonObject fwd = body.copy();
            fwd.remove("node");
            return toNode(node, fwd, 60_000).onSuccess(r -> {
                String id = r instanceof JsonObject ? ((JsonObject) r).getString("id") : null;
                if (id != null && id.endsWith("@" + node)) {
                    fleet.noteNodeCommand(node, id.substring(0, id.length() - node.length() - 1), fwd.getValue("command"));
                }
            });
        }
        if (fleet != null && spec.name() != null && fleet.workerNameLive(spec.name())) {
            throw new OrchException(ErrorCode.NAME_TAKEN, "a worker named '" + spec.name() + "' is attached");
        }
        return supervisor.spawn(spec);
    }

    private Future<JsonObject> ps(boolean all) {
        long t0 = System.nanoTime();
        Future<JsonArray> local = supervisor.ps(all);
        if (fleet == null) {
            return local.map(a -> new JsonObject().put("processes", a).put("took", (System.nanoTime() - t0) / 1_000_000));
        }
        List<String> nodes = fleet.liveNodes();
        List<Future<Object>> remote = new ArrayList<>();
        for (String n : nodes) {
            remote.add(toNode(n, new JsonObject().put("op", "ps").put("all", all), Math.max(2000, 3 * fleet.heartbeatMs()))
                    .recover(e -> Future.succeededFuture(null)));
        }
        return Future.join(new ArrayList<>(remote)).transform(x -> local).map(a -> {
            JsonArray out = a.copy();
            fleet.workerRows(all).forEach(out::add);
            for (int i = 0; i < nodes.size(); i++) {
                Object r = remote.get(i).result();
                JsonObject nodeRow = fleet.nodeRow(nodes.get(i));
                if (nodeRow == null) {
                    continue;
                }
                JsonArray procs = r instanceof JsonObject ? ((JsonObject) r).getJsonArray("processes", new JsonArray()) : new JsonArray();
                fleet.noteNodeRows(nodes.get(i), procs);
                for (Object o : procs) {
                    JsonObject p = (JsonObject) o;
                    if ("server".equals(p.getString("id"))) {
                        nodeRow.put("pid", p.getValue("pid")).put("cpuPercent", p.getValue("cpuPercent"))
                                .put("rssBytes", p.getValue("rssBytes")).put("command", p.getValue("command"))
                                .put("startedAt", p.getValue("startedAt"));
                    }
                }
                out.add(nodeRow);
                for (Object o : procs) {
                    JsonObject p = (JsonObject) o;
                    if (!"server".equals(p.getString("id"))) {
                        out.add(globalize(p, nodes.get(i)));
                    }
                }
            }
            fleet.lostNodeRows().forEach(out::add);
            return new JsonObject().put("processes", out).put("took", (System.nanoTime() - t0) / 1_000_000);
        });
    }

    private static JsonObject globalize(JsonObject p, String node) {
        JsonObject j = p.copy();
        if (j.getValue("id") instanceof String) {
            j.put("id", j.getString("id") + "@" + node);
        }
        return j.put("node", node);
    }

    /** Sends {@code body} to the agent of {@code node}; ids in the reply become global. */
    private Future<Object> toNode(String node, JsonObject body, long timeoutMs) {
        if (fleet == null) {
            throw OrchException.notFound("no node named '" + node + "'");
        }
        String session = fleet.nodeSession(node);
        return vertx.eventBus().request(Addresses.host(session), new JsonObject().put("op", "node").put("request", body),
                new io.vertx.core.eventbus.DeliveryOptions().setSendTimeout(timeoutMs))
                .transform(ar -> {
                    if (ar.failed()) {
                        return Future.failedFuture(globalize(fromReply(ar.cause(), node), body.getString("id"), node));
                    }
                    Object r = ar.result().body();
                    return Future.succeededFuture(r instanceof JsonObject && ((JsonObject) r).containsKey("id")
                            ? globalize((JsonObject) r, node) : r);
                });
    }

    private static long stopTimeout(Duration g) {
        return (g == null ? 60_000 : g.toMillis()) + 60_000;
    }

    /**
     * A node's failure as the caller knows the process: the node says {@code process p1}, which
     * here is {@code p1@NODE} (a local {@code p1} may exist too).
     */
    private static OrchException globalize(OrchException e, String rid, String node) {
        if (rid == null || e.detail() == null) {
            return e;
        }
        String detail = e.detail().replaceAll("\\bprocess " + java.util.regex.Pattern.quote(rid) + "\\b(?!@)",
                java.util.regex.Matcher.quoteReplacement("process " + rid + "@" + node));
        return detail.equals(e.detail()) ? e : new OrchException(e.failureCode(), e.name(), detail);
    }

    private static OrchException fromReply(Throwable t, String node) {
        if (NoRecipient.matches(t)) {
            // No agent listens, or its connection closed with the request queued: no answer will come.
            return new OrchException(ErrorCode.SHUTTING_DOWN, "Unavailable", "node '" + node + "' is not reachable");
        }
        if (t instanceof io.vertx.core.eventbus.ReplyException
                && ((io.vertx.core.eventbus.ReplyException) t).failureCode() == ErrorCode.HOST_GONE.code()) {
            // The server's word for a connection that closed with the request handed to it; an
            // agent's own answers to process operations are never 410.
            return new OrchException(ErrorCode.SHUTTING_DOWN, "Unavailable", "node '" + node + "' went away before it answered");
        }
        if (t instanceof io.vertx.core.eventbus.ReplyException) {
            io.vertx.core.eventbus.ReplyException re = (io.vertx.core.eventbus.ReplyException) t;
            switch (re.failureType()) {
                case TIMEOUT:
                    return new OrchException(ErrorCode.TIMEOUT, "node '" + node + "' did not answer");
                default:
                    return OrchException.fromWire(re.failureCode(), re.getMessage());
            }
        }
        return toOrch(t);
    }

    /** Interface of the three places a process may live. */
    private interface NodeAction {
        Future<?> apply(String node, String remoteId);
    }

    /**
     * Runs an op on the process {@code ref} names: {@code ID@NODE} goes to that node; otherwise the
     * local supervisor, then the workers, then the nodes' processes by name.
     */
    private Future<?> route(String ref, java.util.function.Function<String, Future<?>> local,
            java.util.function.Function<Fleet.Worker, Future<?>> worker, NodeAction node) {
        if (ref == null || ref.isEmpty()) {
            throw OrchException.badRequest("missing process id or name");
        }
        if (fleet == null) {
            return local.apply(ref);
        }
        int at = ref.lastIndexOf('@');
        if (at > 0 && at < ref.length() - 1) {
            return node.apply(ref.substring(at + 1), ref.substring(0, at));
        }
        if (ref.matches("w[0-9]+") && fleet.worker(ref) != null) {
            return worker.apply(fleet.worker(ref));
        }
        Future<Object> first = local.apply(ref).map(x -> (Object) x);
        return first.recover(e -> {
            if (!(e instanceof OrchException) || ((OrchException) e).code() != ErrorCode.NOT_FOUND) {
                return Future.<Object>failedFuture(e);
            }
            Fleet.Worker w = fleet.worker(ref);
            if (w != null) {
                return worker.apply(w).map(x -> (Object) x);
            }
            String[] found = fleet.findByName(ref);
            if (found != null) {
                return node.apply(found[0], found[1]).map(x -> (Object) x);
            }
            return Future.<Object>failedFuture(e);
        });
    }

    private Future<?> fleetOp(String op, JsonObject body, String session) {
        if (fleet == null) {
            throw OrchException.badRequest("this server does not accept workers or nodes");
        }
        if (session == null) {
            throw OrchException.badRequest(op + " needs a session");
        }
        switch (op) {
            case "attach": {
                String kind = body.getString("kind", Fleet.WORKER);
                if (Fleet.NODE.equals(kind)) {
                    return Future.succeededFuture(fleet.attachNode(session, body));
                }
                if (!Fleet.WORKER.equals(kind)) {
                    throw OrchException.badRequest("kind must be worker or node");
                }
                String name = string(body, "name");
                if (name == null) {
                    return Future.succeededFuture(fleet.attachWorker(session, body, n -> false));
                }
                return supervisor.describe(name).transform(ar -> {
                    boolean taken = ar.succeeded() && Fleet.isLive(ar.result().getString("state"));
                    return Future.succeededFuture(fleet.attachWorker(session, body, n -> taken));
                });
            }
            case "heartbeat":
                if (fleet.nodeOf(session) != null) {
                    fleet.nodeHeartbeat(session, body);
                } else {
                    fleet.workerHeartbeat(session, body);
                }
                return Future.succeededFuture(new JsonObject().put("ok", true));
            case "output":
                fleet.workerOutput(session, body);
                return Future.succeededFuture(new JsonObject().put("ok", true));
            case "exit":
                return Future.succeededFuture(fleet.workerExit(session, body));
            case "detach":
                fleet.detach(session);
                return Future.succeededFuture(new JsonObject().put("detached", true));
            case "node-event":
                fleet.nodeEvent(session, body);
                return Future.succeededFuture(new JsonObject().put("ok", true));
            case "node-lines": {
                String node = fleet.nodeOf(session);
                String follow = string(body, "follow");
                if (node == null || follow == null || !node.equals(nodeFollows.get(follow))) {
                    return Future.succeededFuture(new JsonObject().put("ok", false));
                }
                JsonObject msg = new JsonObject();
                if (body.getValue("id") instanceof String) {
                    msg.put("id", body.getString("id") + "@" + node);
                }
                if (body.getBoolean("end", false)) {
                    nodeFollows.remove(follow, node);
                    msg.put("end", true);
                } else {
                    msg.put("lines", body.getJsonArray("lines", new JsonArray()));
                }
                vertx.eventBus().send(follow, msg);
                return Future.succeededFuture(new JsonObject().put("ok", true));
            }
            default:
                throw OrchException.badRequest("unknown op '" + op + "'");
        }
    }

    private Future<?> logs(JsonObject body, String session) {
        // Checked before narrowing: intValue() of 2^64+5 is 5, and longValue() of 2^70 is 0.
        double t = number(body, "tail", DEFAULT_TAIL).doubleValue();
        if (!(t >= 0 && t <= MAX_TAIL)) {
            throw OrchException.badRequest("tail must be between 0 and " + MAX_TAIL);
        }
        int tail = (int) t;
        long after = after(number(body, "after", 0));
        String follow = string(body, "follow");
        if (follow != null) {
            checkFollowAddress(follow, session);
        }
        return route(ref(body), r -> supervisor.logs(r).compose(l -> logsOf(l, tail, after, follow, session)),
                w -> logsOf(new ProcessSupervisor.Logs(w.id, w.name, w.ring), tail, after, follow, session),
                (node, rid) -> {
                    if (follow != null) {
                        unfollow(follow, false);
                        nodeFollows.put(follow, node);
                        if (sessionGone(session)) {
                            // Its sessionClosed may have run already: nothing would end this follow.
                            nodeFollows.remove(follow, node);
                            return Future.failedFuture(OrchException.badRequest("the session has closed"));
                        }
                    }
                    return toNode(node, body.copy().put("id", rid).put("name", (String) null), 60_000).onFailure(e -> {
                        if (follow != null) {
                            nodeFollows.remove(follow, node);
                        }
                    });
                });
    }

    private Future<JsonObject> logsOf(ProcessSupervisor.Logs l, int tail, long after, String follow, String session) {
        // Encoding up to 100,000 lines is too slow for an event loop: do it on a worker.
        return vertx.executeBlocking(() -> {
            LogRing.Follower f = follow == null ? null : follower(l.id(), follow);
            if (f != null) {
                unfollow(follow, false);
                follows.put(follow, new Follow(l.ring(), f));
            }
            List<LogLine> lines = l.ring().snapshot(tail, after, f);
            if (f != null && sessionGone(session)) {
                // Its sessionClosed may have run already, finding nothing to drop.
                l.ring().unfollow(f);
                follows.remove(follow, new Follow(l.ring(), f));
            }
            JsonArray arr = new JsonArray(new ArrayList<>(lines.size()));
            for (LogLine line : lines) {
                arr.add(line.toJson());
            }
            return new JsonObject().put("id", l.id()).put("name", l.name()).put("lines", arr)
                    .put("dropped", l.ring().dropped()).put("following", f != null);
        }, false);
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

    /**
     * Whether the session that asked for a follow has closed. Asked once the follow is in place:
     * the session is marked closed before its sessionClosed runs, so either that run finds the
     * follow and ends it, or this finds the session closed (or both, and ending twice is harmless).
     */
    private boolean sessionGone(String session) {
        return session != null && !sessionOpen.test(session);
    }

    private boolean unfollow(String address) {
        return unfollow(address, true);
    }

    /**
     * Stops the follow sending to {@code address}; with {@code end}, tells its reader the stream
     * ended. A follow replaced by another on the same address sends no end: the reader would
     * take it for the end of the new stream.
     */
    private boolean unfollow(String address, boolean end) {
        String node = nodeFollows.remove(address);
        if (node != null) {
            if (end) {
                vertx.eventBus().send(address, new JsonObject().put("end", true));
            }
            try {
                toNode(node, new JsonObject().put("op", "unfollow").put("follow", address), 10_000);
            } catch (OrchException e) {
                // The node is gone: nothing to stop there.
            }
            return true;
        }
        Follow f = follows.remove(address);
        if (f == null) {
            return false;
        }
        f.ring().unfollow(f.follower());
        if (end) {
            vertx.eventBus().send(address, new JsonObject().put("end", true));
        }
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

    /**
     * The {@code after} of a logs request as a sequence number: one past any long (2^70) is past
     * every line, and one below zero before every line, where narrowing would wrap either.
     */
    private static long after(Number n) {
        double d = n.doubleValue();
        return d >= 0x1p63 ? Long.MAX_VALUE : d < 0 ? 0 : n.longValue();
    }

    /**
     * The {@code grace} of a stop, or null for the server's default; 400 if negative or over a
     * year, the CLI's bound: the deadline is counted in nanoseconds, which a grace of 300 years
     * would overflow into the past, killing at once.
     */
    private static Duration grace(JsonObject body) {
        Number g = number(body, "grace", null);
        if (g == null) {
            return null;
        }
        if (g.doubleValue() < 0) {
            throw OrchException.badRequest("grace must not be negative");
        }
        if (!(g.doubleValue() <= MAX_GRACE_SECONDS)) {
            throw OrchException.badRequest("grace must be at most " + MAX_GRACE_SECONDS + " seconds (a year)");
        }
        return Duration.ofMillis(Math.round(g.doubleValue() * 1000));
    }

    private static boolean flag(JsonObject body, String key) {
        Object v = body.getValue(key);
        if (v != null && !(v instanceof Boolean)) {
            throw OrchException.badRequest(key + " must be true or false");
        }
        return Boolean.TRUE.equals(v);
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
        if (t instanceof io.vertx.core.eventbus.ReplyException) {
            io.vertx.core.eventbus.ReplyException re = (io.vertx.core.eventbus.ReplyException) t;
            if (re.failureCode() > 0) {
                return OrchException.fromWire(re.failureCode(), re.getMessage());
            }
        }
        if (t instanceof ClassCastException) {
            // A request field of the wrong JSON type that no check above caught: the sender's error.
            return OrchException.badRequest("a field of the request has the wrong type");
        }
        return OrchException.raised(t.getClass().getSimpleName(), String.valueOf(t.getMessage()));
    }
}
