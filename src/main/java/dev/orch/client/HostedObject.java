package dev.orch.client;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

/**
 * An object this client hosts. {@code call} runs on a host thread and returns a JSON value, or
 * throws: an {@link dev.orch.protocol.OrchException} keeps its code and name, any other exception
 * or error is sent as a 500 with a Python-style name, and a result that is not JSON as a
 * {@code TypeError}.
 */
@FunctionalInterface
public interface HostedObject {
    Object call(String method, JsonArray args, JsonObject kwargs, String callerSession);
}
