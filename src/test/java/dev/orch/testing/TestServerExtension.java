package dev.orch.testing;

import dev.orch.client.ClientConfig;
import dev.orch.client.OrchClient;
import dev.orch.server.ServerConfig;
import java.util.function.Consumer;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * One {@link TestServer} shared by the tests of a class: register it as a static
 * {@code @RegisterExtension} field, and it starts before the class's {@code @BeforeAll} methods
 * and closes after its {@code @AfterAll} ones, even when one of those fails.
 */
public final class TestServerExtension implements BeforeAllCallback, AfterAllCallback {
    private final Consumer<ServerConfig> customize;
    private TestServer running;
    private OrchClient shared;
    // The class that started it: a @Nested class inherits the extension, and must share the
    // server rather than start (and leak) another.
    private String owner;

    private TestServerExtension(Consumer<ServerConfig> customize) {
        this.customize = customize;
    }

    /** {@link TestServer#start()}'s server. */
    public static TestServerExtension perClass() {
        return perClass(c -> { });
    }

    /** {@link TestServer#start(Consumer)}'s server: {@code customize} runs in beforeAll. */
    public static TestServerExtension perClass(Consumer<ServerConfig> customize) {
        return new TestServerExtension(customize);
    }

    @Override
    public void beforeAll(ExtensionContext context) {
        if (running == null) {
            running = TestServer.start(customize);
            owner = context.getUniqueId();
        }
    }

    @Override
    public void afterAll(ExtensionContext context) {
        // JUnit calls this even when beforeAll failed, so there may be nothing to close.
        if (running == null || !context.getUniqueId().equals(owner)) {
            return;
        }
        // Closed in reverse order, the client first; the server even if closing the client fails.
        try (TestServer s = running; OrchClient c = shared) {
            running = null;
            shared = null;
        }
    }

    /** The running server, for its {@code vertx} and {@code server}. */
    public TestServer get() {
        if (running == null) {
            throw new IllegalStateException("the server runs from the class's beforeAll to its afterAll");
        }
        return running;
    }

    public int port() {
        return get().port();
    }

    public String address() {
        return get().address();
    }

    public ClientConfig clientConfig() {
        return get().clientConfig();
    }

    public OrchClient client() {
        return get().client();
    }

    /** One client for the whole class, connected on the first call and closed before the server. */
    public synchronized OrchClient sharedClient() {
        if (shared == null) {
            shared = client();
        }
        return shared;
    }

    public RawClient raw() {
        return get().raw();
    }
}
