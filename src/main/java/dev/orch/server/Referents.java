package dev.orch.server;

import dev.orch.protocol.References;
import io.vertx.core.json.JsonObject;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;

/**
 * How many things keep each object alive, readable and changed from any thread: its name,
 * every session reference, every server-side object whose state holds a reference to it, and
 * every answer carrying one on its way to a client. The manager keeps the per-session books;
 * the count here is the one that decides, so that a shard can take a hold on its own thread,
 * in the middle of a call, without a round trip to the manager.
 *
 * <p>A count that reaches zero stays there: {@link #acquire} never revives it, and whoever
 * brought it to zero tells the manager, which destroys the object.
 */
final class Referents {
    private static final class Referent {
        final AtomicInteger count;
        final JsonObject described;

        Referent(int count, JsonObject described) {
            this.count = new AtomicInteger(count);
            this.described = described;
        }
    }

    private final Map<String, Referent> all = new ConcurrentHashMap<>();
    private volatile Consumer<String> unreferenced = id -> {
    };

    /** What to do with an object nothing keeps alive any more; called on the thread that let it go. */
    void onUnreferenced(Consumer<String> action) {
        this.unreferenced = action;
    }

    /** A new object, kept alive by {@code count} things; {@code described} is its lookup answer. */
    void register(String id, JsonObject described, int count) {
        all.put(id, new Referent(count, described.copy().put(References.KEY, id)));
    }

    /** The object is destroyed: later holds on it fail, and letting go of one does nothing. */
    void forget(String id) {
        all.remove(id);
    }

    /** One more hold on a live object; false (and no hold) when it is gone or going. */
    boolean acquire(String id) {
        Referent r = all.get(id);
        if (r == null) {
            return false;
        }
        for (int n = r.count.get(); n > 0; n = r.count.get()) {
            if (r.count.compareAndSet(n, n + 1)) {
                return true;
            }
        }
        return false;
    }

    /**
     * A hold on each of {@code ids}, or on none: the first that is gone is returned and the
     * holds taken before it are let go. Null when all were taken.
     */
    String acquireAll(List<String> ids) {
        for (int i = 0; i < ids.size(); i++) {
            if (!acquire(ids.get(i))) {
                releaseAll(ids.subList(0, i));
                return ids.get(i);
            }
        }
        return null;
    }

    /** Lets go of {@code n} holds on {@code id}. */
    void release(String id, int n) {
        Referent r = all.get(id);
        if (r != null && r.count.addAndGet(-n) == 0) {
            unreferenced.accept(id);
        }
    }

    void releaseAll(List<String> ids) {
        for (String id : ids) {
            release(id, 1);
        }
    }

    /**
     * A reference to {@code id} as an answer carries it, with one hold for the receiving session
     * taken here; null (and no hold) when the object is gone.
     */
    JsonObject handOut(String id) {
        Referent r = all.get(id);
        return r != null && acquire(id) ? r.described.copy() : null;
    }

    /** The count now, for listings and tests. */
    int count(String id) {
        Referent r = all.get(id);
        return r == null ? 0 : r.count.get();
    }
}
