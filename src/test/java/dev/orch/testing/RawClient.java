package dev.orch.testing;

import dev.orch.protocol.AuthProofs;
import io.vertx.core.json.JsonObject;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;

/**
 * A protocol client on a plain blocking {@link Socket}, written from PROTOCOL.md and nothing
 * else, so tests see exactly what a third-party client sees on the wire.
 */
public final class RawClient implements AutoCloseable {
    private final Socket socket;
    private final DataInputStream in;
    private final DataOutputStream out;
    public String session;

    public RawClient(String host, int port) {
        this(connect(host, port));
    }

    /** Over a connected socket: an accepted one, say, to play a worker's direct port. */
    public RawClient(Socket connected) {
        try {
            socket = connected;
            socket.setSoTimeout(10_000);
            in = new DataInputStream(socket.getInputStream());
            out = new DataOutputStream(socket.getOutputStream());
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    private static Socket connect(String host, int port) {
        try {
            return new Socket(host, port);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    public void writeRaw(byte[] bytes) throws IOException {
        out.write(bytes);
        out.flush();
    }

    public void write(String json) throws IOException {
        byte[] b = json.getBytes(StandardCharsets.UTF_8);
        // One write per frame: a separate 4-byte segment would wait on Nagle and delayed ACK.
        byte[] frame = new byte[4 + b.length];
        java.nio.ByteBuffer.wrap(frame).putInt(b.length).put(b);
        out.write(frame);
        out.flush();
    }

    public void write(JsonObject frame) throws IOException {
        write(frame.encode());
    }

    /** The next frame, or null if the server closed the connection; throws if it is not UTF-8. */
    public JsonObject read() throws IOException {
        int len;
        try {
            len = in.readInt();
        } catch (EOFException e) {
            return null;
        }
        byte[] b = new byte[len];
        in.readFully(b);
        // Strictly, as Python's decoder reads it: a frame that is not UTF-8 fails the test.
        return new JsonObject(StandardCharsets.UTF_8.newDecoder().decode(java.nio.ByteBuffer.wrap(b)).toString());
    }

    /** True if the server closes the connection within the socket timeout (ignoring frames before it). */
    public boolean closedByServer() throws IOException {
        try {
            while (read() != null) {
                // Drain until EOF.
            }
            return true;
        } catch (SocketTimeoutException e) {
            return false;
        } catch (IOException e) {
            return true;
        }
    }

    /**
     * True if the server closes the connection within {@code limit}; frames before it are read
     * and dropped, so a server that keeps answering does not hold this up past the limit.
     */
    public boolean closedByServerWithin(java.time.Duration limit) throws IOException {
        long deadline = System.nanoTime() + limit.toNanos();
        int old = socket.getSoTimeout();
        try {
            while (true) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    return false;
                }
                socket.setSoTimeout((int) Math.max(1, left / 1_000_000));
                if (read() == null) {
                    return true;
                }
            }
        } catch (SocketTimeoutException e) {
            return false;
        } catch (IOException e) {
            return true;
        } finally {
            if (!socket.isClosed()) {
                socket.setSoTimeout(old);
            }
        }
    }

    /** True if the server closes the connection within 300 ms. */
    public boolean closedByServerQuickly() throws IOException {
        int old = socket.getSoTimeout();
        socket.setSoTimeout(300);
        try {
            return closedByServer();
        } finally {
            if (!socket.isClosed()) {
                socket.setSoTimeout(old);
            }
        }
    }

    public JsonObject send(String address, String replyAddress, JsonObject body) throws IOException {
        JsonObject f = new JsonObject().put("type", "send").put("address", address).put("body", body);
        if (replyAddress != null) {
            f.put("replyAddress", replyAddress);
        }
        write(f);
        return f;
    }

    /** Sends a request and reads frames until the reply for it arrives. */
    public JsonObject request(String address, JsonObject body) throws IOException {
        String reply = "r" + System.nanoTime();
        send(address, reply, body);
        while (true) {
            JsonObject f = read();
            if (f == null) {
                throw new EOFException("connection closed before the reply");
            }
            if (reply.equals(f.getString("address"))) {
                return f;
            }
        }
    }

    /** Runs the challenge and login with {@code key}; returns the login reply frame. */
    public JsonObject login(byte[] key) throws IOException {
        return login(key, true);
    }

    /**
     * Like {@link #login(byte[])}; without checking the server's proof in the login reply, to
     * test what the server does with a wrong proof of ours.
     */
    public JsonObject login(byte[] key, boolean checkServerProof) throws IOException {
        byte[] clientNonce = AuthProofs.nonce();
        JsonObject ch = request("orch.auth", new JsonObject().put("op", "challenge").put("clientNonce", AuthProofs.b64(clientNonce)));
        byte[] serverNonce = AuthProofs.unb64(ch.getJsonObject("body").getString("serverNonce"));
        JsonObject lr = request("orch.auth", new JsonObject().put("op", "login")
                .put("proof", AuthProofs.b64(AuthProofs.clientProof(key, serverNonce, clientNonce))).put("name", "raw"));
        JsonObject body = lr.getJsonObject("body");
        if (checkServerProof && body != null && !AuthProofs.matches(AuthProofs.serverProof(key, clientNonce, serverNonce),
                AuthProofs.unb64(body.getString("serverProof")))) {
            throw new IllegalStateException("server proof mismatch");
        }
        if (body != null) {
            session = body.getString("session");
        }
        return lr;
    }

    public JsonObject manager(JsonObject body) throws IOException {
        return request("orch.manager", body);
    }

    /**
     * Ends this side of the connection ({@code shutdown(SHUT_WR)}, as {@code nc -N} does) and
     * goes on reading: the server sees the end of its input, this client the answers still owed.
     */
    public void shutdownOutput() throws IOException {
        socket.shutdownOutput();
    }

    /** Closes at once with a reset (SO_LINGER 0), as the connection of a killed client ends. */
    public void abort() {
        try {
            socket.setSoLinger(true, 0);
        } catch (IOException e) {
            // Closed already: nothing to reset.
        }
        close();
    }

    @Override
    public void close() {
        try {
            socket.close();
        } catch (IOException e) {
            // Already closed.
        }
    }
}
