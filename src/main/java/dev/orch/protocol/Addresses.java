package dev.orch.protocol;

/** Event-bus addresses of protocol v1. */
public final class Addresses {
    /** Authentication: challenge and login. */
    public static final String AUTH = "orch.auth";
    /** Manager operations: create, lookup, release, delete, types, objects, host, shutdown. */
    public static final String MANAGER = "orch.manager";
    /** Lifecycle events, published. */
    public static final String EVENTS = "orch.events";
    /** Prefix of object addresses: {@code orch.obj.ID}. */
    public static final String OBJECT_PREFIX = "orch.obj.";
    /** Prefix of a hosting session's address: {@code orch.host.SESSION}. */
    public static final String HOST_PREFIX = "orch.host.";
    /** Prefix of a session's own reply addresses: {@code orch.reply.SESSION.*}. */
    public static final String REPLY_PREFIX = "orch.reply.";

    private Addresses() {
    }

    public static String object(String id) {
        return OBJECT_PREFIX + id;
    }

    public static String host(String session) {
        return HOST_PREFIX + session;
    }

    public static String replyPrefix(String session) {
        return REPLY_PREFIX + session + ".";
    }
}
