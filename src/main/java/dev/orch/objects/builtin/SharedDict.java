package dev.orch.objects.builtin;

import dev.orch.objects.Args;
import dev.orch.objects.BasicObject;
import dev.orch.objects.Invocation;
import dev.orch.objects.Json;
import dev.orch.protocol.OrchException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;

/**
 * A dict instance. Keys are any hashable JSON value; numerically equal ones ({@code 1},
 * {@code 1.0}) are the same key, which keeps the type it was first given; booleans are distinct
 * from numbers. Insertion order is kept.
 *
 * <p>{@code copy()} returns a JSON object when every key is a string (an empty dict gives
 * {@code {}}), otherwise a JSON array of {@code [key, value]} pairs in insertion order, since JSON
 * objects cannot carry non-string keys.
 */
final class SharedDict extends BasicObject {
    private final OrderedTable table = new OrderedTable();

    @Override
    protected Object call(Invocation call) {
        switch (call.method()) {
            case "__getitem__": {
                Object key = Args.bind(call, "key").get(0);
                OrderedTable.Entry e = table.find(Json.key(key));
                if (e == null) {
                    throw keyError(key);
                }
                return Py.out(e.value);
            }
            case "__setitem__": {
                Args a = Args.bind(call, "key", "value");
                put(a.get(0), Py.store(a.get(1)));
                return null;
            }
            case "__delitem__": {
                Object key = Args.bind(call, "key").get(0);
                if (table.remove(Json.key(key)) == null) {
                    throw keyError(key);
                }
                return null;
            }
            case "__contains__":
                return table.find(Json.key(Args.bind(call, "key").get(0))) != null;
            case "__len__":
                Args.bind(call);
                return (long) table.size();
            case "get": {
                Args a = Args.bind(call, "key", "default");
                OrderedTable.Entry e = table.find(Json.key(a.get(0)));
                return e == null ? a.get(1, null) : Py.out(e.value);
            }
            case "keys":
                return keys(call);
            case "values":
                return values(call);
            case "items":
                Args.bind(call);
                return pairs();
            case "pop":
                return pop(call);
            case "popitem": {
                Args.bind(call);
                OrderedTable.Entry e = table.removeLast();
                if (e == null) {
                    throw OrchException.raised("KeyError", "'popitem(): dictionary is empty'");
                }
                return new JsonArray().add(e.key).add(e.value);
            }
            case "setdefault": {
                Args a = Args.bind(call, "key", "default");
                Object hashKey = Json.key(a.get(0));
                OrderedTable.Entry e = table.find(hashKey);
                if (e != null) {
                    return Py.out(e.value);
                }
                Object v = Py.store(a.get(1, null));
                table.put(hashKey, Json.normalize(a.get(0)), v);
                return Py.out(v);
            }
            case "update":
                update("update", call.args(), call.kwargs());
                return null;
            case "clear":
                Args.bind(call);
                table.clear();
                return null;
            case "copy":
                Args.bind(call);
                return snapshot();
            default:
                throw noSuchMethod("dict", call.method());
        }
    }

    private static final java.util.Set<String> READS = java.util.Set.of(
            "__getitem__", "__contains__", "__len__", "get", "keys", "values", "items", "copy", "__repr__", "__str__");

    @Override
    public StoredChange storedChange(String method) {
        return READS.contains(method) ? StoredChange.NONE : method.equals("setdefault") ? StoredChange.GROWS : StoredChange.ANY;
    }

    @Override
    public void forEachStored(java.util.function.Consumer<Object> sink) {
        for (OrderedTable.Entry e : table) {
            sink.accept(e.value);
        }
    }

    private JsonArray keys(Invocation call) {
        Args.bind(call);
        JsonArray out = new JsonArray();
        for (OrderedTable.Entry e : table) {
            out.add(e.key);
        }
        return out;
    }

    private JsonArray values(Invocation call) {
        Args.bind(call);
        JsonArray out = new JsonArray();
        for (OrderedTable.Entry e : table) {
            out.add(Py.out(e.value));
        }
        return out;
    }

    private Object pop(Invocation call) {
        Args a = Args.bind(call, "key", "default");
        OrderedTable.Entry e = table.remove(Json.key(a.get(0)));
        if (e != null) {
            return e.value;
        }
        if (a.has(1)) {
            return a.get(1);
        }
        throw keyError(a.get(0));
    }

    private JsonArray pairs() {
        JsonArray out = new JsonArray();
        for (OrderedTable.Entry e : table) {
            out.add(new JsonArray().add(e.key).add(Py.out(e.value)));
        }
        return out;
    }

    /** See the class comment: an object if all keys are strings, else pairs. */
    private Object snapshot() {
        JsonObject obj = new JsonObject();
        for (OrderedTable.Entry e : table) {
            if (!(e.key instanceof String)) {
                return pairs();
            }
            obj.put((String) e.key, Py.out(e.value));
        }
        return obj;
    }

    /**
     * Python's {@code dict.update(other=(), **kwargs)}: {@code other} is positional only, so a
     * keyword named {@code other} is just another entry. Validates everything before changing
     * anything, so a bad argument leaves the dict as it was.
     */
    void update(String fn, JsonArray args, JsonObject kwargs) {
        int given = args == null ? 0 : args.size();
        if (given > 1) {
            throw OrchException.raised("TypeError", fn + " expected at most 1 argument, got " + given);
        }
        List<Object[]> entries = new ArrayList<>();
        if (given == 1) {
            collect(args.getValue(0), entries);
        }
        if (kwargs != null) {
            for (String k : kwargs.fieldNames()) {
                entries.add(new Object[] {k, Py.store(kwargs.getValue(k))});
            }
        }
        for (Object[] kv : entries) {
            put(kv[0], kv[1]);
        }
    }

    /** Sets {@code key} (as given: its hash form is worked out here) to a stored value. */
    private void put(Object key, Object stored) {
        table.put(Json.key(key), Json.normalize(key), stored);
    }

    private static void collect(Object source, List<Object[]> entries) {
        Object src = Json.normalize(source);
        if (src instanceof JsonObject) {
            JsonObject o = (JsonObject) src;
            for (String k : o.fieldNames()) {
                entries.add(new Object[] {k, Py.store(o.getValue(k))});
            }
            return;
        }
        List<Object> items = Py.iterate(src);
        for (int i = 0; i < items.size(); i++) {
            List<Object> pair = Py.iterateOrNull(items.get(i));
            if (pair == null) {
                throw OrchException.raised("TypeError",
                        "cannot convert dictionary update sequence element #" + i + " to a sequence");
            }
            if (pair.size() != 2) {
                throw OrchException.raised("ValueError", "dictionary update sequence element #" + i
                        + " has length " + pair.size() + "; 2 is required");
            }
            Json.key(pair.get(0)); // refuses an unhashable key before anything changes
            entries.add(new Object[] {pair.get(0), Py.store(pair.get(1))});
        }
    }

    private static OrchException keyError(Object key) {
        return OrchException.raised("KeyError", Json.repr(Json.normalize(key)));
    }
}
