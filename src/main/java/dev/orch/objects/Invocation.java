package dev.orch.objects;

import dev.orch.protocol.OrchException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

/** One method call on a shared object, answered exactly once. */
public interface Invocation {
    String method();

    /** Positional arguments (JSON values). */
    JsonArray args();

    /** Keyword arguments (JSON values). */
    JsonObject kwargs();

    /** The calling session's id. */
    String session();

    /**
     * The caller's id for this call (its reply address), unique among the session's calls in
     * flight, by which the caller may cancel it; null when it cannot.
     */
    String id();

    /**
     * Answers with a JSON value (String, Number, Boolean, null, JsonObject, JsonArray). The value
     * is handed over, not copied: the object must not change it afterwards (return copies of state).
     */
    void reply(Object result);

    /** Answers with a failure. */
    void fail(OrchException error);

    /** True once answered; later answers are ignored. */
    boolean isDone();
}
