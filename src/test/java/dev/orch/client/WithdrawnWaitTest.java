package dev.orch.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.orch.protocol.ErrorCode;
import dev.orch.protocol.OrchException;
import dev.orch.testing.TestServer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * A call withdrawn past its timeout whose own answer the server sends only later: a
 * {@code Condition.wait} is answered {@code Cancelled} once it holds its lock again (PROTOCOL.md
 * §5), after the cancel's own {@code true}. The server has answered; the client must wait for
 * the call's answer however long the lock stays taken, not take the server for gone.
 */
class WithdrawnWaitTest {

    @Test
    void aConditionWaitWithdrawnWhileItsLockIsHeldEndsInTimeoutOnceItHoldsTheLockAgain() throws Exception {
        try (TestServer s = TestServer.start(); OrchClient holder = s.client();
                OrchClient waiter = OrchClient.connect(s.clientConfig().callTimeout(Duration.ofMillis(300)))) {
            RemoteObject cond = holder.create("cond", "Condition", new JsonArray(), new JsonObject());
            RemoteObject mine = waiter.lookup("cond");
            CompletableFuture<Object> waited = waitingIn(mine);
            // Granted once the wait has released the lock; held well past the waiter's timeout and
            // the 1 s the client gives a server to answer a cancel.
            assertEquals(true, cond.call("acquire"));
            Thread.sleep(2500);
            cond.call("release");
            Object outcome = waited.get(15, TimeUnit.SECONDS);
            assertTrue(outcome instanceof OrchException && ((OrchException) outcome).code() == ErrorCode.TIMEOUT,
                    "expected a timeout, got " + outcome);
            assertTrue(waiter.isOpen(), "the connection was closed");
            // The wait took the lock back for its caller, as Python's does.
            mine.call("release");
        }
    }

    @Test
    void aNotifiedConditionWaitPastItsTimeoutEndsOnlyOnceItHoldsTheLock() throws Exception {
        try (TestServer s = TestServer.start(); OrchClient holder = s.client();
                OrchClient waiter = OrchClient.connect(s.clientConfig().callTimeout(Duration.ofMillis(300)))) {
            RemoteObject cond = holder.create("cond", "Condition", new JsonArray(), new JsonObject());
            RemoteObject mine = waiter.lookup("cond");
            CompletableFuture<Object> waited = waitingIn(mine);
            assertEquals(true, cond.call("acquire"));
            // Notified, the wait queues for the lock, which is held past the waiter's timeout: the
            // server cannot withdraw it (the cancel's answer is false), and the lock will be the
            // waiter's. Until then the waiter must not return as if it held the lock, nor say it
            // took nothing.
            cond.call("notify");
            Thread.sleep(2500);
            assertFalse(waited.isDone(), "the wait ended while another session held the lock: " + waited.getNow(null));
            cond.call("release");
            assertEquals(true, waited.get(15, TimeUnit.SECONDS));
            assertTrue(waiter.isOpen(), "the connection was closed");
            assertEquals(false, cond.call("acquire", false), "the lock is the waiter's");
            mine.call("release");
        }
    }

    /** Acquires {@code cond} and calls its {@code wait} on a thread of its own: the outcome, result or exception. */
    private static CompletableFuture<Object> waitingIn(RemoteObject cond) {
        assertEquals(true, cond.call("acquire"));
        CompletableFuture<Object> waited = new CompletableFuture<>();
        Thread t = new Thread(() -> {
            try {
                waited.complete(cond.call("wait"));
            } catch (Throwable e) {
                waited.complete(e);
            }
        }, "waiter");
        t.setDaemon(true);
        t.start();
        return waited;
    }
}
