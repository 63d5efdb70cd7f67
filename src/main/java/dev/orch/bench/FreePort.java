package dev.orch.bench;

import dev.orch.server.OrchServer;
import dev.orch.server.ServerConfig;
import io.vertx.core.Vertx;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

/**
 * Starts an in-process server on a free loopback port. {@code port(0)} is not used: the server
 * deploys one listener per event loop and the later ones bind the port the first one picked,
 * which Vert.x 4.5 does not share with a port-0 server ("Address already in use").
 */
public final class FreePort {
    private FreePort() {
    }

    public static int pick() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            s.setReuseAddress(true);
            return s.getLocalPort();
        }
    }

    /** Tries a few free ports (another process may take one between pick and bind). */
    public static OrchServer startServer(Vertx vertx, ServerConfig config) throws Exception {
        Exception last = null;
        for (int i = 0; i < 5; i++) {
            try {
                return OrchServer.start(vertx, config.host("127.0.0.1").port(pick()))
                        .toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
            } catch (ExecutionException e) {
                last = e;
            }
        }
        throw last;
    }
}
