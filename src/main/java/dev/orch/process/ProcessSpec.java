package dev.orch.process;

import dev.orch.protocol.Characters;
import dev.orch.protocol.OrchException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What to run: an immutable description of a process, as given to {@code spawn}.
 *
 * @param name        unique among live processes; null lets the supervisor use the id
 * @param command     program and arguments, at least one element
 * @param env         variables added to (or overriding) the supervisor's environment
 * @param cwd         working directory, or null for the supervisor's
 * @param restart     restart policy
 * @param maxRestarts how many automatic restarts at most; negative means no limit
 * @param node        where to run; only {@code null} or {@code "local"} is supported yet
 */
public record ProcessSpec(String name, List<String> command, Map<String, String> env, String cwd,
        RestartPolicy restart, int maxRestarts, String node) {

    public static final String LOCAL = "local";
    /** Longest process or worker name: a name is a handle typed on a command line and shown in ps. */
    public static final int MAX_NAME = 128;
    public static final String NAME_RULE = "1 to " + MAX_NAME + " characters, no control characters or '@', not server, pN, wN or node:…";

    /**
     * Whether {@code name} can name a process or worker. Names must never read as a reference to
     * something else: {@code server}, {@code pN} and {@code wN} are ids, {@code ID@NODE} addresses
     * a node's process, {@code node:NAME} a node ({@code rm node:NAME}), and a control character
     * would break the one-line-per-process ps table.
     */
    public static boolean isValidName(String name) {
        if (name.isEmpty() || Characters.count(name) > MAX_NAME || name.equals("server") || name.matches("[pw][0-9]+")
                || name.indexOf('@') >= 0 || name.startsWith(Fleet.NODE_PREFIX)) {
            return false;
        }
        return name.codePoints().noneMatch(Character::isISOControl);
    }

    /** What a node's name may be, for error messages. */
    public static final String NODE_NAME_RULE = "letters, digits, '_', '.' and '-', not " + LOCAL;

    /** Whether {@code name} can name a node: it follows {@code @} in ids, and {@code local} is this machine. */
    public static boolean isValidNodeName(String name) {
        return name != null && !name.equals(LOCAL) && name.matches("[A-Za-z0-9_.-]+");
    }

    /** A rejected name as an error message may quote it: on one line, and not the whole of a huge one. */
    public static String shown(String name) {
        return Characters.oneLine(name, 40);
    }

    public ProcessSpec {
        if (command == null || command.isEmpty() || command.get(0) == null || command.get(0).isEmpty()) {
            throw OrchException.badRequest("command must be a non-empty list of strings");
        }
        if (name != null && !isValidName(name)) {
            throw OrchException.badRequest("invalid process name '" + shown(name) + "' (" + NAME_RULE + ")");
        }
        command = List.copyOf(command);
        env = env == null ? Map.of() : Collections.unmodifiableMap(new LinkedHashMap<>(env));
        restart = restart == null ? RestartPolicy.NEVER : restart;
    }

    /** A spec running {@code command} once, with no name and no options. */
    public static ProcessSpec of(String... command) {
        return new ProcessSpec(null, List.of(command), Map.of(), null, RestartPolicy.NEVER, -1, null);
    }

    /** The same spec with another name. */
    public ProcessSpec withName(String newName) {
        return new ProcessSpec(newName, command, env, cwd, restart, maxRestarts, node);
    }

    /** The same spec with another restart policy and limit. */
    public ProcessSpec withRestart(RestartPolicy policy, int max) {
        return new ProcessSpec(name, command, env, cwd, policy, max, node);
    }

    /**
     * Reads a spawn request body: {@code command} (array, or a string with {@code args} array),
     * {@code name}, {@code restart}, {@code maxRestarts}, {@code env} (object or array of
     * {@code "K=V"}), {@code cwd}, {@code node}. Throws 400 on malformed fields.
     */
    public static ProcessSpec fromJson(JsonObject body) {
        try {
            List<String> command = new ArrayList<>();
            Object cmd = body.getValue("command");
            if (cmd instanceof JsonArray) {
                addStrings(command, (JsonArray) cmd, "command");
            } else if (cmd instanceof String) {
                command.add((String) cmd);
            } else {
                throw OrchException.badRequest("spawn needs a command");
            }
            Object args = body.getValue("args");
            if (args instanceof JsonArray) {
                addStrings(command, (JsonArray) args, "args");
            } else if (args != null) {
                throw OrchException.badRequest("args must be an array of strings");
            }
            Map<String, String> env = new LinkedHashMap<>();
            Object e = body.getValue("env");
            if (e instanceof JsonObject) {
                for (Map.Entry<String, Object> kv : (JsonObject) e) {
                    if (!(kv.getValue() instanceof String)) {
                        throw OrchException.badRequest("env value of " + kv.getKey() + " must be a string");
                    }
                    env.put(checkEnvName(kv.getKey()), (String) kv.getValue());
                }
            } else if (e instanceof JsonArray) {
                List<String> pairs = new ArrayList<>();
                addStrings(pairs, (JsonArray) e, "env");
                for (String pair : pairs) {
                    int eq = pair.indexOf('=');
                    if (eq <= 0) {
                        throw OrchException.badRequest("env entry must be K=V, not '" + pair + "'");
                    }
                    env.put(checkEnvName(pair.substring(0, eq)), pair.substring(eq + 1));
                }
            } else if (e != null) {
                throw OrchException.badRequest("env must be an object or an array of K=V");
            }
            Object max = body.getValue("maxRestarts");
            if (max != null && !(max instanceof Number)) {
                throw OrchException.badRequest("maxRestarts must be a number");
            }
            // Unlimited is said by leaving maxRestarts out; a negative count is a mistake, not a wish.
            if (max != null && ((Number) max).doubleValue() < 0) {
                throw OrchException.badRequest("maxRestarts must not be negative");
            }
            return new ProcessSpec(string(body, "name"), command, env, string(body, "cwd"),
                    RestartPolicy.parse(string(body, "restart")),
                    max == null ? -1 : restartLimit((Number) max), string(body, "node"));
        } catch (ClassCastException ex) {
            throw OrchException.badRequest("malformed spawn request: " + ex.getMessage());
        }
    }

    /** The spec as JSON, the inverse of {@link #fromJson}. */
    public JsonObject toJson() {
        JsonObject env = new JsonObject();
        this.env.forEach(env::put);
        return new JsonObject().put("name", name).put("command", new JsonArray(new ArrayList<>(command)))
                .put("env", env).put("cwd", cwd).put("restart", restart.wire()).put("maxRestarts", maxRestarts)
                .put("node", node == null ? LOCAL : node);
    }

    /**
     * A {@code maxRestarts} as an int: a count past an int's range is as good as unlimited, where
     * intValue() would wrap it (2^32 + 1 to 1, 2^32 to none at all).
     */
    private static int restartLimit(Number max) {
        return max.doubleValue() >= Integer.MAX_VALUE ? Integer.MAX_VALUE : max.intValue();
    }

    /** An optional string field; JSON's getString would turn a number into its text. */
    private static String string(JsonObject body, String key) {
        Object v = body.getValue(key);
        if (v != null && !(v instanceof String)) {
            throw OrchException.badRequest(key + " must be a string");
        }
        return (String) v;
    }

    private static String checkEnvName(String k) {
        if (k.isEmpty() || k.indexOf('=') >= 0 || k.indexOf('\0') >= 0) {
            throw OrchException.badRequest("invalid environment variable name '" + k + "'");
        }
        return k;
    }

    private static void addStrings(List<String> out, JsonArray array, String what) {
        for (Object o : array) {
            if (!(o instanceof String)) {
                throw OrchException.badRequest(what + " must contain only strings");
            }
            out.add((String) o);
        }
    }
}
