package dev.orch.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.orch.protocol.ErrorCode;
import dev.orch.protocol.OrchException;
import dev.orch.testing.Poll;
import dev.orch.testing.TestServerExtension;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * subscribe and serve wait for the server to take them, and throw when it refuses; send expects
 * no answer, so the server's refusal of one is logged. All three are refused here when the
 * client is closed.
 */
class UnansweredFramesTest {
    @RegisterExtension
    static final TestServerExtension server = TestServerExtension.perClass();

    @Test
    void aRefusedSubscriptionThrowsWhereItWasMade() {
        try (OrchClient c = server.client()) {
            OrchException sub = assertThrows(OrchException.class, () -> c.subscribe("orch.manager", body -> { }));
            assertEquals(ErrorCode.FORBIDDEN, sub.code());
            assertTrue(sub.detail().contains("orch.manager"), sub.detail());
            OrchException serve = assertThrows(OrchException.class,
                    () -> c.serve("orch.manager", b -> CompletableFuture.completedFuture(null)));
            assertEquals(ErrorCode.FORBIDDEN, serve.code());
            assertTrue(c.isOpen());

            // One the server takes is in place once subscribe returns: an event published at
            // once arrives.
            List<Object> events = new CopyOnWriteArrayList<>();
            c.subscribe("orch.events", events::add);
            server.get().vertx.eventBus().publish("orch.events", new JsonObject().put("event", "probe"));
            Poll.until(Duration.ofSeconds(10), "the event", () -> events.contains(new JsonObject().put("event", "probe")));
        }
    }

    @Test
    void aRefusedSendIsLogged() {
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
            c.send("orch.nothing", new JsonObject());
            // Nothing reads a connection with no call, handler or subscription; this call reads
            // the refusal, which the server wrote before the call's answer.
            c.objects();
            Poll.until(Duration.ofSeconds(10), "the refusal to be logged",
                    () -> warnings.stream().anyMatch(w -> w.contains("orch.nothing") && w.contains("Forbidden")));
            assertTrue(c.isOpen());
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
