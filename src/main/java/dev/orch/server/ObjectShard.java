package dev.orch.server;

import dev.orch.objects.AbstractInvocation;
import dev.orch.objects.ObjectContext;
import dev.orch.objects.SharedObject;
import dev.orch.objects.SharedType;
import dev.orch.protocol.Addresses;
import dev.orch.protocol.ErrorCode;
import dev.orch.protocol.Frames;
import dev.orch.protocol.OrchException;
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
    private final Map<String, Hosted> objects = new HashMap<>();

    private volatile Thread thread;

    ObjectShard(Sessions sessions) {
        this.sessions = sessions;
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
            return vertx.setTimer(Math.max(1, delayMillis), t -> action.run());
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
            try {
                h.object = type.create(h, args, kwargs);
            } catch (OrchException e) {
                done.fail(e);
                return;
            } catch (RuntimeException e) {
                done.fail(OrchException.raised("TypeError", String.valueOf(e.getMessage())));
                return;
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
            h.object.undelivered(body.getString("method", ""), body.getValue("result"));
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

    private static void invoke(Hosted h, JsonObject body, String session, String callId, Answer answer) {
        if (Frames.isCancel(body)) {
            cancel(h, body.getValue(Frames.CANCEL), session, answer);
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
        Call call = new Call(answer, m, (JsonArray) args, (JsonObject) kwargs, session, callId);
        try {
            h.object.invoke(call);
        } catch (OrchException e) {
            call.fail(e);
        } catch (RuntimeException e) {
            call.fail(OrchException.raised("InternalError", String.valueOf(e)));
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
    private static final class Call extends AbstractInvocation {
        private final Answer answer;

        Call(Answer answer, String method, JsonArray args, JsonObject kwargs, String session, String callId) {
            super(method, args, kwargs, session, callId);
            this.answer = answer;
        }

        @Override
        protected void deliver(Object result) {
            // Builtins hand out copies of their state (Py.out), so the result is the caller's alone.
            answer.result(new JsonObject().put("result", result));
        }

        @Override
        protected void deliverFailure(OrchException error) {
            answer.failure(error);
        }
    }
}
