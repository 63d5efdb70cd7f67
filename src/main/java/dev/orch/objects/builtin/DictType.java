package dev.orch.objects.builtin;

import dev.orch.objects.ObjectContext;
import dev.orch.objects.SharedObject;
import dev.orch.objects.SharedType;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.List;

/**
 * {@code dict}: Python's dict. Built like Python's {@code dict()}: at most one positional mapping
 * (a JSON object, or an array of {@code [key, value]} pairs) plus keyword entries, so
 * {@code dict(mapping={...})} makes a single key named {@code mapping}, exactly as in Python.
 */
public final class DictType implements SharedType {
    public static final DictType INSTANCE = new DictType();

    static final List<String> EXPOSED = List.of("__getitem__", "__setitem__", "__delitem__", "__contains__",
            "__len__", "get", "keys", "values", "items", "pop", "popitem", "setdefault", "update", "clear", "copy");

    private DictType() {
    }

    @Override
    public String typeid() {
        return "dict";
    }

    @Override
    public List<String> exposed() {
        return EXPOSED;
    }

    @Override
    public SharedObject create(ObjectContext context, JsonArray args, JsonObject kwargs) {
        SharedDict d = new SharedDict();
        d.update("dict", args, kwargs);
        return d;
    }
}
