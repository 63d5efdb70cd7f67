package dev.orch.objects.builtin;

import static dev.orch.objects.builtin.Calls.arr;
import static dev.orch.objects.builtin.Calls.assertRaised;
import static dev.orch.objects.builtin.Calls.assertRaisedName;
import static dev.orch.objects.builtin.Calls.createFails;
import static dev.orch.objects.builtin.Calls.err;
import static dev.orch.objects.builtin.Calls.obj;
import static dev.orch.objects.builtin.Calls.ok;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.orch.objects.SharedObject;
import io.vertx.core.json.JsonArray;
import java.math.BigInteger;
import java.util.List;
import org.junit.jupiter.api.Test;

class ArrayTest {

    private static SharedObject array(Object... args) {
        return ArrayType.INSTANCE.create(null, arr(args), null);
    }

    @Test
    void indexingAndLengthAsPythonsArray() {
        SharedObject a = array("i", arr(1, 2, 3));
        assertEquals(3L, ok(a, "__len__"));
        assertEquals(1L, ok(a, "__getitem__", 0));
        assertEquals(3L, ok(a, "__getitem__", -1));
        ok(a, "__setitem__", 1, 20);
        assertEquals(new JsonArray().add(1L).add(20L).add(3L), ok(a, "__getitem__", obj()));
        assertEquals(new JsonArray().add(3L).add(1L), ok(a, "__getitem__", obj("step", -2)));
        assertRaised("IndexError", "array index out of range", err(a, "__getitem__", 3));
        assertRaised("IndexError", "array assignment index out of range", err(a, "__setitem__", -4, 0));
        assertRaised("TypeError", "array indices must be integers", err(a, "__getitem__", "0"));
        // Only what Python's ArrayProxy exposes.
        assertEquals(dev.orch.protocol.ErrorCode.NOT_FOUND, err(a, "append", 4).code());
    }

    @Test
    void itemsKeepToTheTypecode() {
        SharedObject b = array("b", arr(-128, 127));
        assertRaised("OverflowError", "128 is out of range for array typecode 'b' (-128 to 127)", err(b, "__setitem__", 0, 128));
        assertRaised("TypeError", "'float' object cannot be interpreted as an integer", err(b, "__setitem__", 0, 1.5));
        assertRaised("TypeError", "'str' object cannot be interpreted as an integer", err(b, "__setitem__", 0, "1"));
        ok(b, "__setitem__", 0, true); // a bool is an int, as in Python
        assertEquals(1L, ok(b, "__getitem__", 0));
        SharedObject big = array("Q", arr(new BigInteger("18446744073709551615")));
        assertEquals(new BigInteger("18446744073709551615"), ok(big, "__getitem__", 0));
        assertRaisedName("OverflowError", err(big, "__setitem__", 0, -1));
        SharedObject d = array("d", arr(1, 2.5));
        assertEquals(1.0, ok(d, "__getitem__", 0), "an int becomes a float");
        assertRaised("TypeError", "must be real number, not str", err(d, "__setitem__", 0, "x"));
        SharedObject f = array("f", arr(0.1));
        assertEquals((double) 0.1f, ok(f, "__getitem__", 0), "a C float's precision");
        // Python would keep inf, which JSON could not hand back: refused, and nothing changes.
        assertRaised("OverflowError", "1e+300 is out of range for array typecode 'f' (a C float)",
                err(f, "__setitem__", 0, 1e300));
        assertRaisedName("OverflowError", createFails(ArrayType.INSTANCE, arr("f", arr(1, 1e39)), null));
        assertEquals((double) 0.1f, ok(f, "__getitem__", 0));
        assertRaised("OverflowError", "int too large to convert to float",
                err(d, "__setitem__", 0, BigInteger.TWO.pow(2000)));
        SharedObject u = array("u", "hé");
        assertEquals("é", ok(u, "__getitem__", 1));
        assertRaised("TypeError", "array item must be unicode character", err(u, "__setitem__", 0, "ab"));
    }

    @Test
    void sliceAssignmentTakesAnArrayOfTheTypecode() {
        SharedObject a = array("h", arr(1, 2, 3, 4));
        ok(a, "__setitem__", obj("start", 1, "stop", 3), arr(7));
        assertEquals(new JsonArray().add(1L).add(7L).add(4L), ok(a, "__getitem__", obj()));
        assertRaised("ValueError", "attempt to assign array of size 1 to extended slice of size 2",
                err(a, "__setitem__", obj("step", 2), arr(9)));
        assertRaisedName("OverflowError", err(a, "__setitem__", obj(), arr(1 << 20)));
        assertEquals(3L, ok(a, "__len__"), "a refused slice assignment changes nothing");
        assertRaised("TypeError", "can only assign array (not \"int\") to array slice", err(a, "__setitem__", obj(), 5));
    }

    @Test
    void reprIsPythonsArrayRepr() {
        assertEquals("array('i', [1, 2, 3])", ok(array("i", arr(1, 2, 3)), "__repr__"));
        assertEquals("array('b', [-128, 127])", ok(array("b", arr(-128, 127)), "__repr__"));
        assertEquals("array('Q', [18446744073709551615, 0])",
                ok(array("Q", arr(new BigInteger("18446744073709551615"), 0)), "__repr__"));
        assertEquals("array('d', [1.5, 2.0, 1e+16, 1e-05, -0.0, 0.1])",
                ok(array("d", arr(1.5, 2, 1e16, 1e-5, -0.0, 0.1)), "__repr__"));
        // A C float read back as a double, as Python shows it.
        assertEquals("array('f', [0.10000000149011612, 1.5, 1.0000000150474662e+30])",
                ok(array("f", arr(0.1, 1.5, 1e30)), "__repr__"));
        assertEquals("array('u', 'ab')", ok(array("u", "ab"), "__repr__"));
        assertEquals("array('u', \"it's\")", ok(array("u", "it's"), "__repr__"));
        assertEquals("array('u', 'a\\nb\"\\'')", ok(array("u", arr("a", "\n", "b", "\"", "'")), "__repr__"));
        assertEquals("array('u', 'a\\xa0\\u2028')", ok(array("u", "a\u00a0\u2028"), "__repr__"), "escaped as Python's");
        for (String code : List.of("i", "u", "d")) {
            assertEquals("array('" + code + "')", ok(array(code, arr()), "__repr__"), "empty " + code);
        }
        SharedObject a = array("h", arr(1, 2, 3));
        ok(a, "__setitem__", obj("start", 1), arr(9));
        assertEquals("array('h', [1, 9])", ok(a, "__repr__"), "the current items");
        assertRaisedName("TypeError", err(a, "__repr__", 1));
    }

    @Test
    void constructorChecksLikePythons() {
        assertRaised("ValueError", "bad typecode (must be b, B, u, h, H, i, I, l, L, q, Q, f or d)",
                createFails(ArrayType.INSTANCE, arr("z", arr()), null));
        assertRaised("TypeError", "array() argument 1 must be a unicode character, not int",
                createFails(ArrayType.INSTANCE, arr(1, arr()), null));
        assertRaised("TypeError", "cannot use a str to initialize an array with typecode 'i'",
                createFails(ArrayType.INSTANCE, arr("i", "12"), null));
        assertRaised("TypeError", "Array() missing required argument: 'sequence'",
                createFails(ArrayType.INSTANCE, arr("i"), null));
        assertRaisedName("OverflowError", createFails(ArrayType.INSTANCE, arr("B", arr(1, 256)), null));
        // SyncManager.Array's lock= is taken and means nothing here.
        assertEquals(2L, ok(ArrayType.INSTANCE.create(null, arr("d", arr(1, 2)), obj("lock", false)), "__len__"));
    }
}
