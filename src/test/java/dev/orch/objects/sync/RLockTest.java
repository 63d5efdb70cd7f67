package dev.orch.objects.sync;

import static dev.orch.objects.sync.SyncHarness.assertElapsed;
import static dev.orch.objects.sync.SyncHarness.assertRaises;
import static dev.orch.objects.sync.SyncHarness.await;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.orch.objects.SharedObject;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

class RLockTest extends SyncTestBase {

    @Test
    void reentrantPerSession() {
        SharedObject l = h.create("RLock");
        for (int i = 0; i < 3; i++) {
            assertEquals(true, await(h.call(l, "a", "acquire")));
        }
        CompletableFuture<Object> b = h.call(l, "b", "acquire");
        h.call(l, "a", "release");
        h.call(l, "a", "release");
        h.assertParked(b);
        h.call(l, "a", "release");
        assertEquals(true, await(b));
        assertRaises(h.call(l, "a", "release"), "RuntimeError", "cannot release un-acquired lock");
    }

    @Test
    void onlyTheOwnerMayRelease() {
        SharedObject l = h.create("RLock");
        assertRaises(h.call(l, "a", "release"), "RuntimeError", "cannot release un-acquired lock");
        await(h.call(l, "a", "acquire"));
        assertRaises(h.call(l, "b", "release"), "RuntimeError", "cannot release un-acquired lock");
        assertEquals(false, await(h.call(l, "b", "acquire", false)));
    }

    @Test
    void waitersServedInOrder() {
        SharedObject l = h.create("RLock");
        await(h.call(l, "a", "acquire"));
        CompletableFuture<Object> b = h.call(l, "b", "acquire");
        CompletableFuture<Object> c = h.call(l, "c", "acquire");
        h.call(l, "a", "release");
        assertEquals(true, await(b));
        h.assertParked(c);
        // The new owner may re-enter while others wait.
        assertEquals(true, await(h.call(l, "b", "acquire", false)));
        h.call(l, "b", "release");
        h.assertParked(c);
        h.call(l, "b", "release");
        assertEquals(true, await(c));
    }

    @Test
    void acquireTimesOut() {
        SharedObject l = h.create("RLock");
        await(h.call(l, "a", "acquire"));
        long t0 = System.nanoTime();
        assertEquals(false, await(h.call(l, "b", "acquire", true, 0.3)));
        assertElapsed(t0, 0.3);
        assertEquals(0, h.activeTimers());
    }

    @Test
    void disconnectReleasesEveryRecursionLevel() {
        SharedObject l = h.create("RLock");
        for (int i = 0; i < 3; i++) {
            await(h.call(l, "a", "acquire"));
        }
        CompletableFuture<Object> b = h.call(l, "b", "acquire");
        h.assertParked(b);
        h.closeSession(l, "a");
        assertEquals(true, await(b));
        await(h.call(l, "b", "release"));
        assertEquals(true, await(h.call(l, "c", "acquire", false)));
    }

    @Test
    void badArguments() {
        SharedObject l = h.create("RLock");
        assertRaises(h.call(l, "a", "acquire", false, 2), "ValueError", "can't specify a timeout for a non-blocking call");
        assertRaises(h.call(l, "a", "acquire", true, -0.5), "ValueError", "timeout value must be a non-negative number");
    }
}
