package dev.orch.objects.builtin;

import static dev.orch.objects.builtin.Calls.arr;
import static dev.orch.objects.builtin.Calls.assertRaised;
import static dev.orch.objects.builtin.Calls.createFails;
import static dev.orch.objects.builtin.Calls.err;
import static dev.orch.objects.builtin.Calls.errKw;
import static dev.orch.objects.builtin.Calls.obj;
import static dev.orch.objects.builtin.Calls.ok;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import dev.orch.objects.SharedObject;
import dev.orch.protocol.ErrorCode;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

class ValueTest {

    private static SharedObject value(JsonArray args, JsonObject kwargs) {
        return ValueType.INSTANCE.create(null, args, kwargs);
    }

    @Test
    void defaultIsNone() {
        assertNull(ok(value(null, null), "get"));
    }

    @Test
    void oneArgumentForm() {
        assertEquals("x", ok(value(arr("x"), null), "get"));
        assertEquals(7L, ok(value(null, obj("value", 7)), "get"));
    }

    @Test
    void typecodeForm() {
        assertEquals(5L, ok(value(arr("i", 5), null), "get"));
        assertEquals(2.5, ok(value(arr("d"), obj("value", 2.5)), "get"));
        assertEquals(1L, ok(value(null, obj("typecode", "i", "value", 1)), "get"));
        assertRaised("TypeError", "Value() typecode must be a str, not int",
                createFails(ValueType.INSTANCE, arr(1, 5), null));
        assertRaised("TypeError", "Value() missing required argument: 'value'",
                createFails(ValueType.INSTANCE, null, obj("typecode", "i")));
        assertRaised("TypeError", "Value() takes at most 2 positional arguments (3 given)",
                createFails(ValueType.INSTANCE, arr("i", 1, true), null));
    }

    @Test
    void constructorBindingErrors() {
        assertRaised("TypeError", "Value() got an unexpected keyword argument 'lock'",
                createFails(ValueType.INSTANCE, null, obj("lock", true)));
        assertRaised("TypeError", "Value() got multiple values for argument 'value'",
                createFails(ValueType.INSTANCE, arr("i", 1), obj("value", 2)));
        assertRaised("TypeError", "Value() typecode must be a str, not int",
                createFails(ValueType.INSTANCE, arr(1), obj("value", 2)));
    }

    @Test
    void setThenGetKeepsTheNumberType() {
        SharedObject v = value(null, null);
        assertNull(ok(v, "set", 3.0));
        Object got = ok(v, "get");
        assertEquals(3.0, got);
        assertEquals(Double.class, got.getClass(), "an integral float stays a float, as in Python");
        ok(v, "set", 3);
        assertEquals(Long.class, ok(v, "get").getClass());
        ok(v, "set", obj("a", arr(1.0, 2)));
        JsonObject o = (JsonObject) ok(v, "get");
        assertEquals(Double.class, o.getJsonArray("a").getValue(0).getClass());
        assertEquals(Long.class, o.getJsonArray("a").getValue(1).getClass());
        o.put("b", 1);
        assertEquals(1, ((JsonObject) ok(v, "get")).size(), "callers get a copy");
        ok(v, "set", (Object) null);
        assertNull(ok(v, "get"));
    }

    @Test
    void methodArguments() {
        SharedObject v = value(null, null);
        assertRaised("TypeError", "set() missing required argument: 'value'", err(v, "set"));
        assertRaised("TypeError", "get() takes at most 0 positional arguments (1 given)", err(v, "get", 1));
        assertRaised("TypeError", "set() got an unexpected keyword argument 'v'", errKw(v, "set", arr(), obj("v", 1)));
        assertEquals(ErrorCode.NOT_FOUND, err(v, "value").code());
    }
}
