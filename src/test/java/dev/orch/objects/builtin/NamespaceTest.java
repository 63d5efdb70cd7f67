package dev.orch.objects.builtin;

import static dev.orch.objects.builtin.Calls.arr;
import static dev.orch.objects.builtin.Calls.assertRaised;
import static dev.orch.objects.builtin.Calls.createFails;
import static dev.orch.objects.builtin.Calls.err;
import static dev.orch.objects.builtin.Calls.obj;
import static dev.orch.objects.builtin.Calls.ok;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import dev.orch.objects.SharedObject;
import dev.orch.protocol.ErrorCode;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

class NamespaceTest {

    private static SharedObject ns(JsonArray args, JsonObject kwargs) {
        return NamespaceType.INSTANCE.create(null, args, kwargs);
    }

    @Test
    void constructorTakesKwargsAndOneObject() {
        assertEquals(new JsonObject(), ok(ns(null, null), "_getvalue"));
        assertEquals(obj("a", 1L, "b", 2L), ok(ns(null, obj("a", 1, "b", 2)), "_getvalue"));
        SharedObject both = ns(arr(obj("a", 1, "c", 3)), obj("a", 10));
        assertEquals(10L, ok(both, "__getattr__", "a"));
        assertEquals(3L, ok(both, "__getattr__", "c"));
    }

    @Test
    void constructorErrors() {
        assertRaised("TypeError", "Namespace expected at most 1 argument, got 2",
                createFails(NamespaceType.INSTANCE, arr(obj(), obj()), null));
        assertRaised("TypeError", "Namespace() argument must be a dict, not list",
                createFails(NamespaceType.INSTANCE, arr(arr()), null));
    }

    @Test
    void attributes() {
        SharedObject n = ns(null, null);
        assertNull(ok(n, "__setattr__", "x", 1.0));
        Object x = ok(n, "__getattr__", "x");
        assertEquals(1.0, x);
        assertEquals(Double.class, x.getClass());
        ok(n, "__setattr__", "y", arr("v"));
        assertEquals(obj("x", 1.0, "y", arr("v")), ok(n, "_getvalue"));
        assertNull(ok(n, "__delattr__", "x"));
        assertEquals(obj("y", arr("v")), ok(n, "_getvalue"));
        assertRaised("AttributeError", "'Namespace' object has no attribute 'x'", err(n, "__getattr__", "x"));
        assertRaised("AttributeError", "'Namespace' object has no attribute 'x'", err(n, "__delattr__", "x"));
    }

    @Test
    void namesMustBeStrings() {
        SharedObject n = ns(null, null);
        assertRaised("TypeError", "attribute name must be string, not 'int'", err(n, "__getattr__", 1));
        assertRaised("TypeError", "attribute name must be string, not 'NoneType'", err(n, "__setattr__", null, 1));
        assertRaised("TypeError", "attribute name must be string, not 'list'", err(n, "__delattr__", arr()));
    }

    @Test
    void getvalueIsACopy() {
        SharedObject n = ns(null, obj("a", 1));
        ((JsonObject) ok(n, "_getvalue")).put("b", 2);
        assertEquals(obj("a", 1L), ok(n, "_getvalue"));
    }

    @Test
    void argumentBinding() {
        SharedObject n = ns(null, null);
        assertRaised("TypeError", "__getattr__() missing required argument: 'name'", err(n, "__getattr__"));
        assertRaised("TypeError", "__setattr__() missing required argument: 'value'", err(n, "__setattr__", "a"));
        assertRaised("TypeError", "_getvalue() takes at most 0 positional arguments (1 given)", err(n, "_getvalue", 1));
        assertEquals(ErrorCode.NOT_FOUND, err(n, "__dict__").code());
    }
}
