package dev.orch.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.orch.testing.Poll;
import dev.orch.testing.TestServer;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * subscribe, serve and send expect no answer, so their failures would go unnoticed: they are
 * refused here when they cannot work, and the server's refusal is logged.
 */
class UnansweredFramesTest {
    static TestServer server;

    @BeforeAll
    static void start() {
        server = TestServer.start();
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    @Test
    void aRefusedSubscriptionIsLogged() {
        Logger log = Logger.getLogger(ClientConnection.class.getName());
        List<String> warnings = new CopyOnWriteArrayList<>();
        Handler h = new Handler() {
            @Override
            public void publish(LogRecord r) {
                if (r.getLevel().intValue() >= Level.WARNING.intValue()) {
                    warnings.add(String.valueOf(r.getParameters() == null ? r.getMessage()
                            : String.format(r.getMessage(), r.getParameters())));
                }
            }

            @Override
            public void flush() {
            }

            @Override
            public void close() {
            }
        };
        log.addHandler(h);
        try (OrchClient c = server.client()) {
            c.subscribe("orch.manager", body -> { });
            Poll.until(Duration.ofSeconds(10), "the refusal to be logged",
                    () -> warnings.stream().anyMatch(w -> w.contains("orch.manager") && w.contains("Forbidden")));
            assertTrue(c.isOpen());
            assertEquals(0, c.objects().size());
        } finally {
            log.removeHandler(h);
        }
    }

    @Test
    void nullsAreNamed() {
        try (OrchClient c = server.client()) {
            assertEquals("address", assertThrows(NullPointerException.class, () -> c.subscribe(null, b -> { })).getMessage());
            assertEquals("handler", assertThrows(NullPointerException.class, () -> c.subscribe("orch.events", null)).getMessage());
            assertEquals("handler", assertThrows(NullPointerException.class, () -> c.serve("orch.events", null)).getMessage());
            assertEquals("address", assertThrows(NullPointerException.class, () -> c.send(null, new JsonObject())).getMessage());
        }
    }

    @Test
    void aClosedClientRefusesWhatExpectsNoAnswer() {
        OrchClient c = server.client();
        c.close();
        assertThrows(OrchConnectException.class, () -> c.subscribe("orch.events", b -> { }));
        assertThrows(OrchConnectException.class, () -> c.serve("orch.events", b -> CompletableFuture.completedFuture(null)));
        assertThrows(OrchConnectException.class, () -> c.send("orch.manager", new JsonObject().put("op", "objects")));
    }
}
