package dev.orch.objects;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.List;

/** A type of shared object the server itself implements (dict, list, Queue, Lock…). */
public interface SharedType {
    /** The name clients create it by, e.g. {@code dict}. */
    String typeid();

    /** The method names clients may call. */
    List<String> exposed();

    /**
     * Builds a new instance from the constructor arguments.
     *
     * @throws dev.orch.protocol.OrchException with code 500 (e.g. {@code TypeError}) for bad arguments
     */
    SharedObject create(ObjectContext context, JsonArray args, JsonObject kwargs);
}
