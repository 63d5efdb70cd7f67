package dev.orch.objects.builtin;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.orch.objects.AbstractInvocation;
import dev.orch.objects.SharedObject;
import dev.orch.objects.SharedType;
import dev.orch.protocol.ErrorCode;
import dev.orch.protocol.OrchException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

/** In-memory invocations for unit tests of the built-in types. */
final class Calls {
    private Calls() {
    }

    /** An invocation that records its single answer. */
    static final class Recorded extends AbstractInvocation {
        Object result;
        OrchException error;

        Recorded(String method, JsonArray args, JsonObject kwargs) {
            super(method, args, kwargs, "s1");
        }

        @Override
        protected void deliver(Object r) {
            result = r;
        }

        @Override
        protected void deliverFailure(OrchException e) {
            error = e;
        }

        @Override
        protected void answeredTwice() {
            org.junit.jupiter.api.Assertions.fail("answered twice");
        }
    }

    static Recorded invoke(SharedObject o, String method, JsonArray args, JsonObject kwargs) {
        Recorded r = new Recorded(method, args, kwargs);
        o.invoke(r);
        assertTrue(r.isDone(), method + " did not answer");
        return r;
    }

    /** Calls with positional arguments and kwargs; asserts success and returns the result. */
    static Object okKw(SharedObject o, String method, JsonArray args, JsonObject kwargs) {
        Recorded r = invoke(o, method, args, kwargs);
        if (r.error != null) {
            fail(method + " failed: " + r.error.wireMessage());
        }
        return r.result;
    }

    static Object ok(SharedObject o, String method, Object... args) {
        return okKw(o, method, arr(args), new JsonObject());
    }

    /** Calls and asserts failure; returns the error. */
    static OrchException errKw(SharedObject o, String method, JsonArray args, JsonObject kwargs) {
        Recorded r = invoke(o, method, args, kwargs);
        assertNull(r.result, "unexpected result");
        assertNotNull(r.error, method + " should have failed");
        return r.error;
    }

    static OrchException err(SharedObject o, String method, Object... args) {
        return errKw(o, method, arr(args), new JsonObject());
    }

    /** Asserts a method failure (500) with Python's error name and detail. */
    static void assertRaised(String name, String detail, OrchException e) {
        assertEquals(ErrorCode.REMOTE, e.code());
        assertEquals(name, e.name());
        assertEquals(detail, e.detail());
        assertEquals(name + ": " + detail, e.wireMessage());
    }

    static void assertRaisedName(String name, OrchException e) {
        assertEquals(ErrorCode.REMOTE, e.code());
        assertEquals(name, e.name(), e.wireMessage());
    }

    /** Asserts the constructor raises. */
    static OrchException createFails(SharedType t, JsonArray args, JsonObject kwargs) {
        return assertThrows(OrchException.class, () -> t.create(null, args, kwargs));
    }

    static JsonArray arr(Object... values) {
        JsonArray a = new JsonArray();
        for (Object v : values) {
            a.add(v);
        }
        return a;
    }

    static JsonObject obj(Object... kv) {
        JsonObject o = new JsonObject();
        for (int i = 0; i < kv.length; i += 2) {
            o.put((String) kv[i], kv[i + 1]);
        }
        return o;
    }
}
