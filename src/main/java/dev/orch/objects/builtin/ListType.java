package dev.orch.objects.builtin;

import dev.orch.objects.Args;
import dev.orch.objects.ObjectContext;
import dev.orch.objects.SharedObject;
import dev.orch.objects.SharedType;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.List;

/** {@code list}: Python's list, built from any iterable JSON value (array, string, object keys). */
public final class ListType implements SharedType {
    public static final ListType INSTANCE = new ListType();

    static final List<String> EXPOSED = List.of("__getitem__", "__setitem__", "__delitem__", "__len__",
            "__contains__", "append", "extend", "insert", "pop", "remove", "index", "count", "reverse", "sort",
            "clear");

    private ListType() {
    }

    @Override
    public String typeid() {
        return "list";
    }

    @Override
    public List<String> exposed() {
        return EXPOSED;
    }

    @Override
    public SharedObject create(ObjectContext context, JsonArray args, JsonObject kwargs) {
        Args a = Args.bind("list", args, kwargs, "iterable");
        SharedList l = new SharedList();
        if (a.has(0)) {
            l.items.addAll(Py.iterate(a.get(0)));
        }
        return l;
    }
}
