package dev.orch.bench;

import java.io.DataInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;

/** A loopback echo server for length-prefixed messages, one thread per connection (the floor). */
public final class TcpEcho implements AutoCloseable {
    static final int PAYLOAD = 64;
    private final ServerSocket server;

    public TcpEcho() throws IOException {
        server = new ServerSocket(0, 256, InetAddress.getLoopbackAddress());
        Thread t = new Thread(this::accept, "bench-tcp-echo");
        t.setDaemon(true);
        t.start();
    }

    public int port() {
        return server.getLocalPort();
    }

    private void accept() {
        while (!server.isClosed()) {
            try {
                Socket s = server.accept();
                Thread t = new Thread(() -> serve(s), "bench-tcp-echo-conn");
                t.setDaemon(true);
                t.start();
            } catch (IOException e) {
                return;
            }
        }
    }

    private static void serve(Socket s) {
        try (s) {
            s.setTcpNoDelay(true);
            DataInputStream in = new DataInputStream(s.getInputStream());
            OutputStream out = s.getOutputStream();
            byte[] buf = new byte[4 + PAYLOAD];
            while (true) {
                int len = in.readInt();
                if (len != PAYLOAD) {
                    return;
                }
                in.readFully(buf, 4, len);
                buf[0] = 0;
                buf[1] = 0;
                buf[2] = 0;
                buf[3] = (byte) len;
                out.write(buf);
            }
        } catch (IOException e) {
            // Client gone.
        }
    }

    @Override
    public void close() throws IOException {
        server.close();
    }
}
