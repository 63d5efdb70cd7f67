package dev.orch.process;

import dev.orch.protocol.Addresses;
import dev.orch.protocol.ErrorCode;
import dev.orch.protocol.NoRecipient;
import dev.orch.protocol.OrchException;
import dev.orch.protocol.Timestamps;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.eventbus.ReplyFailure;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The server's view of what runs elsewhere: workers attached with {@code orch connect -- CMD}
 * and nodes attached with {@code orch connect --name NODE}. Both heartbeat; after three missed
 * heartbeats, or when their connection drops without a {@code detach}, they (and a node's
 * processes) become {@code lost}. Specified in PROTOCOL.md §11. Thread-safe (synchronized):
 * called from the endpoint's handlers and the heartbeat timer.
 */
public final class Fleet {
    /** Kinds of attached entries. */
    static final String WORKER = "worker";
    static final String NODE = "node";
    /** A node's id in ps rows and events: {@code node:NAME}. */
    static final String NODE_PREFIX = "node:";

    /** An attached worker: an external command whose output and exit are reported to us. */
    static final class Worker {
        final String id;
        String name;
        String session;
        String host;
        long pid;
        JsonArray command = new JsonArray();
        JsonObject labels = new JsonObject();
        ProcessState state = ProcessState.RUNNING;
        Integer exitCode;
        Instant startedAt;
        long lastBeat;
        int reattaches;
        JsonObject metrics = new JsonObject();
        final LogRing ring = new LogRing(LogRing.DEFAULT_CAPACITY);

        Worker(String id) {
            this.id = id;
        }

        JsonObject json() {
            return new JsonObject().put("id", id).put("name", name).put("kind", WORKER).put("node", host)
                    .put("pid", pid > 0 ? pid : null).put("state", state.wire()).put("restarts", reattaches)
                    .put("exitCode", exitCode).put("startedAt", Timestamps.millis(startedAt))
                    .put("command", command.copy()).put("labels", labels.copy());
        }
    }

    /** An attached node agent, running processes on our behalf. */
    static final class Node {
        final String name;
        String session;
        boolean lost;
        long pid;
        String host;
        Instant attachedAt;
        long lastBeat;
        JsonObject metrics = new JsonObject();
        /** The agent's processes as last reported (by remote id), for names and for marking them lost. */
        final Map<String, JsonObject> processes = new LinkedHashMap<>();
        /** The states of the processes marked lost with the node, to restore if it comes back. */
        final Map<String, String> beforeLost = new HashMap<>();

        Node(String name) {
            this.name = name;
        }

        JsonObject json() {
            return new JsonObject().put("id", NODE_PREFIX + name).put("name", name).put("kind", NODE).put("node", name)
                    .put("pid", pid > 0 ? pid : null).put("state", lost ? "lost" : "running").put("restarts", 0)
                    .put("exitCode", null).put("startedAt", Timestamps.millis(attachedAt))
                    .put("command", new JsonArray().add("orch").add("connect").add("--name").add(name))
                    // A lost agent's last figures describe nothing that is known to run now.
                    .put("cpuPercent", lost ? null : metrics.getValue("cpuPercent"))
                    .put("rssBytes", lost ? null : metrics.getValue("rssBytes"))
                    .put("children", new JsonArray());
        }
    }

    private final Vertx vertx;
    private final long heartbeatMs;
    private final Map<String, Worker> workers = new LinkedHashMap<>();
    private final Map<String, Node> nodes = new LinkedHashMap<>();
    /**
     * As the supervisor's ended processes: at most {@code historyLimit} ended (or lost) workers
     * and lost nodes are kept, each kind on its own, and the one that ended longest ago goes first.
     */
    private final int historyLimit;
    private final ArrayDeque<Worker> endedWorkers = new ArrayDeque<>();
    private final ArrayDeque<Node> lostNodes = new ArrayDeque<>();
    private int nextWorker = 1;
    private long timer = -1;

    public Fleet(Vertx vertx, long heartbeatMs) {
        this(vertx, heartbeatMs, ProcessSupervisor.Config.defaults().historyLimit());
    }

    public Fleet(Vertx vertx, long heartbeatMs, int historyLimit) {
        this.vertx = vertx;
        this.heartbeatMs = heartbeatMs;
        this.historyLimit = historyLimit;
    }

    public long heartbeatMs() {
        return heartbeatMs;
    }

    /** Starts checking heartbeats. */
    public synchronized void start() {
        if (timer < 0) {
            timer = vertx.setPeriodic(Math.max(50, heartbeatMs / 2), t -> check());
        }
    }

    public synchronized void stop() {
        if (timer >= 0) {
            vertx.cancelTimer(timer);
            timer = -1;
        }
    }

    // ---- workers ----

    /** Attaches (or re-attaches, by name) a worker; returns {@code {"id","name","heartbeatMs"}}. */
    synchronized JsonObject attachWorker(String session, JsonObject body, java.util.function.Predicate<String> nameUsedLocally) {
        String name = body.getString("name");
        String previousId = body.getString("id");
        Worker w = null;
        if (name == null && previousId != null) {
            // An unnamed worker re-attaching by the id it was given. A separate field, not the
            // name: a name like w1 would otherwise take over another worker's entry.
            Worker o = workers.get(previousId);
            if (o != null && (o.state == ProcessState.LOST || o.session.equals(session))) {
                w = o;
            }
        } else if (name != null) {
            if (!ProcessSpec.isValidName(name)) {
                throw OrchException.badRequest("invalid worker name '" + ProcessSpec.shown(name) + "' (" + ProcessSpec.NAME_RULE + ")");
            }
            for (Worker o : workers.values()) {
                if (name.equals(o.name)) {
                    if (o.state == ProcessState.RUNNING && !o.session.equals(session)) {
                        throw new OrchException(ErrorCode.NAME_TAKEN, "a worker named '" + name + "' is attached");
                    }
                    w = o;
                }
            }
            if (w == null && nameUsedLocally.test(name)) {
                throw new OrchException(ErrorCode.NAME_TAKEN, "a process named '" + name + "' is running");
            }
        }
        // Every field read before anything changes: a refused attach must leave no entry behind.
        long pid = pid(body);
        String host = body.getString("host", "local");
        JsonArray command = body.getJsonArray("command", new JsonArray());
        JsonObject labels = body.getJsonObject("labels", new JsonObject());
        Instant startedAt = startedAt(body, Instant.now());
        boolean again = w != null;
        if (w == null) {
            w = new Worker("w" + nextWorker++);
            workers.put(w.id, w);
        } else {
            w.reattaches++;
            endedWorkers.remove(w);
        }
        if (name != null || w.name == null) {
            w.name = name != null ? name : w.id;
        }
        w.session = session;
        w.pid = pid;
        w.host = host;
        w.command = command;
        w.labels = labels;
        w.state = ProcessState.RUNNING;
        w.exitCode = null;
        w.startedAt = startedAt;
        w.lastBeat = System.nanoTime();
        publish(w.json().put("event", "worker-attached").put("reattached", again));
        return new JsonObject().put("id", w.id).put("name", w.name).put("heartbeatMs", heartbeatMs).put("reattached", again);
    }

    /** A worker's {@code startedAt}, or {@code otherwise} when the body has none. */
    private static Instant startedAt(JsonObject body, Instant otherwise) {
        Object v = body.getValue("startedAt");
        if (v == null) {
            return otherwise;
        }
        try {
            return Instant.parse((String) v);
        } catch (ClassCastException | java.time.format.DateTimeParseException e) {
            throw OrchException.badRequest("'startedAt' must be an ISO-8601 instant such as 2025-05-01T12:00:00Z");
        }
    }

    synchronized Worker worker(String ref) {
        Worker w = workers.get(ref);
        if (w != null) {
            return w;
        }
        Worker latest = null;
        for (Worker o : workers.values()) {
            if (o.name.equals(ref)) {
                if (o.state == ProcessState.RUNNING) {
                    return o;
                }
                latest = o;
            }
        }
        return latest;
    }

    /** An attach's or heartbeat's {@code pid}: -1 when absent; 400 past a long, which would wrap. */
    private static long pid(JsonObject body) {
        Object p = body.getValue("pid");
        if (p == null) {
            return -1L;
        }
        // A parsed frame holds an Integer, a Long or, past a long, a BigInteger.
        if (!(p instanceof Integer || p instanceof Long)) {
            throw OrchException.badRequest("'pid' must be an integer, not " + p);
        }
        return ((Number) p).longValue();
    }

    private Worker own(String session, JsonObject body) {
        if (!(body.getValue("id") instanceof String)) {
            throw OrchException.badRequest("'id' must be the id the worker's attach was given");
        }
        Worker w = workers.get(body.getString("id"));
        if (w == null || !session.equals(w.session)) {
            throw OrchException.notFound("no worker '" + body.getString("id") + "' attached by this session");
        }
        return w;
    }

    synchronized void workerHeartbeat(String session, JsonObject body) {
        Worker w = own(session, body);
        w.lastBeat = System.nanoTime();
        if (body.getValue("pid") instanceof Number) {
            w.pid = pid(body);
        }
        w.startedAt = startedAt(body, w.startedAt);
        w.metrics = new JsonObject().put("cpuPercent", body.getValue("cpuPercent")).put("rssBytes", body.getValue("rssBytes"))
                .put("children", body.getJsonArray("children", new JsonArray()));
        if (w.state == ProcessState.LOST) {
            w.state = ProcessState.RUNNING;
            endedWorkers.remove(w);
            publish(w.json().put("event", "worker-attached").put("reattached", true));
        }
    }

    /** Output lines reported by a worker: {@code [{"stream","text"|"b64","eol"}]}. */
    void workerOutput(String session, JsonObject body) {
        Worker w;
        synchronized (this) {
            w = own(session, body);
            w.lastBeat = System.nanoTime();
        }
        JsonArray lines = body.getJsonArray("lines", new JsonArray());
        List<byte[]> out = new ArrayList<>();
        List<Boolean> outEol = new ArrayList<>();
        List<byte[]> err = new ArrayList<>();
        List<Boolean> errEol = new ArrayList<>();
        Boolean lastErr = null;
        for (Object o : lines) {
            if (!(o instanceof JsonObject)) {
                throw OrchException.badRequest("lines must be objects");
            }
            JsonObject l = (JsonObject) o;
            boolean isErr = "err".equals(l.getString("stream"));
            byte[] bytes = l.containsKey("b64") ? Base64.getDecoder().decode(l.getString("b64"))
                    : l.getString("text", "").getBytes(java.nio.charset.StandardCharsets.UTF_8);
            if (lastErr != null && lastErr != isErr) {
                flush(w.ring, lastErr, lastErr ? err : out, lastErr ? errEol : outEol);
            }
            (isErr ? err : out).add(bytes);
            (isErr ? errEol : outEol).add(l.getBoolean("eol", true));
            lastErr = isErr;
        }
        if (lastErr != null) {
            flush(w.ring, lastErr, lastErr ? err : out, lastErr ? errEol : outEol);
        }
    }

    private static void flush(LogRing ring, boolean err, List<byte[]> lines, List<Boolean> eols) {
        if (!lines.isEmpty()) {
            ring.append(err, new ArrayList<>(lines), new ArrayList<>(eols));
            lines.clear();
            eols.clear();
        }
    }

    synchronized JsonObject workerExit(String session, JsonObject body) {
        Worker w = own(session, body);
        Object c = body.getValue("exitCode");
        if (c != null && !((c instanceof Integer || c instanceof Long) && ((Number) c).longValue() == ((Number) c).intValue())) {
            // Narrowed, 2^32 would read as 0: a failed worker shown as exited.
            throw OrchException.badRequest("'exitCode' must be an integer (or null), not " + c);
        }
        w.exitCode = c == null ? null : ((Number) c).intValue();
        w.state = w.exitCode != null && w.exitCode == 0 ? ProcessState.EXITED
                : body.getBoolean("stopped", false) ? ProcessState.STOPPED : ProcessState.FAILED;
        publish(w.json().put("event", w.state == ProcessState.EXITED ? "exited" : w.state == ProcessState.STOPPED ? "stopped" : "failed"));
        JsonObject entry = w.json();
        ended(w);
        return entry;
    }

    synchronized Future<JsonObject> signalWorker(String ref, String signal) {
        Worker w = worker(ref);
        if (w == null) {
            throw OrchException.notFound("no process '" + ref + "'");
        }
        if (w.state != ProcessState.RUNNING) {
            return Future.succeededFuture(w.json());
        }
        return vertx.eventBus().request(Addresses.host(w.session), new JsonObject().put("op", "signal").put("signal", signal),
                new DeliveryOptions().setSendTimeout(10_000)).transform(ar -> {
                    if (ar.failed()) {
                        return Future.failedFuture(signalFailure(w, ar.cause()));
                    }
                    synchronized (this) {
                        return Future.succeededFuture(w.json());
                    }
                });
    }

    /** Why a signal did not reach worker {@code w}, as the other process errors say it. */
    private static OrchException signalFailure(Worker w, Throwable t) {
        if (NoRecipient.matches(t)) {
            // Its connection is gone (or going, the request queued): it is lost, or about to be.
            return new OrchException(ErrorCode.HOST_GONE, "worker " + w.id + " is not reachable");
        }
        if (t instanceof ReplyException) {
            ReplyException re = (ReplyException) t;
            if (re.failureType() == ReplyFailure.TIMEOUT) {
                return new OrchException(ErrorCode.TIMEOUT, "worker " + w.id + " did not answer the signal");
            }
            if (re.failureCode() > 0) {
                return OrchException.fromWire(re.failureCode(), re.getMessage());
            }
        }
        return t instanceof OrchException ? (OrchException) t
                : OrchException.raised("InternalError", String.valueOf(t.getMessage()));
    }

    /**
     * Stops a worker as the supervisor stops a process: TERM through its {@code orch connect}
     * (KILL at once when {@code graceMs} is 0), KILL if it has not reported its exit when the grace
     * is up. Completes with its entry once it has ended; 504 if even KILL is not reported within 10 s.
     */
    Future<JsonObject> stopWorker(String ref, long graceMs) {
        Worker w = worker(ref);
        if (w == null) {
            throw OrchException.notFound("no process '" + ref + "'");
        }
        long deadline = System.nanoTime() + graceMs * 1_000_000L;
        boolean kill = graceMs <= 0;
        return signalWorker(w.id, kill ? "KILL" : "TERM").compose(j -> awaitEnd(w, deadline, kill));
    }

    private Future<JsonObject> awaitEnd(Worker w, long deadline, boolean killed) {
        Promise<JsonObject> done = Promise.promise();
        vertx.setTimer(50, t -> {
            ProcessState state;
            synchronized (this) {
                state = w.state;
            }
            long now = System.nanoTime();
            if (state != ProcessState.RUNNING) {
                synchronized (this) {
                    done.complete(w.json());
                }
            } else if (!killed && now >= deadline) {
                signalWorker(w.id, "KILL").compose(j -> awaitEnd(w, deadline, true)).onComplete(done);
            } else if (killed && now > deadline + 10_000_000_000L) {
                done.fail(new OrchException(ErrorCode.TIMEOUT, "worker " + w.id + " did not report its exit after SIGKILL"));
            } else {
                awaitEnd(w, deadline, killed).onComplete(done);
            }
        });
        return done.future();
    }

    synchronized boolean rmWorker(String ref) {
        Worker w = worker(ref);
        if (w == null) {
            return false;
        }
        if (w.state == ProcessState.RUNNING) {
            throw new OrchException(ErrorCode.NAME_TAKEN, "Busy", "worker " + w.id + " is running; stop it first");
        }
        workers.remove(w.id);
        endedWorkers.remove(w);
        w.ring.close();
        return true;
    }

    /** Whether a live worker holds this name. */
    synchronized boolean workerNameLive(String name) {
        for (Worker w : workers.values()) {
            if (w.state == ProcessState.RUNNING && w.name.equals(name)) {
                return true;
            }
        }
        return false;
    }

    /** The workers' ps entries. */
    synchronized List<JsonObject> workerRows(boolean all) {
        List<JsonObject> rows = new ArrayList<>();
        for (Worker w : workers.values()) {
            if (all || w.state == ProcessState.RUNNING || w.state == ProcessState.LOST) {
                JsonObject j = w.json();
                boolean running = w.state == ProcessState.RUNNING;
                j.put("cpuPercent", running ? w.metrics.getValue("cpuPercent") : null)
                        .put("rssBytes", running ? w.metrics.getValue("rssBytes") : null)
                        .put("children", running ? w.metrics.getJsonArray("children", new JsonArray()).copy() : new JsonArray());
                rows.add(j);
            }
        }
        return rows;
    }

    // ---- nodes ----

    synchronized JsonObject attachNode(String session, JsonObject body) {
        String name = body.getString("name");
        if (!ProcessSpec.isValidNodeName(name)) {
            throw OrchException.badRequest("invalid node name '" + (name == null ? null : ProcessSpec.shown(name)) + "' ("
                    + ProcessSpec.NODE_NAME_RULE + ")");
        }
        Node n = nodes.get(name);
        if (n != null && !n.lost && !n.session.equals(session)) {
            throw new OrchException(ErrorCode.NAME_TAKEN, "a node named '" + name + "' is attached");
        }
        // Every field read before anything changes: a refused attach must leave no node behind.
        long pid = pid(body);
        String host = body.getString("host");
        Map<String, JsonObject> processes = new LinkedHashMap<>();
        for (Object o : body.getJsonArray("processes", new JsonArray())) {
            if (!(o instanceof JsonObject) || !(((JsonObject) o).getValue("id") instanceof String)) {
                throw OrchException.badRequest("each of a node's processes must be an object with a string id");
            }
            processes.put(((JsonObject) o).getString("id"), ((JsonObject) o).copy());
        }
        boolean again = n != null;
        if (n == null) {
            n = new Node(name);
            nodes.put(name, n);
        }
        lostNodes.remove(n);
        boolean sameAgent = pid == n.pid;
        Map<String, JsonObject> wereLost = new LinkedHashMap<>();
        if (n.lost) {
            n.processes.forEach((id, p) -> {
                if (ProcessState.LOST.wire().equals(p.getString("state"))) {
                    wereLost.put(id, p);
                }
            });
        }
        n.session = session;
        n.lost = false;
        n.pid = pid;
        n.host = host;
        n.attachedAt = Instant.now();
        n.lastBeat = System.nanoTime();
        n.processes.clear();
        n.beforeLost.clear();
        n.processes.putAll(processes);
        publish(n.json().put("event", "node-attached").put("reattached", again));
        // Each process marked lost had a lost event, so it gets a last word: found again (the
        // same agent attached again, reconnected), or gone (another agent: what the lost one ran
        // died with it, and the new one numbers its processes from p1, so the id may come back
        // for another process).
        for (Map.Entry<String, JsonObject> e : wereLost.entrySet()) {
            JsonObject now = sameAgent ? n.processes.get(e.getKey()) : null;
            publishNodeProcess(n, now != null ? now : e.getValue(), now != null ? "found" : "gone", null);
        }
        return new JsonObject().put("node", name).put("heartbeatMs", heartbeatMs);
    }

    /**
     * The node whose agent is {@code session}. A lost one comes back: its agent is talking, so it
     * was only held up (stopped, swapping, cut off for a while) with its connection still open,
     * and it would otherwise stay lost, its processes out of reach, until it attached again.
     */
    private Node ownNode(String session) {
        for (Node n : nodes.values()) {
            if (session.equals(n.session)) {
                if (n.lost) {
                    revive(n);
                }
                return n;
            }
        }
        throw OrchException.notFound("this session is not an attached node");
    }

    private void revive(Node n) {
        n.lost = false;
        lostNodes.remove(n);
        publish(n.json().put("event", "node-attached").put("reattached", true));
        n.beforeLost.forEach((id, state) -> {
            JsonObject p = n.processes.get(id);
            if (p != null && ProcessState.LOST.wire().equals(p.getString("state"))) {
                p.put("state", state);
                // Each had a lost event: an event stream must learn it is back too.
                publishNodeProcess(n, p, "found", null);
            }
        });
        n.beforeLost.clear();
    }

    synchronized void nodeHeartbeat(String session, JsonObject body) {
        Node n = ownNode(session);
        n.lastBeat = System.nanoTime();
        n.metrics = new JsonObject().put("cpuPercent", body.getValue("cpuPercent")).put("rssBytes", body.getValue("rssBytes"));
    }

    /** The name of the node whose agent is {@code session} (a lost one comes back), or null. */
    synchronized String nodeOf(String session) {
        for (Node n : nodes.values()) {
            if (session.equals(n.session)) {
                return ownNode(session).name;
            }
        }
        return null;
    }

    /** An event of a node's supervisor: re-published with a global id and the node's name. */
    synchronized void nodeEvent(String session, JsonObject body) {
        Node n = ownNode(session);
        n.lastBeat = System.nanoTime();
        JsonObject ev = body.getJsonObject("event", new JsonObject()).copy();
        String rid = ev.getString("id");
        if (rid == null) {
            return;
        }
        JsonObject known = n.processes.computeIfAbsent(rid, k -> new JsonObject().put("id", k));
        for (String f : new String[] {"name", "pid", "state", "exitCode", "restarts"}) {
            known.put(f, ev.getValue(f));
        }
        ev.put("id", rid + "@" + n.name).put("node", n.name);
        vertx.eventBus().publish(Addresses.EVENTS, ev);
    }

    /** The session of a live node, or a 404/503. */
    synchronized String nodeSession(String name) {
        Node n = nodes.get(name);
        if (n == null) {
            throw OrchException.notFound("no node named '" + name + "'");
        }
        if (n.lost) {
            throw new OrchException(ErrorCode.SHUTTING_DOWN, "Unavailable", "node '" + name + "' is lost");
        }
        return n.session;
    }

    /** Live node names. */
    synchronized List<String> liveNodes() {
        List<String> out = new ArrayList<>();
        nodes.values().forEach(n -> {
            if (!n.lost) {
                out.add(n.name);
            }
        });
        return out;
    }

    /**
     * What a live node last listed for its processes ({@code ps} rows, its own ids): kept whole,
     * so that once the node is lost its rows still say what each process ran (events carry no
     * command).
     */
    synchronized void noteNodeRows(String node, JsonArray rows) {
        Node n = nodes.get(node);
        if (n == null || n.lost) {
            return;
        }
        for (Object o : rows) {
            JsonObject p = (JsonObject) o;
            if (p.getValue("id") instanceof String && !"server".equals(p.getString("id"))) {
                n.processes.put(p.getString("id"), p.copy());
            }
        }
    }

    /** The command of a process just spawned on {@code node} as {@code rid}, until ps lists it. */
    synchronized void noteNodeCommand(String node, String rid, Object command) {
        Node n = nodes.get(node);
        if (n != null && !n.lost) {
            JsonObject known = n.processes.computeIfAbsent(rid, k -> new JsonObject().put("id", k));
            if (known.getValue("command") == null) {
                known.put("command", command);
            }
        }
    }

    /** Rows for lost nodes: the node itself and its last known processes, all {@code lost}. */
    synchronized List<JsonObject> lostNodeRows() {
        List<JsonObject> out = new ArrayList<>();
        for (Node n : nodes.values()) {
            if (n.lost) {
                out.add(n.json());
                for (JsonObject p : n.processes.values()) {
                    out.add(p.copy().put("id", p.getString("id") + "@" + n.name).put("node", n.name)
                            .put("cpuPercent", null).put("rssBytes", null).put("children", new JsonArray()));
                }
            }
        }
        return out;
    }

    synchronized JsonObject nodeRow(String name) {
        Node n = nodes.get(name);
        return n == null ? null : n.json();
    }

    /** The node holding a process with this name, as {@code [node, remoteId]}, or null. */
    synchronized String[] findByName(String ref) {
        for (Node n : nodes.values()) {
            String found = null;
            for (JsonObject p : n.processes.values()) {
                if (ref.equals(p.getString("name"))) {
                    found = p.getString("id");
                    if (isLive(p.getString("state"))) {
                        break;
                    }
                }
            }
            if (found != null) {
                return new String[] {n.name, found};
            }
        }
        return null;
    }

    /**
     * Forgets process {@code rid} of {@code node} if that node is lost (true); false if the node
     * is attached, when the node itself must remove it. 404 if there is no such node or process.
     */
    synchronized boolean forgetLostNodeProcess(String node, String rid) {
        Node n = nodes.get(node);
        if (n == null || !n.lost) {
            return false;
        }
        if (n.processes.remove(rid) == null) {
            throw OrchException.notFound("no process " + rid + "@" + node);
        }
        n.beforeLost.remove(rid);
        return true;
    }

    /** Forgets a lost node and what it last reported: 404 if unknown, 409 if it is attached. */
    synchronized void rmLostNode(String name) {
        Node n = nodes.get(name);
        if (n == null) {
            throw OrchException.notFound("no node named '" + name + "'");
        }
        if (!n.lost) {
            throw new OrchException(ErrorCode.NAME_TAKEN, "Busy", "node '" + name + "' is attached: stop its orch connect to"
                    + " detach it");
        }
        nodes.remove(name);
        lostNodes.remove(n);
    }

    synchronized void forgetNodeProcess(String node, String rid) {
        Node n = nodes.get(node);
        if (n != null) {
            n.processes.remove(rid);
        }
    }

    static boolean isLive(String state) {
        return "starting".equals(state) || "running".equals(state) || "backoff".equals(state);
    }

    // ---- sessions and heartbeats ----

    /** A session ended: its running worker or node is lost unless it detached first. */
    public synchronized void sessionClosed(String session) {
        // Here and below over copies: losing one may forget another that ended long ago.
        for (Worker w : new ArrayList<>(workers.values())) {
            if (session.equals(w.session) && w.state == ProcessState.RUNNING) {
                lose(w, "connection closed");
            }
        }
        for (Node n : new ArrayList<>(nodes.values())) {
            if (session.equals(n.session) && !n.lost) {
                lose(n, "connection closed");
            }
        }
    }

    /** A clean goodbye: the worker or node is forgotten (a worker keeps its entry if it ended). */
    synchronized void detach(String session) {
        for (Worker w : new ArrayList<>(workers.values())) {
            if (session.equals(w.session)) {
                boolean running = w.state == ProcessState.RUNNING;
                if (running) {
                    w.state = ProcessState.STOPPED;
                }
                w.session = "";
                publish(w.json().put("event", "worker-detached"));
                if (running) {
                    ended(w);
                }
            }
        }
        for (Node n : new ArrayList<>(nodes.values())) {
            if (session.equals(n.session)) {
                nodes.remove(n.name);
                lostNodes.remove(n);
                publish(n.json().put("state", "stopped").put("event", "node-detached"));
            }
        }
    }

    private synchronized void check() {
        long limit = 3 * heartbeatMs * 1_000_000L;
        long now = System.nanoTime();
        for (Worker w : new ArrayList<>(workers.values())) {
            if (w.state == ProcessState.RUNNING && now - w.lastBeat > limit) {
                lose(w, "missed heartbeats");
            }
        }
        for (Node n : new ArrayList<>(nodes.values())) {
            if (!n.lost && now - n.lastBeat > limit) {
                lose(n, "missed heartbeats");
            }
        }
    }

    private void lose(Worker w, String why) {
        w.state = ProcessState.LOST;
        publish(w.json().put("event", "lost").put("reason", why));
        ended(w);
    }

    /** Publishes {@code kind} for a process {@code p} of node {@code n}, as the node's own events read. */
    private void publishNodeProcess(Node n, JsonObject p, String kind, JsonObject extra) {
        JsonObject ev = p.copy().put("event", kind).put("time", Timestamps.millis(Instant.now()))
                .put("id", p.getString("id") + "@" + n.name).put("node", n.name);
        if (extra != null) {
            ev.mergeIn(extra);
        }
        vertx.eventBus().publish(Addresses.EVENTS, ev);
    }

    private void lose(Node n, String why) {
        n.lost = true;
        publish(n.json().put("event", "node-lost").put("reason", why));
        for (JsonObject p : n.processes.values()) {
            if (isLive(p.getString("state"))) {
                n.beforeLost.put(p.getString("id"), p.getString("state"));
                p.put("state", ProcessState.LOST.wire());
                publishNodeProcess(n, p, "lost", new JsonObject().put("reason", why));
            }
        }
        lostNodes.remove(n);
        lostNodes.addLast(n);
        while (lostNodes.size() > historyLimit) {
            Node old = lostNodes.removeFirst();
            nodes.remove(old.name, old);
        }
    }

    /** Files a worker as ended, last; forgets the one that ended first when there are too many. */
    private void ended(Worker w) {
        endedWorkers.remove(w);
        endedWorkers.addLast(w);
        while (endedWorkers.size() > historyLimit) {
            Worker old = endedWorkers.removeFirst();
            if (old.state != ProcessState.RUNNING && workers.remove(old.id, old)) {
                old.ring.close();
            }
        }
    }

    private void publish(JsonObject ev) {
        JsonObject out = new JsonObject().put("event", ev.getString("event")).put("time", Timestamps.millis(Instant.now()));
        out.mergeIn(ev);
        out.remove("children");
        vertx.eventBus().publish(Addresses.EVENTS, out);
    }
}
