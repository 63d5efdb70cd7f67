package dev.orch.objects.sync;

import dev.orch.objects.Invocation;
import dev.orch.objects.ObjectContext;
import dev.orch.objects.SharedObject;
import dev.orch.protocol.ErrorCode;
import dev.orch.protocol.OrchException;

/**
 * Base of the sync types: a method either answers at once (returns its result) or parks the call
 * (returns {@link #PARKED}) to answer it later from a wait queue.
 */
abstract class SyncObject implements SharedObject {
    /** Returned by {@link #call} when the call was parked and will be answered later. */
    static final Object PARKED = new Object();

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
        Object result;
        try {
            result = call(call);
        } catch (OrchException e) {
            call.fail(e);
            return;
        } catch (RuntimeException e) {
            call.fail(OrchException.raised("RuntimeError", String.valueOf(e.getMessage())));
            return;
        }
        if (result != PARKED) {
            call.reply(result);
        }
    }

    /** Runs {@code call.method()}: returns its JSON result, or {@link #PARKED}. */
    protected abstract Object call(Invocation call);

    @Override
    public final void dispose() {
        disposed = true;
        failParked(destroyed());
    }

    /** Fails every parked call with {@code error}. */
    protected abstract void failParked(OrchException error);

    static OrchException destroyed() {
        return new OrchException(ErrorCode.NOT_FOUND, "NotFound", "the object was destroyed");
    }

    static OrchException noSuchMethod(String typeid, String method) {
        return OrchException.notFound("'" + typeid + "' object has no method '" + method + "'");
    }
}
