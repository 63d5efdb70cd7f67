package dev.orch.client;

import dev.orch.protocol.DirectOffer;
import dev.orch.protocol.ErrorCode;
import dev.orch.protocol.OrchException;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;
import org.jboss.logging.Logger;

/**
 * A client's connections to hosting workers for direct calls (PROTOCOL.md §7), one per offer
 * (worker address, and whether it speaks TLS), opened on the first call. A worker that cannot be
 * reached, or turns out to be some other process, gets its calls through the server; it is tried
 * again in the background after {@link #RETRY_AFTER}, doubling up to {@link #RETRY_AFTER_MAX}, so
 * that a network that drops connections to workers costs one connect timeout, not one per retry.
 */
final class DirectRoutes implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(DirectRoutes.class);
    static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(3);
    static final long RETRY_AFTER = Duration.ofSeconds(30).toNanos();
    static final long RETRY_AFTER_MAX = Duration.ofMinutes(10).toNanos();
    private static final java.util.concurrent.ExecutorService RETRIES = java.util.concurrent.Executors.newCachedThreadPool(r -> {
        Thread t = new Thread(r, "orch-direct-connect");
        t.setDaemon(true);
        return t;
    });

    private final ClientConfig base;
    private final Supplier<String> session;
    private final Map<String, Route> routes = new ConcurrentHashMap<>();
    private volatile boolean closed;

    /** One worker address; fields other than the volatile ones are guarded by the route's monitor. */
    private static final class Route {
        volatile ClientConnection connection;
        /** The worker session the connection logged in to. */
        volatile String host;
        /** The session the failures below are about; another session at the address is tried at once. */
        String failedHost;
        int failures;
        long retryAt;
        boolean retrying;
    }

    DirectRoutes(ClientConfig base, Supplier<String> session) {
        this.base = base;
        this.session = session;
    }

    /**
     * The open connection to the worker {@code hostSession} that made {@code offer}, or null to go
     * through the server. A client whose server connection uses TLS does not take a plain offer:
     * what is encrypted to the server is not sent to a worker in the clear.
     */
    ClientConnection connection(DirectOffer offer, String hostSession) {
        if (base.tls() && !offer.tls()) {
            return null;
        }
        Route r = routes.computeIfAbsent(offer.toString(), a -> new Route());
        ClientConnection c = r.connection;
        if (c != null && c.isOpen() && hostSession.equals(r.host)) {
            return c;
        }
        synchronized (r) {
            c = r.connection;
            if (c != null && c.isOpen() && hostSession.equals(r.host)) {
                return c;
            }
            if (closed || r.retrying) {
                return null;
            }
            if (c != null) {
                c.close();
                r.connection = null;
            }
            if (r.failures == 0 || !hostSession.equals(r.failedHost)) {
                // First try (or a new worker at the address): the caller waits for it, so a
                // program's first call already goes direct.
                return settle(r, hostSession, open(offer, hostSession));
            }
            if (System.nanoTime() - r.retryAt >= 0) {
                r.retrying = true;
                RETRIES.execute(() -> {
                    ClientConnection opened = open(offer, hostSession);
                    synchronized (r) {
                        r.retrying = false;
                        if (settle(r, hostSession, opened) == null && opened != null) {
                            opened.close();
                        }
                    }
                });
            }
            return null;
        }
    }

    /** Records the outcome of a connection attempt; returns the connection if it is to be used. */
    private ClientConnection settle(Route r, String hostSession, ClientConnection opened) {
        if (opened == null) {
            r.failures = hostSession.equals(r.failedHost) ? r.failures + 1 : 1;
            r.failedHost = hostSession;
            long wait = r.failures >= 6 ? RETRY_AFTER_MAX : Math.min(RETRY_AFTER_MAX, RETRY_AFTER << (r.failures - 1));
            r.retryAt = System.nanoTime() + wait;
            return null;
        }
        if (closed) {
            return null;
        }
        r.failures = 0;
        r.failedHost = null;
        r.host = hostSession;
        r.connection = opened;
        return opened;
    }

    private ClientConnection open(DirectOffer offer, String hostSession) {
        String address = offer.address();
        ClientConfig cfg;
        try {
            Duration timeout = base.connectTimeout().isZero() || base.connectTimeout().compareTo(CONNECT_TIMEOUT) > 0
                    ? CONNECT_TIMEOUT : base.connectTimeout();
            // Over TLS the worker's certificate is checked against what this client trusts for the server.
            cfg = base.copy().address(address).tls(offer.tls(), base.tlsCa()).connectTimeout(timeout)
                    .loginSession(session.get());
        } catch (IllegalArgumentException e) {
            LOG.debugf("direct calls: bad worker address %s: %s", address, e.getMessage());
            return null;
        }
        ClientConnection c = new ClientConnection(cfg);
        c.toWorker();
        try {
            c.open();
        } catch (OrchConnectException | OrchException e) {
            LOG.debugf("direct calls: cannot use %s (%s); calls go through the server", offer, e.getMessage());
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

    /** Whether {@link #close()} was called: the client is closing. */
    boolean isClosed() {
        return closed;
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
