package dev.orch.client;

import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;

/**
 * Runs a connection's subscription handlers one at a time, in the order their messages arrived,
 * on a thread of their own rather than the thread that reads the socket: a slow handler (one that
 * logs to a slow sink, say) then holds up neither the replies of other calls nor the answers to
 * their cancels. The thread starts with the first message and ends after a second without any.
 *
 * <p>When {@link #LIMIT} messages wait, the reader waits too, so a handler that cannot keep up
 * meets the server's limit on unread output (PROTOCOL.md §8) instead of filling this process's
 * memory; except while the handler itself waits for a reply on the connection, which only the
 * reader can deliver.
 */
final class OrderedHandlers {
    private static final org.jboss.logging.Logger LOG = org.jboss.logging.Logger.getLogger(OrderedHandlers.class);
    /** Messages waiting for their handler beyond which the reader waits for it. */
    static final int LIMIT = 10_000;
    private static final long IDLE_NANOS = TimeUnit.SECONDS.toNanos(1);
    private static final long FULL_NAP_NANOS = TimeUnit.MILLISECONDS.toNanos(10);

    private final ConcurrentLinkedQueue<Runnable> queue = new ConcurrentLinkedQueue<>();
    private final AtomicInteger size = new AtomicInteger();
    /** The running thread, or null; changed under this object's lock. */
    private volatile Thread worker;
    private volatile boolean workerParked;
    private volatile boolean used;

    /**
     * Queues {@code task}; waits while the queue is full unless {@code workerWaits} says the
     * handler thread is itself waiting for this connection.
     */
    void run(Runnable task, BooleanSupplier workerWaits) {
        enqueue(task);
        // An interrupted reader goes on (a park would return at once, a busy spin): its own
        // call ends on the interrupt, and the brake applies again with the next message.
        while (size.get() > LIMIT && Thread.currentThread() != current() && !workerWaits.getAsBoolean()
                && !Thread.currentThread().isInterrupted()) {
            LockSupport.parkNanos(this, FULL_NAP_NANOS);
        }
    }

    /** Queues {@code task} after the messages already queued, never waiting (a close notice). */
    void then(Runnable task) {
        enqueue(task);
    }

    /** Whether anything was ever queued. */
    boolean used() {
        return used;
    }

    /** The thread running handlers now, or null. */
    Thread current() {
        return worker;
    }

    private void enqueue(Runnable task) {
        used = true;
        queue.add(task);
        size.incrementAndGet();
        // A worker that is neither parked nor gone polls the queue again before it parks.
        if (workerParked || worker == null) {
            wake();
        }
    }

    private synchronized void wake() {
        if (worker == null) {
            Thread t = new Thread(this::loop, "orch-client-events");
            t.setDaemon(true);
            worker = t;
            t.start();
        } else {
            LockSupport.unpark(worker);
        }
    }

    private void loop() {
        long idleSince = System.nanoTime();
        while (true) {
            Runnable task = queue.poll();
            if (task != null) {
                size.decrementAndGet();
                try {
                    task.run();
                } catch (RuntimeException e) {
                    // A failing handler must not stop the messages after it.
                    LOG.warnf("subscription handler failed: %s", e);
                }
                // An interrupt a handler left set was meant for it: carried over, it would
                // withdraw the next handler's calls and keep this thread's parks from parking.
                Thread.interrupted();
                idleSince = System.nanoTime();
                continue;
            }
            // Announce the park, then look again: a producer that queued after the first look
            // sees the flag and unparks, or queued before the second look.
            workerParked = true;
            if (queue.isEmpty()) {
                LockSupport.parkNanos(this, IDLE_NANOS);
            }
            if (queue.isEmpty() && System.nanoTime() - idleSince >= IDLE_NANOS) {
                // Still flagged as parked, so a producer goes through wake(), under this lock: a
                // task queued after this look either keeps this thread or starts a new one.
                synchronized (this) {
                    if (queue.isEmpty()) {
                        worker = null;
                        workerParked = false;
                        return;
                    }
                }
            }
            workerParked = false;
        }
    }
}
