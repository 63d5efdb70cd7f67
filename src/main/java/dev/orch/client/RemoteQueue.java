package dev.orch.client;

import dev.orch.protocol.ErrorCode;
import dev.orch.protocol.OrchException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;

/**
 * A shared {@code Queue} (or {@code JoinableQueue}, the same) with Java-style methods. Waiting happens on the
 * server (no thread is held there); timeouts are the server's, and the client waits for their
 * answer that long plus its call timeout, so that a wait it gave up on never takes an item later.
 * Interrupting a waiting thread withdraws its wait on the server: it throws a {@code CANCELLED}
 * {@link OrchException}, with its interrupt status kept, and takes or adds no item.
 */
public final class RemoteQueue {
    private final RemoteObject queue;

    RemoteQueue(RemoteObject queue) {
        this.queue = queue;
    }

    public RemoteObject object() {
        return queue;
    }

    /**
     * Adds an item, waiting for room in a bounded queue at most the client's call timeout (a
     * {@code Timeout} {@link OrchException} then; without a call timeout, for ever).
     *
     * @throws NullPointerException if {@code item} is null, as for a {@code BlockingQueue}: a
     *     null would read as "empty" to {@link #poll}
     */
    public void put(Object item) {
        Objects.requireNonNull(item, "item");
        Duration wait = queue.client().config().callTimeout();
        if (wait.isZero() || wait.isNegative()) {
            queue.call("put", item);
        } else if (!offer(item, wait)) {
            throw new OrchException(ErrorCode.TIMEOUT, "no room in " + queue + " within " + wait.toMillis() + " ms");
        }
    }

    /**
     * Adds an item if there is room within {@code timeout}; false if the queue stayed full.
     *
     * @throws NullPointerException if {@code item} is null (see {@link #put})
     */
    public boolean offer(Object item, Duration timeout) {
        Objects.requireNonNull(item, "item");
        try {
            queue.callParked("put", new JsonArray().add(item), seconds(timeout), timeout);
            return true;
        } catch (OrchException e) {
            if (isNamed(e, "Full")) {
                return false;
            }
            throw e;
        }
    }

    /**
     * Takes the next item, waiting without limit on the server (the returned future completes with
     * it). {@code cancel} on the future withdraws the take on the server and returns false: the
     * future then ends cancelled, or with the item if it was already on its way. Do not give up
     * on it with a timeout of the client's ({@code orTimeout}, {@code get(timeout)}): the take
     * goes on at the server and the item it takes later is lost. Use {@link #pollAsync} for a
     * bounded wait, or {@code cancel}.
     */
    public CompletableFuture<Object> takeAsync() {
        return queue.callAsync("get");
    }

    /**
     * Takes the next item if one arrives within {@code timeout}, without blocking: the wait is
     * the server's, and the future completes with the item, or with null when the time passed
     * (see {@link #poll} for items that are null). {@code cancel} withdraws the wait as for
     * {@link #takeAsync}.
     */
    public CompletableFuture<Object> pollAsync(Duration timeout) {
        return new Polled(queue.callAsync("get", new JsonArray(), seconds(timeout)));
    }

    /**
     * Takes the next item if one arrives within {@code timeout}; null otherwise. An item another
     * client put as null (Python's {@code None}) comes back as null too.
     */
    public Object poll(Duration timeout) {
        try {
            return queue.callParked("get", new JsonArray(), seconds(timeout), timeout);
        } catch (OrchException e) {
            if (isNamed(e, "Empty")) {
                return null;
            }
            throw e;
        }
    }

    public int size() {
        return ((Number) queue.call("qsize")).intValue();
    }

    /** Marks one taken item done (Python's {@code task_done}; {@code ValueError} if none is unfinished). */
    public void taskDone() {
        queue.call("task_done");
    }

    /**
     * Waits until every item put has been marked done ({@link #taskDone}); false if
     * {@code timeout} passed first. The wait is the server's, as for {@link #poll}.
     */
    public boolean join(Duration timeout) {
        return Boolean.TRUE.equals(queue.callParked("join", new JsonArray(), seconds(timeout), timeout));
    }

    /**
     * The server's {@code timeout} argument; any Duration fits (the server takes a huge one as
     * forever). A negative one is zero, as for {@code java.util.concurrent}: no wait at all (sent
     * as it is, -1 s would read as Python's "wait for ever").
     */
    static JsonObject seconds(Duration d) {
        return new JsonObject().put("timeout", d.isNegative() ? 0.0 : d.getSeconds() + d.getNano() / 1e9);
    }

    static boolean isNamed(OrchException e, String name) {
        return e.code() == ErrorCode.REMOTE && name.equals(e.name());
    }

    /**
     * A {@link #pollAsync} answer, {@code Empty} read as null. Cancelling it cancels the call
     * itself (a {@code handle} stage would not), so the server withdraws the wait.
     */
    private static final class Polled extends CompletableFuture<Object> {
        private final CompletableFuture<Object> call;

        Polled(CompletableFuture<Object> call) {
            this.call = call;
            call.whenComplete((item, error) -> {
                Throwable c = error instanceof CompletionException && error.getCause() != null ? error.getCause() : error;
                if (c == null) {
                    complete(item);
                } else if (c instanceof OrchException && isNamed((OrchException) c, "Empty")) {
                    complete(null);
                } else {
                    completeExceptionally(c);
                }
            });
        }

        @Override
        public boolean cancel(boolean mayInterruptIfRunning) {
            call.cancel(mayInterruptIfRunning);
            return isCancelled();
        }
    }
}
