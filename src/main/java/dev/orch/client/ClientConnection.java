package dev.orch.client;

import dev.orch.protocol.AuthProofs;
import dev.orch.protocol.ErrorCode;
import dev.orch.protocol.FrameCodec;
import dev.orch.protocol.FrameParser;
import dev.orch.protocol.Frames;
import dev.orch.protocol.OrchException;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.NetClientOptions;
import io.vertx.core.net.NetSocket;
import io.vertx.core.net.PemTrustOptions;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * One authenticated connection: frames out, replies matched to requests by reply address,
 * messages for registered addresses handed to their handlers. Safe to use from any thread.
 */
final class ClientConnection {
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

    private final Vertx vertx;
    private final ClientConfig config;
    private final Map<String, CompletableFuture<Object>> pending = new ConcurrentHashMap<>();
    private final Map<String, Handler<Incoming>> handlers = new ConcurrentHashMap<>();
    private final AtomicLong nextReply = new AtomicLong();
    private final CompletableFuture<Void> closed = new CompletableFuture<>();
    private volatile NetSocket socket;
    private volatile String session;
    private volatile JsonObject loginReply;
    private long pingTimer = -1;

    ClientConnection(Vertx vertx, ClientConfig config) {
        this.vertx = vertx;
        this.config = config;
    }

    /** Connects and logs in; completes with the login reply. */
    Future<JsonObject> open() {
        NetClientOptions options = new NetClientOptions()
                .setConnectTimeout((int) Math.min(Integer.MAX_VALUE, config.connectTimeout().toMillis()))
                .setTcpNoDelay(true);
        if (config.tls()) {
            options.setSsl(true).setHostnameVerificationAlgorithm("");
            if (config.tlsCa() != null) {
                options.setTrustOptions(new PemTrustOptions().addCertPath(config.tlsCa().toString()));
            }
        }
        return vertx.createNetClient(options).connect(config.port(), config.host())
                .recover(e -> Future.failedFuture(new OrchConnectException(
                        "cannot connect to " + config.address() + ": " + describe(e), e)))
                .compose(this::login);
    }

    private Future<JsonObject> login(NetSocket s) {
        this.socket = s;
        FrameParser parser = new FrameParser(Integer.MAX_VALUE, new FrameParser.Listener() {
            @Override
            public void onFrame(JsonObject frame) {
                dispatch(frame);
            }

            @Override
            public void onMalformed(OrchException error) {
                // The server only sends JSON; a bad frame means a broken peer.
                s.close();
            }

            @Override
            public void onTooLarge(long announced) {
                s.close();
            }
        });
        s.handler(parser);
        s.closeHandler(v -> onClosed());
        s.exceptionHandler(e -> s.close());
        byte[] clientNonce = AuthProofs.nonce();
        Promise<JsonObject> done = Promise.promise();
        fromCompletable(request(dev.orch.protocol.Addresses.AUTH,
                new JsonObject().put("op", "challenge").put("clientNonce", AuthProofs.b64(clientNonce))))
                .compose(reply -> {
                    JsonObject r = (JsonObject) reply;
                    byte[] serverNonce = AuthProofs.unb64(r.getString("serverNonce"));
                    byte[] serverProof = AuthProofs.unb64(r.getString("serverProof"));
                    if (serverNonce == null || !AuthProofs.matches(
                            AuthProofs.serverProof(config.authKey(), clientNonce, serverNonce), serverProof)) {
                        s.close();
                        return Future.failedFuture(new OrchConnectException(
                                "the server at " + config.address() + " does not know our auth key"));
                    }
                    return fromCompletable(request(dev.orch.protocol.Addresses.AUTH, new JsonObject().put("op", "login")
                            .put("proof", AuthProofs.b64(AuthProofs.clientProof(config.authKey(), serverNonce, clientNonce)))
                            .put("name", config.name())));
                })
                .onSuccess(reply -> {
                    loginReply = (JsonObject) reply;
                    session = loginReply.getString("session");
                    long every = config.pingInterval().toMillis();
                    if (every > 0) {
                        pingTimer = vertx.setPeriodic(every, t -> write(Frames.ping()));
                    }
                    done.complete(loginReply);
                })
                .onFailure(e -> {
                    s.close();
                    if (e instanceof OrchException && ((OrchException) e).code() == ErrorCode.UNAUTHENTICATED) {
                        done.fail(new OrchConnectException("login to " + config.address() + " refused: wrong auth key"));
                    } else {
                        done.fail(e);
                    }
                });
        return done.future();
    }

    private static <T> Future<T> fromCompletable(CompletableFuture<T> cf) {
        Promise<T> p = Promise.promise();
        cf.whenComplete((v, e) -> {
            if (e != null) {
                p.fail(e);
            } else {
                p.complete(v);
            }
        });
        return p.future();
    }

    String session() {
        return session;
    }

    JsonObject loginReply() {
        return loginReply;
    }

    /** Sends a request; the future completes with the reply body or an {@link OrchException}. */
    CompletableFuture<Object> request(String address, JsonObject body) {
        CompletableFuture<Object> f = new CompletableFuture<>();
        if (closed.isDone()) {
            f.completeExceptionally(lost());
            return f;
        }
        String reply = "r" + nextReply.incrementAndGet();
        pending.put(reply, f);
        write(Frames.send(address, reply, body));
        if (closed.isDone() && pending.remove(reply) != null) {
            f.completeExceptionally(lost());
        }
        return f;
    }

    /** Sends without waiting for an answer (answers to messages the server delivered). */
    void send(String address, JsonObject body) {
        write(Frames.send(address, null, body));
    }

    void register(String address, Handler<Incoming> handler) {
        handlers.put(address, handler);
        write(Frames.register(address));
    }

    void unregister(String address) {
        if (handlers.remove(address) != null) {
            write(Frames.unregister(address));
        }
    }

    private void write(JsonObject frame) {
        NetSocket s = socket;
        if (s != null && !closed.isDone()) {
            s.write(FrameCodec.encode(frame));
        }
    }

    private void dispatch(JsonObject frame) {
        String type = frame.getString(Frames.TYPE, "");
        String address = frame.getString(Frames.ADDRESS);
        switch (type) {
            case Frames.MESSAGE: {
                CompletableFuture<Object> f = address == null ? null : pending.remove(address);
                if (f != null) {
                    f.complete(frame.getValue(Frames.BODY));
                    return;
                }
                Handler<Incoming> h = address == null ? null : handlers.get(address);
                if (h != null) {
                    h.handle(new Incoming(address, frame.getString(Frames.REPLY_ADDRESS), frame.getValue(Frames.BODY)));
                }
                return;
            }
            case Frames.ERR: {
                CompletableFuture<Object> f = address == null ? null : pending.remove(address);
                OrchException e = Frames.toException(frame);
                if (f != null) {
                    f.completeExceptionally(e);
                } else if (e.code() == ErrorCode.UNAUTHENTICATED || e.code() == ErrorCode.FRAME_TOO_LARGE) {
                    socket.close();
                }
                return;
            }
            default:
                // pong and anything newer than this client: nothing to do.
        }
    }

    private void onClosed() {
        if (pingTimer >= 0) {
            vertx.cancelTimer(pingTimer);
        }
        closed.complete(null);
        OrchConnectException lost = lost();
        pending.values().forEach(f -> f.completeExceptionally(lost));
        pending.clear();
    }

    private OrchConnectException lost() {
        return new OrchConnectException("connection to " + config.address() + " lost");
    }

    CompletableFuture<Void> closedFuture() {
        return closed;
    }

    boolean isOpen() {
        return socket != null && !closed.isDone();
    }

    void close() {
        NetSocket s = socket;
        if (s != null) {
            s.close();
        } else {
            closed.complete(null);
        }
    }

    static String describe(Throwable e) {
        String m = e.getMessage();
        if (m == null || m.isBlank()) {
            return e.getClass().getSimpleName();
        }
        // Netty prefixes messages with the exception class; keep the human part.
        int colon = m.indexOf(": ");
        return colon > 0 && m.substring(0, colon).contains("Exception") ? m.substring(colon + 2) : m;
    }
}
