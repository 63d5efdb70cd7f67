package dev.orch.client;

import dev.orch.protocol.Addresses;
import dev.orch.protocol.AuthProofs;
import dev.orch.protocol.ErrorCode;
import dev.orch.protocol.FrameCodec;
import dev.orch.protocol.Frames;
import dev.orch.protocol.MalformedFrame;
import dev.orch.protocol.OrchException;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;

/**
 * One authenticated connection on a plain blocking socket: frames out, replies matched to
 * requests by reply address, messages for registered addresses handed to their handlers. Safe to
 * use from any thread.
 *
 * <p>Reading follows the leader/follower pattern: a thread that waits for a reply and finds no
 * one reading becomes the reader itself, reads until its own reply is in (completing any other
 * replies it meets), then hands the role to a waiting thread. A lone caller thus writes its
 * request and reads its answer on its own thread, with no thread hand-off on either side. A
 * background reader takes the role only while something needs frames nobody waits for: handlers
 * of registered addresses, asynchronous calls, or a watcher of the connection's loss.
 *
 * <p>Writes are combined: a thread that finds the socket busy leaves its frame in an outbox the
 * current writer sends with its own, so concurrent callers share system calls.
 *
 * <p>A caller whose deadline passes, or whose thread is interrupted, stops waiting as
 * {@link #stop} says: a request still in the outbox is dropped unsent; a call the server may hold
 * parked is cancelled and its caller waits for the server's word on it, so that nothing taken
 * for it is lost; other calls are given up. Neither timeouts nor interrupts end a blocking socket
 * read or write, so the watchdog ({@link #watch}) wakes a reader with a frame, and closes the
 * connection when the server has stopped answering or reading.
 */
final class ClientConnection {
    private static final org.jboss.logging.Logger LOG = org.jboss.logging.Logger.getLogger(ClientConnection.class);
    /** A message the server delivered to an address this client registered. */
    static final class Incoming {
        final String address;
        final String replyAddress;
        final Object body;

        Incoming(String address, String replyAddress, Object body) {
            this.address = address;
            this.replyAddress = replyAddress;
            this.body = body;
        }
    }

    /** A request awaiting its reply; {@link #waiter} is the thread blocked on it, if any. */
    private static final class Pending extends CompletableFuture<Object> {
        final String reply;
        final String address;
        final boolean async;
        final long started = System.nanoTime();
        volatile Thread waiter;
        /** When the caller stops waiting (see {@link ClientConnection#stop}). */
        volatile long deadline = Long.MAX_VALUE;
        /** The request, while it may still wait unsent in the outbox (then a stop drops it). */
        volatile byte[] unsent;
        /** True once the caller stopped waiting, for its deadline or an interrupt. */
        volatile boolean stopped;
        /** The stop was for the deadline, not an interrupt. */
        volatile boolean expired;
        /** True once a cancel was sent for this call, at {@link #cancelAt}. */
        volatile boolean cancelSent;
        volatile long cancelAt;
        /**
         * True once the server answered the cancel: its word is in, and the call's own answer is
         * sure to come (a withdrawn {@code Condition.wait} is answered only once it holds its
         * lock again, however long that takes), so the grace for an answer no longer applies.
         */
        volatile boolean cancelAnswered;
        /** When the watchdog sent a ping to wake the thread reading for this call; 0 if none. */
        volatile long pingAt;
        /**
         * Settled here, without the server's word, when its caller stopped waiting: the caller
         * makes its error when it throws, so that the time it gives is when it gave up.
         */
        volatile boolean abandoned;
        /** Abandoned before any of it was sent. */
        volatile boolean neverSent;
        /**
         * A call on an object the server itself holds, whose answer always comes (see sendCancel).
         * Set by the caller before it waits, so before anything can stop the call; plain, as what
         * reads it (a cancel's answer) comes after the stop.
         */
        boolean serverObject;

        Pending(String reply, String address, boolean async) {
            this.reply = reply;
            this.address = address;
            this.async = async;
        }

        /** True for the one thread that gets to stop this call (rare: a plain lock will do). */
        synchronized boolean claimStop() {
            if (stopped) {
                return false;
            }
            stopped = true;
            return true;
        }

        /** True for the one thread that gets to send this call's cancel. */
        synchronized boolean claimCancel() {
            if (cancelSent) {
                return false;
            }
            cancelAt = System.nanoTime();
            cancelSent = true;
            return true;
        }
    }

    /** Pings of every connection in this process; a daemon thread, so it never holds the JVM up. */
    private static final ScheduledExecutorService TIMER = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "orch-client-timer");
        t.setDaemon(true);
        timerThread = t;
        return t;
    });
    /** The thread of {@link #TIMER}: it must never run what a close completes (see fail). */
    private static volatile Thread timerThread;
    /** Inline hosted work longer than this has another thread take over reading. */
    private static final long INLINE_WATCHDOG_NANOS = TimeUnit.MILLISECONDS.toNanos(5);
    /** Longest a follower sleeps before checking the reader role again (guards against lost hand-offs). */
    private static final long FOLLOWER_NAP_NANOS = TimeUnit.MILLISECONDS.toNanos(20);
    /**
     * How long the server has to answer a cancel (or the ping that wakes a reader) while this
     * side waits on it, in a socket read or a stalled write: past it, the server is taken to be
     * gone or wedged and the connection is closed. The cancel's answer says whether the call was
     * withdrawn (the caller times out) or had already been answered (the caller gets that answer
     * rather than the server giving away what nobody receives); a caller that gave up without it
     * could lose an item taken for it. Time this side spends busy (a reader held up by a handler
     * or a collection pause) does not count: the answer is then waited for.
     */
    private static final long ANSWER_GRACE_NANOS = TimeUnit.SECONDS.toNanos(1);
    /** How long a write of a caller's interrupted thread may block before the connection is closed. */
    private static final long INTERRUPTED_WRITE_NANOS = TimeUnit.MILLISECONDS.toNanos(100);
    /** Background readers running inline work beyond which hosted work goes to the host's pool. */
    private static final int MAX_READERS = 8;
    /** Idle background readers kept; more end after a second without work. */
    private static final int IDLE_READERS_KEPT = 1;
    private static final long READER_IDLE_NANOS = TimeUnit.SECONDS.toNanos(1);
    /** Announced frame lengths from an authenticated peer above this cannot be held in one array. */
    private static final int MAX_ARRAY = Integer.MAX_VALUE - 16;
    /** Writes of large frames go out in pieces of this size (see writeFully). */
    private static final int WRITE_PIECE = 256 * 1024;
    private static final byte[] PING = FrameCodec.encodeBytes(Frames.ping());

    private final ClientConfig config;
    private final Map<String, Pending> pending = new ConcurrentHashMap<>();
    private final Map<String, Consumer<Incoming>> handlers = new ConcurrentHashMap<>();
    private final AtomicLong nextReply = new AtomicLong();
    private final AtomicInteger asyncInFlight = new AtomicInteger();
    private final CompletableFuture<Void> closed = new CompletableFuture<>();
    private final AtomicBoolean closing = new AtomicBoolean();
    private final ReentrantLock readRole = new ReentrantLock();
    private final ReentrantLock writeLock = new ReentrantLock();
    private final ConcurrentLinkedQueue<byte[]> outbox = new ConcurrentLinkedQueue<>();

    private Socket socket;
    /** The TCP socket under {@link #socket} when that is TLS: closed first, as it never blocks. */
    private Socket plain;
    private InputStream in;
    private OutputStream out;
    /** Read buffer, touched only by the holder of {@link #readRole}. */
    private final FrameBuffer frames = new FrameBuffer(64 * 1024);

    private volatile boolean watched;
    /** Sends frames of pipelined requests and frames posted by threads that must not block; null when none runs. */
    private volatile Thread writer;
    /** When the inline work of {@link #runOffReader} started; 0 when none runs. */
    private volatile long inlineSince;
    private volatile boolean watchdogArmed;
    /** Touched by the timer thread only (and under this lock on disarm). */
    private ScheduledFuture<?> watchdog;
    private long watchIdleSince;
    /** The call whose caller is reading for it (the watchdog ends its wait at its deadline or interrupt). */
    private volatile Pending leaderPending;
    /** True for a worker's direct connection (see {@link #toWorker}). */
    private volatile boolean direct;
    /** True while the writer is (about to be) parked with nothing to send. */
    private volatile boolean writerParked;
    /** Background reader threads: one reads, the others are idle or run offloaded handler work. */
    private final java.util.Set<Thread> readers = ConcurrentHashMap.newKeySet();
    private final java.util.concurrent.ConcurrentLinkedDeque<Thread> idleReaders = new java.util.concurrent.ConcurrentLinkedDeque<>();
    private volatile String session;
    /**
     * The largest frame the peer takes (its login reply's {@code maxFrame}): a bigger request
     * fails alone here, where the peer would close the connection and fail every call on it.
     */
    private volatile long maxFrame = Long.MAX_VALUE;
    private volatile JsonObject loginReply;
    private ScheduledFuture<?> pinger;
    /** Set once the timer has handed this connection's close to a thread of its own (see fail). */
    private final AtomicBoolean failing = new AtomicBoolean();
    /** Why this side closed the connection, for the errors of the calls it ends; null if it did not. */
    private volatile String closeReason;
    /** When the read now blocked in the socket began; 0 when no read is blocked. */
    private volatile long readWaitSince;
    /** When the write now in the socket began, or last got a piece out (see writeFully); 0 when none is. */
    private volatile long writeSince;
    /** The call whose own thread is writing now, if that thread is a synchronous caller. */
    private volatile Pending writingFor;
    /** Runs the handlers of {@link #subscribe}, off the reading thread. */
    private final OrderedHandlers subscribers = new OrderedHandlers();
    /** {@link #closed}, once the subscription messages read before the close have reached their handlers. */
    private final CompletableFuture<Void> closedNotice = new ClosedNotice();

    ClientConnection(ClientConfig config) {
        this.config = config;
    }

    /**
     * Marks this as a direct connection to a worker: hosted calls are never parked, so never
     * withdrawn, and the worker's err frames are checked as the server checks its answers.
     */
    void toWorker() {
        direct = true;
    }

    /** Connects, completes the TLS handshake if asked, and logs in, all within the connect timeout. */
    JsonObject open() {
        long deadline = deadline(config.connectTimeout());
        // Connect and log in under a guard that closes the socket at the deadline, rather than
        // with socket timeouts: one timed operation leaves a JDK socket non-blocking for good, and
        // every read after it costs two more system calls (a failed read and a poll).
        Socket s = new Socket();
        AtomicBoolean expired = new AtomicBoolean();
        ScheduledFuture<?> guard = deadline == Long.MAX_VALUE ? null : TIMER.schedule(() -> {
            expired.set(true);
            try {
                s.close();
            } catch (IOException e) {
                // Closing anyway.
            }
        }, timeoutMillis(deadline), TimeUnit.MILLISECONDS);
        boolean guardRan;
        try {
            try {
                s.setTcpNoDelay(true);
                s.connect(new InetSocketAddress(config.host(), config.port()));
                Socket open = s;
                if (config.tls()) {
                    plain = s;
                    open = Tls.wrap(s, config, timeoutMillis(deadline));
                }
                socket = open;
                in = open.getInputStream();
                out = open.getOutputStream();
            } catch (IOException e) {
                closeSocket();
                try {
                    s.close();
                } catch (IOException ignored) {
                    // Closing anyway.
                }
                throw new OrchConnectException("cannot connect to " + config.address() + ": "
                        + (expired.get() ? "no connection within " + config.connectTimeout().toMillis() + " ms"
                        // The JDK's message is the bare host name, which reads like no reason at all.
                        : e instanceof java.net.UnknownHostException ? "unknown host " + config.host() : describeTls(e)), e);
            }
            try {
                login(deadline);
            } catch (RuntimeException e) {
                close();
                if (expired.get()) {
                    throw new OrchConnectException("no login answer from " + config.address() + " within "
                            + config.connectTimeout().toMillis() + " ms");
                }
                if (e instanceof OrchAuthException) {
                    // The server closes as it refuses our proof; the refusal is the news.
                    throw e;
                }
                if (closeReason != null) {
                    throw new OrchConnectException("cannot log in to " + config.address() + ": " + closeReason, e);
                }
                if (!config.tls() && e instanceof OrchConnectException && !(e instanceof OrchAuthException) && loginReply == null) {
                    // A TLS listener drops a plain client's first frame: say so, not just "lost".
                    throw new OrchConnectException("connection to " + config.address() + " ended during login: not an orch server,"
                            + " or one that wants TLS (try --tls, or --tls-ca with its certificate)", e);
                }
                throw e;
            }
        } finally {
            // False when the guard has run or is running: then it closes the socket.
            guardRan = guard != null && !guard.cancel(false);
        }
        if (guardRan) {
            // The guard fired as the login finished: the socket is closed, or about to be.
            close();
            throw new OrchConnectException("no login answer from " + config.address() + " within "
                    + config.connectTimeout().toMillis() + " ms");
        }
        long every = pingMillis(config.pingInterval(), loginReply.getValue("idleTimeout"));
        if (every > 0) {
            // Through the writer thread: the timer must never block on a socket that is not drained.
            pinger = TIMER.scheduleAtFixedRate(() -> post(PING), every, every, TimeUnit.MILLISECONDS);
        }
        return loginReply;
    }

    /**
     * How often to ping (0: never): the configured interval, shortened to a third of the peer's
     * idle timeout (its login reply's {@code idleTimeout}, seconds, PROTOCOL.md §3; 120 when
     * absent) so that an idle connection stays open.
     */
    static long pingMillis(Duration configured, Object idleTimeout) {
        if (configured.isZero() || configured.isNegative()) {
            return 0;
        }
        long every = configured.getSeconds() >= Long.MAX_VALUE / 1000 ? Long.MAX_VALUE : configured.toMillis();
        double idleSeconds = idleTimeout instanceof Number ? ((Number) idleTimeout).doubleValue() : 120;
        if (idleSeconds > 0 && Double.isFinite(idleSeconds)) {
            every = Math.min(every, Math.max(10, (long) (idleSeconds * 1000 / 3)));
        }
        return Math.max(1, every);
    }

    private void login(long deadline) {
        byte[] clientNonce = AuthProofs.nonce();
        // Both ways a key mismatch shows (the server refuses our proof, or its own is wrong) read
        // the same, as they did when the server proved itself first.
        String wrongKey = "the server at " + config.address() + " does not know our auth key";
        JsonObject r;
        byte[] serverNonce;
        try {
            r = (JsonObject) call(Addresses.AUTH,
                    new JsonObject().put("op", "challenge").put("clientNonce", AuthProofs.b64(clientNonce)), deadline);
            serverNonce = AuthProofs.unb64(r.getString("serverNonce"));
            if (serverNonce == null) {
                throw new OrchAuthException(wrongKey);
            }
            JsonObject login = new JsonObject().put("op", "login")
                    .put("proof", AuthProofs.b64(AuthProofs.clientProof(config.authKey(), serverNonce, clientNonce)))
                    .put("name", config.name());
            if (config.loginSession() != null) {
                login.put("session", config.loginSession());
            }
            r = (JsonObject) call(Addresses.AUTH, login, deadline);
        } catch (OrchException e) {
            if (e.code() == ErrorCode.UNAUTHENTICATED) {
                throw new OrchAuthException(wrongKey);
            }
            throw e;
        } catch (ClassCastException e) {
            throw new OrchConnectException("the server at " + config.address() + " answered the login with something else");
        }
        // Our proof has gone out; until the server's proof checks out, this may be any peer that took it.
        if (!(r.getValue("serverProof") instanceof String) || !AuthProofs.matches(
                AuthProofs.serverProof(config.authKey(), clientNonce, serverNonce), AuthProofs.unb64(r.getString("serverProof")))) {
            throw new OrchAuthException(wrongKey);
        }
        loginReply = r;
        session = r.getString("session");
        Object limit = r.getValue("maxFrame");
        if (limit instanceof Number && ((Number) limit).longValue() > 0) {
            maxFrame = ((Number) limit).longValue();
        }
    }

    String session() {
        return session;
    }

    JsonObject loginReply() {
        return loginReply;
    }

    /** The local address of this connection's socket (where a worker also listens for direct calls). */
    java.net.InetAddress localAddress() {
        Socket s = socket;
        return s == null ? null : s.getLocalAddress();
    }

    // ---- requests ----

    /** Sends a request and waits for its reply body; a zero timeout waits for ever. */
    Object call(String address, JsonObject body, Duration timeout) {
        return call(address, body, deadline(timeout), false);
    }

    /**
     * As {@link #call(String, JsonObject, Duration)}, for a call on an object the server itself
     * holds (not one a worker hosts): withdrawn past its deadline, such a call is waited for to
     * its answer unless the server confirms the withdrawal (see {@link #sendCancel}).
     */
    Object callServerObject(String address, JsonObject body, Duration timeout) {
        return call(address, body, deadline(timeout), true);
    }

    private Object call(String address, JsonObject body, long deadline) {
        return call(address, body, deadline, false);
    }

    private Object call(String address, JsonObject body, long deadline, boolean serverObject) {
        Pending p = start(address, body, false, deadline);
        p.serverObject = serverObject;
        await(p);
        try {
            return p.getNow(null);
        } catch (java.util.concurrent.CompletionException e) {
            if (p.abandoned) {
                throw abandoned(p);
            }
            Throwable c = e.getCause();
            if (c instanceof OrchException && ((OrchException) c).code() == ErrorCode.CANCELLED && p.cancelSent) {
                // Withdrawn on the server, so nothing was taken or changed for it.
                throw p.expired ? timedOut(p) : new OrchException(ErrorCode.CANCELLED,
                        "the call was withdrawn: its thread was interrupted");
            }
            throw c instanceof RuntimeException ? (RuntimeException) c : new OrchConnectException(String.valueOf(c), c);
        }
    }

    /** The error of a call its caller stopped waiting for without the server's word (see {@link #stop}). */
    private static OrchException abandoned(Pending p) {
        if (p.expired) {
            OrchException e = timedOut(p);
            return p.neverSent ? new OrchException(ErrorCode.TIMEOUT, e.detail() + ", before it could be sent") : e;
        }
        return new OrchException(ErrorCode.CANCELLED, p.neverSent ? "the call was not sent: its thread was interrupted"
                : "stopped waiting after " + TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - p.started)
                + " ms: the thread was interrupted; the call itself cannot be withdrawn and may still take effect");
    }

    /** Sends a request; the future completes with the reply body or an {@link OrchException}. */
    CompletableFuture<Object> request(String address, JsonObject body) {
        asyncInFlight.incrementAndGet();
        Pending p = start(address, body, true, Long.MAX_VALUE);
        wakeBackground();
        return p;
    }

    private Pending start(String address, JsonObject body, boolean async, long deadline) {
        return start(address, reply -> FrameCodec.encodeSendBytes(address, reply, body), async, deadline);
    }

    /**
     * Starts a request whose frame {@code encode} makes from its reply address; {@code address}
     * says what it is for (an object's address makes it one the server may hold parked).
     */
    private Pending start(String address, java.util.function.Function<String, byte[]> encode, boolean async, long deadline) {
        Pending p = new Pending("r" + nextReply.incrementAndGet(), address, async);
        if (closed.isDone()) {
            settle(p, null, lost());
            return p;
        }
        byte[] frame;
        try {
            frame = encode.apply(p.reply);
        } catch (RuntimeException e) {
            // A body that cannot be sent (NaN, nesting too deep) fails this call alone, before
            // anything waits for its reply.
            settle(p, null, e);
            return p;
        }
        if (frame.length - 4 > maxFrame) {
            settle(p, null, new OrchException(ErrorCode.FRAME_TOO_LARGE, "the request is " + (frame.length - 4)
                    + " bytes; " + config.address() + " takes frames of at most " + maxFrame + " (server --max-frame)"));
            return p;
        }
        pending.put(p.reply, p);
        if (async && pumpingReader() != null) {
            // Started from a reply's callback on the reading thread: it sends what queued up
            // before it next blocks in read (readFrame), one system call for the whole batch.
            outbox.add(frame);
        } else if (async && asyncInFlight.get() > 1) {
            // Pipelining: the writer thread sends the frames queued meanwhile in one system call,
            // so the caller goes on encoding instead of paying a write per request.
            outbox.add(frame);
            wakeWriter();
        } else if (async) {
            write(frame);
        } else {
            p.deadline = deadline;
            p.waiter = Thread.currentThread();
            // The watchdog ends a write that blocks past the deadline (see watch).
            armWatchdog();
            outbox.add(frame);
            flush(p);
            if (!outbox.isEmpty()) {
                // Maybe left for a busy writer: a caller that stops waiting before it goes out drops it.
                p.unsent = frame;
            }
        }
        if (closed.isDone() && pending.remove(p.reply) != null) {
            settle(p, null, lost());
        }
        return p;
    }

    /**
     * Blocks until {@code p} is settled: reads frames itself while nobody else does, otherwise
     * sleeps until the reader completes {@code p} or hands over the role. An interrupt or the
     * deadline stops the call ({@link #stop}); the interrupt status is kept.
     */
    private void await(Pending p) {
        boolean interrupted = false;
        try {
            while (!p.isDone()) {
                if (Thread.interrupted()) {
                    interrupted = true;
                    stop(p, false);
                    continue;
                }
                long now = System.nanoTime();
                long deadline = p.deadline;
                boolean timed = !p.stopped && deadline != Long.MAX_VALUE;
                if (timed && now - deadline >= 0) {
                    stop(p, true);
                    continue;
                }
                if (p.cancelSent && !p.cancelAnswered && unresponsive(p.cancelAt, now)) {
                    fail(noAnswer("a cancel"));
                    continue;
                }
                if (readRole.tryLock()) {
                    // A reader thread that leads for its own call (inside a handler) must not
                    // give the role away from under this loop.
                    ReaderThread reader = pumpingReader();
                    if (reader != null) {
                        reader.pumping = false;
                    }
                    // Reads block without a timeout and ignore interrupts; the watchdog wakes
                    // this thread with a frame, or closes the connection (see watch).
                    // A call made by a handler this thread runs while it reads for its own call
                    // nests here (the role is reentrant): the outer call leads again after it.
                    Pending outer = leaderPending;
                    leaderPending = p;
                    armWatchdog();
                    try {
                        readUntil(p);
                    } finally {
                        leaderPending = outer;
                        if (reader != null) {
                            reader.pumping = true;
                        }
                        readRole.unlock();
                        handOver();
                    }
                } else {
                    LockSupport.parkNanos(this, timed ? Math.min(deadline - now, FOLLOWER_NAP_NANOS) : FOLLOWER_NAP_NANOS);
                }
            }
        } finally {
            p.waiter = null;
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /** Gives the reader role to a thread that needs it: a waiting caller, else the background reader. */
    private void handOver() {
        if (closed.isDone()) {
            return;
        }
        for (Pending q : pending.values()) {
            Thread w = q.waiter;
            if (w != null && !q.isDone()) {
                LockSupport.unpark(w);
                return;
            }
        }
        wakeBackground();
    }

    /** Reads for {@code p} until it is settled, or its caller must stop waiting (back in {@link #await}). */
    private void readUntil(Pending p) {
        Thread me = Thread.currentThread();
        while (!p.isDone() && !closed.isDone()) {
            if (p.stopped) {
                readFrame(Long.MAX_VALUE);
            } else if (me.isInterrupted() || !readFrame(p.deadline)) {
                return;
            }
        }
    }

    /** Whether the server may hold {@code p} parked: a call on an object, sent to the server itself. */
    private boolean withdrawable(Pending p) {
        return !direct && p.address.startsWith(Addresses.OBJECT_PREFIX) && !closed.isDone();
    }

    /**
     * {@code p}'s caller stops waiting, for its deadline ({@code expired}) or an interrupt; once.
     * A request still in the outbox is dropped unsent. A call the server may hold parked is
     * cancelled, and its caller waits for what the server says: withdrawn, or the answer it had
     * already given (an item taken from a queue must reach its caller), or neither yet, which for
     * a call on a server object means it is still running, not parked. Other calls are given up
     * at once, their answers dropped when they come.
     */
    private void stop(Pending p, boolean expired) {
        if (p.isDone() || !p.claimStop()) {
            return;
        }
        p.expired = expired;
        byte[] f = p.unsent;
        if (f != null && outbox.remove(f)) {
            p.neverSent = true;
            abandon(p);
        } else if (withdrawable(p)) {
            sendCancel(p);
        } else {
            abandon(p);
        }
    }

    /** Settles {@code p} without an answer; its caller makes the error (see {@link #abandoned}). */
    private void abandon(Pending p) {
        if (pending.remove(p.reply) != null) {
            p.abandoned = true;
            settle(p, null, new OrchException(ErrorCode.TIMEOUT, "abandoned"));
        }
    }

    /**
     * Asks the server, once, to withdraw {@code p} if it is parked; the call's own answer then says
     * how it ended. If nothing was withdrawn and the call's answer has not come, the call is still
     * running (the server writes a call's answer before its cancel's). A hosted one takes nothing
     * from a server object, and a stopped call on it ends at once. A call on a server object is
     * waited for: it may still take something for its caller, as a notified {@code Condition.wait}
     * that is taking its lock back does, and its answer says so.
     */
    private void sendCancel(Pending p) {
        if (!withdrawable(p) || !p.claimCancel()) {
            return;
        }
        // Unique among the connection's requests: theirs are "r" and digits only.
        Pending answer = new Pending(p.reply + "c", p.address, false);
        answer.whenComplete((body, error) -> {
            p.cancelAnswered = true;
            boolean withdrawn = body instanceof JsonObject && Boolean.TRUE.equals(((JsonObject) body).getValue("result"));
            // A lost connection fails p itself, with the reason.
            if (!withdrawn && p.stopped && !(p.serverObject && error == null) && !(error instanceof OrchConnectException)) {
                abandon(p);
            }
        });
        pending.put(answer.reply, answer);
        // Never on the caller's thread or the timer's: a socket that is not drained would hold them.
        post(FrameCodec.encodeSendBytes(p.address, answer.reply, Frames.cancel(p.reply)));
    }

    /**
     * Asks the server to withdraw the asynchronous request {@code f} (from {@link #request}) if it
     * is parked there. True if it may be: {@code f} then ends cancelled, or with the answer that
     * was already on its way; false if it cannot be withdrawn (not a call on a server object, or
     * already answered).
     */
    boolean withdraw(CompletableFuture<Object> f) {
        if (!(f instanceof Pending) || f.isDone() || !withdrawable((Pending) f)) {
            return false;
        }
        sendCancel((Pending) f); // once; a second withdraw waits for the same answer
        return true;
    }

    /**
     * Whether the server has failed to answer something sent at {@code since} for the whole
     * {@link #ANSWER_GRACE_NANOS}, while this side waited on it all along: in a read that found
     * nothing to read, or a write the server did not drain. Time spent busy here does not count.
     */
    private boolean unresponsive(long since, long now) {
        if (now - since < ANSWER_GRACE_NANOS) {
            return false;
        }
        long r = readWaitSince;
        long w = writeSince;
        return (r != 0 && now - r >= ANSWER_GRACE_NANOS) || (w != 0 && now - w >= ANSWER_GRACE_NANOS);
    }

    private String noAnswer(String what) {
        return "the server did not answer " + what + " within " + TimeUnit.NANOSECONDS.toMillis(ANSWER_GRACE_NANOS)
                + " ms (a call past its timeout or interrupted); it is taken to be gone";
    }

    // ---- frames in ----

    /**
     * Reads and dispatches one frame; false when {@code deadline} had passed before a read was
     * needed. The caller holds {@link #readRole}. Reads block without a timeout (see
     * {@link #open}); a reader whose deadline passes is woken by the watchdog (see {@link #watch}).
     */
    private boolean readFrame(long deadline) {
        try {
            while (true) {
                if (frames.hasLength()) {
                    int len = frames.length();
                    if (len <= 0 || len > MAX_ARRAY || (loginReply == null && len > FrameCodec.MAX_LOGIN_FRAME)) {
                        closeReason = loginReply == null
                                ? "it announced a frame of " + Integer.toUnsignedString(len) + " bytes before login (at most "
                                        + FrameCodec.MAX_LOGIN_FRAME + "): not an orch server?"
                                : "it announced a frame of " + Integer.toUnsignedString(len) + " bytes";
                        throw new IOException(closeReason);
                    }
                    if (frames.holds(len)) {
                        JsonObject frame;
                        try {
                            frame = frames.take(len);
                        } catch (MalformedFrame e) {
                            if (failUnreadable(e)) {
                                return true;
                            }
                            throw e;
                        }
                        dispatch(frame);
                        return true;
                    }
                }
                if (deadline != Long.MAX_VALUE && deadline - System.nanoTime() <= 0) {
                    return false;
                }
                if (!outbox.isEmpty()) {
                    flush(null);
                }
                // Memory for a frame is taken as its bytes arrive, not when its length does (FrameBuffer).
                readWaitSince = System.nanoTime();
                boolean open;
                try {
                    open = frames.fill(in);
                } finally {
                    readWaitSince = 0;
                }
                if (!open) {
                    throw new IOException("closed by the server");
                }
            }
        } catch (IOException | OrchException e) {
            // A broken stream or a frame that is not JSON: the peer cannot be trusted any more.
            onClosed();
            return true;
        }
    }

    /**
     * A reply that could not be read (a worker's answer nested too deeply, say) fails its call
     * only, when its address says which: the stream itself is intact. False if it does not.
     */
    private boolean failUnreadable(MalformedFrame e) {
        Pending p = e.address() == null ? null : pending.remove(e.address());
        if (p == null) {
            return false;
        }
        settle(p, null, new OrchException(ErrorCode.BAD_REPLY, "the answer could not be read: " + e.detail()));
        return true;
    }

    /**
     * A call on an object this worker does not hold (released, or never built here): answered
     * 404, as the Python worker answers it. The server routes none here once it has let go of
     * the object, but a caller left without an answer would wait for ever.
     */
    private void noSuchObject(String address, String replyAddress) {
        if (replyAddress == null) {
            return;
        }
        String id = address.substring(Addresses.OBJECT_PREFIX.length());
        sendEncoded(HostedAnswers.failure(HostedAnswers.viaServer(replyAddress), Long.MAX_VALUE,
                OrchException.notFound("this worker holds no object '" + id + "'")));
    }

    private void dispatch(JsonObject frame) {
        String type = frame.getString(Frames.TYPE, "");
        String address = frame.getString(Frames.ADDRESS);
        switch (type) {
            case Frames.MESSAGE: {
                Pending p = address == null ? null : pending.remove(address);
                if (p != null) {
                    settle(p, frame.getValue(Frames.BODY), null);
                    return;
                }
                Consumer<Incoming> h = address == null ? null : handlers.get(address);
                if (h != null) {
                    try {
                        h.accept(new Incoming(address, frame.getString(Frames.REPLY_ADDRESS), frame.getValue(Frames.BODY)));
                    } catch (RuntimeException e) {
                        // A failing handler must not take the connection, or other callers, down with it.
                        LOG.warnf("handler for %s failed: %s", address, e);
                    }
                } else if (address != null && address.startsWith(Addresses.OBJECT_PREFIX)) {
                    noSuchObject(address, frame.getString(Frames.REPLY_ADDRESS));
                }
                return;
            }
            case Frames.ERR: {
                Pending p = address == null ? null : pending.remove(address);
                OrchException e = Frames.toException(frame);
                if (p != null) {
                    settle(p, null, checked(p, e));
                } else if (e.code() == ErrorCode.UNAUTHENTICATED || e.code() == ErrorCode.FRAME_TOO_LARGE) {
                    close();
                } else if (address == null) {
                    // A refused register or send names nothing (PROTOCOL.md §1): no call to fail, but not silent.
                    // (One naming an abandoned call is that call's late answer, dropped as its result would be.)
                    LOG.warnf("the server at %s refused a frame: %s", config.address(), e.getMessage());
                }
                return;
            }
            default:
                // pong and anything newer than this client: nothing to do.
        }
    }

    /**
     * A worker's failure of a direct call as the server would pass it on (PROTOCOL.md §7): 401 and
     * 413 speak of the caller's connection, and from a method they are a 502 {@code BadReply}.
     */
    private OrchException checked(Pending p, OrchException e) {
        if (!direct || !p.address.startsWith(Addresses.OBJECT_PREFIX) || ErrorCode.isMethodFailure(e.failureCode())) {
            return e;
        }
        return new OrchException(ErrorCode.BAD_REPLY, "the worker answered with error code " + e.failureCode()
                + ", which is not a method's failure (400-599, not 401 or 413)");
    }

    private void settle(Pending p, Object body, RuntimeException error) {
        if (p.async) {
            asyncInFlight.decrementAndGet();
            if (p.cancelSent && error instanceof OrchException && ((OrchException) error).code() == ErrorCode.CANCELLED) {
                // Withdrawn at the caller's request (see withdraw): the future ends cancelled.
                error = new CancellationException("withdrawn on the server");
            }
        }
        Thread w = p.waiter;
        if (error != null) {
            p.completeExceptionally(error);
        } else {
            p.complete(body);
        }
        if (w != null && w != Thread.currentThread()) {
            LockSupport.unpark(w);
        }
    }

    // ---- the background reader ----

    /** Whether frames may arrive that no waiting caller will read. */
    private boolean backgroundNeeded() {
        return !closed.isDone() && (watched || !handlers.isEmpty() || asyncInFlight.get() > 0);
    }

    private void wakeBackground() {
        if (!backgroundNeeded()) {
            return;
        }
        if (readRole.isLocked() && !readers.isEmpty()) {
            // Someone reads; whoever releases the role hands it over (handOver).
            return;
        }
        if (readers.isEmpty()) {
            synchronized (this) {
                if (readers.isEmpty() && !closed.isDone()) {
                    startReader();
                }
            }
            return;
        }
        Thread idle = idleReaders.peek();
        if (idle != null) {
            LockSupport.unpark(idle);
        } else {
            readers.forEach(LockSupport::unpark);
        }
    }

    private void startReader() {
        ReaderThread t = new ReaderThread(this);
        readers.add(t);
        t.start();
    }

    /**
     * A background reader; {@link #pumping} (read and written by this thread only) is true while it
     * dispatches frames for its connection from its read loop.
     */
    private static final class ReaderThread extends Thread {
        final ClientConnection owner;
        boolean pumping;

        ReaderThread(ClientConnection owner) {
            super("orch-client-reader");
            this.owner = owner;
            setDaemon(true);
        }

        @Override
        public void run() {
            owner.backgroundLoop(this);
        }
    }

    /** The current thread if it is one of this connection's readers dispatching a frame, else null. */
    private ReaderThread pumpingReader() {
        Thread t = Thread.currentThread();
        return t instanceof ReaderThread && ((ReaderThread) t).owner == this && ((ReaderThread) t).pumping
                ? (ReaderThread) t : null;
    }

    private void backgroundLoop(ReaderThread me) {
        try {
            while (!closed.isDone()) {
                if (backgroundNeeded() && readRole.tryLock()) {
                    boolean held = true;
                    try {
                        while (backgroundNeeded()) {
                            me.pumping = true;
                            try {
                                readFrame(Long.MAX_VALUE);
                            } finally {
                                me.pumping = false;
                            }
                            if (!readRole.isHeldByCurrentThread()) {
                                // A handler took this thread for its work (see offloadReader).
                                held = false;
                                break;
                            }
                        }
                    } finally {
                        if (held) {
                            readRole.unlock();
                            handOver();
                        }
                    }
                    continue;
                }
                // Woken by new work or a released role; the nap only bounds a missed hand-off, and is
                // long so that idle workers cost nothing at rest.
                long idleFrom = System.nanoTime();
                idleReaders.add(me);
                try {
                    LockSupport.parkNanos(this, READER_IDLE_NANOS);
                } finally {
                    idleReaders.remove(me);
                }
                if (System.nanoTime() - idleFrom >= READER_IDLE_NANOS && retire(me)) {
                    return;
                }
            }
        } finally {
            readers.remove(me);
        }
    }

    /**
     * Ends an idle reader unless it is one of the few kept: a burst of long inline calls starts
     * readers to take over reading (see watch), and they must not outlive it.
     */
    private boolean retire(ReaderThread me) {
        synchronized (this) {
            // Under the lock startReader takes, so that two readers never both leave the last one.
            if (readers.size() <= IDLE_READERS_KEPT) {
                return false;
            }
            readers.remove(me);
        }
        // A wake-up may have been meant for this thread.
        if (backgroundNeeded() && !readRole.isLocked()) {
            wakeBackground();
        }
        return true;
    }

    /**
     * Runs a handler's {@code work} on this thread when called from a background reader's
     * dispatch (leader/follower): the thread leaves the reader role free while the work runs and
     * takes it back afterwards, so a short call costs no thread wake-up. Work that runs longer
     * than {@link #INLINE_WATCHDOG_NANOS} has another reader woken by the watchdog, and work that
     * waits for a reply on this connection reads for itself; either way other frames keep
     * flowing. Returns false, running nothing, when the handler runs on a thread that must go on
     * reading (a caller waiting for its reply); the handler then passes its work to another thread.
     */
    boolean runOffReader(Runnable work) {
        ReaderThread me = pumpingReader();
        if (me == null || !readRole.isHeldByCurrentThread() || readRole.getHoldCount() != 1
                || readers.size() > MAX_READERS) {
            // Past MAX_READERS the readers are busy with inline work already: the pool takes it.
            return false;
        }
        me.pumping = false;
        readRole.unlock();
        inlineSince = System.nanoTime();
        armWatchdog();
        try {
            work.run();
        } finally {
            inlineSince = 0;
            // Back to reading, unless another thread took the role meanwhile (backgroundLoop then
            // sees it is not held and goes idle).
            if (readRole.tryLock()) {
                me.pumping = true;
            }
        }
        return true;
    }

    private void armWatchdog() {
        if (!watchdogArmed && !closed.isDone()) {
            synchronized (this) {
                if (!watchdogArmed) {
                    watchdogArmed = true;
                    watchdog = TIMER.scheduleWithFixedDelay(this::watch, INLINE_WATCHDOG_NANOS, INLINE_WATCHDOG_NANOS,
                            TimeUnit.NANOSECONDS);
                }
            }
        }
    }

    /**
     * Runs every {@link #INLINE_WATCHDOG_NANOS} while this connection is busy. It ends what a
     * blocking socket call would hold past its time: a write that blocks past its caller's
     * deadline or interrupt closes the connection (the frame may be half sent); a caller reading
     * for its own call past its deadline or interrupt is stopped ({@link #stop}) and woken by
     * the cancel's answer, or by a pong; and when the server answers neither within
     * {@link #ANSWER_GRACE_NANOS}, the connection is closed. It also wakes a reader when inline
     * work has held this connection's reading up too long, and disarms when idle.
     */
    private void watch() {
        long since = inlineSince;
        long now = System.nanoTime();
        Pending wp = writingFor;
        long ws = writeSince;
        if (wp != null && ws != 0 && !wp.stopped) {
            Thread t = wp.waiter;
            if (wp.deadline != Long.MAX_VALUE && now - wp.deadline >= 0) {
                fail("a request could not be written within its call timeout (" + TimeUnit.NANOSECONDS.toMillis(now - wp.started)
                        + " ms): the server is not reading; part of it may have been sent");
                return;
            }
            if (t != null && t.isInterrupted() && now - ws >= INTERRUPTED_WRITE_NANOS) {
                fail("the thread writing a request was interrupted: the server is not reading it; part of it may have been sent");
                return;
            }
        }
        Pending lp = leaderPending;
        if (lp != null) {
            watchIdleSince = 0;
            if (!lp.stopped && !lp.isDone()) {
                Thread w = lp.waiter;
                boolean interrupted = w != null && w.isInterrupted();
                if (interrupted || (lp.deadline != Long.MAX_VALUE && now - lp.deadline >= 0)) {
                    // The reader is blocked in read(), which neither ends: the answer to the cancel
                    // wakes it, or, when nothing was sent to the server, the pong.
                    stop(lp, !interrupted);
                    if (!lp.cancelSent) {
                        lp.pingAt = now;
                        post(PING);
                    }
                }
            }
            // Once the cancel is answered, the call's own answer is sure to come: no grace then.
            long asked = lp.cancelSent ? (lp.cancelAnswered ? 0 : lp.cancelAt) : lp.pingAt;
            if (asked != 0 && unresponsive(asked, now)) {
                fail(noAnswer(lp.cancelSent ? "a cancel" : "a ping"));
                return;
            }
        }
        if (since != 0) {
            watchIdleSince = 0;
            if (now - since > INLINE_WATCHDOG_NANOS && !readRole.isLocked() && backgroundNeeded()) {
                Thread idle = idleReaders.poll();
                if (idle != null) {
                    LockSupport.unpark(idle);
                } else {
                    synchronized (this) {
                        startReader();
                    }
                }
            }
            return;
        }
        if (lp != null || ws != 0) {
            return;
        }
        if (watchIdleSince == 0) {
            watchIdleSince = now;
        } else if (now - watchIdleSince > TimeUnit.SECONDS.toNanos(1) || closed.isDone()) {
            synchronized (this) {
                watchdog.cancel(false);
                watchdogArmed = false;
                watchIdleSince = 0;
            }
        }
    }

    // ---- frames out ----

    /** Sends without waiting for an answer (answers to messages the server delivered). */
    void send(String address, JsonObject body) {
        write(FrameCodec.encodeSendBytes(address, null, body));
    }

    /** Sends a frame encoded by {@link FrameCodec#encodeSendBytes}. */
    void sendEncoded(byte[] frame) {
        write(frame);
    }

    /**
     * Receives messages for {@code address} on the reading thread; handlers must not block: while
     * one runs, nothing else on this connection is read (see {@link #subscribe} for handlers that may).
     */
    void register(String address, Consumer<Incoming> handler) {
        handlers.put(address, handler);
        write(FrameCodec.encodeBytes(Frames.register(address)));
        wakeBackground();
    }

    /**
     * As {@link #register}, and waits (at most {@code timeout}) for the server to acknowledge it
     * (PROTOCOL.md §1). A refusal throws its {@link OrchException} and drops the handler, unless
     * the address was already served here (a refused replacement keeps nothing of the old one).
     */
    void registerAcknowledged(String address, Consumer<Incoming> handler, Duration timeout) {
        handlers.put(address, handler);
        wakeBackground();
        // Not an object's address: a register is never held parked, so never withdrawn.
        Pending p = start("register " + address, reply -> FrameCodec.encodeBytes(
                Frames.register(address).put(Frames.REPLY_ADDRESS, reply)), false, deadline(timeout));
        await(p);
        try {
            p.getNow(null);
        } catch (java.util.concurrent.CompletionException e) {
            handlers.remove(address, handler);
            if (p.abandoned) {
                throw abandoned(p);
            }
            Throwable c = e.getCause();
            throw c instanceof RuntimeException ? (RuntimeException) c : new OrchConnectException(String.valueOf(c), c);
        }
    }

    /**
     * Receives the bodies of messages for {@code address}: one at a time, in order, on a thread of
     * their own ({@link OrderedHandlers}), so a handler may take its time.
     */
    void subscribe(String address, Consumer<Object> handler, Duration timeout) {
        registerAcknowledged(address, in -> subscribers.run(() -> handler.accept(in.body), this::subscriberWaits), timeout);
    }

    /** Whether the thread running subscription handlers waits for a reply on this connection. */
    private boolean subscriberWaits() {
        Thread t = subscribers.current();
        if (t == null || closed.isDone()) {
            return true;
        }
        for (Pending p : pending.values()) {
            if (p.waiter == t) {
                return true;
            }
        }
        return false;
    }

    void unregister(String address) {
        if (handlers.remove(address) != null) {
            write(FrameCodec.encodeBytes(Frames.unregister(address)));
        }
    }

    private void write(byte[] frame) {
        if (closed.isDone()) {
            return;
        }
        outbox.add(frame);
        flush(null);
    }

    /**
     * Has the writer thread send {@code frame}: for a thread that must not block on a socket the
     * server does not drain (the timer, a caller that stopped waiting).
     */
    private void post(byte[] frame) {
        if (closed.isDone()) {
            return;
        }
        outbox.add(frame);
        wakeWriter();
    }

    /**
     * Sends what the outbox holds, unless another thread is sending (it then sends it too).
     * {@code owner} is the synchronous call whose thread this is, if any: the watchdog ends its
     * write if it blocks past the call's deadline.
     */
    private void flush(Pending owner) {
        // Whoever holds the lock sends what others queued meanwhile; re-check after unlocking so
        // a frame queued just before the release is not left behind.
        while (!outbox.isEmpty() && writeLock.tryLock()) {
            try {
                writeOutbox(owner);
            } finally {
                writeLock.unlock();
            }
        }
    }

    /** Writes what the outbox holds; the caller holds {@link #writeLock}. */
    private void writeOutbox(Pending owner) {
        try {
            byte[] first = outbox.poll();
            byte[] next = first == null ? null : outbox.poll();
            if (first == null) {
                return;
            }
            writingFor = owner;
            writeSince = System.nanoTime();
            if (next == null) {
                writeFully(first, first.length);
            } else {
                Batch batch = new Batch(first.length * 8);
                batch.write(first);
                do {
                    batch.write(next);
                } while ((next = outbox.poll()) != null);
                writeFully(batch.bytes(), batch.size());
            }
        } catch (IOException e) {
            outbox.clear();
            onClosed();
        } finally {
            writeSince = 0;
            writingFor = null;
        }
    }

    /**
     * Writes {@code len} bytes of {@code b}, a large frame in pieces: each piece the server takes
     * restarts {@link #writeSince}, so a write that moves is not taken for a server that stopped
     * reading (see unresponsive).
     */
    private void writeFully(byte[] b, int len) throws IOException {
        int off = 0;
        while (len - off > WRITE_PIECE) {
            out.write(b, off, WRITE_PIECE);
            off += WRITE_PIECE;
            writeSince = System.nanoTime();
        }
        out.write(b, off, len - off);
    }

    /** Frames written in one system call; its array is written as it is, not copied. */
    private static final class Batch extends java.io.ByteArrayOutputStream {
        Batch(int size) {
            super(size);
        }

        byte[] bytes() {
            return buf;
        }
    }

    private void wakeWriter() {
        if (!writerParked && writer != null) {
            // Busy writing: it sends this frame too before it parks again (see writeLoop).
            return;
        }
        // Under the lock the writer takes to retire: it either sees this frame or is replaced.
        synchronized (this) {
            writerParked = false;
            Thread w = writer;
            if (w != null) {
                LockSupport.unpark(w);
            } else if (!closed.isDone()) {
                w = new Thread(this::writeLoop, "orch-client-writer");
                w.setDaemon(true);
                writer = w;
                w.start();
            }
        }
    }

    /**
     * The writer thread: started by a pipelined request or a frame posted by a thread that must
     * not block; it ends after a second with nothing to send. It may block on the socket, so it
     * waits for the lock rather than spinning while a caller holds it.
     */
    private void writeLoop() {
        long idleSince = System.nanoTime();
        while (!closed.isDone()) {
            if (outbox.isEmpty()) {
                // Announce the park, then look again: a producer that queued after the first look
                // either sees the flag and unparks (a permit, if this thread is not parked yet), or
                // queued before the second look.
                writerParked = true;
                if (outbox.isEmpty()) {
                    LockSupport.parkNanos(this, TimeUnit.SECONDS.toNanos(1));
                }
                if (outbox.isEmpty() && System.nanoTime() - idleSince >= TimeUnit.SECONDS.toNanos(1)) {
                    // Still flagged as parked, so a producer goes through wakeWriter's lock.
                    synchronized (this) {
                        if (outbox.isEmpty()) {
                            writer = null;
                            writerParked = false;
                            return;
                        }
                    }
                }
                writerParked = false;
            } else {
                writeLock.lock();
                try {
                    writeOutbox(null);
                } finally {
                    writeLock.unlock();
                }
                idleSince = System.nanoTime();
            }
        }
        outbox.clear();
    }

    // ---- lifecycle ----

    /**
     * Completes when the connection closes, after the subscription messages read before have
     * reached their handlers; asking for it keeps a reader on the socket to notice.
     */
    CompletableFuture<Void> closedFuture() {
        if (!watched) {
            watched = true;
            wakeBackground();
        }
        return closedNotice;
    }

    /**
     * {@link #closedFuture}'s future. It completes from the subscription handlers' thread, after
     * the handlers queued before it, so a handler that waited for it there would wait for ever:
     * such a wait fails at once instead.
     */
    private final class ClosedNotice extends CompletableFuture<Void> {
        @Override
        public Void get() throws InterruptedException, ExecutionException {
            refuseHandlerWait();
            return super.get();
        }

        @Override
        public Void get(long timeout, TimeUnit unit) throws InterruptedException, ExecutionException, TimeoutException {
            refuseHandlerWait();
            return super.get(timeout, unit);
        }

        @Override
        public Void join() {
            refuseHandlerWait();
            return super.join();
        }

        private void refuseHandlerWait() {
            if (!isDone() && Thread.currentThread() == subscribers.current()) {
                throw new IllegalStateException("closedFuture() completes after the subscription handlers that"
                        + " run before it: a handler cannot wait for it (use thenRun instead)");
            }
        }
    }

    boolean isOpen() {
        return socket != null && !closed.isDone();
    }

    /** Throws what a call would now, for frames that expect no answer and so would go unnoticed. */
    void requireOpen() {
        if (closed.isDone()) {
            throw lost();
        }
    }

    void close() {
        closing.set(true);
        onClosed();
    }

    private void onClosed() {
        if (closed.isDone()) {
            return;
        }
        synchronized (this) {
            if (closed.isDone()) {
                return;
            }
            closeSocket();
            if (pinger != null) {
                pinger.cancel(false);
            }
            closed.complete(null);
        }
        if (subscribers.used()) {
            subscribers.then(() -> closedNotice.complete(null));
        } else {
            closedNotice.complete(null);
        }
        OrchConnectException lost = lost();
        for (Pending p : pending.values()) {
            if (pending.remove(p.reply) != null) {
                settle(p, null, lost);
            }
        }
        readers.forEach(LockSupport::unpark);
        Thread w = writer;
        if (w != null) {
            LockSupport.unpark(w);
        }
    }

    private void closeSocket() {
        // The TCP socket first: closing a TLS socket waits for a write blocked in it.
        for (Socket s : new Socket[] {plain, socket}) {
            if (s == null) {
                continue;
            }
            try {
                s.close();
            } catch (IOException e) {
                // Closing anyway.
            }
        }
    }

    private static OrchException timedOut(Pending p) {
        return new OrchException(ErrorCode.TIMEOUT,
                "call timed out after " + TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - p.started) + " ms");
    }

    private OrchConnectException lost() {
        String reason = closeReason;
        return new OrchConnectException(closing.get() ? "connection to " + config.address() + " closed"
                : reason != null ? "connection to " + config.address() + " closed: " + reason
                : "connection to " + config.address() + " lost");
    }

    /** Closes the connection for {@code reason}, which the calls it ends report. */
    private void fail(String reason) {
        if (closed.isDone()) {
            return;
        }
        if (closeReason == null) {
            closeReason = reason;
        }
        LOG.debugf("closing the connection to %s: %s", config.address(), reason);
        if (Thread.currentThread() == timerThread) {
            // The watchdog's verdict. The close completes closedFuture and fails asynchronous
            // calls, whose callbacks run on the completing thread and may block (a reconnect,
            // say): never on the timer, which keeps every connection's deadlines and pings.
            if (failing.compareAndSet(false, true)) {
                Thread t = new Thread(this::onClosed, "orch-client-close");
                t.setDaemon(true);
                t.start();
            }
            return;
        }
        onClosed();
    }

    /** The {@link System#nanoTime} deadline {@code timeout} from now; {@code Long.MAX_VALUE} for none or one beyond reach. */
    static long deadline(Duration timeout) {
        if (timeout.isZero() || timeout.isNegative()) {
            return Long.MAX_VALUE;
        }
        if (timeout.getSeconds() >= Long.MAX_VALUE / 2_000_000_000L) {
            // Over a century: as good as never (toNanos overflows past 292 years).
            return Long.MAX_VALUE;
        }
        long now = System.nanoTime();
        long d = now + timeout.toNanos();
        return d < now || d == Long.MAX_VALUE ? Long.MAX_VALUE : d;
    }

    private static int timeoutMillis(long deadline) {
        if (deadline == Long.MAX_VALUE) {
            return 0;
        }
        return (int) Math.max(1, Math.min(Integer.MAX_VALUE, (deadline - System.nanoTime()) / 1_000_000));
    }

    /** {@link #describe}, with what to do for the TLS failures a user meets first. */
    static String describeTls(Throwable e) {
        String m = String.valueOf(e.getMessage());
        if (e instanceof javax.net.ssl.SSLException && m.contains("Unsupported or unrecognized SSL message")) {
            return "the server does not speak TLS (connect without --tls, --tls-ca or ORCH_TLS_CA)";
        }
        if (e instanceof javax.net.ssl.SSLHandshakeException && (m.contains("PKIX path") || m.contains("certification path"))) {
            return "the server's certificate is not trusted (pass --tls-ca with it or with its CA)";
        }
        return describe(e);
    }

    static String describe(Throwable e) {
        String m = e.getMessage();
        if (m == null || m.isBlank()) {
            return e.getClass().getSimpleName();
        }
        // Some JDK messages are prefixed with the exception class; keep the human part.
        int colon = m.indexOf(": ");
        return colon > 0 && m.substring(0, colon).contains("Exception") ? m.substring(colon + 2) : m;
    }
}
