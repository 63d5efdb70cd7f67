package dev.orch.client;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

/**
 * An object this client hosts. {@code call} runs on a host thread and returns a JSON value, or
 * throws: an {@link dev.orch.protocol.OrchException} keeps its code and name, any other exception
 * or error is sent as a 500 with a Python-style name. The result is written as
 * {@link dev.orch.protocol.JsonValues} writes values; one it refuses fails the call: a
 * {@code TypeError} for a value JSON has no form for, a {@code ValueError} otherwise (NaN, map
 * keys that collide once made strings, nesting deeper than a frame takes).
 */
@FunctionalInterface
public interface HostedObject {
    Object call(String method, JsonArray args, JsonObject kwargs, String callerSession);
}
