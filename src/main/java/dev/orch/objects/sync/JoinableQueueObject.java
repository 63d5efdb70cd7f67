package dev.orch.objects.sync;

import dev.orch.objects.ObjectContext;

/**
 * {@code JoinableQueue}: the same queue as {@link QueueObject} under its own type id, as in
 * Python's SyncManager, where both names make a {@code queue.Queue}.
 */
final class JoinableQueueObject extends QueueObject {
    static final String TYPEID = "JoinableQueue";

    JoinableQueueObject(ObjectContext context, long maxsize) {
        super(context, maxsize);
    }

    @Override
    protected String typeid() {
        return TYPEID;
    }
}
