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
import java.util.List;

/**
 * {@code Value}: one JSON value with {@code get()} and {@code set(value)}. Built as
 * {@code Value(value=None)} or, like Python's manager, {@code Value(typecode, value)}: the
 * typecode must be a string and is otherwise ignored (no type is enforced on later sets). The
 * two-argument form applies when two values are given, positionally or as {@code typecode=} /
 * {@code value=} keywords; a single value is the value itself.
 */
public final class ValueType implements SharedType {
    public static final ValueType INSTANCE = new ValueType();

    static final List<String> EXPOSED = List.of("get", "set");

    private ValueType() {
    }

    @Override
    public String typeid() {
        return "Value";
    }

    @Override
    public List<String> exposed() {
        return EXPOSED;
    }

    @Override
    public SharedObject create(ObjectContext context, JsonArray args, JsonObject kwargs) {
        int positional = args == null ? 0 : args.size();
        boolean keywordValue = kwargs != null && kwargs.containsKey("value");
        // Two values given in any mix of positions and keywords means Value(typecode, value).
        boolean typed = positional >= 2 || (positional == 1 && keywordValue)
                || (kwargs != null && kwargs.containsKey("typecode"));
        Object initial;
        if (typed) {
            Args a = Args.bind("Value", args, kwargs, "typecode", "value");
            Object typecode = a.get(0);
            if (!(typecode instanceof String)) {
                throw OrchException.raised("TypeError", "Value() typecode must be a str, not " + Json.typeName(typecode));
            }
            initial = a.get(1);
        } else {
            initial = Args.bind("Value", args, kwargs, "value").get(0, null);
        }
        return new Instance(Py.store(initial));
    }

    /** One Value. */
    static final class Instance extends BasicObject {
        private Object value;

        @Override
        public void forEachStored(java.util.function.Consumer<Object> sink) {
            sink.accept(value);
        }

        @Override
        public StoredChange storedChange(String method) {
            return method.equals("get") ? StoredChange.NONE : StoredChange.ANY;
        }

        Instance(Object value) {
            this.value = value;
        }

        @Override
        protected Object call(Invocation call) {
            switch (call.method()) {
                case "get":
                    Args.bind(call);
                    return Py.out(value);
                case "set":
                    value = Py.store(Args.bind(call, "value").get(0));
                    return null;
                default:
                    throw noSuchMethod("Value", call.method());
            }
        }
    }
}
