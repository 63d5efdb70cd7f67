package dev.orch.process;

import dev.orch.client.ClientConfig;
import dev.orch.client.OrchAuthException;
import dev.orch.client.OrchClient;
import dev.orch.client.OrchConnectException;
import dev.orch.protocol.Addresses;
import dev.orch.protocol.ErrorCode;
import dev.orch.protocol.OrchException;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.jboss.logging.Logger;

/**
 * The connection of a worker or node to the server, kept up: it connects (retrying with backoff
 * from 0.5 s doubling to 10 s), lets the subclass attach, sends heartbeats at the interval the
 * server asked for, and connects and attaches again whenever the connection drops, until
 * {@link #close}. Used by {@code orch connect}.
 */
abstract class AttachedLink {
    private static final Logger LOG = Logger.getLogger(AttachedLink.class);
    private static final long MAX_BACKOFF_MS = 10_000;

    protected final Vertx vertx;
    private final ClientConfig config;
    private volatile OrchClient client;
    private volatile boolean closed;
    private volatile long heartbeatTimer = -1;
    private final CompletableFuture<Void> firstAttach = new CompletableFuture<>();
    private Thread thread;

    AttachedLink(Vertx vertx, ClientConfig config) {
        this.vertx = vertx;
        this.config = config;
    }

    /** Attaches on a fresh connection; returns the attach reply (with {@code heartbeatMs}). */
    protected abstract JsonObject attach(OrchClient c) throws Exception;

    /** The body of a heartbeat (op and metrics); runs on a worker thread. */
    protected abstract JsonObject heartbeat();

    /** Starts the connection loop; completes once the first attach succeeded. */
    CompletableFuture<Void> start() {
        thread = new Thread(this::loop, "orch-link");
        thread.setDaemon(true);
        thread.start();
        return firstAttach;
    }

    /**
     * Gives up the first attach if it has not succeeded yet: {@link #awaitFirst} then throws
     * {@code why}, and the link stops trying. False if it had already attached.
     */
    boolean abandonFirst(Exception why) {
        if (!firstAttach.completeExceptionally(why)) {
            return false;
        }
        closed = true;
        return true;
    }

    /** Waits at most {@code limit} for the first attach; rethrows its failure. */
    void awaitFirst(Duration limit) throws Exception {
        try {
            firstAttach.get(limit.toMillis(), TimeUnit.MILLISECONDS);
        } catch (java.util.concurrent.ExecutionException e) {
            throw e.getCause() instanceof Exception ? (Exception) e.getCause() : e;
        }
    }

    /** The connected client, or null while disconnected. */
    OrchClient client() {
        return client;
    }

    /** Sends a request to {@code orch.process} if connected; returns null otherwise. */
    CompletableFuture<Object> request(JsonObject body) {
        OrchClient c = client;
        return c == null ? null : c.requestAsync(ProcessEndpoint.ADDRESS, body);
    }


    /** The last reason a re-attach was refused, said once (see {@link #loop}); on the loop's thread only. */
    private String refusal;

    private void loop() {
        long backoff = 500;
        while (!closed) {
            OrchClient c = null;
            try {
                c = OrchClient.connect(config);
                JsonObject reply = attach(c);
                client = c;
                backoff = 500;
                long hb = Math.max(50, reply.getLong("heartbeatMs", 2000L));
                startHeartbeats(hb);
                firstAttach.complete(null);
                if (refusal != null) {
                    LOG.infof("attached again to %s", config.address());
                    refusal = null;
                }
                LOG.debugf("attached to %s", config.address());
                c.closedFuture().join();
            } catch (Exception e) {
                LOG.debugf("link to %s: %s", config.address(), e.getMessage());
                if (!firstAttach.isDone() && permanent(e)) {
                    firstAttach.completeExceptionally(e);
                    closed = true;
                } else if (permanent(e) && !String.valueOf(e.getMessage()).equals(refusal)) {
                    // Once attached there is a command to keep watching, so the link keeps trying
                    // (a restarted server may get its key or free the name back), but says why,
                    // once per reason: the process is missing from 'orch ps' meanwhile.
                    refusal = String.valueOf(e.getMessage());
                    LOG.warnf("cannot attach again to %s: %s (retrying every %d s)", config.address(), refusal,
                            MAX_BACKOFF_MS / 1000);
                }
            } finally {
                client = null;
                stopHeartbeats();
                if (c != null) {
                    c.close();
                }
            }
            if (closed) {
                break;
            }
            try {
                Thread.sleep(backoff);
            } catch (InterruptedException e) {
                break;
            }
            backoff = Math.min(MAX_BACKOFF_MS, backoff * 2);
        }
    }

    /**
     * True for failures that retrying cannot cure: a wrong key, a host name that does not resolve,
     * or a refusal such as a taken name or a bad request. A server that is down, stopping, busy or
     * slow may be fine on the next try.
     */
    static boolean permanent(Exception e) {
        if (e instanceof OrchAuthException) {
            return true;
        }
        if (e instanceof OrchConnectException && e.getCause() instanceof UnknownHostException
                && !String.valueOf(e.getCause().getMessage()).contains("Temporary failure")) {
            // Most likely a typo: waiting out --timeout would only hide the cause behind
            // "cannot attach … within N s", where `orch health` says "unknown host" at once.
            // A resolver that is not answering yet (EAI_AGAIN, a cluster starting) is retried.
            return true;
        }
        if (e instanceof OrchException) {
            ErrorCode c = ((OrchException) e).code();
            return c != ErrorCode.SHUTTING_DOWN && c != ErrorCode.TIMEOUT && c != ErrorCode.TOO_MANY;
        }
        return false;
    }

    private void startHeartbeats(long ms) {
        heartbeatTimer = vertx.setPeriodic(ms, t -> vertx.executeBlocking(this::heartbeat, false).onSuccess(body -> {
            CompletableFuture<Object> f = request(body);
            if (f != null) {
                f.exceptionally(e -> null);
            }
        }));
    }

    private void stopHeartbeats() {
        long t = heartbeatTimer;
        if (t >= 0) {
            vertx.cancelTimer(t);
            heartbeatTimer = -1;
        }
    }

    /** Says goodbye ({@code detach}) if connected, and stops reconnecting. */
    void close() {
        closed = true;
        OrchClient c = client;
        if (c != null) {
            try {
                c.requestAsync(ProcessEndpoint.ADDRESS, new JsonObject().put("op", "detach")).get(5, TimeUnit.SECONDS);
            } catch (Exception e) {
                // Leaving anyway.
            }
            c.close();
        }
        if (thread != null) {
            thread.interrupt();
        }
    }

    /** This session's host address, where the server sends requests for us. */
    static String hostAddress(OrchClient c) {
        return Addresses.host(c.session());
    }

    static String hostname() {
        String h = System.getenv("HOSTNAME");
        if (h != null && !h.isBlank()) {
            return h;
        }
        try {
            return java.net.InetAddress.getLocalHost().getHostName();
        } catch (Exception e) {
            return "localhost";
        }
    }
}
