package dev.orch.client;

import dev.orch.protocol.Addresses;
import dev.orch.protocol.AuthProofs;
import dev.orch.protocol.ErrorCode;
import dev.orch.protocol.FrameCodec;
import dev.orch.protocol.Frames;
import dev.orch.protocol.MalformedFrame;
import dev.orch.protocol.OrchException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantLock;
import org.jboss.logging.Logger;

/**
 * One client's connection to a {@link DirectServer}: the login with this worker in the server's
 * part, then calls on its hosted objects.
 *
 * <p>Whoever holds {@link #readRole} reads one frame, leaves the role and runs the call itself,
 * so a fast call is answered by the thread that read it with no hand-off. Then it tries to take
 * the role again; if another thread took it meanwhile (the server's watchdog starts one when a
 * call runs long, see {@link #needsReader}) it goes back to the pool.
 *
 * <p>A call read while {@link DirectServer#maxInFlight()} calls are in flight (read, not
 * answered yet) is answered 429 without running. Whoever holds {@link #writeLock} writes; a
 * thread that finds it taken queues what it writes for the holder, which writes the queue before
 * it lets go, and goes back to reading. So a client that does not read blocks one thread (the
 * watchdog gives the connection a reader behind it), and past
 * {@link DirectServer#maxPendingOutput()} bytes queued its connection is closed as a slow consumer.
 */
final class DirectSession {
    private static final Logger LOG = Logger.getLogger(DirectSession.class);
    private static final byte[] PONG = FrameCodec.encodeBytes(Frames.pong());

    private final DirectServer server;
    private final Socket socket;
    private final InputStream in;
    private final OutputStream out;
    private final ReentrantLock readRole = new ReentrantLock();
    private final ReentrantLock writeLock = new ReentrantLock();
    /** Frames waiting for the holder of writeLock, and their bytes. */
    private final ConcurrentLinkedQueue<byte[]> queued = new ConcurrentLinkedQueue<>();
    private final AtomicLong queuedBytes = new AtomicLong();
    /** Calls in flight: counted by their reader, until their answer is written or queued. */
    private final AtomicInteger running = new AtomicInteger();
    private final int maxInFlight;
    private final long maxPendingOutput;
    /** When a call left the read role free; 0 while a thread reads or a reader has been sent for. */
    private volatile long freeSince;
    private volatile boolean closed;
    private volatile boolean loggedIn;
    private volatile String caller;

    // Touched by the holder of readRole only.
    private final FrameBuffer frames = new FrameBuffer(16 * 1024);
    private byte[] clientNonce;
    private byte[] serverNonce;

    DirectSession(DirectServer server, Socket socket) throws IOException {
        this.server = server;
        this.socket = socket;
        this.in = socket.getInputStream();
        this.out = socket.getOutputStream();
        this.maxInFlight = server.maxInFlight();
        this.maxPendingOutput = server.maxPendingOutput();
    }

    boolean loggedIn() {
        return loggedIn;
    }

    int running() {
        return running.get();
    }

    /** Calls in flight, or a thread writing (perhaps blocked by a client that does not read), or frames queued. */
    boolean busy() {
        return running.get() > 0 || writeLock.isLocked() || !queued.isEmpty();
    }

    /**
     * True (once per stall) when calls, or a write its client does not take, have kept this
     * connection from reading for {@code limitNanos}.
     */
    boolean needsReader(long now, long limitNanos) {
        long since = freeSince;
        if (since != 0 && now - since > limitNanos && !readRole.isLocked() && !closed) {
            freeSince = 0;
            return true;
        }
        return false;
    }

    /** Reads and serves frames while this thread holds the read role. */
    void serve() {
        while (!closed) {
            if (!readRole.tryLock()) {
                return;
            }
            JsonObject frame;
            boolean isCall;
            try {
                freeSince = 0;
                frame = readFrame();
                isCall = frame != null && loggedIn && Frames.SEND.equals(frame.getValue(Frames.TYPE));
                if (isCall) {
                    if (running.get() >= maxInFlight) {
                        write(FrameCodec.encodeBytes(Frames.err(replyAddress(frame), new OrchException(ErrorCode.TOO_MANY,
                                "more than " + maxInFlight + " calls in flight"))));
                        continue;
                    }
                    // Counted before the role is given up: the next reader holds the connection to the limit.
                    running.incrementAndGet();
                }
            } catch (IOException e) {
                close();
                return;
            } finally {
                readRole.unlock();
            }
            if (frame == null) {
                continue;
            }
            if (isCall) {
                freeSince = System.nanoTime();
                server.callStarted();
                call(frame);
            } else {
                other(frame);
            }
        }
    }

    /** The next frame; null for a payload that is not a JSON object (answered with 400). */
    private JsonObject readFrame() throws IOException {
        while (true) {
            if (frames.hasLength()) {
                int len = frames.length();
                // Before login only what login takes, as at the server (PROTOCOL.md §3).
                int limit = loggedIn ? server.maxFrame() : Math.min(server.maxFrame(), FrameCodec.MAX_LOGIN_FRAME);
                if (len <= 0 || len > limit) {
                    writeLast(FrameCodec.encodeBytes(Frames.err(null, new OrchException(ErrorCode.FRAME_TOO_LARGE,
                            "frame length " + Integer.toUnsignedString(len) + " outside 1.." + limit
                            + (loggedIn ? "" : " before login")))));
                    throw new IOException("bad frame length");
                }
                if (frames.holds(len)) {
                    try {
                        return frames.take(len);
                    } catch (MalformedFrame e) {
                        write(FrameCodec.encodeBytes(Frames.err(e.replyAddress(), e)));
                        return null;
                    }
                }
            }
            if (!frames.fill(in)) {
                throw new IOException("closed by the client");
            }
        }
    }

    // ---- frames ----

    private static String replyAddress(JsonObject frame) {
        Object r = frame.getValue(Frames.REPLY_ADDRESS);
        return r instanceof String ? (String) r : null;
    }

    private void other(JsonObject frame) {
        Object type = frame.getValue(Frames.TYPE);
        String reply = replyAddress(frame);
        if (Frames.PING.equals(type)) {
            write(PONG);
        } else if (Frames.SEND.equals(type) && Addresses.AUTH.equals(frame.getValue(Frames.ADDRESS)) && !loggedIn) {
            auth(reply, frame.getValue(Frames.BODY));
        } else if (!loggedIn) {
            write(FrameCodec.encodeBytes(Frames.err(reply, new OrchException(ErrorCode.UNAUTHENTICATED, "log in first"))));
        } else {
            write(FrameCodec.encodeBytes(Frames.err(reply,
                    OrchException.badRequest("a worker takes only ping and calls on its objects, not '" + type + "'"))));
        }
    }

    private void auth(String reply, Object bodyValue) {
        JsonObject body = bodyValue instanceof JsonObject ? (JsonObject) bodyValue : new JsonObject();
        Object op = body.getValue("op");
        if ("challenge".equals(op)) {
            Object n = body.getValue("clientNonce");
            byte[] nonce = n instanceof String ? AuthProofs.unb64((String) n) : null;
            if (nonce == null || nonce.length < 16 || nonce.length > 1024) {
                write(FrameCodec.encodeBytes(Frames.err(reply, OrchException.badRequest("clientNonce must be base64 of 16 to 1024 bytes"))));
                return;
            }
            clientNonce = nonce;
            serverNonce = AuthProofs.nonce();
            // Our proof waits for the login reply, as the server's does (PROTOCOL.md §3).
            write(FrameCodec.encodeBytes(Frames.message(reply, null, new JsonObject()
                    .put("serverNonce", AuthProofs.b64(serverNonce))
                    .put("alg", AuthProofs.ALGORITHM))));
        } else if ("login".equals(op)) {
            Object p = body.getValue("proof");
            byte[] proof = p instanceof String ? AuthProofs.unb64((String) p) : null;
            if (serverNonce == null || proof == null
                    || !AuthProofs.matches(AuthProofs.clientProof(server.authKey(), serverNonce, clientNonce), proof)) {
                LOG.infof("direct calls: refused login from %s", socket.getRemoteSocketAddress());
                writeLast(FrameCodec.encodeBytes(Frames.err(reply, new OrchException(ErrorCode.UNAUTHENTICATED,
                        serverNonce == null ? "login before challenge" : "wrong auth key"))));
                return;
            }
            Object s = body.getValue("session");
            caller = s instanceof String ? (String) s : null;
            loggedIn = true;
            write(FrameCodec.encodeBytes(Frames.message(reply, null, new JsonObject()
                    .put("session", server.session()).put("protocol", 1).put("server", "orch-worker/" + OrchClient.VERSION)
                    .put("maxFrame", server.maxFrame())
                    .put("serverProof", AuthProofs.b64(AuthProofs.serverProof(server.authKey(), clientNonce, serverNonce))))));
        } else {
            write(FrameCodec.encodeBytes(Frames.err(reply, OrchException.badRequest("orch.auth op must be 'challenge' or 'login'"))));
        }
    }

    /** Runs a call counted in {@link #running} and writes its answer, which ends the count. */
    private void call(JsonObject frame) {
        String reply = replyAddress(frame);
        byte[] answer;
        try {
            answer = HostedAnswers.answer(HostedAnswers.direct(reply), server.answerLimit(), () -> invoke(frame, reply));
        } catch (RuntimeException | Error e) {
            running.decrementAndGet();
            throw e;
        }
        write(answer, true);
    }

    private Object invoke(JsonObject frame, String reply) {
        Object address = frame.getValue(Frames.ADDRESS);
        if (!(address instanceof String) || !((String) address).startsWith(Addresses.OBJECT_PREFIX)) {
            throw OrchException.notFound("a worker takes calls on orch.obj.ID only, not " + address);
        }
        if (reply == null) {
            throw OrchException.badRequest("a call needs a replyAddress");
        }
        String id = ((String) address).substring(Addresses.OBJECT_PREFIX.length());
        HostedInstance h = server.object(id);
        if (h == null) {
            throw OrchException.notFound("this worker holds no object '" + id + "'");
        }
        Object b = frame.getValue(Frames.BODY);
        if (!(b instanceof JsonObject)) {
            throw OrchException.badRequest("call body must be an object");
        }
        JsonObject body = (JsonObject) b;
        Object m = body.getValue("method");
        if (!(m instanceof String)) {
            throw OrchException.badRequest("call body needs a string 'method'");
        }
        String method = (String) m;
        if (!h.exposed.contains(method)) {
            throw new OrchException(method.startsWith("_") ? ErrorCode.FORBIDDEN : ErrorCode.NOT_FOUND,
                    "'" + h.typeid + "' object has no exposed method '" + method + "'");
        }
        Object args = body.getValue("args");
        Object kwargs = body.getValue("kwargs");
        if ((args != null && !(args instanceof JsonArray)) || (kwargs != null && !(kwargs instanceof JsonObject))) {
            throw OrchException.badRequest("'args' must be an array and 'kwargs' an object");
        }
        return h.object.call(method, args == null ? new JsonArray() : (JsonArray) args,
                kwargs == null ? new JsonObject() : (JsonObject) kwargs, caller);
    }

    private void write(byte[] frame) {
        write(frame, false);
    }

    /**
     * Writes {@code frame} on this thread if no other thread writes now, else queues it for the
     * one that does. {@code answer}: it answers a call, whose count ends once the answer is in
     * the writer's hands (the lock held, or queued), so the watchdog never sees neither.
     */
    private void write(byte[] frame, boolean answer) {
        if (writeLock.tryLock()) {
            if (answer) {
                running.decrementAndGet();
            }
            try {
                out.write(frame);
                if (!queued.isEmpty()) {
                    drain();
                }
            } catch (IOException e) {
                close();
            } finally {
                writeLock.unlock();
            }
            if (!queued.isEmpty()) {
                flush(); // queued after the holder last looked: someone must write it
            }
            return;
        }
        long pending = queuedBytes.addAndGet(frame.length);
        if (pending > maxPendingOutput) {
            if (answer) {
                running.decrementAndGet();
            }
            slowConsumer(pending);
            return;
        }
        queued.add(frame);
        if (answer) {
            running.decrementAndGet();
        }
        flush();
    }

    /** Writes the queued frames unless another thread holds the write lock (it writes them). */
    private void flush() {
        while (!queued.isEmpty() && !closed && writeLock.tryLock()) {
            try {
                drain();
            } catch (IOException e) {
                close();
            } finally {
                writeLock.unlock();
            }
        }
    }

    /** Writes the queued frames; by the holder of the write lock. */
    private void drain() throws IOException {
        for (byte[] f; !closed && (f = queued.poll()) != null; ) {
            out.write(f);
            queuedBytes.addAndGet(-f.length);
        }
    }

    /** Writes {@code frame} after what is queued, waiting for the lock, then closes the connection. */
    private void writeLast(byte[] frame) {
        writeLock.lock();
        try {
            drain();
            out.write(frame);
        } catch (IOException e) {
            // Closing anyway.
        } finally {
            writeLock.unlock();
        }
        close();
    }

    /**
     * Closes the connection of a client that does not read its answers (the server's slow
     * consumer, PROTOCOL.md §8), at once: what it has not read is dropped. With SO_LINGER 0 the
     * close neither waits for the unread output nor, over TLS, for the write lock of a thread
     * blocked writing to this client (which the close wakes).
     */
    private void slowConsumer(long pending) {
        if (closed) {
            return;
        }
        LOG.warnf("direct calls: closing the connection from %s (session %s): a slow consumer, %d bytes of answers unwritten (limit %d)",
                socket.getRemoteSocketAddress(), caller, pending, maxPendingOutput);
        try {
            socket.setSoLinger(true, 0);
        } catch (IOException e) {
            // Closed already.
        }
        close();
    }

    void close() {
        if (closed) {
            return;
        }
        closed = true;
        DirectServer.closeQuietly(socket);
        queued.clear();
        server.ended(this);
    }
}
