package dev.orch.objects;

import dev.orch.protocol.OrchException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

/**
 * An {@link Invocation} that holds its call and enforces the single answer; subclasses say where
 * the answer goes.
 */
public abstract class AbstractInvocation implements Invocation {
    private final String method;
    private final JsonArray args;
    private final JsonObject kwargs;
    private final String session;
    private final String id;
    private boolean done;

    protected AbstractInvocation(String method, JsonArray args, JsonObject kwargs, String session) {
        this(method, args, kwargs, session, null);
    }

    protected AbstractInvocation(String method, JsonArray args, JsonObject kwargs, String session, String id) {
        this.id = id;
        this.method = method;
        this.args = args == null ? new JsonArray() : args;
        this.kwargs = kwargs == null ? new JsonObject() : kwargs;
        this.session = session;
    }

    @Override
    public final String method() {
        return method;
    }

    @Override
    public final JsonArray args() {
        return args;
    }

    @Override
    public final JsonObject kwargs() {
        return kwargs;
    }

    @Override
    public final String session() {
        return session;
    }

    @Override
    public final String id() {
        return id;
    }

    @Override
    public final void reply(Object result) {
        if (claim()) {
            deliver(result);
        }
    }

    @Override
    public final void fail(OrchException error) {
        if (claim()) {
            deliverFailure(error);
        }
    }

    @Override
    public final synchronized boolean isDone() {
        return done;
    }

    private synchronized boolean claim() {
        if (done) {
            answeredTwice();
            return false;
        }
        done = true;
        return true;
    }

    /** Sends the result. */
    protected abstract void deliver(Object result);

    /** Sends the failure. */
    protected abstract void deliverFailure(OrchException error);

    /** A second answer was attempted and ignored; tests count it. */
    protected void answeredTwice() {
    }
}
