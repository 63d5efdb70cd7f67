package dev.orch.client;

import io.vertx.core.json.JsonArray;
import java.time.Duration;

/**
 * A shared {@code Lock} or {@code RLock}. The lock belongs to this client's session: if the
 * process dies, the server releases it and the next waiter gets it.
 *
 * <pre>{@code
 * try (RemoteLock.Held held = orch.lock("counter-lock").hold()) {
 *     // critical section
 * }
 * }</pre>
 */
public final class RemoteLock {
    private final RemoteObject lock;

    RemoteLock(RemoteObject lock) {
        this.lock = lock;
    }

    public RemoteObject object() {
        return lock;
    }

    /** Waits for the lock (at most the client's call timeout). */
    public void lock() {
        lock.call("acquire");
    }

    /** Takes the lock if it is free within {@code timeout}. */
    public boolean tryLock(Duration timeout) {
        return Boolean.TRUE.equals(lock.call("acquire", new JsonArray(), RemoteQueue.seconds(timeout)));
    }

    public void unlock() {
        lock.call("release");
    }

    /** Takes the lock and returns a handle whose {@code close} releases it. */
    public Held hold() {
        lock();
        return this::unlock;
    }

    /** A held lock, released by {@link #close}. */
    @FunctionalInterface
    public interface Held extends AutoCloseable {
        @Override
        void close();
    }
}
