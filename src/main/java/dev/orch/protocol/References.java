package dev.orch.protocol;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * References to shared objects inside values (PROTOCOL.md §5, "References"): a client sends
 * {@code {"orch.ref": ID}}, a server-side object stores that canonical form, and an answer
 * carries each one expanded to what a {@code lookup} answers. These helpers find, canonicalize
 * and expand them; who holds what is the server's business.
 */
public final class References {
    /** The member that makes a JSON object a reference. */
    public static final String KEY = "orch.ref";

    private References() {
    }

    /** A handle of a shared object, sent as a reference to it wherever it stands in a value. */
    public interface Referable {
        /** The object's id. */
        String referenceId();
    }

    /**
     * Canonicalizes, in place, every reference in a call's arguments (they are the call's own)
     * and returns their ids in order, or null when there are none: the common case walks the
     * arguments and allocates nothing. A {@code "orch.ref"} that is no object id is refused.
     */
    public static List<String> inArguments(JsonArray args, JsonObject kwargs) {
        List<String> ids = null;
        if (args != null) {
            ids = inList(args.getList(), ids);
        }
        if (kwargs != null) {
            ids = inMap(kwargs.getMap(), ids);
        }
        return ids;
    }

    @SuppressWarnings("unchecked")
    private static List<String> inValue(Object v, Container slot, List<String> ids) {
        if (v instanceof JsonObject || v instanceof Map) {
            Map<String, Object> m = v instanceof JsonObject ? ((JsonObject) v).getMap() : (Map<String, Object>) v;
            if (m.containsKey(KEY)) {
                String id = idOf(m.get(KEY));
                if (m.size() != 1) {
                    slot.set(canonical(id));
                }
                if (ids == null) {
                    ids = new ArrayList<>(2);
                }
                ids.add(id);
                return ids;
            }
            return inMap(m, ids);
        }
        if (v instanceof JsonArray) {
            return inList(((JsonArray) v).getList(), ids);
        }
        if (v instanceof List) {
            return inList((List<Object>) v, ids);
        }
        return ids;
    }

    private static List<String> inList(List<Object> list, List<String> ids) {
        for (int i = 0; i < list.size(); i++) {
            Object item = list.get(i);
            if (item instanceof JsonObject || item instanceof JsonArray || item instanceof Map || item instanceof List) {
                int at = i;
                ids = inValue(item, r -> list.set(at, r), ids);
            }
        }
        return ids;
    }

    private static List<String> inMap(Map<String, Object> map, List<String> ids) {
        for (Map.Entry<String, Object> e : map.entrySet()) {
            Object item = e.getValue();
            if (item instanceof JsonObject || item instanceof JsonArray || item instanceof Map || item instanceof List) {
                ids = inValue(item, e::setValue, ids);
            }
        }
        return ids;
    }

    /** Where a value sits, so that it can be replaced by its canonical form. */
    private interface Container {
        void set(Object replacement);
    }

    private static String idOf(Object value) {
        if (!(value instanceof String) || ((String) value).isEmpty()) {
            throw OrchException.badRequest("'" + KEY + "' is reserved for references: its value must be an object id");
        }
        return (String) value;
    }

    /** The stored form of a reference to {@code id}. */
    public static JsonObject canonical(String id) {
        return new JsonObject().put(KEY, id);
    }

    /** The id a JSON value refers to when it is a reference, else null. */
    public static String idIn(Object v) {
        if (v instanceof JsonObject) {
            Object id = ((JsonObject) v).getValue(KEY);
            return id instanceof String ? (String) id : null;
        }
        return null;
    }

    /** Adds the id of every reference inside the stored value {@code v} to {@code sink}. */
    public static void collect(Object v, java.util.function.Consumer<String> sink) {
        if (v instanceof JsonObject) {
            JsonObject o = (JsonObject) v;
            Object id = o.getValue(KEY);
            if (id instanceof String) {
                sink.accept((String) id);
                return;
            }
            for (Object item : o.getMap().values()) {
                collect(item, sink);
            }
        } else if (v instanceof JsonArray) {
            for (Object item : ((JsonArray) v).getList()) {
                collect(item, sink);
            }
        }
    }

    /**
     * {@code v} with each reference replaced by {@code expand.apply(id)} (which also notes what
     * it hands out); containers holding none are returned as they are, the rest copied as far
     * as needed, so that stored values are never changed.
     */
    public static Object expanded(Object v, Function<String, JsonObject> expand) {
        if (v instanceof JsonObject) {
            JsonObject o = (JsonObject) v;
            String id = idIn(o);
            if (id != null) {
                return expand.apply(id);
            }
            JsonObject copy = null;
            for (Map.Entry<String, Object> e : o.getMap().entrySet()) {
                Object item = e.getValue();
                Object x = expanded(item, expand);
                if (x != item) {
                    if (copy == null) {
                        copy = o.copy();
                    }
                    copy.put(e.getKey(), x);
                }
            }
            return copy != null ? copy : o;
        }
        if (v instanceof JsonArray) {
            JsonArray a = (JsonArray) v;
            List<Object> list = a.getList();
            List<Object> copy = null;
            for (int i = 0; i < list.size(); i++) {
                Object item = list.get(i);
                Object x = expanded(item, expand);
                if (x != item) {
                    if (copy == null) {
                        copy = new ArrayList<>(list);
                    }
                    copy.set(i, x);
                }
            }
            return copy != null ? new JsonArray(copy) : a;
        }
        return v;
    }
}
