package dev.orch.client;

import dev.orch.protocol.DirectOffer;
import dev.orch.protocol.FrameCodec;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import javax.net.ServerSocketFactory;
import org.jboss.logging.Logger;

/**
 * Takes calls on this process's hosted objects straight from clients, one hop instead of two
 * through the server (PROTOCOL.md §7, direct calls).
 *
 * <p>Hosted methods are user code that may block, so each connection is served by plain threads
 * (see {@link DirectSession}): a call runs on the thread that read it, and the watchdog here
 * gives a connection another reading thread when a call has kept it from reading for
 * {@link #SLOW_CALL_NANOS}.
 *
 * <p>Each connection is bounded as the orch server bounds one (PROTOCOL.md §7, §8): at most
 * {@link #MAX_IN_FLIGHT} calls in flight (a call past it is answered 429 {@code TooMany} without
 * running), and at most {@link #MAX_PENDING_OUTPUT} bytes of answers waiting to be written (or
 * twice the largest answer, if more); past that its client is a slow consumer and the connection
 * is closed. One thread at a time writes a connection's answers; the others queue theirs and go
 * back to reading, so a client that does not read holds up one thread (it gets a reader behind
 * it, as a slow call does), not one per call. Threads are thus bounded by connections plus calls
 * that really run long, and connections by {@link #MAX_CONNECTIONS}.
 */
final class DirectServer implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(DirectServer.class);
    static final long SLOW_CALL_NANOS = TimeUnit.MILLISECONDS.toNanos(5);
    static final int MAX_CONNECTIONS = 1024;
    /** Calls in flight (read, not answered yet) per connection: the server's limit per connection. */
    static final int MAX_IN_FLIGHT = 4096;
    /** Bytes of answers a connection may have waiting unwritten: the server's {@code --max-pending-output} default. */
    static final long MAX_PENDING_OUTPUT = 32L * 1024 * 1024;
    /** Seconds a new connection has to log in. */
    static final long LOGIN_SECONDS = 30;

    private final ServerSocket listener;
    private final String advertised;
    private final boolean tls;
    private final byte[] authKey;
    private final String session;
    private final long answerLimit;
    private volatile int maxInFlight = MAX_IN_FLIGHT;
    private final Function<String, HostedInstance> objects;
    private final Set<DirectSession> sessions = ConcurrentHashMap.newKeySet();
    private final AtomicInteger threadCount = new AtomicInteger();
    private final ExecutorService threads = Executors.newCachedThreadPool(r -> {
        Thread t = new Thread(r, "orch-direct-" + threadCount.incrementAndGet());
        t.setDaemon(true);
        return t;
    });
    private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "orch-direct-watch");
        t.setDaemon(true);
        return t;
    });
    private volatile ScheduledFuture<?> watching;
    private long idleSince;
    private volatile boolean closed;

    private DirectServer(ServerSocket listener, String advertised, boolean tls, byte[] authKey, String session,
            long answerLimit, Function<String, HostedInstance> objects) {
        this.listener = listener;
        this.advertised = advertised;
        this.tls = tls;
        this.authKey = authKey;
        this.session = session;
        this.answerLimit = answerLimit;
        this.objects = objects;
    }

    /**
     * Listens on {@code host:port} (port 0 for any free one) for clients that know {@code authKey};
     * {@code session} is this process's session at the server, which clients check at login. With
     * a TLS {@code sockets} factory ({@code tls} true) connections are TLS; the handshake runs on
     * the connection's own thread, within its time to log in. Answers are held to
     * {@code answerLimit} bytes, the orch server's own limit (see {@link HostedAnswers}).
     */
    static DirectServer open(InetAddress host, int port, ServerSocketFactory sockets, boolean tls, byte[] authKey,
            String session, long answerLimit, Function<String, HostedInstance> objects) throws IOException {
        ServerSocket s = sockets.createServerSocket();
        try {
            s.bind(new InetSocketAddress(host, port), 256);
        } catch (IOException e) {
            s.close();
            throw e;
        }
        String h = host.getHostAddress();
        int percent = h.indexOf('%');
        if (percent >= 0) {
            h = h.substring(0, percent);
        }
        String advertised = (h.contains(":") ? "[" + h + "]" : h) + ":" + s.getLocalPort();
        DirectServer d = new DirectServer(s, advertised, tls, authKey, session, answerLimit, objects);
        Thread accept = new Thread(d::acceptLoop, "orch-direct-accept");
        accept.setDaemon(true);
        accept.start();
        return d;
    }

    /** The {@code HOST:PORT} clients are given. */
    String address() {
        return advertised;
    }

    /** What this process sends with {@code host}. */
    DirectOffer offer() {
        return new DirectOffer(advertised, tls);
    }

    byte[] authKey() {
        return authKey;
    }

    String session() {
        return session;
    }

    HostedInstance object(String id) {
        return objects.apply(id);
    }

    int maxFrame() {
        return FrameCodec.DEFAULT_MAX_FRAME;
    }

    /** The largest answer payload sent: the orch server's, so a call fails or not by either route. */
    long answerLimit() {
        return answerLimit;
    }

    /** Calls a connection may have in flight; past it, a call is answered 429 without running. */
    int maxInFlight() {
        return maxInFlight;
    }

    /** Sets {@link #maxInFlight()} for connections accepted from now on (for tests). */
    void maxInFlight(int n) {
        maxInFlight = n;
    }

    /** Bytes of answers a connection may have unwritten before it is closed as a slow consumer. */
    long maxPendingOutput() {
        return Math.max(MAX_PENDING_OUTPUT, 2 * answerLimit);
    }

    /** Threads serving connections now, idle ones of the pool included (for tests). */
    int threads() {
        return ((java.util.concurrent.ThreadPoolExecutor) threads).getPoolSize();
    }

    /** Connections open now (for tests). */
    int connections() {
        return sessions.size();
    }

    private void acceptLoop() {
        while (!closed) {
            Socket s;
            try {
                s = listener.accept();
            } catch (IOException e) {
                if (!closed) {
                    LOG.warnf("direct calls: accept on %s failed: %s", advertised, e.getMessage());
                }
                return;
            }
            if (sessions.size() >= MAX_CONNECTIONS) {
                LOG.warnf("direct calls: %d connections open, refusing %s", MAX_CONNECTIONS, s.getRemoteSocketAddress());
                closeQuietly(s);
                continue;
            }
            DirectSession ds;
            try {
                s.setTcpNoDelay(true);
                ds = new DirectSession(this, s);
            } catch (IOException e) {
                closeQuietly(s);
                continue;
            }
            sessions.add(ds);
            threads.execute(ds::serve);
            // A peer that never logs in must not keep a thread for ever.
            timer.schedule(() -> {
                if (!ds.loggedIn()) {
                    ds.close();
                }
            }, LOGIN_SECONDS, TimeUnit.SECONDS);
        }
    }

    /** Calls in flight now, over all connections. */
    int running() {
        int n = 0;
        for (DirectSession s : sessions) {
            n += s.running();
        }
        return n;
    }

    /** Whether some connection has calls in flight or answers being written. */
    private boolean busy() {
        for (DirectSession s : sessions) {
            if (s.busy()) {
                return true;
            }
        }
        return false;
    }

    void ended(DirectSession s) {
        sessions.remove(s);
    }

    /** A call has left its connection without a reader: make sure the watchdog runs. */
    void callStarted() {
        if (watching == null) {
            synchronized (this) {
                if (watching == null && !closed) {
                    idleSince = 0;
                    watching = timer.scheduleWithFixedDelay(this::watch, SLOW_CALL_NANOS, SLOW_CALL_NANOS,
                            TimeUnit.NANOSECONDS);
                }
            }
        }
    }

    /**
     * Gives connections whose calls (or whose writer) have kept them from reading past the limit
     * another reader; stops after a second with no calls and nothing to write.
     */
    private void watch() {
        long now = System.nanoTime();
        boolean busy = false;
        for (DirectSession s : sessions) {
            if (s.busy()) {
                busy = true;
                if (s.needsReader(now, SLOW_CALL_NANOS)) {
                    threads.execute(s::serve);
                }
            }
        }
        if (busy) {
            idleSince = 0;
        } else if (idleSince == 0) {
            idleSince = now;
        } else if (now - idleSince > TimeUnit.SECONDS.toNanos(1)) {
            synchronized (this) {
                // Clear first, then look again: a call that started after the loop above either
                // sees null in callStarted (and schedules anew) or is counted here.
                ScheduledFuture<?> w = watching;
                watching = null;
                if (busy()) {
                    watching = w;
                    idleSince = 0;
                } else {
                    w.cancel(false);
                }
            }
        }
    }

    @Override
    public void close() {
        closed = true;
        closeQuietly(listener);
        for (DirectSession s : sessions) {
            s.close();
        }
        timer.shutdownNow();
        threads.shutdownNow();
    }

    static void closeQuietly(java.io.Closeable c) {
        try {
            c.close();
        } catch (IOException e) {
            // Closing anyway.
        }
    }
}
