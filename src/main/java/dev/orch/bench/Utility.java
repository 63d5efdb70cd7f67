package dev.orch.bench;

import dev.orch.client.HostedObject;
import dev.orch.protocol.OrchException;
import java.util.List;

/** CPython's bench {@code Utility} class: {@code capitalize(name)} and {@code echo(payload)}. */
public final class Utility implements HostedObject {
    public static final List<String> EXPOSED = List.of("capitalize", "echo");

    @Override
    public Object call(String method, io.vertx.core.json.JsonArray args, io.vertx.core.json.JsonObject kwargs, String caller) {
        if (args.size() != 1) {
            throw OrchException.raised("TypeError", method + "() takes exactly one argument (" + args.size() + " given)");
        }
        switch (method) {
            case "echo":
                return args.getValue(0);
            case "capitalize":
                return capitalize(String.valueOf(args.getValue(0)));
            default:
                throw OrchException.notFound("no method " + method);
        }
    }

    /** Python's str.capitalize for the BMP: first character upper case, the rest lower case. */
    static String capitalize(String s) {
        if (s.isEmpty()) {
            return s;
        }
        return Character.toUpperCase(s.charAt(0)) + s.substring(1).toLowerCase(java.util.Locale.ROOT);
    }
}
