package dev.orch.objects.builtin;

import static dev.orch.objects.builtin.Calls.arr;
import static dev.orch.objects.builtin.Calls.obj;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.orch.protocol.OrchException;
import java.math.BigInteger;
import org.junit.jupiter.api.Test;

class PyTest {

    @Test
    void equality() {
        assertTrue(Py.equal(1, 1.0));
        assertTrue(Py.equal(1e16, 10000000000000000L), "large integral doubles equal their ints");
        assertTrue(Py.equal(arr(1, obj("a", 2.0)), arr(1.0, obj("a", 2))));
        assertTrue(Py.equal(null, null));
        assertTrue(Py.equal(-0.0, 0.0));
        assertTrue(Py.equal(-0.0, 0));
        assertTrue(Py.equal(true, 1), "booleans are 0 and 1, as in Python");
        assertTrue(Py.equal(false, -0.0));
        assertFalse(Py.equal(true, 2));
        assertFalse(Py.equal(true, "True"));
        assertTrue(Py.equal(arr(true, 0), arr(1.0, false)));
        assertFalse(Py.equal("1", 1));
        assertFalse(Py.equal(null, 0));
        assertFalse(Py.equal(arr(1), arr(1, 2)));
        assertFalse(Py.equal(obj("a", 1), obj("b", 1)));
        assertFalse(Py.equal(obj("a", 1), obj("a", 1, "b", 2)));
    }

    @Test
    void ordering() {
        BigInteger huge = new BigInteger("100000000000000000000");
        assertTrue(Py.compare(Long.MAX_VALUE, huge) < 0);
        assertTrue(Py.compare(1e30, huge) > 0);
        assertTrue(Py.compare(0.5, 1) < 0);
        assertTrue(Py.compare(false, 0.5) < 0);
        assertEquals(0, Py.compare(true, 1));
        assertTrue(Py.compare("Z", "a") < 0);
        assertTrue(Py.compare(arr(), arr(0)) < 0);
        OrchException e = assertThrows(OrchException.class, () -> Py.compare(1, "a"));
        assertEquals("'<' not supported between instances of 'int' and 'str'", e.detail());
    }

    @Test
    void iteration() {
        assertEquals(List2.of("a", "\uD83D\uDE00"), Py.iterate("a\uD83D\uDE00"));
        assertEquals(List2.of("k"), Py.iterate(obj("k", 1)));
        OrchException e = assertThrows(OrchException.class, () -> Py.iterate(true));
        assertEquals("'bool' object is not iterable", e.detail());
    }

    @Test
    void storeKeepsNumberTypesAndCopies() {
        io.vertx.core.json.JsonArray in = arr(arr(2.0, 3));
        io.vertx.core.json.JsonArray stored = (io.vertx.core.json.JsonArray) Py.store(in);
        assertEquals(Double.class, stored.getJsonArray(0).getValue(0).getClass());
        assertEquals(Long.class, stored.getJsonArray(0).getValue(1).getClass());
        in.getJsonArray(0).add(4);
        assertEquals(2, stored.getJsonArray(0).size());
    }

    /** java.util.List.of as Object lists, for comparing with iterate's results. */
    private static final class List2 {
        static java.util.List<Object> of(Object... items) {
            return java.util.Arrays.asList(items);
        }
    }
}
