package dev.orch.testing;

import dev.orch.client.ClientConfig;
import dev.orch.protocol.AuthProofs;
import io.vertx.core.json.JsonObject;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A peer on 127.0.0.1 that logs a client in as an orch server does (PROTOCOL.md §3, with
 * {@link TestServer#KEY}) and then stops answering, as a server that is stopped (SIGSTOP) or
 * wedged: it either goes on reading and dropping every frame, or stops reading altogether, so
 * that the client's writes fill the socket's buffers and block.
 */
public final class FrozenServer implements AutoCloseable {
    private final ServerSocket listener;
    private final boolean reads;
    private final List<Socket> accepted = new CopyOnWriteArrayList<>();

    private FrozenServer(boolean reads) throws IOException {
        this.reads = reads;
        listener = new ServerSocket();
        // Small, so that a client's large write blocks soon (set before bind: accepted sockets inherit it).
        listener.setReceiveBufferSize(16 * 1024);
        listener.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
        Thread t = new Thread(this::acceptLoop, "frozen-server");
        t.setDaemon(true);
        t.start();
    }

    /** Answers nothing after the login, reading and dropping what the client sends. */
    public static FrozenServer silent() throws IOException {
        return new FrozenServer(true);
    }

    /** Neither answers nor reads after the login. */
    public static FrozenServer notReading() throws IOException {
        return new FrozenServer(false);
    }

    public ClientConfig clientConfig() {
        return new ClientConfig().host("127.0.0.1").port(listener.getLocalPort()).authKey(TestServer.KEY);
    }

    private void acceptLoop() {
        while (!listener.isClosed()) {
            try {
                Socket s = listener.accept();
                accepted.add(s);
                Thread t = new Thread(() -> serve(s), "frozen-server-conn");
                t.setDaemon(true);
                t.start();
            } catch (IOException e) {
                return;
            }
        }
    }

    private void serve(Socket s) {
        try {
            DataInputStream in = new DataInputStream(s.getInputStream());
            DataOutputStream out = new DataOutputStream(s.getOutputStream());
            JsonObject challenge = read(in);
            byte[] clientNonce = AuthProofs.unb64(challenge.getJsonObject("body").getString("clientNonce"));
            byte[] serverNonce = AuthProofs.nonce();
            write(out, new JsonObject().put("type", "message").put("address", challenge.getString("replyAddress"))
                    .put("body", new JsonObject().put("serverNonce", AuthProofs.b64(serverNonce))
                            .put("alg", AuthProofs.ALGORITHM)));
            JsonObject login = read(in);
            write(out, new JsonObject().put("type", "message").put("address", login.getString("replyAddress"))
                    .put("body", new JsonObject().put("session", "frozen").put("protocol", 1).put("server", "orch/frozen")
                            .put("maxFrame", 64 * 1024 * 1024).put("idleTimeout", 120)
                            .put("serverProof", AuthProofs.b64(AuthProofs.serverProof(TestServer.KEY, clientNonce, serverNonce)))));
            if (reads) {
                byte[] sink = new byte[64 * 1024];
                while (in.read(sink) >= 0) {
                    // Dropped: nothing is ever answered.
                }
            }
        } catch (IOException e) {
            // The client went away.
        }
    }

    private static JsonObject read(DataInputStream in) throws IOException {
        byte[] b = new byte[in.readInt()];
        in.readFully(b);
        return new JsonObject(new String(b, StandardCharsets.UTF_8));
    }

    private static void write(DataOutputStream out, JsonObject frame) throws IOException {
        byte[] b = frame.encode().getBytes(StandardCharsets.UTF_8);
        byte[] f = new byte[4 + b.length];
        java.nio.ByteBuffer.wrap(f).putInt(b.length).put(b);
        out.write(f);
        out.flush();
    }

    @Override
    public void close() {
        try {
            listener.close();
        } catch (IOException e) {
            // Closing anyway.
        }
        for (Socket s : accepted) {
            try {
                s.close();
            } catch (IOException e) {
                // Closing anyway.
            }
        }
    }
}
