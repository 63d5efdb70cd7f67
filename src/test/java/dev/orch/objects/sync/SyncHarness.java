package dev.orch.objects.sync;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.orch.objects.AbstractInvocation;
import dev.orch.objects.ObjectContext;
import dev.orch.objects.SharedObject;
import dev.orch.objects.TypeRegistry;
import dev.orch.protocol.OrchException;
import io.vertx.core.Context;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.Arrays;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;

/**
 * Runs sync objects as the server does: every call on one real Vert.x context, real timers.
 * Calls return futures; {@link #sync()} waits until everything submitted so far has run, so a
 * test can assert that a call is parked without sleeping.
 */
final class SyncHarness implements ObjectContext {
    static final long AWAIT_MS = 10_000;

    private final Vertx vertx;
    private final Context context;
    private final TypeRegistry registry = new TypeRegistry();
    private final Set<String> dead = ConcurrentHashMap.newKeySet();
    private final Set<Long> timers = ConcurrentHashMap.newKeySet();
    private final AtomicInteger doubleAnswers = new AtomicInteger();

    SyncHarness(Vertx vertx) {
        this.vertx = vertx;
        this.context = vertx.getOrCreateContext();
        SyncTypes.registerAll(registry);
    }

    TypeRegistry registry() {
        return registry;
    }

    // ---- ObjectContext

    @Override
    public String id() {
        return "test-object";
    }

    @Override
    public long setTimer(long delayMillis, Runnable action) {
        assertTrue(Vertx.currentContext() == context, "timer set off the object's context");
        long[] id = new long[1];
        id[0] = vertx.setTimer(delayMillis, t -> {
            timers.remove(t);
            action.run();
        });
        timers.add(id[0]);
        return id[0];
    }

    @Override
    public boolean cancelTimer(long timerId) {
        timers.remove(timerId);
        return vertx.cancelTimer(timerId);
    }

    @Override
    public boolean isSessionAlive(String session) {
        return !dead.contains(session);
    }

    /** Timers set and neither fired nor cancelled. */
    int activeTimers() {
        return timers.size();
    }

    // ---- driving objects

    /** Creates an object of a registered type, on the object context. */
    SharedObject create(String typeid, Object... args) {
        return createKw(typeid, new JsonObject(), args);
    }

    SharedObject createKw(String typeid, JsonObject kwargs, Object... args) {
        return onContext(() -> registry.get(typeid).create(this, new JsonArray(Arrays.asList(args)), kwargs));
    }

    /** Calls a method with positional arguments. */
    CompletableFuture<Object> call(SharedObject o, String session, String method, Object... args) {
        return callKw(o, session, method, new JsonObject(), args);
    }

    CompletableFuture<Object> callKw(SharedObject o, String session, String method, JsonObject kwargs, Object... args) {
        return callAs(o, session, null, method, kwargs, args);
    }

    /** Calls a method as call {@code id} of the session, which {@link #cancel} can name. */
    CompletableFuture<Object> callWithId(SharedObject o, String session, String id, String method, Object... args) {
        return callAs(o, session, id, method, new JsonObject(), args);
    }

    private CompletableFuture<Object> callAs(SharedObject o, String session, String id, String method,
            JsonObject kwargs, Object... args) {
        TestCall c = new TestCall(method, new JsonArray(Arrays.asList(args)), kwargs, session, id, doubleAnswers);
        context.runOnContext(v -> o.invoke(c));
        return c.future;
    }

    /** The session cancels its call {@code id}; whether it was withdrawn. */
    boolean cancel(SharedObject o, String session, String id) {
        return onContext(() -> o.cancel(session, id));
    }

    /** The session disconnects: it is dead from now on and the object is told. */
    void closeSession(SharedObject o, String session) {
        dead.add(session);
        onContext(() -> {
            o.sessionClosed(session);
            return null;
        });
    }

    /** An answer to {@code method} came back undelivered. */
    void undelivered(SharedObject o, String method, Object result) {
        onContext(() -> {
            o.undelivered(method, result);
            return null;
        });
    }

    /** The session is gone but the object has not been told yet. */
    void markDead(String session) {
        dead.add(session);
    }

    void dispose(SharedObject o) {
        onContext(() -> {
            o.dispose();
            return null;
        });
    }

    /** Waits until everything submitted to the object context so far has run. */
    void sync() {
        onContext(() -> null);
    }

    /** Runs {@code action} on the object context and returns its result. */
    <T> T onContext(Supplier<T> action) {
        CompletableFuture<T> f = new CompletableFuture<>();
        context.runOnContext(v -> {
            try {
                f.complete(action.get());
            } catch (Throwable t) {
                f.completeExceptionally(t);
            }
        });
        try {
            return f.get(AWAIT_MS, TimeUnit.MILLISECONDS);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof RuntimeException) {
                throw (RuntimeException) e.getCause();
            }
            throw new AssertionError(e.getCause());
        } catch (InterruptedException | TimeoutException e) {
            throw new AssertionError("object context did not answer", e);
        }
    }

    // ---- assertions

    /** The call's result, waiting at most {@link #AWAIT_MS}; fails if it failed. */
    static Object await(CompletableFuture<Object> f) {
        try {
            return f.get(AWAIT_MS, TimeUnit.MILLISECONDS);
        } catch (ExecutionException e) {
            throw new AssertionError("call failed: " + e.getCause(), e.getCause());
        } catch (InterruptedException | TimeoutException e) {
            throw new AssertionError("call not answered in time", e);
        }
    }

    /** The call's failure, waiting at most {@link #AWAIT_MS}; fails if it succeeded. */
    static OrchException awaitError(CompletableFuture<Object> f) {
        try {
            Object r = f.get(AWAIT_MS, TimeUnit.MILLISECONDS);
            return fail("expected a failure, got " + r);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof OrchException) {
                return (OrchException) e.getCause();
            }
            throw new AssertionError("unexpected failure", e.getCause());
        } catch (InterruptedException | TimeoutException e) {
            throw new AssertionError("call not answered in time", e);
        }
    }

    /** Asserts the call fails with a 500 named {@code name} and, if given, that detail. */
    static OrchException assertRaises(CompletableFuture<Object> f, String name, String detail) {
        OrchException e = awaitError(f);
        assertEquals(name, e.name(), "error name of " + e);
        assertEquals(500, e.code().code());
        if (detail != null) {
            assertEquals(detail, e.detail());
        }
        return e;
    }

    /** Asserts every call submitted so far has run and these are still unanswered (parked). */
    void assertParked(CompletableFuture<?>... fs) {
        sync();
        for (CompletableFuture<?> f : fs) {
            assertFalse(f.isDone(), "call was answered but should be parked");
        }
    }

    /**
     * Asserts these calls, whose session is gone, were dropped: answered 499 Cancelled, which
     * nobody reads, and never served.
     */
    void assertAbandoned(CompletableFuture<?>... fs) {
        sync();
        for (CompletableFuture<?> f : fs) {
            assertTrue(f.isCompletedExceptionally(), "a dropped call must be ended, not left parked");
            @SuppressWarnings("unchecked")
            OrchException e = awaitError((CompletableFuture<Object>) f);
            assertEquals(499, e.failureCode(), e::toString);
        }
    }

    /** Asserts a timeout fired roughly when asked: not early, and not much later. */
    static void assertElapsed(long startNanos, double requestedSeconds) {
        double elapsed = (System.nanoTime() - startNanos) / 1e9;
        double low = 0.9 * requestedSeconds;
        assertTrue(elapsed >= low && elapsed <= low + 1.0,
                "timeout of " + requestedSeconds + " s fired after " + elapsed + " s");
    }

    /** Number of calls an object tried to answer more than once (must stay 0). */
    int doubleAnswers() {
        return doubleAnswers.get();
    }

    /** One call; completes its future, and counts any second answer. */
    static final class TestCall extends AbstractInvocation {
        final CompletableFuture<Object> future = new CompletableFuture<>();
        private final AtomicInteger doubleAnswers;

        TestCall(String method, JsonArray args, JsonObject kwargs, String session, String id, AtomicInteger doubleAnswers) {
            super(method, args, kwargs, session, id);
            this.doubleAnswers = doubleAnswers;
        }

        @Override
        protected void deliver(Object result) {
            future.complete(result);
        }

        @Override
        protected void deliverFailure(OrchException error) {
            future.completeExceptionally(error);
        }

        @Override
        protected void answeredTwice() {
            doubleAnswers.incrementAndGet();
        }
    }
}
