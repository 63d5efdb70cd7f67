package dev.orch.objects;

import dev.orch.protocol.OrchException;

/**
 * Base for objects whose methods are plain functions: {@link #call} returns the result or throws
 * {@link OrchException}. A method that must wait keeps the {@link Invocation}, returns
 * {@link #PARKED} and answers it later.
 */
public abstract class BasicObject implements SharedObject {
    /** Returned by {@link #call} when the call was parked and will be answered later. */
    protected static final Object PARKED = new Object();

    @Override
    public void invoke(Invocation call) {
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

    /** Runs the method named by {@code call.method()} and returns its JSON result, or {@link #PARKED}. */
    protected abstract Object call(Invocation call);

    /** The failure for a method this object does not have. */
    protected static OrchException noSuchMethod(String typeid, String method) {
        return OrchException.notFound("'" + typeid + "' object has no method '" + method + "'");
    }
}
