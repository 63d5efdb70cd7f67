package dev.orch.server;

import java.security.SecureRandom;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/** Server-wide facts shared by connections: ids, the stopping flag, the service addresses and the connections yet to log in. */
final class ServerState {
    private static final SecureRandom RANDOM = new SecureRandom();
    private final Set<String> services = ConcurrentHashMap.newKeySet();
    private volatile boolean stopping;
    private final PendingLogins pendingLogins;
    private final Referents referents = new Referents();

    ServerState(int maxPendingLogins) {
        this.pendingLogins = new PendingLogins(maxPendingLogins);
    }

    /** What keeps each object alive (see {@link Referents}). */
    Referents referents() {
        return referents;
    }

    /** Connections that have not logged in yet, bounded by {@code --max-pending-logins}. */
    PendingLogins pendingLogins() {
        return pendingLogins;
    }

    String newSessionId() {
        byte[] b = new byte[8];
        RANDOM.nextBytes(b);
        StringBuilder sb = new StringBuilder(16);
        for (byte x : b) {
            sb.append(Character.forDigit((x >> 4) & 0xf, 16)).append(Character.forDigit(x & 0xf, 16));
        }
        return sb.toString();
    }

    boolean stopping() {
        return stopping;
    }

    void stopping(boolean s) {
        stopping = s;
    }

    /** Declares an event-bus address clients may send requests to (e.g. {@code orch.process}). */
    void addService(String address) {
        services.add(address);
    }

    boolean isService(String address) {
        return services.contains(address);
    }
}
