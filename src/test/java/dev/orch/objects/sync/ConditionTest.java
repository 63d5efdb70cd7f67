package dev.orch.objects.sync;

import static dev.orch.objects.sync.SyncHarness.assertElapsed;
import static dev.orch.objects.sync.SyncHarness.assertRaises;
import static dev.orch.objects.sync.SyncHarness.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.orch.objects.SharedObject;
import dev.orch.protocol.OrchException;
import io.vertx.core.json.JsonObject;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

class ConditionTest extends SyncTestBase {

    @Test
    void waitAndNotifyWithoutTheLockAreRuntimeErrors() {
        SharedObject c = h.create("Condition");
        assertRaises(h.call(c, "a", "wait"), "RuntimeError", "cannot wait on un-acquired lock");
        assertRaises(h.call(c, "a", "notify"), "RuntimeError", "cannot notify on un-acquired lock");
        assertRaises(h.call(c, "a", "notify_all"), "RuntimeError", "cannot notify on un-acquired lock");
        assertRaises(h.call(c, "a", "release"), "RuntimeError", "cannot release un-acquired lock");
        await(h.call(c, "b", "acquire"));
        assertRaises(h.call(c, "a", "wait"), "RuntimeError", "cannot wait on un-acquired lock");
    }

    @Test
    void onlyTheInternalLockIsSupported() {
        OrchException e = assertThrows(OrchException.class, () -> h.create("Condition", "some-lock-id"));
        assertEquals("TypeError", e.name());
        assertTrue(e.detail().contains("internal"), e.detail());
        e = assertThrows(OrchException.class, () -> h.createKw("Condition", new JsonObject().put("lock", "x")));
        assertEquals("TypeError", e.name());
        h.create("Condition", (Object) null);
    }

    @Test
    void waitFreesTheLockAndAnswersOnlyAfterReacquiring() {
        SharedObject c = h.create("Condition");
        await(h.call(c, "a", "acquire"));
        CompletableFuture<Object> w = h.call(c, "a", "wait");
        h.assertParked(w);
        assertEquals(true, await(h.call(c, "b", "acquire", false)));
        await(h.call(c, "b", "notify"));
        h.assertParked(w);
        await(h.call(c, "b", "release"));
        assertEquals(true, await(w));
        assertEquals(false, await(h.call(c, "b", "acquire", false)));
        await(h.call(c, "a", "release"));
        assertEquals(true, await(h.call(c, "b", "acquire", false)));
    }

    @Test
    void waitRestoresTheRecursionDepth() {
        SharedObject c = h.create("Condition");
        await(h.call(c, "a", "acquire"));
        await(h.call(c, "a", "acquire"));
        CompletableFuture<Object> w = h.call(c, "a", "wait");
        h.assertParked(w);
        await(h.call(c, "b", "acquire"));
        await(h.call(c, "b", "notify_all"));
        await(h.call(c, "b", "release"));
        assertEquals(true, await(w));
        await(h.call(c, "a", "release"));
        assertEquals(false, await(h.call(c, "b", "acquire", false)));
        await(h.call(c, "a", "release"));
        assertRaises(h.call(c, "a", "release"), "RuntimeError", "cannot release un-acquired lock");
    }

    @Test
    void notifyWakesNWaitersInOrder() {
        SharedObject c = h.create("Condition");
        CompletableFuture<Object>[] ws = waiters(c, "w1", "w2", "w3");
        await(h.call(c, "n", "acquire"));
        await(h.call(c, "n", "notify", 2));
        await(h.call(c, "n", "release"));
        assertEquals(true, await(ws[0]));
        h.assertParked(ws[1], ws[2]);
        await(h.call(c, "w1", "release"));
        assertEquals(true, await(ws[1]));
        await(h.call(c, "w2", "release"));
        h.assertParked(ws[2]);
        await(h.call(c, "n", "acquire"));
        await(h.call(c, "n", "notify_all"));
        await(h.call(c, "n", "release"));
        assertEquals(true, await(ws[2]));
    }

    @Test
    void notifyAllWakesEveryWaiterOneLockHolderAtATime() {
        SharedObject c = h.create("Condition");
        CompletableFuture<Object>[] ws = waiters(c, "w1", "w2", "w3");
        await(h.call(c, "n", "acquire"));
        await(h.call(c, "n", "notify_all"));
        await(h.call(c, "n", "release"));
        for (int i = 0; i < ws.length; i++) {
            assertEquals(true, await(ws[i]));
            for (int j = i + 1; j < ws.length; j++) {
                h.assertParked(ws[j]);
            }
            await(h.call(c, "w" + (i + 1), "release"));
        }
    }

    @SuppressWarnings("unchecked")
    private CompletableFuture<Object>[] waiters(SharedObject c, String... sessions) {
        CompletableFuture<Object>[] ws = new CompletableFuture[sessions.length];
        for (int i = 0; i < sessions.length; i++) {
            await(h.call(c, sessions[i], "acquire"));
            ws[i] = h.call(c, sessions[i], "wait");
        }
        h.assertParked(ws);
        return ws;
    }

    @Test
    void waitTimesOutWithFalseHoldingTheLock() {
        SharedObject c = h.create("Condition");
        await(h.call(c, "a", "acquire"));
        long t0 = System.nanoTime();
        assertEquals(false, await(h.call(c, "a", "wait", 0.3)));
        assertElapsed(t0, 0.3);
        assertEquals(false, await(h.call(c, "b", "acquire", false)));
        t0 = System.nanoTime();
        assertEquals(false, await(h.call(c, "a", "wait", 0)));
        assertEquals(false, await(h.call(c, "a", "wait", -1)));
        assertElapsed(t0, 0);
        await(h.call(c, "a", "release"));
        assertEquals(0, h.activeTimers());
    }

    @Test
    void timedOutWaiterAnswersOnlyOnceItHasTheLockBack() {
        SharedObject c = h.create("Condition");
        SharedObject clock = h.create("Event");
        await(h.call(c, "a", "acquire"));
        CompletableFuture<Object> w = h.call(c, "a", "wait", 0.1);
        await(h.call(c, "b", "acquire"));
        // The clock's timer is due after the waiter's, on the same thread: once it fired, so had the waiter's.
        assertEquals(false, await(h.call(clock, "b", "wait", 0.3)));
        h.assertParked(w);
        await(h.call(c, "b", "release"));
        assertEquals(false, await(w));
    }

    @Test
    void disconnectOfTheHolderWakesTheNextAcquirer() {
        SharedObject c = h.create("Condition");
        await(h.call(c, "a", "acquire"));
        await(h.call(c, "a", "acquire"));
        CompletableFuture<Object> b = h.call(c, "b", "acquire");
        h.assertParked(b);
        h.closeSession(c, "a");
        assertEquals(true, await(b));
    }

    @Test
    void disconnectOfANotifiedWaiterPassesTheLockOn() {
        SharedObject c = h.create("Condition");
        CompletableFuture<Object>[] ws = waiters(c, "w1", "w2");
        await(h.call(c, "n", "acquire"));
        await(h.call(c, "n", "notify_all"));
        h.closeSession(c, "w1");
        await(h.call(c, "n", "release"));
        assertEquals(true, await(ws[1]));
        h.assertAbandoned(ws[0]);
    }

    @Test
    void closedWaiterIsNotNotified() {
        SharedObject c = h.create("Condition");
        CompletableFuture<Object>[] ws = waiters(c, "w1", "w2");
        h.markDead("w1");
        await(h.call(c, "n", "acquire"));
        await(h.call(c, "n", "notify"));
        await(h.call(c, "n", "release"));
        assertEquals(true, await(ws[1]));
        h.assertAbandoned(ws[0]);
    }

    @Test
    void disposeFailsWaitersAndAcquirers() {
        SharedObject c = h.create("Condition");
        await(h.call(c, "a", "acquire"));
        CompletableFuture<Object> w = h.call(c, "a", "wait", 30);
        await(h.call(c, "b", "acquire"));
        CompletableFuture<Object> x = h.call(c, "x", "acquire");
        h.assertParked(w, x);
        h.dispose(c);
        assertEquals("NotFound", SyncHarness.awaitError(w).name());
        assertEquals("NotFound", SyncHarness.awaitError(x).name());
        assertEquals(0, h.activeTimers());
    }
}
