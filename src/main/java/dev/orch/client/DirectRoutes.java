package dev.orch.client;

import dev.orch.protocol.ErrorCode;
import dev.orch.protocol.OrchException;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;
import org.jboss.logging.Logger;

/**
 * A client's connections to hosting workers for direct calls (PROTOCOL.md §7), one per worker
 * address, opened on the first call. A worker that cannot be reached, or turns out to be some other
 * process, is left alone for {@link #RETRY_AFTER} and its calls go through the server.
 */
final class DirectRoutes implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(DirectRoutes.class);
    static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(3);
    static final long RETRY_AFTER = Duration.ofSeconds(30).toNanos();

    private final ClientConfig base;
    private final Supplier<String> session;
    private final Map<String, Route> routes = new ConcurrentHashMap<>();
    private volatile boolean closed;

    private static final class Route {
        volatile ClientConnection connection;
        /** The worker session the connection logged in to. */
        volatile String host;
        long unusableUntil;
    }

    DirectRoutes(ClientConfig base, Supplier<String> session) {
        this.base = base;
        this.session = session;
    }

    /** The open connection to the worker {@code hostSession} at {@code address}, or null to go through the server. */
    ClientConnection connection(String address, String hostSession) {
        Route r = routes.computeIfAbsent(address, a -> new Route());
        ClientConnection c = r.connection;
        if (c != null && c.isOpen() && hostSession.equals(r.host)) {
            return c;
        }
        synchronized (r) {
            c = r.connection;
            if (c != null && c.isOpen() && hostSession.equals(r.host)) {
                return c;
            }
            if (closed || (r.unusableUntil != 0 && System.nanoTime() - r.unusableUntil < 0)) {
                return null;
            }
            if (c != null) {
                c.close();
                r.connection = null;
            }
            c = open(address, hostSession);
            if (c == null) {
                r.unusableUntil = System.nanoTime() + RETRY_AFTER;
                return null;
            }
            r.unusableUntil = 0;
            r.host = hostSession;
            r.connection = c;
            return c;
        }
    }

    private ClientConnection open(String address, String hostSession) {
        ClientConfig cfg;
        try {
            Duration timeout = base.connectTimeout().isZero() || base.connectTimeout().compareTo(CONNECT_TIMEOUT) > 0
                    ? CONNECT_TIMEOUT : base.connectTimeout();
            cfg = base.copy().address(address).tls(false, null).connectTimeout(timeout).loginSession(session.get());
        } catch (IllegalArgumentException e) {
            LOG.debugf("direct calls: bad worker address %s: %s", address, e.getMessage());
            return null;
        }
        ClientConnection c = new ClientConnection(cfg);
        try {
            c.open();
        } catch (OrchConnectException | OrchException e) {
            LOG.debugf("direct calls: cannot use %s (%s); calls go through the server", address, e.getMessage());
            c.close();
            return null;
        }
        if (!hostSession.equals(c.session())) {
            LOG.debugf("direct calls: %s is session %s, not %s; calls go through the server", address, c.session(), hostSession);
            c.close();
            return null;
        }
        return c;
    }

    /** What a call in flight on a lost direct connection fails with: as if the server had answered it. */
    static OrchException hostGone(String address, RuntimeException cause) {
        OrchException e = new OrchException(ErrorCode.HOST_GONE, "connection to the hosting worker at " + address + " lost");
        e.initCause(cause);
        return e;
    }

    @Override
    public void close() {
        closed = true;
        for (Route r : routes.values()) {
            synchronized (r) {
                if (r.connection != null) {
                    r.connection.close();
                    r.connection = null;
                }
            }
        }
    }
}
