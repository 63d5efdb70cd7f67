package dev.orch.server;

import dev.orch.objects.AbstractInvocation;
import dev.orch.objects.ObjectContext;
import dev.orch.objects.ObjectNames;
import dev.orch.objects.SharedObject;
import dev.orch.objects.SharedType;
import dev.orch.protocol.Addresses;
import dev.orch.protocol.ErrorCode;
import dev.orch.protocol.Frames;
import dev.orch.protocol.OrchException;
import dev.orch.protocol.References;
import io.vertx.core.AbstractVerticle;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.eventbus.Message;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;

/**
 * One event loop's share of the server-side objects. Each object lives on exactly one shard, so
 * its methods run one at a time on one thread without locks, while objects on different shards
 * run in parallel.
 */
final class ObjectShard extends AbstractVerticle {
    private final Sessions sessions;
    private final Referents referents;
    private final Map<String, Hosted> objects = new HashMap<>();

    private volatile Thread thread;

    ObjectShard(Sessions sessions, Referents referents) {
        this.sessions = sessions;
        this.referents = referents;
    }

    @Override
    public void start() {
        thread = Thread.currentThread();
    }

    /** Runs {@code task} on this shard's event loop. */
    void runOnLoop(Runnable task) {
        context.runOnContext(v -> task.run());
    }

    /** This shard's context, on its event loop. */
    io.vertx.core.Context loopContext() {
        return context;
    }

    /** The event-loop thread this shard's objects run on. */
    Thread thread() {
        return thread;
    }

    private final class Hosted implements ObjectContext {
        final String id;
        final String typeid;
        final Set<String> exposed;
        SharedObject object;
        MessageConsumer<JsonObject> consumer;
        final List<Consumer<OrchException>> stopping = new ArrayList<>(2);
        /**
         * The holds this object's state has on other objects, by id and how many; null until it
         * is sent a reference, and objects that never are pay nothing (see {@link #recount}).
         */
        Map<String, Integer> held;

        Hosted(String id, SharedType type) {
            this.id = id;
            this.typeid = type.typeid();
            this.exposed = new HashSet<>(type.exposed());
        }

        @Override
        public String id() {
            return id;
        }

        @Override
        public long setTimer(long delayMillis, Runnable action) {
            return vertx.setTimer(Math.max(1, delayMillis), t -> {
                action.run();
                recount(this); // a parked put that timed out let go of its item
            });
        }

        @Override
        public boolean cancelTimer(long timerId) {
            return vertx.cancelTimer(timerId);
        }

        @Override
        public boolean isSessionAlive(String session) {
            return sessions.isAlive(session);
        }

        @Override
        public void whenStopping(Consumer<OrchException> failParked) {
            stopping.add(failParked);
        }
    }

    /** Builds an object and starts serving {@code orch.obj.ID}; fails with the constructor's error. */
    Future<Void> create(String id, SharedType type, JsonArray args, JsonObject kwargs) {
        Promise<Void> done = Promise.promise();
        context.runOnContext(v -> {
            Hosted h = new Hosted(id, type);
            List<String> refs;
            try {
                refs = holdArguments(args, kwargs);
            } catch (OrchException e) {
                done.fail(e);
                return;
            }
            try {
                h.object = type.create(h, args, kwargs);
                if (refs != null) {
                    h.held = new HashMap<>();
                    recount(h);
                }
            } catch (OrchException e) {
                done.fail(e);
                return;
            } catch (RuntimeException e) {
                done.fail(OrchException.raised("TypeError", String.valueOf(e.getMessage())));
                return;
            } finally {
                if (refs != null) {
                    referents.releaseAll(refs);
                }
            }
            objects.put(id, h);
            h.consumer = vertx.eventBus().consumer(Addresses.object(id), msg -> dispatch(h, msg));
            h.consumer.completionHandler(ar -> {
                if (ar.succeeded()) {
                    done.complete();
                } else {
                    done.fail(ar.cause());
                }
            });
        });
        return done.future();
    }

    void destroy(String id) {
        context.runOnContext(v -> {
            Hosted h = objects.remove(id);
            if (h != null) {
                h.consumer.unregister();
                h.object.dispose();
                if (h.held != null) {
                    h.held.forEach(referents::release);
                    h.held = null;
                }
            }
        });
    }

    /** The server is stopping: every parked call on this shard fails with 503 now, not at the close. */
    void stopping() {
        OrchException e = new OrchException(ErrorCode.SHUTTING_DOWN, "server is shutting down");
        context.runOnContext(v -> {
            for (Hosted h : objects.values()) {
                for (Consumer<OrchException> fail : h.stopping) {
                    fail.accept(e);
                }
            }
        });
    }

    void sessionClosed(String session) {
        context.runOnContext(v -> {
            for (Hosted h : objects.values()) {
                h.object.sessionClosed(session);
                recount(h);
            }
        });
    }

    /** Where the answer to a call goes: the event bus, or straight back to a connection on this loop. */
    interface Answer {
        /** The call's reply body, {@code {"result": …}}. */
        void result(JsonObject reply);

        void failure(OrchException error);
    }

    /**
     * Runs a call on object {@code id} at once, on the calling thread, if the object lives on this
     * shard and the caller is on this shard's event loop; false otherwise (the caller then goes
     * through the event bus). This saves a local caller the event bus's reply registration and
     * timer per call. {@code answer} may be called later, from this shard's thread.
     */
    boolean invokeHere(String id, JsonObject body, String session, String callId, Answer answer) {
        if (Thread.currentThread() != thread) {
            return false;
        }
        Hosted h = objects.get(id);
        if (h == null) {
            return false;
        }
        invoke(h, body, session, callId, answer);
        return true;
    }

    private void dispatch(Hosted h, Message<JsonObject> msg) {
        JsonObject body = msg.body();
        if (msg.headers().contains(BridgeConnection.UNDELIVERED_HEADER)) {
            // Only the front end sets this header (client headers are never forwarded).
            giveBack(h, body);
            return;
        }
        invoke(h, body, msg.headers().get(BridgeConnection.SESSION_HEADER), msg.headers().get(BridgeConnection.CALL_HEADER),
                new Answer() {
            @Override
            public void result(JsonObject reply) {
                msg.reply(reply, SharedJsonCodec.OPTIONS);
            }

            @Override
            public void failure(OrchException error) {
                ObjectShard.fail(msg, error);
            }
        });
    }

    /**
     * An answer whose caller had gone comes back (see {@link SharedObject#undelivered}) with the
     * holds it carried for its references: the object takes its result back before they go.
     */
    private void giveBack(Hosted h, JsonObject body) {
        Object result = body.getValue("result");
        JsonArray carried = body.getJsonArray(BridgeConnection.HELD_FIELD);
        if (carried != null) {
            // Stored again as the caller would send it back: references in their canonical form.
            JsonArray wrapped = new JsonArray().add(result);
            References.inArguments(wrapped, null);
            result = wrapped.getValue(0);
            if (h.held == null) {
                h.held = new HashMap<>();
            }
        }
        h.object.undelivered(body.getString("method", ""), result);
        recount(h);
        if (carried != null) {
            for (Object id : carried) {
                referents.release((String) id, 1);
            }
        }
    }

    /**
     * Takes a hold on every object the arguments refer to (canonicalizing them, see {@link
     * References#inArguments}), so that none goes while the call runs; null when they refer
     * to none. Fails with 404, holding nothing, when one is gone.
     */
    private List<String> holdArguments(JsonArray args, JsonObject kwargs) {
        List<String> refs = References.inArguments(args, kwargs);
        if (refs != null) {
            String gone = referents.acquireAll(refs);
            if (gone != null) {
                throw OrchException.notFound("no object '" + ObjectNames.quoted(gone) + "'");
            }
        }
        return refs;
    }

    /**
     * Brings an object's holds in line with the references its state now has: new ones are
     * taken before old ones go, so a reference moved within the state never drops to zero.
     * Objects never sent a reference skip this; the others pay a walk of their state per call.
     */
    private void recount(Hosted h) {
        Map<String, Integer> before = h.held;
        if (before == null) {
            return;
        }
        Map<String, Integer> now = new HashMap<>();
        h.object.forEachStored(v -> References.collect(v, id -> now.merge(id, 1, Integer::sum)));
        now.forEach((id, n) -> {
            for (int more = n - before.getOrDefault(id, 0); more > 0; more--) {
                // A new reference came with the call's arguments or a given-back answer, both
                // holding it: this fails only for an object deleted by name meanwhile.
                referents.acquire(id);
            }
        });
        before.forEach((id, n) -> {
            int fewer = n - now.getOrDefault(id, 0);
            if (fewer > 0) {
                referents.release(id, fewer);
            }
        });
        // An object that holds none any more goes back to paying nothing.
        h.held = now.isEmpty() ? null : now;
    }

    private void invoke(Hosted h, JsonObject body, String session, String callId, Answer answer) {
        if (Frames.isCancel(body)) {
            cancel(h, body.getValue(Frames.CANCEL), session, answer);
            recount(h); // a withdrawn put lets go of its item
            return;
        }
        Object method = body.getValue("method");
        Object args = body.getValue("args");
        Object kwargs = body.getValue("kwargs");
        if (!(method instanceof String)) {
            answer.failure(OrchException.badRequest("call body needs a string 'method'"));
            return;
        }
        if ((args != null && !(args instanceof JsonArray)) || (kwargs != null && !(kwargs instanceof JsonObject))) {
            answer.failure(OrchException.badRequest("'args' must be an array and 'kwargs' an object"));
            return;
        }
        String m = (String) method;
        if (!h.exposed.contains(m)) {
            ErrorCode code = m.startsWith("_") ? ErrorCode.FORBIDDEN : ErrorCode.NOT_FOUND;
            answer.failure(new OrchException(code, "'" + h.typeid + "' object has no exposed method '" + m + "'"));
            return;
        }
        List<String> refs;
        try {
            refs = holdArguments((JsonArray) args, (JsonObject) kwargs);
        } catch (OrchException e) {
            answer.failure(e);
            return;
        }
        if (refs != null && h.held == null) {
            h.held = new HashMap<>();
        }
        Call call = new Call(answer, m, (JsonArray) args, (JsonObject) kwargs, session, callId, h);
        try {
            h.object.invoke(call);
        } catch (OrchException e) {
            call.fail(e);
        } catch (RuntimeException e) {
            call.fail(OrchException.raised("InternalError", String.valueOf(e)));
        } finally {
            if (refs != null || h.object.storedChange(m) == SharedObject.StoredChange.ANY) {
                recount(h);
            }
            if (refs != null) {
                referents.releaseAll(refs);
            }
        }
    }

    /** {@code {"cancel": CALL}}: withdraws the session's parked call CALL; answers whether it was parked. */
    private static void cancel(Hosted h, Object callId, String session, Answer answer) {
        if (!(callId instanceof String)) {
            answer.failure(OrchException.badRequest("'cancel' must be the reply address of a call in flight"));
            return;
        }
        boolean withdrawn;
        try {
            withdrawn = h.object.cancel(session, (String) callId);
        } catch (RuntimeException e) {
            answer.failure(OrchException.raised("InternalError", String.valueOf(e)));
            return;
        }
        answer.result(new JsonObject().put("result", withdrawn));
    }

    private static void fail(Message<?> msg, OrchException e) {
        msg.fail(e.failureCode(), e.wireMessage());
    }

    /** A call on one of this shard's objects, answered through its {@link Answer}. */
    private final class Call extends AbstractInvocation {
        private final Answer answer;
        private final Hosted target;

        Call(Answer answer, String method, JsonArray args, JsonObject kwargs, String session, String callId, Hosted target) {
            super(method, args, kwargs, session, callId);
            this.answer = answer;
            this.target = target;
        }

        @Override
        protected void deliver(Object result) {
            // Builtins hand out copies of their state (Py.out), so the result is the caller's alone.
            if (target.held != null && (result instanceof JsonObject || result instanceof JsonArray)) {
                List<String> handed = new ArrayList<>(0);
                Object expanded = References.expanded(result, id -> {
                    JsonObject d = referents.handOut(id);
                    if (d == null) {
                        return References.canonical(id);
                    }
                    handed.add(id);
                    return d;
                });
                if (!handed.isEmpty()) {
                    answer.result(new HeldAnswer(expanded, handed));
                    return;
                }
                result = expanded;
            }
            answer.result(new JsonObject().put("result", result));
        }

        @Override
        protected void deliverFailure(OrchException error) {
            answer.failure(error);
        }
    }
}
