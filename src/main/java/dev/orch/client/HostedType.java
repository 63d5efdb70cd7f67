package dev.orch.client;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

/** Builds instances of a type this client hosts, from the creator's constructor arguments. */
@FunctionalInterface
public interface HostedType {
    HostedObject create(JsonArray args, JsonObject kwargs);
}
