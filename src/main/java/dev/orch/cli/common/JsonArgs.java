package dev.orch.cli.common;

import io.vertx.core.json.DecodeException;
import io.vertx.core.json.Json;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.List;

/**
 * Command-line values as JSON: each argument is parsed as JSON, and a bare word that is not
 * valid JSON is taken as a string, so {@code orch call s set hello} works without quotes.
 */
public final class JsonArgs {
    private JsonArgs() {
    }

    public static Object parse(String text) {
        try {
            Object v = Json.decodeValue(text);
            if (v instanceof Double && !Double.isFinite((Double) v)) {
                // 1e999: valid JSON, but its double would go out as the string "Infinity".
                throw CliException.usage("number out of range: " + text);
            }
            return v;
        } catch (DecodeException e) {
            String t = text.trim();
            if (t.startsWith("{") || t.startsWith("[") || t.startsWith("\"")) {
                throw CliException.usage("not valid JSON: " + text);
            }
            return text;
        }
    }

    public static JsonArray array(List<String> args) {
        JsonArray a = new JsonArray();
        if (args != null) {
            args.forEach(s -> a.add(parse(s)));
        }
        return a;
    }

    /** {@code NAME=JSON} pairs as keyword arguments. */
    public static JsonObject kwargs(List<String> pairs) {
        JsonObject o = new JsonObject();
        if (pairs != null) {
            for (String p : pairs) {
                int eq = p.indexOf('=');
                if (eq <= 0) {
                    throw CliException.usage("keyword argument must be NAME=JSON: " + p);
                }
                o.put(p.substring(0, eq), parse(p.substring(eq + 1)));
            }
        }
        return o;
    }

    /** Compact JSON of a value, as {@code orch call} prints results. */
    public static String encode(Object value) {
        return Json.encode(value);
    }
}
