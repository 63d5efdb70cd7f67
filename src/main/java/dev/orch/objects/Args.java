package dev.orch.objects;

import dev.orch.protocol.OrchException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

/**
 * Binds positional and keyword arguments to parameters the way Python does, raising
 * {@code TypeError} for missing, duplicate, unexpected or surplus arguments.
 */
public final class Args {
    private static final Object MISSING = new Object();

    private final String method;
    private final JsonArray args;
    private final JsonObject kwargs;
    private final String[] names;

    private Args(String method, JsonArray args, JsonObject kwargs, String[] names) {
        this.method = method;
        this.args = args == null ? new JsonArray() : args;
        this.kwargs = kwargs == null ? new JsonObject() : kwargs;
        this.names = names;
        if (this.args.size() > names.length) {
            throw OrchException.raised("TypeError", method + "() takes at most " + names.length
                    + " positional argument" + (names.length == 1 ? "" : "s") + " (" + this.args.size() + " given)");
        }
        for (String k : this.kwargs.fieldNames()) {
            int idx = indexOf(k);
            if (idx < 0) {
                throw OrchException.raised("TypeError", method + "() got an unexpected keyword argument '" + k + "'");
            }
            if (idx < this.args.size()) {
                throw OrchException.raised("TypeError", method + "() got multiple values for argument '" + k + "'");
            }
        }
    }

    /** Binds a call's arguments to the named parameters, in order. */
    public static Args bind(Invocation call, String... names) {
        return new Args(call.method(), call.args(), call.kwargs(), names);
    }

    /** Binds constructor arguments. */
    public static Args bind(String callable, JsonArray args, JsonObject kwargs, String... names) {
        return new Args(callable, args, kwargs, names);
    }

    private int indexOf(String name) {
        for (int i = 0; i < names.length; i++) {
            if (names[i].equals(name)) {
                return i;
            }
        }
        return -1;
    }

    private Object lookup(int i) {
        if (i < args.size()) {
            return args.getValue(i);
        }
        String n = names[i];
        return kwargs.containsKey(n) ? kwargs.getValue(n) : MISSING;
    }

    /** True if the parameter was given. */
    public boolean has(int i) {
        return lookup(i) != MISSING;
    }

    /** A required parameter. */
    public Object get(int i) {
        Object v = lookup(i);
        if (v == MISSING) {
            throw OrchException.raised("TypeError", method + "() missing required argument: '" + names[i] + "'");
        }
        return Json.normalize(v);
    }

    /** An optional parameter. */
    public Object get(int i, Object dflt) {
        Object v = lookup(i);
        return v == MISSING ? dflt : Json.normalize(v);
    }

    public long getLong(int i, long dflt) {
        Object v = get(i, (Object) dflt);
        return Json.toLong(v, names[i]);
    }

    public long getLong(int i) {
        return Json.toLong(get(i), names[i]);
    }

    public boolean getBool(int i, boolean dflt) {
        Object v = get(i, (Object) dflt);
        return Json.truthy(v);
    }

    /** An optional timeout in seconds; null means none (Python's {@code None}). */
    public Double getSeconds(int i) {
        Object v = get(i, (Object) null);
        if (v == null) {
            return null;
        }
        if (v instanceof Boolean) {
            return ((Boolean) v) ? 1.0 : 0.0; // a bool is an int in Python: wait(True) waits 1 s
        }
        if (!(v instanceof Number)) {
            throw OrchException.raised("TypeError", "'" + names[i] + "' must be a number or None");
        }
        return ((Number) v).doubleValue();
    }
}
