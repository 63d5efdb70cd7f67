package dev.orch.objects.builtin;

import dev.orch.objects.Args;
import dev.orch.objects.BasicObject;
import dev.orch.objects.Invocation;
import dev.orch.objects.Json;
import dev.orch.objects.ObjectContext;
import dev.orch.objects.SharedObject;
import dev.orch.objects.SharedType;
import dev.orch.protocol.OrchException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code Namespace}: named attributes. Built as {@code Namespace(**attrs)}; one positional JSON
 * object is also accepted, its entries applied before the keyword ones.
 */
public final class NamespaceType implements SharedType {
    public static final NamespaceType INSTANCE = new NamespaceType();

    static final List<String> EXPOSED = List.of("__getattr__", "__setattr__", "__delattr__", "_getvalue");

    private NamespaceType() {
    }

    @Override
    public String typeid() {
        return "Namespace";
    }

    @Override
    public List<String> exposed() {
        return EXPOSED;
    }

    @Override
    public SharedObject create(ObjectContext context, JsonArray args, JsonObject kwargs) {
        int given = args == null ? 0 : args.size();
        if (given > 1) {
            throw OrchException.raised("TypeError", "Namespace expected at most 1 argument, got " + given);
        }
        Instance ns = new Instance();
        if (given == 1) {
            Object attrs = Json.normalize(args.getValue(0));
            if (!(attrs instanceof JsonObject)) {
                throw OrchException.raised("TypeError",
                        "Namespace() argument must be a dict, not " + Json.typeName(attrs));
            }
            ns.setAll((JsonObject) attrs);
        }
        if (kwargs != null) {
            ns.setAll(kwargs);
        }
        return ns;
    }

    /** One Namespace. */
    static final class Instance extends BasicObject {
        private final Map<String, Object> attrs = new LinkedHashMap<>();

        @Override
        public void forEachStored(java.util.function.Consumer<Object> sink) {
            attrs.values().forEach(sink);
        }

        @Override
        public StoredChange storedChange(String method) {
            return method.equals("__getattr__") || method.equals("_getvalue") ? StoredChange.NONE : StoredChange.ANY;
        }

        void setAll(JsonObject values) {
            for (String k : values.fieldNames()) {
                attrs.put(k, Py.store(values.getValue(k)));
            }
        }

        @Override
        protected Object call(Invocation call) {
            switch (call.method()) {
                case "__getattr__": {
                    String name = name(Args.bind(call, "name").get(0));
                    if (!attrs.containsKey(name)) {
                        throw noAttribute(name);
                    }
                    return Py.out(attrs.get(name));
                }
                case "__setattr__": {
                    Args a = Args.bind(call, "name", "value");
                    attrs.put(name(a.get(0)), Py.store(a.get(1)));
                    return null;
                }
                case "__delattr__": {
                    String name = name(Args.bind(call, "name").get(0));
                    if (!attrs.containsKey(name)) {
                        throw noAttribute(name);
                    }
                    attrs.remove(name);
                    return null;
                }
                case "_getvalue": {
                    Args.bind(call);
                    JsonObject out = new JsonObject();
                    attrs.forEach((k, v) -> out.put(k, Py.out(v)));
                    return out;
                }
                default:
                    throw noSuchMethod("Namespace", call.method());
            }
        }

        private static String name(Object name) {
            if (!(name instanceof String)) {
                throw OrchException.raised("TypeError", "attribute name must be string, not '" + Json.typeName(name) + "'");
            }
            return (String) name;
        }

        private static OrchException noAttribute(String name) {
            return OrchException.raised("AttributeError", "'Namespace' object has no attribute '" + name + "'");
        }
    }
}
