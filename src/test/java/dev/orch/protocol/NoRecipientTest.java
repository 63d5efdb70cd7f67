package dev.orch.protocol;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.EventBus;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.eventbus.ReplyFailure;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** What Vert.x itself answers when a request reaches nobody, and a real timeout, told apart. */
class NoRecipientTest {
    private static Vertx vertx;

    @BeforeAll
    static void start() {
        vertx = Vertx.vertx();
    }

    @AfterAll
    static void stop() throws Exception {
        vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }

    /** The failure of a request sent by {@code send} on an event loop, once it completes. */
    private static Throwable failureOf(java.util.function.Function<EventBus, Future<?>> send) throws Exception {
        CompletableFuture<Throwable> failed = new CompletableFuture<>();
        vertx.getOrCreateContext().runOnContext(v -> send.apply(vertx.eventBus())
                .onComplete(ar -> failed.complete(ar.failed() ? ar.cause() : null)));
        return failed.get(10, TimeUnit.SECONDS);
    }

    @Test
    void nobodyListening() throws Exception {
        Throwable t = failureOf(bus -> bus.request("nr.nobody", "x"));
        assertEquals(ReplyFailure.NO_HANDLERS, ((ReplyException) t).failureType());
        assertTrue(NoRecipient.matches(t));
    }

    @Test
    void aConsumerUnregisteredWithTheRequestQueuedIsNoRecipientThoughVertxCallsItATimeout() throws Exception {
        Throwable t = failureOf(bus -> {
            MessageConsumer<Object> c = bus.consumer("nr.leaving", m -> m.reply("answered"));
            // The request is queued for the consumer's loop, which runs it after this task: gone by then.
            Future<?> f = bus.request("nr.leaving", "x");
            c.unregister();
            return f;
        });
        ReplyException re = (ReplyException) t;
        assertEquals(ReplyFailure.TIMEOUT, re.failureType());
        assertTrue(re.getMessage().startsWith(NoRecipient.DISCARDED), re.getMessage());
        assertTrue(NoRecipient.matches(t));
    }

    @Test
    void aRealTimeoutAndAnAnsweredFailureAreNot() throws Exception {
        vertx.eventBus().consumer("nr.silent", m -> { });
        vertx.eventBus().consumer("nr.failing", m -> m.fail(404, "NotFound: its own"));
        Throwable timeout = failureOf(bus -> bus.request("nr.silent", "x", new DeliveryOptions().setSendTimeout(50)));
        assertEquals(ReplyFailure.TIMEOUT, ((ReplyException) timeout).failureType());
        assertFalse(NoRecipient.matches(timeout));
        Throwable failed = failureOf(bus -> bus.request("nr.failing", "x"));
        assertEquals(ReplyFailure.RECIPIENT_FAILURE, ((ReplyException) failed).failureType());
        assertFalse(NoRecipient.matches(failed));
        assertFalse(NoRecipient.matches(new IllegalStateException("Discarded the request")));
        assertFalse(NoRecipient.matches(null));
    }
}
