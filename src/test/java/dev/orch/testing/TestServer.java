package dev.orch.testing;

import dev.orch.client.ClientConfig;
import dev.orch.client.OrchClient;
import dev.orch.server.OrchServer;
import dev.orch.server.ServerConfig;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/** An in-process server on 127.0.0.1 and a free port, with its own Vert.x; close it after use. */
public final class TestServer implements AutoCloseable {
    public static final byte[] KEY = "test-key-0123456789".getBytes(StandardCharsets.UTF_8);

    public final Vertx vertx;
    public final OrchServer server;

    private TestServer(Vertx vertx, OrchServer server) {
        this.vertx = vertx;
        this.server = server;
    }

    public static TestServer start() {
        return start(c -> { });
    }

    public static TestServer start(Consumer<ServerConfig> customize) {
        return start(new VertxOptions(), customize);
    }

    /** A server on a Vert.x made with {@code options} (its number of event loops, say). */
    public static TestServer start(VertxOptions options, Consumer<ServerConfig> customize) {
        Vertx vertx = Vertx.vertx(options);
        // Two loops, so tests cross from one loop to another the way a busy server's calls do
        // (the default on a small machine is one).
        ServerConfig config = new ServerConfig().host("127.0.0.1").port(0).authKey(KEY).eventLoops(2);
        customize.accept(config);
        try {
            OrchServer s = OrchServer.start(vertx, config).toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
            return new TestServer(vertx, s);
        } catch (Exception e) {
            vertx.close();
            throw new IllegalStateException("server did not start", e);
        }
    }

    public int port() {
        return server.port();
    }

    public String address() {
        return "127.0.0.1:" + port();
    }

    public ClientConfig clientConfig() {
        return new ClientConfig().host("127.0.0.1").port(port()).authKey(KEY);
    }

    public OrchClient client() {
        return OrchClient.connect(clientConfig());
    }

    public RawClient raw() {
        return new RawClient("127.0.0.1", port());
    }

    @Override
    public void close() {
        try {
            server.close().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
        } catch (Exception e) {
            // Closing the Vert.x instance below stops whatever is left.
        }
        try {
            vertx.close().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }
}
