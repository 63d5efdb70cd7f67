package dev.orch.bench;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The benchmark's scenarios. CPython's {@code py_manager_bench.py} runs every object in the manager
 * process, one hop away; {@code method} and {@code echo_1k} are their one-hop counterparts on
 * server-side objects, and the {@code hosted_} variants run the same UtilityClass methods on a
 * type a worker process hosts (one hop with direct calls, two through the server with
 * {@code ORCH_DIRECT=off}).
 */
public enum Scenario {
    METHOD("method", false, "Value.get() on a server-side object (one hop; orch has no server-side UtilityClass)"),
    HOSTED_METHOD("hosted_method", true, "UtilityClass.capitalize('hello')"),
    ECHO_1K("echo_1k", false, "dict.setdefault('k', 1 KiB string) on a server-side dict: 1 KiB each way, one hop"),
    HOSTED_ECHO_1K("hosted_echo_1k", true, "UtilityClass.echo(1 KiB string)"),
    DICT_SET("dict_set", false, "dict.__setitem__('k', 1) on a server-side dict"),
    QUEUE_PUT_GET("queue_put_get", false, "Queue.put(1) then Queue.get() (one op = two calls)"),
    LOCK("lock_acquire_release", false, "Lock.acquire() then Lock.release() (one op = two calls)"),
    CREATE_PROXY("create_proxy", false, "create a Value and release it (one op = two requests)"),
    PIPELINED("pipelined", false, "Value.get() with W calls in flight on each connection"),
    TCP_PINGPONG("tcp_pingpong", false, "raw loopback TCP ping-pong of 64-byte messages, blocking sockets: the machine's floor"),
    CONNECTIONS("connections", false, "open and log in N concurrent connections, hold them (rate = logins/s)");

    public static final String DEFAULT_LIST =
            "method,hosted_method,echo_1k,hosted_echo_1k,dict_set,queue_put_get,lock_acquire_release,create_proxy,pipelined,tcp_pingpong";

    /** Typeid of the hosted type, as in CPython's bench. */
    public static final String UTILITY = "UtilityClass";

    private final String id;
    private final boolean hosted;
    private final String what;

    Scenario(String id, boolean hosted, String what) {
        this.id = id;
        this.hosted = hosted;
        this.what = what;
    }

    public String id() {
        return id;
    }

    /** Needs the UtilityClass worker. */
    public boolean hosted() {
        return hosted;
    }

    /** What a call is; for a hosted scenario only the call ({@link BenchResult#what} says where it ran). */
    public String what() {
        return what;
    }

    /**
     * Calls each client makes for a base count {@code calls}: fewer creations, more pipelined
     * calls. A long: ten times a large {@code --calls} does not fit an int.
     */
    public long callsFor(int calls) {
        switch (this) {
            case CREATE_PROXY:
                return Math.max(1, calls / 10);
            case PIPELINED:
                return calls * 10L;
            default:
                return calls;
        }
    }

    public static Scenario of(String id) {
        String k = id.trim().toLowerCase(Locale.ROOT);
        for (Scenario s : values()) {
            if (s.id.equals(k)) {
                return s;
            }
        }
        throw new IllegalArgumentException("unknown scenario '" + id + "' (known: " + allIds() + ")");
    }

    public static List<Scenario> parseList(String csv) {
        List<Scenario> out = new ArrayList<>();
        for (String p : csv.split(",")) {
            if (!p.isBlank()) {
                out.add(of(p));
            }
        }
        if (out.isEmpty()) {
            throw new IllegalArgumentException("no scenario given");
        }
        return out;
    }

    public static String allIds() {
        StringBuilder sb = new StringBuilder();
        for (Scenario s : values()) {
            sb.append(sb.length() == 0 ? "" : ", ").append(s.id);
        }
        return sb.toString();
    }
}
