package dev.orch.server;

import java.util.Collection;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The live sessions of a server, readable from any thread. Objects ask it whether a waiter's
 * session still exists; the manager records here which object ids a hosting session may register.
 */
public final class Sessions {
    private final Map<String, BridgeConnection> live = new ConcurrentHashMap<>();
    /** Per hosting session: the objects it may serve, each with its exposed method names. */
    private final Map<String, Map<String, Set<String>>> hosted = new ConcurrentHashMap<>();
    /**
     * Per ended hosting session: the objects it served that still exist. Calls to them are
     * answered 410 by the manager's tombstones, but a call sent while the host's registrations
     * went (no consumer yet, or one that dropped the message as it went) fails in the event bus
     * instead; this tells the front end that the host is gone, not the object.
     */
    private final Map<String, Set<String>> orphaned = new ConcurrentHashMap<>();

    void add(String session, BridgeConnection connection) {
        live.put(session, connection);
    }

    /** The session ended; call before its connection drops its registrations. */
    void remove(String session) {
        live.remove(session);
        Map<String, Set<String>> ids = hosted.remove(session);
        if (ids != null && !ids.isEmpty()) {
            Set<String> gone = ConcurrentHashMap.newKeySet();
            gone.addAll(ids.keySet());
            orphaned.put(session, gone);
        }
    }

    /** Whether {@code objectId} was served by a session that ended and awaits its tombstone. */
    boolean isOrphaned(String objectId) {
        for (Set<String> ids : orphaned.values()) {
            if (ids.contains(objectId)) {
                return true;
            }
        }
        return false;
    }

    /** Of the objects {@code session} served, only {@code remaining} still exist. */
    void orphansRemaining(String session, Set<String> remaining) {
        Set<String> ids = orphaned.get(session);
        if (ids != null) {
            ids.retainAll(remaining);
            if (ids.isEmpty()) {
                orphaned.remove(session, ids);
            }
        }
    }

    /** The object {@code objectId}, served by the ended {@code session}, was released or deleted. */
    void orphanGone(String session, String objectId) {
        Set<String> ids = orphaned.get(session);
        if (ids != null && ids.remove(objectId) && ids.isEmpty()) {
            orphaned.remove(session, ids);
        }
    }

    public boolean isAlive(String session) {
        return session != null && live.containsKey(session);
    }

    /** The event-loop thread serving the session's connection, or null. */
    Thread loopOf(String session) {
        BridgeConnection c = live.get(session);
        return c == null ? null : c.loop();
    }

    public int count() {
        return live.size();
    }

    Collection<BridgeConnection> connections() {
        return live.values();
    }

    /** Lets {@code session} register {@code orch.obj.ID} for an object it is asked to build. */
    void allowHosted(String session, String objectId, Set<String> exposed) {
        BridgeConnection c = live.get(session);
        if (c != null) {
            hosted.computeIfAbsent(session, s -> new ConcurrentHashMap<>()).put(objectId, Set.copyOf(exposed));
        }
    }

    boolean mayHost(String session, String objectId) {
        Map<String, Set<String>> ids = hosted.get(session);
        return ids != null && ids.containsKey(objectId);
    }

    /** The exposed methods of an object {@code session} hosts, or null. */
    Set<String> hostedExposed(String session, String objectId) {
        Map<String, Set<String>> ids = hosted.get(session);
        return ids == null ? null : ids.get(objectId);
    }

    /** Withdraws the permission and drops the session's registration of the object's address. */
    void revokeHosted(String session, String objectId) {
        Map<String, Set<String>> ids = hosted.get(session);
        if (ids != null) {
            ids.remove(objectId);
        }
        BridgeConnection c = live.get(session);
        if (c != null) {
            c.revoke(dev.orch.protocol.Addresses.object(objectId));
        }
    }
}
