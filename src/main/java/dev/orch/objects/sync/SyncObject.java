package dev.orch.objects.sync;

import dev.orch.objects.BasicObject;
import dev.orch.objects.Invocation;
import dev.orch.objects.ObjectContext;
import dev.orch.protocol.ErrorCode;
import dev.orch.protocol.OrchException;

/**
 * Base of the sync types: a method either answers at once (returns its result) or parks the call
 * (returns {@link #PARKED}) to answer it later from a wait queue.
 */
abstract class SyncObject extends BasicObject {
    protected final ObjectContext context;
    private boolean disposed;

    SyncObject(ObjectContext context) {
        this.context = context;
    }

    @Override
    public final void invoke(Invocation call) {
        if (disposed) {
            call.fail(destroyed());
            return;
        }
        super.invoke(call);
    }

    @Override
    public final void dispose() {
        disposed = true;
        failParked(destroyed());
    }

    /**
     * The answer to {@code __repr__}: the state as Python's repr() shows it, without the memory
     * address (SYNC.md lists the forms).
     */
    abstract String repr();

    /** Fails every parked call with {@code error}. */
    protected abstract void failParked(OrchException error);

    @Override
    public final boolean cancel(String session, String callId) {
        return !disposed && cancelParked(session, callId);
    }

    /** Withdraws the session's parked call {@code callId} (see {@link #cancel}); false if none is parked. */
    protected abstract boolean cancelParked(String session, String callId);

    /** The answer to a withdrawn call. */
    static OrchException cancelled() {
        return new OrchException(ErrorCode.CANCELLED, "Cancelled", "the caller cancelled the call");
    }

    static OrchException destroyed() {
        return new OrchException(ErrorCode.NOT_FOUND, "NotFound", "the object was destroyed");
    }

}
