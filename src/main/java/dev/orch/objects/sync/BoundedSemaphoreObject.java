package dev.orch.objects.sync;

import dev.orch.objects.ObjectContext;
import dev.orch.protocol.OrchException;

/** {@code threading.BoundedSemaphore}: the value may never exceed its initial value. */
final class BoundedSemaphoreObject extends SemaphoreObject {
    static final String TYPEID = "BoundedSemaphore";

    BoundedSemaphoreObject(ObjectContext context, long value) {
        super(context, value);
    }

    @Override
    protected String typeid() {
        return TYPEID;
    }

    @Override
    String repr() {
        return "<" + TYPEID + ": value=" + value + "/" + initial + ">";
    }

    @Override
    protected void checkRelease(long n) {
        // The bound first: past it Python says ValueError, whatever the size of n.
        if (n >= 1 && n > initial - value) {
            throw OrchException.raised("ValueError", "Semaphore released too many times");
        }
        super.checkRelease(n);
    }

    @Override
    protected long returned(long value, long holding) {
        // Another session may have released on the closed one's behalf; never exceed the bound.
        return Math.min(initial, super.returned(value, holding));
    }
}
