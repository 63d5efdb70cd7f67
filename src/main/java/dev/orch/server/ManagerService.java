package dev.orch.server;

import dev.orch.objects.ObjectNames;
import dev.orch.objects.SharedType;
import dev.orch.objects.TypeRegistry;
import dev.orch.process.ProcessSpec;
import dev.orch.protocol.Addresses;
import dev.orch.protocol.DirectOffer;
import dev.orch.protocol.ErrorCode;
import dev.orch.protocol.NoRecipient;
import dev.orch.protocol.OrchException;
import io.vertx.core.AbstractVerticle;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.Message;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;
import org.jboss.logging.Logger;

/**
 * The {@code orch.manager} service: the table of objects and names, hosted types, reference
 * counts per session. All of its state lives on this verticle's single context.
 */
final class ManagerService extends AbstractVerticle {
    private static final Logger LOG = Logger.getLogger(ManagerService.class);
    /** Internal: a session disconnected (sent by its connection; clients may not send here). */
    static final String SESSION_CLOSED = "orch.internal.session-closed";
    /**
     * Internal: an answer carrying references was written to a session, which now holds one
     * reference per hold the answer took: {@code {"session": S, "ids": [ID, …]}}.
     */
    static final String ADOPT = "orch.internal.adopt";
    static final String SERVER_HOST = "server";

    private final TypeRegistry builtins;
    private final List<ObjectShard> shards;
    private final Sessions sessions;
    private final Referents referents;
    private final Runnable shutdownRequest;
    private final long hostTimeoutMs;

    private final Map<String, Entry> objects = new LinkedHashMap<>();
    private final Map<String, String> names = new HashMap<>();
    private final Set<String> reservedNames = new HashSet<>();
    private final Map<String, HostedType> hostedTypes = new LinkedHashMap<>();
    private final Map<String, Set<String>> refsBySession = new HashMap<>();
    private final String idPrefix = Integer.toString(ThreadLocalRandom.current().nextInt(36 * 36 * 36, 36 * 36 * 36 * 36), 36);
    private long nextId = 1;
    private int nextShard;

    private static final class HostedType {
        final String session;
        final JsonArray exposed;
        /** Where the worker takes calls itself, or null. */
        final DirectOffer direct;

        HostedType(String session, JsonArray exposed, DirectOffer direct) {
            this.session = session;
            this.exposed = exposed;
            this.direct = direct;
        }
    }

    private static final class Entry {
        final String id;
        final String typeid;
        final String name;
        final JsonArray exposed;
        final ObjectShard shard;
        final String hostSession;
        final DirectOffer direct;
        final Map<String, Integer> refs = new HashMap<>();
        MessageConsumer<Object> tombstone;

        Entry(String id, String typeid, String name, JsonArray exposed, ObjectShard shard, String hostSession,
                DirectOffer direct) {
            this.id = id;
            this.typeid = typeid;
            this.name = name;
            this.exposed = exposed;
            this.shard = shard;
            this.hostSession = hostSession;
            this.direct = direct;
        }

        JsonObject describe() {
            JsonObject d = new JsonObject().put("id", id).put("typeid", typeid).put("name", name)
                    .put("address", Addresses.object(id)).put("exposed", exposed);
            if (hostSession != null) {
                d.put("host", hostSession);
                // A dead host's address may be taken by another process: only the live one is offered.
                if (direct != null && tombstone == null) {
                    direct.putInto(d);
                }
            }
            return d;
        }

    }

    ManagerService(TypeRegistry builtins, List<ObjectShard> shards, Sessions sessions, Referents referents,
            Runnable shutdownRequest, long hostTimeoutMs) {
        this.hostTimeoutMs = hostTimeoutMs;
        this.builtins = builtins;
        this.shards = shards;
        this.sessions = sessions;
        this.referents = referents;
        this.shutdownRequest = shutdownRequest;
    }

    @Override
    public void start(Promise<Void> started) {
        // Compared by thread: a message reaches the manager on a duplicate of its context.
        Thread own = Thread.currentThread();
        referents.onUnreferenced(id -> {
            if (Thread.currentThread() == own) {
                // A release's object is gone before its answer, as a client reading it expects.
                unreferenced(id);
            } else {
                context.runOnContext(v -> unreferenced(id));
            }
        });
        vertx.eventBus().<String>consumer(SESSION_CLOSED, m -> sessionClosed(m.body()));
        vertx.eventBus().<JsonObject>consumer(ADOPT, m -> adopt(m.body().getString("session"), m.body().getJsonArray("ids")));
        vertx.eventBus().<JsonObject>consumer(Addresses.MANAGER, this::onRequest)
                .completionHandler(started);
    }

    private void onRequest(Message<JsonObject> msg) {
        String session = msg.headers().get(BridgeConnection.SESSION_HEADER);
        JsonObject body = msg.body();
        Object op = body.getValue("op");
        Future<Object> result;
        try {
            if (!(op instanceof String)) {
                throw OrchException.badRequest("manager request needs a string 'op'");
            }
            result = handle((String) op, body, session);
        } catch (OrchException e) {
            result = Future.failedFuture(e);
        }
        result.onComplete(ar -> {
            if (ar.succeeded()) {
                SharedJsonCodec.reply(msg, ar.result());
            } else {
                OrchException e = ar.cause() instanceof OrchException
                        ? (OrchException) ar.cause()
                        : BridgeConnection.toOrchException(Addresses.MANAGER, ar.cause(), sessions);
                msg.fail(e.failureCode(), e.wireMessage());
            }
        });
    }

    private Future<Object> handle(String op, JsonObject body, String session) {
        switch (op) {
            case "create":
                return create(body, session).map(e -> e.describe());
            case "lookup":
                return Future.succeededFuture(lookup(body, session).describe());
            case "release":
                if (body.containsKey("ids")) {
                    return Future.succeededFuture(new JsonObject().put("released", releaseAll(body.getValue("ids"), session)));
                }
                release(requireString(body, "id"), session);
                return Future.succeededFuture(new JsonObject().put("released", true));
            case "delete":
                delete(requireString(body, "name"));
                return Future.succeededFuture(new JsonObject().put("deleted", true));
            case "types":
                return Future.succeededFuture(types());
            case "objects":
                return Future.succeededFuture(listObjects());
            case "status":
                // For probes: a few bytes however many objects and types there are.
                return Future.succeededFuture(new JsonObject().put("objects", objects.size())
                        .put("types", builtins.all().size() + hostedTypes.size()).put("sessions", sessions.count()));
            case "host":
                return Future.succeededFuture(host(body, session));
            case "shutdown":
                // Answer first; the server stops right after the reply is on its way.
                vertx.setTimer(50, t -> shutdownRequest.run());
                return Future.succeededFuture(new JsonObject().put("shutdown", true));
            default:
                throw OrchException.badRequest("unknown manager op '" + op + "'");
        }
    }

    // ---- create ----

    /** Creates an object for {@code session} (null for objects the server creates at start). */
    Future<Entry> create(JsonObject body, String session) {
        String typeid = requireString(body, "typeid");
        JsonArray args = optionalArray(body, "args");
        JsonObject kwargs = optionalObject(body, "kwargs");
        Object nameValue = body.getValue("name");
        if (nameValue != null && !(nameValue instanceof String && !((String) nameValue).isEmpty())) {
            throw OrchException.badRequest("'name' must be a non-empty string");
        }
        String name = (String) nameValue;
        if (name != null && !ObjectNames.isValid(name)) {
            throw OrchException.badRequest("invalid object name '" + ProcessSpec.shown(name) + "' (" + ObjectNames.RULE + ")");
        }
        if (name != null && (names.containsKey(name) || reservedNames.contains(name))) {
            throw new OrchException(ErrorCode.NAME_TAKEN, "an object named '" + name + "' exists");
        }
        String id = idPrefix + "-" + Long.toString(nextId++, 36);
        Future<Entry> made;
        SharedType builtin = builtins.get(typeid);
        if (builtin != null) {
            ObjectShard shard = shardFor(loopOf(session));
            made = onThisContext(shard.create(id, builtin, args, kwargs))
                    .map(v -> new Entry(id, typeid, name, new JsonArray(new ArrayList<>(builtin.exposed())), shard, null, null));
        } else {
            HostedType hosted = hostedTypes.get(typeid);
            if (hosted == null) {
                throw OrchException.notFound("unknown typeid '" + ObjectNames.quoted(typeid) + "'");
            }
            made = createHosted(id, typeid, hosted, args, kwargs)
                    .map(own -> new Entry(id, typeid, name, own != null ? own : hosted.exposed, null, hosted.session, hosted.direct));
        }
        if (name != null) {
            reservedNames.add(name);
        }
        return made.map(e -> {
            reservedNames.remove(name);
            objects.put(id, e);
            if (name != null) {
                names.put(name, id);
            } else if (session != null && !sessions.isAlive(session)) {
                // The creator left while the object was being built: its sessionClosed (run,
                // or still queued) finds no reference to drop, and no other session could
                // ever release one. The reply goes nowhere.
                destroy(e);
                return e;
            }
            // One for the name, the creator's reference, or, made by the server itself, for good.
            referents.register(id, e.describe(), 1);
            if (name == null && session != null) {
                noteRef(e, session);
            }
            return e;
        }).onFailure(t -> reservedNames.remove(name));
    }

    /**
     * {@code f}, completing on this verticle's context: a shard completes on its own event loop,
     * and the tables here are touched from this context alone.
     */
    private <T> Future<T> onThisContext(Future<T> f) {
        Promise<T> p = Promise.promise();
        f.onComplete(ar -> context.runOnContext(v -> p.handle(ar)));
        return p.future();
    }

    /**
     * A new object goes to the shard on its creator's event loop when there is one: calls from
     * that client then stay on one thread instead of hopping between two. Others are spread
     * round-robin.
     */
    private ObjectShard shardFor(Thread creatorLoop) {
        if (creatorLoop != null) {
            for (ObjectShard s : shards) {
                if (s.thread() == creatorLoop) {
                    return s;
                }
            }
        }
        return shards.get(nextShard++ % shards.size());
    }

    private Thread loopOf(String session) {
        return session == null ? null : sessions.loopOf(session);
    }

    /**
     * Asks the hosting worker to build the object; completes with the object's own exposed
     * methods when the worker's answer names them (PROTOCOL.md §7: a factory whose objects'
     * methods are known only once one exists), else null for the type's.
     */
    private Future<JsonArray> createHosted(String id, String typeid, HostedType hosted, JsonArray args, JsonObject kwargs) {
        sessions.allowHosted(hosted.session, id, methodSet(hosted.exposed));
        JsonObject req = new JsonObject().put("op", "create").put("id", id).put("typeid", typeid)
                .put("args", args).put("kwargs", kwargs);
        Promise<JsonArray> p = Promise.promise();
        vertx.eventBus().request(Addresses.host(hosted.session), req,
                new DeliveryOptions().setSendTimeout(hostTimeoutMs), ar -> {
                    if (ar.succeeded() && !sessions.isAlive(hosted.session)) {
                        // Built by a worker that left as it answered: its objects' tombstones are
                        // laid, or being laid, without this one, and nothing could call it.
                        sessions.revokeHosted(hosted.session, id);
                        p.fail(hostGone(typeid));
                        return;
                    }
                    if (ar.succeeded()) {
                        Object body = ar.result().body();
                        Object own = body instanceof JsonObject ? ((JsonObject) body).getValue("exposed") : null;
                        if (!(body instanceof JsonObject) || ((JsonObject) body).containsKey("error")) {
                            // "x", or an error that is no error object: the worker did not say it built it.
                            p.fail(badCreateAnswer(hosted.session, id,
                                    "the worker's answer to create must be {\"id\":…} or {\"error\":{…}}"));
                        } else if (own == null) {
                            p.complete(null);
                        } else if (own instanceof JsonArray && ((JsonArray) own).stream().allMatch(m -> m instanceof String)) {
                            sessions.allowHosted(hosted.session, id, methodSet((JsonArray) own));
                            p.complete(((JsonArray) own).copy());
                        } else {
                            p.fail(badCreateAnswer(hosted.session, id,
                                    "the worker's answer to create has an 'exposed' that is not an array of method names"));
                        }
                        return;
                    }
                    sessions.revokeHosted(hosted.session, id);
                    OrchException e = BridgeConnection.toOrchException(Addresses.host(hosted.session), ar.cause(), sessions);
                    // Only nobody taking the request on orch.host.SESSION (none listening, or the
                    // worker's connection closed with it queued) means the worker is gone; a 404 the
                    // worker answered itself (its constructor's own failure) reaches the creator as it is.
                    if (NoRecipient.matches(ar.cause())) {
                        e = hostGone(typeid);
                    }
                    p.fail(e);
                });
        return p.future();
    }

    private static OrchException hostGone(String typeid) {
        return new OrchException(ErrorCode.HOST_GONE, "the worker hosting '" + ObjectNames.quoted(typeid) + "' is gone");
    }

    /** A create the worker answered badly: 502, and the worker lets go of what it may have built. */
    private OrchException badCreateAnswer(String host, String id, String why) {
        sessions.revokeHosted(host, id);
        vertx.eventBus().send(Addresses.host(host), new JsonObject().put("op", "release").put("id", id));
        return new OrchException(ErrorCode.BAD_REPLY, why);
    }

    private static Set<String> methodSet(JsonArray names) {
        Set<String> set = new HashSet<>();
        names.forEach(m -> set.add((String) m));
        return set;
    }

    // ---- lookup, release, delete ----

    private Entry lookup(JsonObject body, String session) {
        Object name = body.getValue("name");
        Object id = body.getValue("id");
        if (name instanceof String) {
            String found = names.get(name);
            if (found == null) {
                throw OrchException.notFound("no object named '" + ObjectNames.quoted((String) name) + "'");
            }
            return objects.get(found);
        }
        if (id instanceof String) {
            Entry e = objects.get(id);
            if (e == null) {
                throw OrchException.notFound("no object '" + ObjectNames.quoted((String) id) + "'");
            }
            if (e.name == null && session != null) {
                if (!referents.acquire(e.id)) {
                    // Nothing holds it any more: it is being destroyed.
                    throw OrchException.notFound("no object '" + ObjectNames.quoted((String) id) + "'");
                }
                noteRef(e, session);
            }
            return e;
        }
        throw OrchException.badRequest("lookup needs a string 'name' or 'id'");
    }

    private void release(String id, String session) {
        Entry e = objects.get(id);
        if (e == null) {
            throw OrchException.notFound("no object '" + ObjectNames.quoted(id) + "'");
        }
        if (e.name != null) {
            return;
        }
        Integer n = e.refs.get(session);
        if (n == null) {
            throw OrchException.notFound("this session holds no reference to '" + ObjectNames.quoted(id) + "'");
        }
        if (n > 1) {
            e.refs.put(session, n - 1);
        } else {
            e.refs.remove(session);
            Set<String> mine = refsBySession.get(session);
            if (mine != null) {
                mine.remove(id);
            }
        }
        referents.release(id, 1);
    }

    /**
     * Releases one reference per id, skipping ids this session holds none to: what a client
     * that lets go of many handles at once (a list of proxies collected) sends, in one request
     * instead of one each. Answers how many it released.
     */
    private int releaseAll(Object ids, String session) {
        if (!(ids instanceof JsonArray) || !((JsonArray) ids).stream().allMatch(i -> i instanceof String && !((String) i).isEmpty())) {
            throw OrchException.badRequest("'ids' must be an array of object ids");
        }
        int released = 0;
        for (Object id : (JsonArray) ids) {
            try {
                release((String) id, session);
                released++;
            } catch (OrchException notHeld) {
                // Gone already, or never this session's: the others still go.
            }
        }
        return released;
    }

    /**
     * A session was written an answer carrying references: each hold the answer took becomes
     * one of its references, released as any other (PROTOCOL.md §5). A session gone meanwhile,
     * or a named object (whose references are not counted), lets go of the hold instead.
     */
    private void adopt(String session, JsonArray ids) {
        boolean alive = sessions.isAlive(session);
        for (Object id : ids) {
            Entry e = objects.get(id);
            if (alive && e != null && e.name == null) {
                noteRef(e, session);
            } else {
                referents.release((String) id, 1);
            }
        }
    }

    /** Nothing keeps the object alive any more: no session, no name, no other object's state. */
    private void unreferenced(String id) {
        Entry e = objects.get(id);
        if (e != null && referents.count(id) == 0) {
            destroy(e);
        }
    }

    private void delete(String name) {
        String id = names.get(name);
        if (id == null) {
            throw OrchException.notFound("no object named '" + ObjectNames.quoted(name) + "'");
        }
        destroy(objects.get(id));
    }

    /** Books a reference of {@code session} to {@code e}, counted in {@link #referents} already. */
    private void noteRef(Entry e, String session) {
        e.refs.merge(session, 1, Integer::sum);
        refsBySession.computeIfAbsent(session, s -> new HashSet<>()).add(e.id);
    }

    private void destroy(Entry e) {
        objects.remove(e.id);
        referents.forget(e.id);
        if (e.name != null) {
            names.remove(e.name);
        }
        for (String s : e.refs.keySet()) {
            Set<String> mine = refsBySession.get(s);
            if (mine != null) {
                mine.remove(e.id);
            }
        }
        if (e.shard != null) {
            e.shard.destroy(e.id);
        } else if (e.tombstone != null) {
            e.tombstone.unregister();
            sessions.orphanGone(e.hostSession, e.id);
            sessions.revokeHosted(e.hostSession, e.id);
        } else {
            // The route goes before the worker is told: a worker forgets the object at its release
            // and leaves calls that come after unanswered. Both run on the worker connection's
            // loop in this order, so the release follows every call it was handed; calls queued
            // for the route meanwhile are discarded (404), and later ones find no route (404).
            sessions.revokeHosted(e.hostSession, e.id);
            vertx.eventBus().send(Addresses.host(e.hostSession), new JsonObject().put("op", "release").put("id", e.id));
        }
    }

    // ---- listing and hosting ----

    private JsonObject types() {
        JsonArray list = new JsonArray();
        for (SharedType t : builtins.all()) {
            list.add(new JsonObject().put("typeid", t.typeid()).put("exposed", new JsonArray(new ArrayList<>(t.exposed())))
                    .put("host", SERVER_HOST));
        }
        hostedTypes.forEach((typeid, h) -> {
            JsonObject t = new JsonObject().put("typeid", typeid).put("exposed", h.exposed).put("host", h.session);
            if (h.direct != null) {
                h.direct.putInto(t);
            }
            list.add(t);
        });
        return new JsonObject().put("types", list);
    }

    private JsonObject listObjects() {
        JsonArray list = new JsonArray();
        for (Entry e : objects.values()) {
            list.add(new JsonObject().put("id", e.id).put("typeid", e.typeid).put("name", e.name)
                    .put("refs", e.name != null ? referents.count(e.id) - 1 : referents.count(e.id)).put("host", e.shard != null ? SERVER_HOST : e.hostSession));
        }
        return new JsonObject().put("objects", list);
    }

    private JsonObject host(JsonObject body, String session) {
        String typeid = requireString(body, "typeid");
        JsonArray exposed = optionalArray(body, "exposed");
        for (Object m : exposed) {
            if (!(m instanceof String)) {
                throw OrchException.badRequest("'exposed' must be an array of method names");
            }
        }
        DirectOffer direct = DirectOffer.fromRequest(body);
        if (builtins.get(typeid) != null) {
            throw new OrchException(ErrorCode.NAME_TAKEN, "'" + typeid + "' is a built-in type");
        }
        HostedType current = hostedTypes.get(typeid);
        if (current != null && !current.session.equals(session) && sessions.isAlive(current.session)) {
            throw new OrchException(ErrorCode.NAME_TAKEN, "'" + typeid + "' is hosted by session " + current.session);
        }
        hostedTypes.put(typeid, new HostedType(session, exposed.copy(), direct));
        LOG.debugf("session %s hosts %s", session, typeid);
        return new JsonObject().put("typeid", typeid);
    }

    // ---- sessions ----

    private void sessionClosed(String session) {
        Set<String> held = refsBySession.remove(session);
        if (held != null) {
            for (String id : held) {
                Entry e = objects.get(id);
                Integer n = e == null ? null : e.refs.remove(session);
                if (n != null) {
                    referents.release(id, n);
                }
            }
        }
        hostedTypes.values().removeIf(h -> h.session.equals(session));
        OrchException gone = new OrchException(ErrorCode.HOST_GONE, "the worker hosting this object disconnected");
        Set<String> orphans = new HashSet<>();
        for (Entry e : objects.values()) {
            if (session.equals(e.hostSession) && e.tombstone == null) {
                // Calls to an object whose host vanished answer 410 until it is released or deleted.
                e.tombstone = vertx.eventBus().consumer(Addresses.object(e.id),
                        m -> m.fail(gone.code().code(), gone.wireMessage()));
                orphans.add(e.id);
            }
        }
        sessions.orphansRemaining(session, orphans);
        for (ObjectShard shard : shards) {
            shard.sessionClosed(session);
        }
    }

    // ---- argument helpers ----

    private static String requireString(JsonObject body, String field) {
        Object v = body.getValue(field);
        if (!(v instanceof String) || ((String) v).isEmpty()) {
            throw OrchException.badRequest("'" + field + "' must be a non-empty string");
        }
        return (String) v;
    }

    private static JsonArray optionalArray(JsonObject body, String field) {
        Object v = body.getValue(field);
        if (v == null) {
            return new JsonArray();
        }
        if (!(v instanceof JsonArray)) {
            throw OrchException.badRequest("'" + field + "' must be an array");
        }
        return (JsonArray) v;
    }

    private static JsonObject optionalObject(JsonObject body, String field) {
        Object v = body.getValue(field);
        if (v == null) {
            return new JsonObject();
        }
        if (!(v instanceof JsonObject)) {
            throw OrchException.badRequest("'" + field + "' must be an object");
        }
        return (JsonObject) v;
    }
}
