package dev.orch.objects.builtin;

import static dev.orch.objects.builtin.Calls.arr;
import static dev.orch.objects.builtin.Calls.assertRaised;
import static dev.orch.objects.builtin.Calls.createFails;
import static dev.orch.objects.builtin.Calls.err;
import static dev.orch.objects.builtin.Calls.errKw;
import static dev.orch.objects.builtin.Calls.obj;
import static dev.orch.objects.builtin.Calls.ok;
import static dev.orch.objects.builtin.Calls.okKw;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import dev.orch.objects.SharedObject;
import dev.orch.protocol.ErrorCode;
import dev.orch.protocol.OrchException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

class DictTest {

    private static SharedObject dict(JsonArray args, JsonObject kwargs) {
        return DictType.INSTANCE.create(null, args, kwargs);
    }

    private static SharedObject empty() {
        return dict(new JsonArray(), new JsonObject());
    }

    @Test
    void constructorFromObjectPairsAndKwargs() {
        SharedObject d = dict(arr(obj("a", 1, "b", 2)), obj("c", 3, "a", 9));
        assertEquals(obj("a", 9, "b", 2, "c", 3), ok(d, "copy"));
        SharedObject p = dict(arr(arr(arr(1, "one"), arr("two", 2))), null);
        assertEquals(arr(arr(1L, "one"), arr("two", 2L)), ok(p, "items"));
        SharedObject k = dict(null, obj("mapping", obj("x", 1)));
        assertEquals(arr("mapping"), ok(k, "keys"), "mapping is an ordinary keyword entry, as in Python");
        assertEquals(0L, ok(empty(), "__len__"));
    }

    @Test
    void constructorErrors() {
        assertRaised("TypeError", "dict expected at most 1 argument, got 2",
                createFails(DictType.INSTANCE, arr(obj(), obj()), null));
        assertRaised("TypeError", "'int' object is not iterable", createFails(DictType.INSTANCE, arr(5), null));
        assertRaised("TypeError", "cannot convert dictionary update sequence element #1 to a sequence",
                createFails(DictType.INSTANCE, arr(arr(arr(1, 2), 3)), null));
        assertRaised("ValueError", "dictionary update sequence element #0 has length 3; 2 is required",
                createFails(DictType.INSTANCE, arr(arr(arr(1, 2, 3))), null));
        assertRaised("TypeError", "unhashable type: 'list'",
                createFails(DictType.INSTANCE, arr(arr(arr(arr(1), 2))), null));
    }

    @Test
    void stringPairsIterateLikePython() {
        SharedObject d = dict(arr(arr("ab", "cd")), null);
        assertEquals(obj("a", "b", "c", "d"), ok(d, "copy"));
    }

    @Test
    void getSetDelContains() {
        SharedObject d = empty();
        assertNull(ok(d, "__setitem__", "x", 1));
        assertEquals(1L, ok(d, "__getitem__", "x"));
        assertEquals(true, ok(d, "__contains__", "x"));
        assertEquals(false, ok(d, "__contains__", "y"));
        assertNull(ok(d, "__delitem__", "x"));
        assertEquals(false, ok(d, "__contains__", "x"));
        assertRaised("KeyError", "'x'", err(d, "__getitem__", "x"));
        assertRaised("KeyError", "'x'", err(d, "__delitem__", "x"));
        assertRaised("KeyError", "7", err(d, "__getitem__", 7));
        assertRaised("KeyError", "None", err(d, "__getitem__", (Object) null));
    }

    @Test
    void keyErrorUsesPythonRepr() {
        SharedObject d = empty();
        assertRaised("KeyError", "\"it's\"", err(d, "__getitem__", "it's"));
        assertRaised("KeyError", "'a\\'b\"c'", err(d, "__getitem__", "a'b\"c"));
        assertRaised("KeyError", "'x\\ny\\\\'", err(d, "__getitem__", "x\ny\\"));
        assertRaised("KeyError", "'\\x00'", err(d, "pop", "\u0000"));
        assertRaised("KeyError", "True", err(d, "__delitem__", true));
        assertRaised("KeyError", "2.5", err(d, "__getitem__", 2.5));
    }

    @Test
    void nonStringKeysAreKeptAsJsonValues() {
        SharedObject d = empty();
        ok(d, "__setitem__", 1, "int");
        ok(d, "__setitem__", false, "bool");
        ok(d, "__setitem__", null, "none");
        ok(d, "__setitem__", 2.5, "float");
        assertEquals(arr(1L, false, null, 2.5), ok(d, "keys"));
        assertEquals("bool", ok(d, "__getitem__", false));
        assertEquals("none", ok(d, "__getitem__", (Object) null));
        assertEquals(4L, ok(d, "__len__"));
    }

    @Test
    void booleansAreTheKeysZeroAndOneAsInPython() {
        SharedObject d = empty();
        ok(d, "__setitem__", 1, "int");
        ok(d, "__setitem__", true, "bool");
        assertEquals(arr(1L), ok(d, "keys"), "True is the key 1, which keeps the type it was first given");
        assertEquals("bool", ok(d, "__getitem__", 1.0));
        ok(d, "__setitem__", false, "f");
        assertEquals("f", ok(d, "__getitem__", 0));
        assertEquals(true, ok(d, "__contains__", 0.0));
        assertEquals("f", ok(d, "pop", -0.0));
        assertEquals(arr(1L), ok(d, "keys"));
        assertRaised("KeyError", "2", err(d, "__getitem__", 2));
    }

    @Test
    void integralNumbersAreTheSameKey() {
        SharedObject d = empty();
        ok(d, "__setitem__", 1, "a");
        ok(d, "__setitem__", 1.0, "b");
        assertEquals(1L, ok(d, "__len__"));
        assertEquals("b", ok(d, "__getitem__", 1L));
        assertEquals(Long.class, ((JsonArray) ok(d, "keys")).getValue(0).getClass());
        assertEquals(true, ok(d, "__contains__", 1.0));
        assertEquals(arr(arr(1L, "b")), ok(d, "items"));
    }

    @Test
    void aKeyKeepsTheTypeItWasFirstGivenAsInPython() {
        SharedObject d = empty();
        ok(d, "__setitem__", 2.0, "a");
        ok(d, "__setitem__", 2, "b");
        ok(d, "__setitem__", -0.0, "z");
        ok(d, "setdefault", 3.0, "c");
        okKw(d, "update", arr(arr(arr(4.0, "d"))), new JsonObject());
        JsonArray keys = (JsonArray) ok(d, "keys");
        assertEquals(Double.class, keys.getValue(0).getClass(), "d[2.0] = x keys as 2.0, as Python's dict does");
        assertEquals(Double.class, keys.getValue(1).getClass());
        assertEquals(Double.class, keys.getValue(2).getClass());
        assertEquals(Double.class, keys.getValue(3).getClass());
        assertEquals(arr(2.0, -0.0, 3.0, 4.0).encode(), keys.encode());
        assertEquals("b", ok(d, "__getitem__", 2));
        assertEquals("z", ok(d, "pop", 0));
        assertEquals(arr(4.0, "d").encode(), ((JsonArray) ok(d, "popitem")).encode());
        assertRaised("KeyError", "2.0", err(empty(), "__getitem__", 2.0));
    }

    @Test
    void integralNumbersAreOneKeyAtAnyMagnitude() {
        SharedObject d = empty();
        java.math.BigInteger big = java.math.BigInteger.TWO.pow(70);
        ok(d, "__setitem__", big, "i");
        assertEquals(true, ok(d, "__contains__", Math.pow(2, 70)));
        assertEquals("i", ok(d, "get", Math.pow(2, 70)));
        ok(d, "__setitem__", Math.pow(2, 63), "f");
        assertEquals("f", ok(d, "__getitem__", java.math.BigInteger.TWO.pow(63)));
        ok(d, "__setitem__", -Math.pow(2, 63), "m");
        assertEquals("m", ok(d, "__getitem__", Long.MIN_VALUE));
        assertEquals(3L, ok(d, "__len__"));
        assertEquals(false, ok(d, "__contains__", Math.pow(2, 70) + Math.ulp(Math.pow(2, 70))));
    }

    @Test
    void unhashableKeys() {
        SharedObject d = empty();
        assertRaised("TypeError", "unhashable type: 'list'", err(d, "__setitem__", arr(1), 1));
        assertRaised("TypeError", "unhashable type: 'dict'", err(d, "__getitem__", obj()));
        assertRaised("TypeError", "unhashable type: 'list'", err(d, "__contains__", arr()));
        assertRaised("TypeError", "unhashable type: 'list'", err(d, "get", arr()));
    }

    @Test
    void insertionOrderIsKeptAndOverwriteKeepsPosition() {
        SharedObject d = empty();
        ok(d, "__setitem__", "b", 1);
        ok(d, "__setitem__", "a", 2);
        ok(d, "__setitem__", "c", 3);
        ok(d, "__setitem__", "b", 4);
        assertEquals(arr("b", "a", "c"), ok(d, "keys"));
        assertEquals(arr(4L, 2L, 3L), ok(d, "values"));
        ok(d, "__delitem__", "b");
        ok(d, "__setitem__", "b", 5);
        assertEquals(arr("a", "c", "b"), ok(d, "keys"));
    }

    @Test
    void valuesKeepTheirNumberTypesAndAreCopied() {
        SharedObject d = empty();
        JsonArray nested = arr(1.0, obj("k", 2), 3);
        ok(d, "__setitem__", "n", nested);
        nested.add("caller mutation");
        JsonArray got = (JsonArray) ok(d, "__getitem__", "n");
        // JsonArray.equals may equate 1 and 1.0, so check the stored types directly: an integral
        // float stays a float, as in Python; an int stays an int.
        assertEquals(Double.class, got.getValue(0).getClass());
        assertEquals(Long.class, got.getJsonObject(1).getValue("k").getClass());
        assertEquals(Long.class, got.getValue(2).getClass());
        got.add("reader mutation");
        assertEquals(3, ((JsonArray) ok(d, "__getitem__", "n")).size());
        ok(d, "__setitem__", "f", 1.5);
        assertEquals(1.5, ok(d, "__getitem__", "f"));
    }

    @Test
    void get() {
        SharedObject d = dict(arr(obj("a", 1)), null);
        assertEquals(1L, ok(d, "get", "a"));
        assertNull(ok(d, "get", "b"));
        assertEquals("dflt", ok(d, "get", "b", "dflt"));
        assertEquals("kw", okKw(d, "get", arr("b"), obj("default", "kw")));
    }

    @Test
    void pop() {
        SharedObject d = dict(arr(obj("a", 1, "b", 2)), null);
        assertEquals(1L, ok(d, "pop", "a"));
        assertEquals(arr("b"), ok(d, "keys"));
        assertEquals("d", ok(d, "pop", "a", "d"));
        assertNull(ok(d, "pop", "a", null), "an explicit None default is returned");
        assertRaised("KeyError", "'a'", err(d, "pop", "a"));
    }

    @Test
    void popitemIsLifo() {
        SharedObject d = dict(arr(obj("a", 1, "b", 2, "c", 3)), null);
        assertEquals(arr("c", 3L), ok(d, "popitem"));
        ok(d, "__setitem__", "z", 26);
        assertEquals(arr("z", 26L), ok(d, "popitem"));
        assertEquals(arr("b", 2L), ok(d, "popitem"));
        assertEquals(arr("a", 1L), ok(d, "popitem"));
        assertRaised("KeyError", "'popitem(): dictionary is empty'", err(d, "popitem"));
    }

    @Test
    void setdefault() {
        SharedObject d = empty();
        assertEquals(5L, ok(d, "setdefault", "a", 5));
        assertEquals(5L, ok(d, "setdefault", "a", 6));
        assertNull(ok(d, "setdefault", "n"));
        assertEquals(true, ok(d, "__contains__", "n"));
        assertEquals(arr(arr("a", 5L), arr("n", null)), ok(d, "items"));
    }

    @Test
    void update() {
        SharedObject d = dict(arr(obj("a", 1)), null);
        assertNull(ok(d, "update", obj("b", 2)));
        assertNull(ok(d, "update", arr(arr(3, "three"))));
        assertNull(okKw(d, "update", arr(), obj("other", 4, "a", 0)));
        assertNull(ok(d, "update"));
        assertEquals(arr(arr("a", 0L), arr("b", 2L), arr(3L, "three"), arr("other", 4L)), ok(d, "items"));
        assertRaised("TypeError", "update expected at most 1 argument, got 2", err(d, "update", obj(), obj()));
        assertRaised("TypeError", "'NoneType' object is not iterable", err(d, "update", (Object) null));
    }

    @Test
    void failedUpdateChangesNothing() {
        SharedObject d = dict(arr(obj("a", 1)), null);
        assertRaised("ValueError", "dictionary update sequence element #1 has length 1; 2 is required",
                err(d, "update", arr(arr("x", 1), arr("y"))));
        assertEquals(obj("a", 1), ok(d, "copy"));
    }

    @Test
    void clear() {
        SharedObject d = dict(arr(obj("a", 1)), null);
        assertNull(ok(d, "clear"));
        assertEquals(0L, ok(d, "__len__"));
        assertEquals(arr(), ok(d, "keys"));
    }

    @Test
    void copyIsObjectForStringKeysElsePairs() {
        SharedObject d = dict(arr(obj("a", 1)), null);
        assertEquals(obj("a", 1L), ok(d, "copy"));
        assertEquals(new JsonObject(), ok(empty(), "copy"));
        ok(d, "__setitem__", 2, "two");
        assertEquals(arr(arr("a", 1L), arr(2L, "two")), ok(d, "copy"));
    }

    @Test
    void argumentBinding() {
        SharedObject d = empty();
        assertRaised("TypeError", "__getitem__() missing required argument: 'key'", err(d, "__getitem__"));
        assertRaised("TypeError", "__len__() takes at most 0 positional arguments (1 given)", err(d, "__len__", 1));
        assertRaised("TypeError", "get() takes at most 2 positional arguments (3 given)", err(d, "get", 1, 2, 3));
        assertRaised("TypeError", "get() got an unexpected keyword argument 'x'",
                errKw(d, "get", arr("a"), obj("x", 1)));
        assertRaised("TypeError", "keys() got an unexpected keyword argument 'x'",
                errKw(d, "keys", arr(), obj("x", 1)));
        assertRaised("TypeError", "__setitem__() missing required argument: 'value'", err(d, "__setitem__", "k"));
        assertRaised("TypeError", "popitem() takes at most 0 positional arguments (1 given)", err(d, "popitem", 1));
    }

    @Test
    void unknownMethodIsNotFound() {
        OrchException e = err(empty(), "nope");
        assertEquals(ErrorCode.NOT_FOUND, e.code());
        assertEquals("'dict' object has no method 'nope'", e.detail());
    }
}
