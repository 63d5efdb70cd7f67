package dev.orch.server;

import dev.orch.objects.ObjectNames;
import dev.orch.objects.SharedObject;
import dev.orch.protocol.Addresses;
import dev.orch.protocol.AuthProofs;
import dev.orch.protocol.ErrorCode;
import dev.orch.protocol.FrameCodec;
import dev.orch.protocol.FrameParser;
import dev.orch.protocol.MalformedFrame;
import dev.orch.protocol.NoRecipient;
import dev.orch.protocol.Frames;
import dev.orch.protocol.OrchException;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.EventLoop;
import io.netty.channel.SingleThreadEventLoop;
import io.vertx.core.AsyncResult;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.EventBus;
import io.vertx.core.eventbus.Message;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.impl.ContextInternal;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.NetSocket;
import io.vertx.core.net.impl.NetSocketInternal;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.RejectedExecutionException;
import org.jboss.logging.Logger;

/**
 * orch's front end for one client socket. It speaks the TCP event-bus bridge's frame format but,
 * unlike the stock bridge, checks frame sizes before buffering, authenticates before acting on
 * anything, answers every bad frame with an error, ignores client delivery headers, and caps
 * what one connection may hold. Everything here runs on the socket's event loop.
 */
final class BridgeConnection implements FrameParser.Listener {
    private static final Logger LOG = Logger.getLogger(BridgeConnection.class);
    /** Header carrying the caller's session on every message the bridge forwards. */
    static final String SESSION_HEADER = "orch.session";
    /** Header carrying the caller's reply address of a forwarded call: its id for a later {@code cancel}. */
    static final String CALL_HEADER = "orch.call";
    /** Marks the return of an answer whose caller had gone (see {@link dev.orch.objects.SharedObject#undelivered}). */
    static final String UNDELIVERED_HEADER = "orch.undelivered";
    /** In a given-back answer: the holds it carried for its references (see {@link HeldAnswer}). */
    static final String HELD_FIELD = "held";
    /** Calls may legitimately wait for days (Queue.get); the objects enforce their own timeouts. */
    private static final long FORWARD_TIMEOUT_MS = Integer.MAX_VALUE;
    /**
     * Queued output written at once rather than at the end of the event-loop turn. On epoll one
     * turn may read tens of MB from one socket (Netty goes on reading in tasks of that turn), and
     * both the pause of a client that does not read and the bound on its output are decided when
     * output is written.
     */
    private static final int FLUSH_NOW_BYTES = 64 * 1024;
    /** How long a close waits for the client to read the frames queued before it. */
    private static final long CLOSE_GRACE_MS = 2000;
    /** The answer, instead of an item, to a get answered once the client's input had ended (see {@link #onEnd}). */
    private static final OrchException ITEM_WITHDRAWN = new OrchException(ErrorCode.CANCELLED, "Cancelled",
            "the client ended its side of the connection before the item was sent: it stays in the queue");
    /** Where the answers to the cancels a connection sends for itself go (see {@link #onEnd}). */
    private static final ObjectShard.Answer IGNORED = new ObjectShard.Answer() {
        @Override
        public void result(JsonObject reply) {
        }

        @Override
        public void failure(OrchException error) {
        }
    };
    /**
     * Frames longer than this are parsed on a worker thread, this connection not being read
     * meanwhile: parsing 256 KiB takes a millisecond or two, a 16 MiB frame hundreds, which every
     * other connection of the event loop would wait out.
     */
    static final int PARSE_ELSEWHERE_ABOVE = 256 * 1024;

    private final Vertx vertx;
    private final Context context;
    private final NetSocket socket;
    private final ServerConfig config;
    private final Sessions sessions;
    private final ServerState state;
    private final EventBus eventBus;
    private final FrameParser parser;

    private byte[] clientNonce;
    private byte[] serverNonce;
    private String session;
    private String clientName;
    private boolean closed;
    /** Set once this side began to close the connection. */
    private boolean closing;
    private volatile int inFlight;
    /**
     * The requests whose answers the client awaits (those with a reply address), by that address:
     * answers, parked calls and their cancels are matched by it (PROTOCOL.md §2), so one may not
     * name two requests at once.
     */
    private final CallsInFlight calls = new CallsInFlight();
    /** Set once the client's input ended: what is owed is answered, then the connection closes. */
    private boolean inputEnded;
    private long endDeadline = -1;
    private final long connectedAt = System.nanoTime();
    /** When the client last sent a whole frame or had an answer; bytes of a frame not yet whole do not count. */
    private long lastActivity = connectedAt;
    private long idleTimer = -1;
    private DeliveryOptions forwardOptions;
    private final ObjectShard shard;
    private volatile Thread loop;
    /** Addresses this client registered, each with its event-bus consumer. */
    private final Map<String, MessageConsumer<Object>> registrations = new HashMap<>();
    /** Messages delivered to this client that await its answer, by their reply address. */
    private final Map<String, Message<Object>> awaitingAnswer = new HashMap<>();
    /** Frames encoded since the last flush. */
    private final FrameOut out;
    /**
     * What the answers queued in {@link #out} gave their callers, as (address, method, result,
     * the answer's address, start and end of its frame in {@link #out}, the holds it carries or
     * null) laid flat, so the hot path allocates nothing; see {@link #givesBack}.
     */
    private final List<Object> unwritten = new ArrayList<>();
    private static final int NOTE = 7;
    /** Noted answers whose write failed, given back together (see {@link #lostAnswer}). */
    private final List<Object> lostAnswers = new ArrayList<>();
    /** Bytes handed to the socket and not written out to the client yet. */
    private long unwrittenBytes;
    /** Set once the connection was cut off for not reading its output; nothing more is written. */
    private boolean cutOff;
    private final Runnable flushTask = this::flush;
    /** Reading stops while the client does not read its output, and while a frame is parsed elsewhere. */
    private boolean pausedForOutput;
    private boolean pausedForParse;

    /** The shard on this connection's event loop, whose objects it calls directly; null if none. */
    ObjectShard localShard() {
        return shard;
    }

    /**
     * @param shard the object shard on this connection's event loop, whose objects this
     *     connection calls directly; null to go through the event bus for every call
     */
    BridgeConnection(Vertx vertx, NetSocket socket, ServerConfig config, Sessions sessions, ServerState state,
            ObjectShard shard) {
        this.shard = shard;
        this.vertx = vertx;
        this.context = vertx.getOrCreateContext();
        this.socket = socket;
        this.config = config;
        this.sessions = sessions;
        this.state = state;
        this.eventBus = vertx.eventBus();
        // Until login a peer gets only what login takes (PROTOCOL.md §3); onAuth raises the limit.
        this.out = new FrameOut(config.maxFrame());
        this.parser = new FrameParser(Math.min(config.maxFrame(), FrameCodec.MAX_LOGIN_FRAME), this);
    }

    void start() {
        loop = Thread.currentThread();
        parser.offload(PARSE_ELSEWHERE_ABOVE, this::parseElsewhere);
        EndOfInput.install(((NetSocketInternal) socket).channelHandlerContext());
        socket.handler(chunk -> {
            if (chunk.length() == 0) {
                parser.end(); // the input's end, as EndOfInput marks it
            } else {
                parser.handle(chunk);
            }
        });
        socket.closeHandler(v -> onClosed());
        socket.exceptionHandler(e -> {
            LOG.debugf("connection %s: %s", socket.remoteAddress(), e.getMessage());
            closeSocket();
        });
        long period = Math.max(250, Math.min(config.idleTimeout().toMillis(), config.loginTimeout().toMillis()) / 4);
        idleTimer = vertx.setPeriodic(period, id -> checkIdle());
        state.pendingLogins().admit(waiting);
    }

    /** This connection as {@link PendingLogins} sees it, from any event loop. */
    private final PendingLogins.Waiting waiting = new PendingLogins.Waiting() {
        @Override
        public void evict() {
            // At once when on this loop (always, with one loop): queued behind a flood's reads,
            // the closes came too late, each evicted connection still holding its frame.
            if (Vertx.currentContext() == context) {
                evictNow();
            } else {
                context.runOnContext(v -> evictNow());
            }
        }
    };

    private void evictNow() {
        if (session == null && !closed) {
            LOG.debugf("closing connection %s: too many connections wait to log in, and it waited longest",
                    socket.remoteAddress());
            closeSocket();
        }
    }

    String session() {
        return session;
    }

    /** The event-loop thread this connection runs on. */
    Thread loop() {
        return loop;
    }

    /** Requests sent by this client still awaiting their answer (read from any thread). */
    int inFlight() {
        return inFlight;
    }

    // ---- frames in ----

    @Override
    public void onFrame(JsonObject frame) {
        if (closed) {
            return;
        }
        lastActivity = System.nanoTime();
        Object type = frame.getValue(Frames.TYPE);
        String replyAddress = stringOrNull(frame.getValue(Frames.REPLY_ADDRESS));
        if (!(type instanceof String)) {
            write(Frames.err(replyAddress, OrchException.badRequest("frame has no string 'type'")));
            return;
        }
        switch ((String) type) {
            case Frames.PING:
                write(Frames.pong());
                break;
            case Frames.SEND:
                onSend(frame, replyAddress);
                break;
            case Frames.REGISTER:
                if (requireLogin(replyAddress)) {
                    onRegister(frame, replyAddress);
                }
                break;
            case Frames.UNREGISTER:
                if (requireLogin(replyAddress)) {
                    onUnregister(frame, replyAddress);
                }
                break;
            case Frames.PUBLISH:
                if (requireLogin(replyAddress)) {
                    write(Frames.err(replyAddress, new OrchException(ErrorCode.FORBIDDEN, "publish is not allowed")));
                }
                break;
            default:
                write(Frames.err(replyAddress, OrchException.badRequest("unknown frame type '" + type + "'")));
        }
    }

    @Override
    public void onMalformed(MalformedFrame error) {
        // A frame all the same: the client is active, if not well-spoken.
        lastActivity = System.nanoTime();
        if (session != null && Frames.SEND.equals(error.type()) && error.address() != null) {
            Message<Object> awaiting = awaitingAnswer.remove(error.address());
            if (awaiting != null) {
                // A worker's answer the server cannot take: its caller learns so instead of waiting.
                badReply(awaiting, error.detail());
                return;
            }
        }
        // To the request's reply address when it was readable, so that its caller is not left waiting.
        write(Frames.err(error.replyAddress(), error));
    }

    @Override
    public void onTooLarge(long announced) {
        write(Frames.err(null, new OrchException(ErrorCode.FRAME_TOO_LARGE,
                "frame length " + announced + " is outside 1.." + parser.maxFrame() + (session == null ? " before login" : ""))));
        closeSocket();
    }

    private void parseElsewhere(java.util.function.Supplier<Object> parse, java.util.function.Consumer<Object> deliver) {
        pausedForParse = true;
        updateReading();
        context.executeBlocking(parse::get, false).onComplete(ar -> {
            pausedForParse = false;
            if (closed) {
                return;
            }
            updateReading();
            if (ar.succeeded()) {
                deliver.accept(ar.result());
            } else {
                LOG.warnf(ar.cause(), "connection %s: a frame could not be parsed", socket.remoteAddress());
                closeSocket();
            }
        });
    }

    private void updateReading() {
        if (pausedForOutput || pausedForParse || inputEnded) {
            socket.pause();
        } else {
            socket.resume();
        }
    }

    private boolean requireLogin(String replyAddress) {
        if (session != null) {
            return true;
        }
        write(Frames.err(replyAddress, new OrchException(ErrorCode.UNAUTHENTICATED, "log in first")));
        return false;
    }

    private void onSend(JsonObject frame, String replyAddress) {
        Object address = frame.getValue(Frames.ADDRESS);
        if (!(address instanceof String)) {
            write(Frames.err(replyAddress, OrchException.badRequest("send has no string 'address'")));
            return;
        }
        if (frame.containsKey(Frames.REPLY_ADDRESS) && replyAddress == null) {
            write(Frames.err(null, OrchException.badRequest("'replyAddress' must be a string")));
            return;
        }
        String addr = (String) address;
        if (Addresses.AUTH.equals(addr)) {
            onAuth(frame.getValue(Frames.BODY), replyAddress);
            return;
        }
        if (!requireLogin(replyAddress)) {
            return;
        }
        Message<Object> awaiting = awaitingAnswer.remove(addr);
        if (awaiting != null) {
            answer(awaiting, frame.getValue(Frames.BODY));
            return;
        }
        if (!mayAddress(addr)) {
            write(Frames.err(replyAddress, new OrchException(ErrorCode.FORBIDDEN, "may not send to '" + ObjectNames.quoted(addr) + "'")));
            return;
        }
        Object body = frame.getValue(Frames.BODY);
        if (!(body instanceof JsonObject)) {
            write(Frames.err(replyAddress, OrchException.badRequest("'body' must be a JSON object")));
            return;
        }
        if (Frames.isCallAndCancel((JsonObject) body) && addr.startsWith(Addresses.OBJECT_PREFIX)) {
            // A cancel that is also a call: whichever was meant, doing the other would surprise.
            write(Frames.err(replyAddress, OrchException.badRequest("a body is a call ('method') or a cancel ('cancel'), not both")));
            return;
        }
        if (state.stopping()) {
            write(Frames.err(replyAddress, new OrchException(ErrorCode.SHUTTING_DOWN, "server is shutting down")));
            return;
        }
        // A send without a reply address counts too, while it runs or is parked: it holds as much.
        // Refused, it gets an err without address, as other frames without one do, and does not run.
        if (inFlight >= config.maxInFlight() && !isCancel(addr, (JsonObject) body)) {
            write(Frames.err(replyAddress, new OrchException(ErrorCode.TOO_MANY,
                    "more than " + config.maxInFlight() + " requests in flight")));
            return;
        }
        Pending pending = new Pending(addr, ((JsonObject) body).getValue("method"), replyAddress);
        if (replyAddress != null && !calls.add(pending)) {
            // Two calls under one address: a cancel could withdraw the wrong one, and their answers
            // could not be told apart. The first goes on as if this one was never sent.
            write(Frames.err(replyAddress, new OrchException(ErrorCode.NAME_TAKEN, "Conflict",
                    "replyAddress already in use by a request in flight")));
            return;
        }
        inFlight++;
        if (shard != null && addr.startsWith(Addresses.OBJECT_PREFIX) && shard.invokeHere(
                addr.substring(Addresses.OBJECT_PREFIX.length()), (JsonObject) body, session, replyAddress, pending)) {
            return;
        }
        DeliveryOptions options = forwardOptions;
        if (replyAddress != null && addr.startsWith(Addresses.OBJECT_PREFIX)) {
            // Its id, should the client cancel it; calls run here directly (above) carry it as an argument.
            options = new DeliveryOptions(forwardOptions).addHeader(CALL_HEADER, replyAddress);
        }
        eventBus.request(addr, body, options, pending);
    }

    /**
     * A cancel (PROTOCOL.md §5) is answered at once and frees a parked call, so the in-flight
     * limit does not refuse it: a client at its limit can still withdraw what it waits for.
     */
    private static boolean isCancel(String address, JsonObject body) {
        return address.startsWith(Addresses.OBJECT_PREFIX) && Frames.isCancel(body);
    }

    /** Sends the answer to a request; on this connection's loop. */
    private void answered(String address, Object method, String replyAddress, Object reply, OrchException error) {
        inFlight--;
        lastActivity = System.nanoTime();
        boolean gives = error == null && givesBack(address, method, reply);
        List<String> held = HeldAnswer.of(reply);
        if (closed && gives) {
            giveBack(address, method, ((JsonObject) reply).getValue("result"), held);
            return;
        }
        if (closed || replyAddress == null) {
            // Gone, or the client asked for no answer (the request only had to be counted until now).
            if (held != null) {
                state.referents().releaseAll(held);
            }
            return;
        }
        if (gives && inputEnded) {
            // A client whose input ended may be dead: an item written to it could be lost (see onEnd).
            giveBack(address, method, ((JsonObject) reply).getValue("result"), held);
            write(Frames.err(replyAddress, ITEM_WITHDRAWN));
        } else if (error == null) {
            if (writeMessage(replyAddress, null, reply, gives ? address : null, method)) {
                if (!gives && held != null) {
                    // Before anything the client sends after reading it, such as the release of
                    // what it received: both go to the manager from this thread, in order.
                    adopt(held);
                }
            } else if (gives) {
                // Too large or deep to send: its caller gets an error, so what it took goes back.
                giveBack(address, method, ((JsonObject) reply).getValue("result"), held);
            } else if (held != null) {
                state.referents().releaseAll(held);
            }
        } else {
            write(Frames.err(replyAddress, error));
        }
        if (inputEnded && !closing && calls.isEmpty()) {
            LOG.debugf("connection %s (session %s): its input ended and it has its last answers", socket.remoteAddress(), session);
            closeSocket();
        }
    }

    /**
     * Whether an answer gave its caller something its object takes back (an item from a
     * {@code Queue.get}) if the answer never leaves, the caller being gone: an object's result.
     */
    private static boolean givesBack(String address, Object method, Object reply) {
        return method instanceof String && SharedObject.mayGiveBack((String) method) && reply instanceof JsonObject
                && address.startsWith(Addresses.OBJECT_PREFIX);
    }

    /** Returns an answer's result to its object, with the holds it carried for its references (or null). */
    @SuppressWarnings("unchecked")
    private void giveBack(Object address, Object method, Object result, Object held) {
        JsonObject body = new JsonObject().put("method", method).put("result", result);
        if (held != null) {
            body.put(HELD_FIELD, new JsonArray(new ArrayList<>((List<String>) held)));
        }
        eventBus.send((String) address, body,
                new DeliveryOptions().addHeader(UNDELIVERED_HEADER, "1").addHeader(SESSION_HEADER, session));
    }

    /** An answer carrying references reached this session: its holds become the session's references. */
    private void adopt(List<String> held) {
        eventBus.send(ManagerService.ADOPT, new JsonObject().put("session", session).put("ids", new JsonArray(new ArrayList<>(held))));
    }

    /**
     * A request in flight, answered either by a call run directly on this loop's shard (see
     * {@link ObjectShard#invokeHere}) or through the event bus.
     */
    private final class Pending extends CallsInFlight.Call implements ObjectShard.Answer, Handler<AsyncResult<Message<Object>>> {
        private final Object method;

        Pending(String address, Object method, String replyAddress) {
            super(address, replyAddress);
            this.method = method;
        }

        @Override
        public void result(JsonObject reply) {
            onLoop(() -> done(reply, null));
        }

        @Override
        public void failure(OrchException error) {
            // As the event bus would have carried it: code and wire message only.
            OrchException e = OrchException.fromWire(error.code().code(), error.wireMessage());
            onLoop(() -> done(null, e));
        }

        @Override
        public void handle(AsyncResult<Message<Object>> ar) {
            if (ar.succeeded()) {
                done(ar.result().body(), null);
            } else {
                done(null, toOrchException(address, ar.cause(), sessions));
            }
        }

        private void done(Object reply, OrchException error) {
            calls.remove(this);
            answered(address, method, replyAddress, reply, error);
        }
    }

    private void onLoop(Runnable r) {
        if (Thread.currentThread() == loop) {
            r.run();
        } else {
            context.runOnContext(v -> r.run());
        }
    }

    static OrchException toOrchException(String address, Throwable cause, Sessions sessions) {
        if (NoRecipient.matches(cause)) {
            // Nobody listens, or the consumer went (object released, host disconnected) with the call queued.
            if (address.startsWith(Addresses.OBJECT_PREFIX)) {
                String id = address.substring(Addresses.OBJECT_PREFIX.length());
                if (sessions.isOrphaned(id)) {
                    return new OrchException(ErrorCode.HOST_GONE, "the worker hosting this object disconnected");
                }
                return OrchException.notFound("no object '" + ObjectNames.quoted(id) + "'");
            }
            return OrchException.notFound("nothing listens on '" + ObjectNames.quoted(address) + "'");
        }
        if (cause instanceof ReplyException) {
            ReplyException re = (ReplyException) cause;
            switch (re.failureType()) {
                case TIMEOUT:
                    return new OrchException(ErrorCode.TIMEOUT, "no answer from '" + address + "'");
                default:
                    return OrchException.fromWire(re.failureCode(), re.getMessage());
            }
        }
        return OrchException.raised("InternalError", String.valueOf(cause.getMessage()));
    }

    /** Addresses a client may send to: the services and objects, never another session's. */
    private boolean mayAddress(String addr) {
        return addr.equals(Addresses.MANAGER) || addr.startsWith(Addresses.OBJECT_PREFIX) || state.isService(addr);
    }

    // ---- authentication ----

    private void onAuth(Object bodyValue, String replyAddress) {
        if (replyAddress == null) {
            write(Frames.err(null, OrchException.badRequest("orch.auth needs a replyAddress")));
            return;
        }
        if (session == null && state.stopping()) {
            // Said, not just closed: a connection closed at the login reads to clients as a
            // server that wants TLS, or none at all.
            write(Frames.err(replyAddress, new OrchException(ErrorCode.SHUTTING_DOWN, "server is shutting down")));
            closeSocket();
            return;
        }
        if (session != null) {
            write(Frames.err(replyAddress, OrchException.badRequest("already logged in")));
            return;
        }
        JsonObject body = bodyValue instanceof JsonObject ? (JsonObject) bodyValue : new JsonObject();
        String op = stringOrNull(body.getValue("op"));
        if ("challenge".equals(op)) {
            byte[] nonce = AuthProofs.unb64(stringOrNull(body.getValue("clientNonce")));
            if (nonce == null || nonce.length < 16 || nonce.length > 1024) {
                write(Frames.err(replyAddress, OrchException.badRequest("clientNonce must be base64 of 16 to 1024 bytes")));
                return;
            }
            clientNonce = nonce;
            serverNonce = AuthProofs.nonce();
            // No proof of ours yet: a MAC given to a peer that has proved nothing would let it
            // guess the key offline. Ours comes with the login reply.
            write(Frames.message(replyAddress, null, new JsonObject()
                    .put("serverNonce", AuthProofs.b64(serverNonce))
                    .put("alg", AuthProofs.ALGORITHM)));
        } else if ("login".equals(op)) {
            byte[] proof = AuthProofs.unb64(stringOrNull(body.getValue("proof")));
            if (serverNonce == null) {
                refuse(replyAddress, "login before challenge");
                return;
            }
            byte[] expected = AuthProofs.clientProof(config.authKey(), serverNonce, clientNonce);
            if (!AuthProofs.matches(expected, proof)) {
                refuse(replyAddress, "wrong auth key");
                return;
            }
            session = state.newSessionId();
            clientName = stringOrNull(body.getValue("name"));
            // A forwarded body was parsed from this client's frame and is not touched after the send.
            forwardOptions = new DeliveryOptions().setSendTimeout(FORWARD_TIMEOUT_MS).addHeader(SESSION_HEADER, session)
                    .setCodecName(SharedJsonCodec.NAME);
            sessions.add(session, this);
            state.pendingLogins().leave(waiting);
            parser.maxFrame(config.maxFrame());
            LOG.debugf("session %s logged in from %s as %s", session, socket.remoteAddress(), clientName);
            write(Frames.message(replyAddress, null, new JsonObject()
                    .put("session", session)
                    .put("protocol", 1)
                    .put("server", "orch/" + config.version())
                    .put("maxFrame", config.maxFrame())
                    .put("idleTimeout", idleTimeoutSeconds())
                    .put("serverProof", AuthProofs.b64(AuthProofs.serverProof(config.authKey(), clientNonce, serverNonce)))));
        } else {
            write(Frames.err(replyAddress, OrchException.badRequest("orch.auth op must be 'challenge' or 'login'")));
        }
    }

    /** Refused logins, server-wide: a warning an operator sees, at most every 10 s (a guessing attack). */
    private static final ThrottledWarning REFUSED = new ThrottledWarning(LOG);

    private void refuse(String replyAddress, String why) {
        REFUSED.occurred("refused a login from %s: %s (%d refused since the last warning)", socket.remoteAddress(), why);
        write(Frames.err(replyAddress, new OrchException(ErrorCode.UNAUTHENTICATED, why)));
        closeSocket();
    }

    // ---- registrations and messages out ----

    /**
     * With a {@code replyAddress}, the register is acknowledged (PROTOCOL.md §1): a client that
     * subscribes learns of a refusal as its call's error, not as an {@code err} naming nothing.
     */
    private void onRegister(JsonObject frame, String replyAddress) {
        String addr = stringOrNull(frame.getValue(Frames.ADDRESS));
        if (addr == null) {
            write(Frames.err(replyAddress, OrchException.badRequest("register has no string 'address'")));
            return;
        }
        if (!mayRegister(addr)) {
            write(Frames.err(replyAddress, new OrchException(ErrorCode.FORBIDDEN, "may not register '" + ObjectNames.quoted(addr) + "'")));
            return;
        }
        if (!registrations.containsKey(addr)) {
            if (registrations.size() >= config.maxRegistrations()) {
                write(Frames.err(replyAddress, new OrchException(ErrorCode.TOO_MANY,
                        "more than " + config.maxRegistrations() + " registrations")));
                return;
            }
            registrations.put(addr, eventBus.consumer(addr, this::deliver));
        }
        acknowledge(replyAddress, true);
    }

    private void acknowledge(String replyAddress, boolean result) {
        if (replyAddress != null) {
            writeMessage(replyAddress, null, new JsonObject().put("result", result), null, null);
        }
    }

    private boolean mayRegister(String addr) {
        if (addr.equals(Addresses.EVENTS) || addr.equals(Addresses.host(session)) || addr.startsWith(Addresses.replyPrefix(session))) {
            return true;
        }
        return addr.startsWith(Addresses.OBJECT_PREFIX)
                && sessions.mayHost(session, addr.substring(Addresses.OBJECT_PREFIX.length()));
    }

    private void onUnregister(JsonObject frame, String replyAddress) {
        String addr = stringOrNull(frame.getValue(Frames.ADDRESS));
        if (addr == null) {
            write(Frames.err(replyAddress, OrchException.badRequest("unregister has no string 'address'")));
            return;
        }
        MessageConsumer<Object> c = registrations.remove(addr);
        if (c != null) {
            c.unregister();
        }
        acknowledge(replyAddress, c != null);
    }

    /** Drops a registration on the manager's behalf (the object was released). Any thread. */
    void revoke(String address) {
        context.runOnContext(v -> {
            MessageConsumer<Object> c = registrations.remove(address);
            if (c != null) {
                c.unregister();
            }
        });
    }

    private void deliver(Message<Object> msg) {
        if (closed) {
            if (msg.replyAddress() != null) {
                msg.fail(ErrorCode.HOST_GONE.code(), new OrchException(ErrorCode.HOST_GONE, "the worker disconnected").wireMessage());
            }
            return;
        }
        if (msg.headers().contains(UNDELIVERED_HEADER)) {
            // Returns are for server-side objects only; a worker must never see one as a call.
            return;
        }
        Object body = msg.body();
        String caller = msg.headers().get(SESSION_HEADER);
        // A client's message to an object this worker hosts: a call or a cancel, nothing else.
        boolean call = caller != null && msg.address().startsWith(Addresses.OBJECT_PREFIX);
        if (call && body instanceof JsonObject && Frames.isCancel((JsonObject) body)) {
            // Workers take no cancels (a hosted call runs, it is never parked): nothing was withdrawn.
            if (msg.replyAddress() != null) {
                SharedJsonCodec.reply(msg, new JsonObject().put("result", false));
            }
            return;
        }
        if (inputEnded && msg.replyAddress() != null) {
            // Its answer could never come.
            msg.fail(ErrorCode.HOST_GONE.code(), new OrchException(ErrorCode.HOST_GONE, "the worker ended its connection").wireMessage());
            return;
        }
        if (call) {
            OrchException refused = checkCall(msg.address(), body);
            if (refused != null) {
                msg.fail(refused.code().code(), refused.wireMessage());
                return;
            }
            asHostedCall((JsonObject) body, caller);
        }
        String reply = msg.replyAddress();
        if (reply != null) {
            awaitingAnswer.put(reply, msg);
        }
        writeMessage(msg.address(), reply, body, null, null);
    }

    /**
     * A call as PROTOCOL.md §7 gives it to a worker: {@code method}, {@code args} and
     * {@code kwargs} always there, and the caller's {@code session} (hosts need it for
     * per-session semantics), nothing else. Calls come only from a front end's forward, whose
     * body is given away once sent, so it can be changed here.
     */
    private static void asHostedCall(JsonObject body, String caller) {
        boolean args = body.getValue("args") != null;
        boolean kwargs = body.getValue("kwargs") != null;
        if (body.size() > 1 + (args ? 1 : 0) + (kwargs ? 1 : 0)) {
            body.getMap().keySet().removeIf(k -> !k.equals("method") && !k.equals("args") && !k.equals("kwargs"));
        }
        if (!args) {
            body.put("args", new JsonArray());
        }
        if (!kwargs) {
            body.put("kwargs", new JsonObject());
        }
        body.put("session", caller);
    }

    /**
     * Why a call on a hosted object is refused before it reaches the worker, or null: checked as
     * the server checks calls on its own objects (§5), so that the worker gets only well-formed
     * calls and the caller the same error whoever hosts the object.
     */
    private OrchException checkCall(String address, Object body) {
        if (!(body instanceof JsonObject)) {
            return OrchException.badRequest("a call's body must be a JSON object");
        }
        JsonObject b = (JsonObject) body;
        Object args = b.getValue("args");
        Object kwargs = b.getValue("kwargs");
        if (!(b.getValue("method") instanceof String)) {
            return OrchException.badRequest("call body needs a string 'method'");
        }
        if ((args != null && !(args instanceof JsonArray)) || (kwargs != null && !(kwargs instanceof JsonObject))) {
            return OrchException.badRequest("'args' must be an array and 'kwargs' an object");
        }
        return checkExposed(address, b.getString("method"));
    }

    /** The server, not the worker, enforces a hosted type's exposed list, as it does for its own objects. */
    private OrchException checkExposed(String address, String m) {
        java.util.Set<String> exposed = sessions.hostedExposed(session, address.substring(Addresses.OBJECT_PREFIX.length()));
        if (exposed == null || exposed.contains(m)) {
            return null;
        }
        return new OrchException(m.startsWith("_") ? ErrorCode.FORBIDDEN : ErrorCode.NOT_FOUND,
                "object has no exposed method '" + m + "'");
    }

    /** A client's answer to a message it received: a result body, or {@code {"error":{…}}}. */
    private void answer(Message<Object> msg, Object body) {
        if (body instanceof JsonObject && ((JsonObject) body).getValue("error") instanceof JsonObject) {
            JsonObject e = ((JsonObject) body).getJsonObject("error");
            Object rawCode = e.getValue("code");
            int code = rawCode == null ? ErrorCode.REMOTE.code() : ErrorCode.fromJson(rawCode);
            if (!ErrorCode.isMethodFailure(code)) {
                badReply(msg, "error code " + Frames.shownValue(rawCode) + " is not a method's failure (an integer 400-599, not 401 or 413)");
                return;
            }
            String name = e.getValue("name") instanceof String ? e.getString("name") : ErrorCode.of(code).defaultName();
            String message = e.getValue("message") instanceof String ? e.getString("message") : "";
            msg.fail(code, new OrchException(code, name, message).wireMessage());
        } else if (isCall(msg) && !(body instanceof JsonObject && ((JsonObject) body).containsKey("result")
                && !((JsonObject) body).containsKey("error"))) {
            badReply(msg, "a call's answer must be {\"result\":…} or {\"error\":{…}}");
        } else {
            SharedJsonCodec.reply(msg, body);
        }
    }

    /** A method call on a hosted object, as forwarded to this connection's worker (see above). */
    private static boolean isCall(Message<Object> msg) {
        return msg.address().startsWith(Addresses.OBJECT_PREFIX) && msg.headers().contains(SESSION_HEADER);
    }

    private void badReply(Message<Object> msg, String why) {
        LOG.warnf("worker session %s answered a call on %s badly: %s", session, msg.address(), why);
        OrchException e = new OrchException(ErrorCode.BAD_REPLY, "the hosting worker answered badly: " + why);
        msg.fail(e.code().code(), e.wireMessage());
    }

    // ---- lifecycle ----

    /**
     * Closes a connection that has not logged in within the login timeout of its connect, whatever
     * it sent meanwhile, or a logged-in one idle for the idle timeout (PROTOCOL.md §3, §8). Idle
     * counts whole frames: a peer trickling the bytes of a frame that never completes is idle.
     */
    private void checkIdle() {
        long now = System.nanoTime();
        if (session == null) {
            if (now - connectedAt > config.loginTimeout().toNanos()) {
                LOG.debugf("closing connection %s: no login within %s", socket.remoteAddress(), config.loginTimeout());
                closeSocket();
            }
        } else if (now - lastActivity > config.idleTimeout().toNanos() && inFlight == 0) {
            LOG.debugf("closing idle connection %s (session %s)", socket.remoteAddress(), session);
            closeSocket();
        }
    }

    /**
     * The client's input ended: it shut down its write side, or its process died, which looks
     * the same (PROTOCOL.md §8). Nothing more is read. Its parked calls are withdrawn as its
     * cancels would withdraw them (each answered 499), so that a dead client's {@code get}
     * takes no item and its {@code acquire} no lock; the other requests are answered; then the
     * connection closes and the session ends as on a disconnect. No item is sent any more
     * either: written to a dead client it would be lost, so a {@code get} answered from now on
     * is answered 499 and its item stays in the queue. A call still unanswered after the host
     * timeout (a stuck worker's) no longer holds the connection.
     */
    @Override
    public void onEnd() {
        if (closed || closing || cutOff) {
            return;
        }
        inputEnded = true;
        updateReading();
        if (session == null) {
            closeSocket();
            return;
        }
        LOG.debugf("connection %s (session %s): its input ended", socket.remoteAddress(), session);
        withdrawUnwrittenItems();
        // A worker can answer nothing more.
        failAwaitingAnswer("the worker ended its connection");
        for (CallsInFlight.Call c : calls.snapshot()) {
            if (c.address.startsWith(Addresses.OBJECT_PREFIX)) {
                withdraw(c);
            }
        }
        if (closing) {
            return; // the withdrawals answered everything
        }
        if (calls.isEmpty()) {
            closeSocket();
            return;
        }
        endDeadline = vertx.setTimer(config.hostTimeout().toMillis(), id -> {
            if (!closed) {
                LOG.debugf("connection %s (session %s): closing it %d ms after its input ended, with calls unanswered",
                        socket.remoteAddress(), session, config.hostTimeout().toMillis());
                closeSocket();
            }
        });
    }

    /**
     * Sends the cancel the client would send for call {@code c}: parked, it is answered 499;
     * otherwise nothing changes. Calls on a worker's objects are never parked.
     */
    private void withdraw(CallsInFlight.Call c) {
        JsonObject cancel = Frames.cancel(c.replyAddress);
        if (shard != null && shard.invokeHere(c.address.substring(Addresses.OBJECT_PREFIX.length()), cancel, session, null, IGNORED)) {
            return;
        }
        // After the call, from the same sender: the event bus delivers them in order.
        eventBus.send(c.address, cancel, forwardOptions);
    }

    /**
     * Answers queued when the input ended, not written yet, that gave an item: answered 499
     * instead, their items given back last first, as {@link #answered} treats those that come
     * later. The server read the end first, as far as the client can tell.
     */
    private void withdrawUnwrittenItems() {
        for (int i = unwritten.size() - NOTE; i >= 0; i -= NOTE) {
            // Last first, so that the offsets of those before stay true.
            out.replace((Integer) unwritten.get(i + 4), (Integer) unwritten.get(i + 5),
                    Frames.err((String) unwritten.get(i + 3), ITEM_WITHDRAWN));
            giveBack(unwritten.get(i), unwritten.get(i + 1), unwritten.get(i + 2), unwritten.get(i + 6));
        }
        unwritten.clear();
    }

    /** Fails the messages delivered to this client that await its answer: none can come now. */
    private void failAwaitingAnswer(String why) {
        OrchException gone = new OrchException(ErrorCode.HOST_GONE, why);
        awaitingAnswer.values().forEach(m -> m.fail(gone.code().code(), gone.wireMessage()));
        awaitingAnswer.clear();
    }

    /**
     * Closes the socket after the frames queued for it; pending calls are failed by the close
     * handler. Completes once the socket is closed.
     */
    Future<Void> close() {
        Promise<Void> closedNow = Promise.promise();
        context.runOnContext(v -> closeSocket().onComplete(closedNow));
        return closedNow.future();
    }

    private Future<Void> closeSocket() {
        flush();
        if (!closing) {
            closing = true;
            // Nothing more it sends is acted on; a flood of connections refused before login
            // lingering here with their frames took the heap (8,000 ended a 256 MB server).
            parser.stop();
            // Vert.x closes once the queued output is written: a client that never reads it would
            // keep the connection, and its session with its locks and objects, for ever.
            vertx.setTimer(CLOSE_GRACE_MS, id -> {
                if (!closed) {
                    LOG.debugf("connection %s (session %s) did not read its last frames: closing it under them",
                            socket.remoteAddress(), session);
                    closeNow();
                }
            });
        }
        return socket.close();
    }

    /** Closes the channel without waiting for queued output, from the bridge's handler past Vert.x's close. */
    private void closeNow() {
        ((NetSocketInternal) socket).channelHandlerContext().close();
    }

    private void onClosed() {
        if (closed) {
            return;
        }
        closed = true;
        if (session == null) {
            state.pendingLogins().leave(waiting);
        }
        // Answers queued in this loop turn that will now never be written: a caller that died
        // just before (its end read in the same turn as the put that fed its get) takes nothing.
        giveBackAll(unwritten);
        unwritten.clear();
        vertx.cancelTimer(idleTimer);
        if (endDeadline != -1) {
            vertx.cancelTimer(endDeadline);
        }
        if (session != null) {
            // Before the registrations go: a call that finds none then learns the host is gone (410).
            sessions.remove(session);
        }
        registrations.values().forEach(MessageConsumer::unregister);
        registrations.clear();
        failAwaitingAnswer("the worker disconnected");
        if (session != null) {
            eventBus.publish(ManagerService.SESSION_CLOSED, session);
        }
    }

    /**
     * Queues a frame; frames written in one event-loop turn leave together in one socket write
     * (see {@link #flush}), so a batch of pipelined replies costs one syscall instead of one each;
     * once {@link #FLUSH_NOW_BYTES} are queued they are written without waiting for the turn's end.
     */
    private void write(JsonObject frame) {
        if (closed) {
            return;
        }
        if (out.isEmpty()) {
            scheduleFlush();
        }
        out.frame(frame);
        if (out.size() >= FLUSH_NOW_BYTES) {
            flush();
        }
    }

    /**
     * Like {@code write(Frames.message(address, replyAddress, body))}, without building the frame.
     * With {@code givenBy}, an answer that gave its caller something (see {@link #givesBack}): it
     * is noted until written, so that a close before then gives it back (see {@link #flush}).
     * False when the answer was not sendable and its caller gets an error instead (see
     * {@link FrameOut#message}).
     */
    private boolean writeMessage(String address, String replyAddress, Object body, String givenBy, Object method) {
        if (closed) {
            return true;
        }
        if (out.isEmpty()) {
            scheduleFlush();
        }
        int start = out.size();
        boolean queued = out.message(address, replyAddress, body);
        if (queued && givenBy != null) {
            unwritten.add(givenBy);
            unwritten.add(method);
            unwritten.add(((JsonObject) body).getValue("result"));
            unwritten.add(address);
            unwritten.add(start);
            unwritten.add(out.size());
            unwritten.add(HeldAnswer.of(body));
        }
        if (out.size() >= FLUSH_NOW_BYTES) {
            flush();
        }
        return queued;
    }

    private void scheduleFlush() {
        // A tail task runs once the loop has run every task queued in this turn, replies arriving
        // from the shards included, so they all join one write. Any other loop: the next task.
        EventLoop loop = ((ContextInternal) context).nettyEventLoop();
        if (loop instanceof SingleThreadEventLoop) {
            try {
                ((SingleThreadEventLoop) loop).executeAfterEventLoopIteration(flushTask);
            } catch (RejectedExecutionException stopping) {
                // Vert.x is closing: this loop and its sockets are going away with it.
            }
        } else {
            context.runOnContext(v -> flush());
        }
    }

    /**
     * Writes the queued frames, if any; before a close so that its last frames are not lost.
     * They go out in one system call, but an answer that gave its caller something (an item of a
     * queue) ends a piece of its own, whose write fails if the connection closes before all of
     * it reached the kernel (a slow consumer cut off, a client gone): the answer never arrived
     * whole, and what it gave goes back. Written past Vert.x, whose write has one outcome for all.
     */
    @SuppressWarnings("unchecked")
    private void flush() {
        ByteBuf frames = out.take();
        if (frames == null) {
            return;
        }
        if (closed || cutOff) {
            // Cut off, the answers are dropped: what they gave is given back on the close.
            frames.release();
            return;
        }
        int n = frames.readableBytes();
        unwrittenBytes += n;
        ChannelHandlerContext ctx = ((NetSocketInternal) socket).channelHandlerContext();
        if (unwritten.isEmpty()) {
            ctx.writeAndFlush(frames).addListener(f -> unwrittenBytes -= n);
        } else {
            int from = 0;
            for (int i = 0; i < unwritten.size(); i += NOTE) {
                int end = (Integer) unwritten.get(i + 5);
                Object[] note = unwritten.subList(i, i + NOTE).toArray(); // a result may be null
                int length = end - from;
                ctx.write(frames.retainedSlice(from, length)).addListener(f -> {
                    unwrittenBytes -= length;
                    if (!f.isSuccess()) {
                        lostAnswer(note);
                    } else if (note[6] != null) {
                        adopt((List<String>) note[6]);
                    }
                });
                from = end;
            }
            unwritten.clear();
            int rest = n - from;
            if (rest > 0) {
                ctx.write(frames.retainedSlice(from, rest)).addListener(f -> unwrittenBytes -= rest);
            }
            frames.release();
            ctx.flush();
        }
        if (unwrittenBytes > config.maxPendingOutput()) {
            dropSlowConsumer();
            return;
        }
        if (socket.writeQueueFull()) {
            // A client that does not read its replies stops being read: memory stays bounded.
            pausedForOutput = true;
            updateReading();
            socket.drainHandler(v -> {
                pausedForOutput = false;
                updateReading();
            });
        }
    }

    /**
     * An answer that will never reach its caller whole. Its write fails with those after it, in
     * order, so the give-backs wait for the last and go first-taken last: back at the head of a
     * queue, the items keep their order.
     */
    private void lostAnswer(Object[] note) {
        if (lostAnswers.isEmpty()) {
            context.runOnContext(v -> {
                giveBackAll(lostAnswers);
                lostAnswers.clear();
            });
        }
        lostAnswers.addAll(Arrays.asList(note));
    }

    /** Gives back what the noted answers gave, last first (see {@link #lostAnswer}). */
    private void giveBackAll(List<Object> notes) {
        for (int i = notes.size() - NOTE; i >= 0; i -= NOTE) {
            giveBack(notes.get(i), notes.get(i + 1), notes.get(i + 2), notes.get(i + 6));
        }
    }

    /**
     * Closes at once a connection whose client does not read what it is sent. Pausing its reads
     * stops its requests, not what the server pushes (events, calls to the objects a worker
     * hosts), which would otherwise pile up here without bound. A close waits for the output to
     * be written, which this client would never let happen, so the channel is closed under it.
     */
    private void dropSlowConsumer() {
        cutOff = true;
        LOG.warnf("closing connection %s (session %s%s): a slow consumer, %d bytes of output unread (limit %d)",
                socket.remoteAddress(), session, clientName == null ? "" : ", " + clientName, unwrittenBytes,
                config.maxPendingOutput());
        closeNow();
    }

    /** {@code --idle-timeout} for the login reply: whole seconds as an integer, else a fraction. */
    private Number idleTimeoutSeconds() {
        long ms = config.idleTimeout().toMillis();
        return ms % 1000 == 0 ? (Number) (ms / 1000) : (Number) (ms / 1000.0);
    }

    private static String stringOrNull(Object v) {
        return v instanceof String ? (String) v : null;
    }
}
