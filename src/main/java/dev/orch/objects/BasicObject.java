package dev.orch.objects;

import dev.orch.protocol.OrchException;

/**
 * Base for objects whose methods all answer at once: {@link #call} returns the result or throws
 * {@link OrchException}. Objects with methods that wait implement {@link SharedObject} directly.
 */
public abstract class BasicObject implements SharedObject {

    @Override
    public final void invoke(Invocation call) {
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
        call.reply(result);
    }

    /** Runs the method named by {@code call.method()} and returns its JSON result. */
    protected abstract Object call(Invocation call);

    /** The failure for a method this object does not have. */
    protected static OrchException noSuchMethod(String typeid, String method) {
        return OrchException.notFound("'" + typeid + "' object has no method '" + method + "'");
    }
}
