package dev.orch.client;

import dev.orch.protocol.ErrorCode;
import dev.orch.protocol.OrchException;
import io.vertx.core.json.JsonArray;
import java.time.Duration;

/**
 * A shared {@code Lock} or {@code RLock}. The lock belongs to this client's session: if the
 * process dies, the server releases it and the next waiter gets it. Waiting happens on the
 * server, as for {@link RemoteQueue}; interrupting a waiting thread withdraws its wait (a
 * {@code CANCELLED} {@link OrchException}), and the lock stays with whoever gets it next.
 *
 * <p>The lock is held by this client's session, not by a thread (SYNC.md): over an {@code RLock},
 * a second thread of this client takes the lock another of its threads holds at once, re-entrantly,
 * so threads of one client do not exclude each other. Over a {@code Lock}, a second
 * {@code acquire} waits whichever thread makes it, and any thread (any session) may release
 * it. To exclude threads of one process from each other, give each its own {@link OrchClient}, or
 * lock locally as well.
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

    /**
     * Waits for the lock at most the client's call timeout (a {@code Timeout}
     * {@link OrchException} then; without a call timeout, for ever).
     */
    public void lock() {
        Duration wait = lock.client().config().callTimeout();
        if (wait.isZero() || wait.isNegative()) {
            lock.call("acquire");
        } else if (!tryLock(wait)) {
            throw new OrchException(ErrorCode.TIMEOUT, "could not take " + lock + " within " + wait.toMillis() + " ms");
        }
    }

    /** Takes the lock if it is free within {@code timeout}; a zero or negative one does not wait. */
    public boolean tryLock(Duration timeout) {
        return Boolean.TRUE.equals(lock.callParked("acquire", new JsonArray(), RemoteQueue.seconds(timeout), timeout));
    }

    public void unlock() {
        lock.call("release");
    }

    /**
     * Takes the lock and returns a handle whose first {@code close} releases it; later ones do
     * nothing, as any session may release a lock and a second release could free someone else's.
     */
    public Held hold() {
        lock();
        java.util.concurrent.atomic.AtomicBoolean held = new java.util.concurrent.atomic.AtomicBoolean(true);
        return () -> {
            if (held.getAndSet(false)) {
                unlock();
            }
        };
    }

    /** A held lock, released by the first {@link #close}. */
    @FunctionalInterface
    public interface Held extends AutoCloseable {
        @Override
        void close();
    }
}
