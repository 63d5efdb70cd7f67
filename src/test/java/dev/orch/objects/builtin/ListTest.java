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

class ListTest {

    private static SharedObject list(Object... items) {
        return ListType.INSTANCE.create(null, arr(arr(items)), null);
    }

    private static JsonObject slice(Object start, Object stop, Object step) {
        return obj("start", start, "stop", stop, "step", step);
    }

    @Test
    void constructor() {
        assertEquals(arr(), ok(ListType.INSTANCE.create(null, null, null), "__getitem__", slice(null, null, null)));
        JsonArray copy = (JsonArray) ok(list(1.0, 2.5, "x"), "__getitem__", obj());
        assertEquals(arr(1.0, 2.5, "x"), copy);
        assertEquals(Double.class, copy.getValue(0).getClass(), "1.0 stays a float");
        SharedObject s = ListType.INSTANCE.create(null, arr("ab"), null);
        assertEquals(arr("a", "b"), ok(s, "__getitem__", obj()));
        SharedObject k = ListType.INSTANCE.create(null, null, obj("iterable", obj("p", 1, "q", 2)));
        assertEquals(arr("p", "q"), ok(k, "__getitem__", obj()));
        assertRaised("TypeError", "'int' object is not iterable", createFails(ListType.INSTANCE, arr(3), null));
        assertRaised("TypeError", "list() takes at most 1 positional argument (2 given)",
                createFails(ListType.INSTANCE, arr(arr(), arr()), null));
        assertRaised("TypeError", "list() got an unexpected keyword argument 'x'",
                createFails(ListType.INSTANCE, null, obj("x", 1)));
    }

    @Test
    void getItemWithNegativeIndices() {
        SharedObject l = list("a", "b", "c");
        assertEquals("a", ok(l, "__getitem__", 0));
        assertEquals("c", ok(l, "__getitem__", -1));
        assertEquals("a", ok(l, "__getitem__", -3));
        assertEquals("b", ok(l, "__getitem__", true));
        assertRaised("IndexError", "list index out of range", err(l, "__getitem__", 3));
        assertRaised("IndexError", "list index out of range", err(l, "__getitem__", -4));
        assertRaised("IndexError", "list index out of range", err(l, "__getitem__", new java.math.BigInteger("99999999999999999999")));
        assertRaised("TypeError", "list indices must be integers or slices, not float", err(l, "__getitem__", 1.5));
        assertRaised("TypeError", "list indices must be integers or slices, not float", err(l, "__getitem__", 1.0));
        assertRaised("TypeError", "list indices must be integers or slices, not str", err(l, "__getitem__", "0"));
        assertRaised("TypeError", "list indices must be integers or slices, not NoneType",
                err(l, "__getitem__", (Object) null));
    }

    @Test
    void getSlices() {
        SharedObject l = list(0, 1, 2, 3, 4, 5);
        assertEquals(arr(1L, 2L), ok(l, "__getitem__", slice(1, 3, null)));
        assertEquals(arr(0L, 2L, 4L), ok(l, "__getitem__", slice(null, null, 2)));
        assertEquals(arr(5L, 4L, 3L, 2L, 1L, 0L), ok(l, "__getitem__", slice(null, null, -1)));
        assertEquals(arr(4L, 5L), ok(l, "__getitem__", obj("start", -2)));
        assertEquals(arr(0L, 1L, 2L, 3L, 4L, 5L), ok(l, "__getitem__", slice(-100, 100, null)));
        assertEquals(arr(), ok(l, "__getitem__", slice(4, 2, null)));
        assertEquals(arr(4L, 3L), ok(l, "__getitem__", slice(4, 2, -1)));
        assertEquals(arr(5L, 2L), ok(l, "__getitem__", slice(100, 0, -3)));
        assertEquals(arr(0L), ok(l, "__getitem__", slice(0, 1, Long.MAX_VALUE)));
        assertRaised("ValueError", "slice step cannot be zero", err(l, "__getitem__", slice(null, null, 0)));
        assertRaised("TypeError", "slice indices must be integers or None or have an __index__ method",
                err(l, "__getitem__", slice("a", null, null)));
        assertRaised("TypeError", "slice has no field 'end'", err(l, "__getitem__", obj("end", 2)));
    }

    @Test
    void setItem() {
        SharedObject l = list(1, 2, 3);
        assertNull(ok(l, "__setitem__", -1, 30.0));
        assertEquals(arr(1L, 2L, 30L), ok(l, "__getitem__", obj()));
        assertRaised("IndexError", "list assignment index out of range", err(l, "__setitem__", 3, 0));
        assertRaised("TypeError", "list indices must be integers or slices, not str", err(l, "__setitem__", "a", 0));
    }

    @Test
    void setSlices() {
        SharedObject l = list(0, 1, 2, 3, 4);
        ok(l, "__setitem__", slice(1, 3, null), arr("a", "b", "c"));
        assertEquals(arr(0L, "a", "b", "c", 3L, 4L), ok(l, "__getitem__", obj()));
        ok(l, "__setitem__", slice(4, 1, null), arr("ins"));
        assertEquals(arr(0L, "a", "b", "c", "ins", 3L, 4L), ok(l, "__getitem__", obj()));
        ok(l, "__setitem__", slice(null, null, 2), arr(10, 20, 30, 40));
        assertEquals(arr(10L, "a", 20L, "c", 30L, 3L, 40L), ok(l, "__getitem__", obj()));
        assertRaised("ValueError", "attempt to assign sequence of size 1 to extended slice of size 4",
                err(l, "__setitem__", slice(null, null, 2), arr(1)));
        assertRaised("TypeError", "'int' object is not iterable", err(l, "__setitem__", obj(), 5));
        ok(l, "__setitem__", obj(), arr());
        assertEquals(0L, ok(l, "__len__"));
    }

    @Test
    void delItemAndSlices() {
        SharedObject l = list(0, 1, 2, 3, 4, 5, 6);
        assertNull(ok(l, "__delitem__", -1));
        assertEquals(arr(0L, 1L, 2L, 3L, 4L, 5L), ok(l, "__getitem__", obj()));
        ok(l, "__delitem__", slice(1, 3, null));
        assertEquals(arr(0L, 3L, 4L, 5L), ok(l, "__getitem__", obj()));
        ok(l, "__delitem__", slice(null, null, -2));
        assertEquals(arr(0L, 4L), ok(l, "__getitem__", obj()));
        ok(l, "__delitem__", slice(5, 1, null));
        assertEquals(2L, ok(l, "__len__"));
        assertRaised("IndexError", "list assignment index out of range", err(l, "__delitem__", 2));
    }

    @Test
    void lenContainsCount() {
        SharedObject l = list(1, "a", arr(1, 2), 1.0, null, true);
        assertEquals(6L, ok(l, "__len__"));
        assertEquals(true, ok(l, "__contains__", "a"));
        assertEquals(true, ok(l, "__contains__", arr(1.0, 2)));
        assertEquals(true, ok(l, "__contains__", (Object) null));
        assertEquals(false, ok(l, "__contains__", "b"));
        assertEquals(3L, ok(l, "count", 1), "1, 1.0 and true are equal");
        assertEquals(3L, ok(l, "count", true), "booleans are 0 and 1, as in Python");
        assertEquals(0L, ok(l, "count", false));
        assertEquals(0L, ok(l, "index", true), "true is found at the 1");
        assertEquals(0L, ok(l, "count", "zz"));
    }

    @Test
    void appendExtendInsert() {
        SharedObject l = list();
        assertNull(ok(l, "append", 1));
        assertNull(ok(l, "extend", arr(2, 3)));
        assertNull(ok(l, "extend", "xy"));
        assertNull(ok(l, "insert", 0, "first"));
        assertNull(ok(l, "insert", -1, "before-last"));
        assertNull(ok(l, "insert", 100, "end"));
        assertNull(ok(l, "insert", -100, "start"));
        assertEquals(arr("start", "first", 1L, 2L, 3L, "x", "before-last", "y", "end"), ok(l, "__getitem__", obj()));
        assertRaised("TypeError", "'int' object is not iterable", err(l, "extend", 5));
        assertRaised("TypeError", "'float' object cannot be interpreted as an integer", err(l, "insert", 1.5, 0));
        assertRaised("TypeError", "insert() missing required argument: 'object'", err(l, "insert", 0));
    }

    @Test
    void appendStoresACopy() {
        SharedObject l = list();
        JsonArray v = arr(1);
        ok(l, "append", v);
        v.add(2);
        assertEquals(arr(arr(1L)), ok(l, "__getitem__", obj()));
    }

    @Test
    void pop() {
        SharedObject l = list(1, 2, 3, 4);
        assertEquals(4L, ok(l, "pop"));
        assertEquals(1L, ok(l, "pop", 0));
        assertEquals(2L, okKw(l, "pop", arr(), obj("index", -2)));
        assertRaised("IndexError", "pop index out of range", err(l, "pop", 1));
        assertRaised("IndexError", "pop index out of range", err(l, "pop", -2));
        assertEquals(3L, ok(l, "pop"));
        assertRaised("IndexError", "pop from empty list", err(l, "pop"));
        assertRaised("TypeError", "'str' object cannot be interpreted as an integer", err(list(1), "pop", "0"));
    }

    @Test
    void remove() {
        SharedObject l = list("a", "b", "a");
        assertNull(ok(l, "remove", "a"));
        assertEquals(arr("b", "a"), ok(l, "__getitem__", obj()));
        assertRaised("ValueError", "list.remove(x): x not in list", err(l, "remove", "z"));
    }

    @Test
    void index() {
        SharedObject l = list("a", "b", "a", "c");
        assertEquals(0L, ok(l, "index", "a"));
        assertEquals(2L, ok(l, "index", "a", 1));
        assertEquals(2L, ok(l, "index", "a", -2));
        assertEquals(3L, ok(l, "index", "c", 0, 100));
        assertRaised("ValueError", "'a' is not in list", err(l, "index", "a", 1, 2));
        assertRaised("ValueError", "'z' is not in list", err(l, "index", "z"));
        assertRaised("ValueError", "5 is not in list", err(l, "index", 5));
        assertRaised("TypeError", "slice indices must be integers or have an __index__ method",
                err(l, "index", "a", "x"));
    }

    @Test
    void reverseAndClear() {
        SharedObject l = list(1, 2, 3);
        assertNull(ok(l, "reverse"));
        assertEquals(arr(3L, 2L, 1L), ok(l, "__getitem__", obj()));
        assertNull(ok(l, "clear"));
        assertEquals(0L, ok(l, "__len__"));
        assertRaised("TypeError", "reverse() takes at most 0 positional arguments (1 given)", err(l, "reverse", 1));
    }

    @Test
    void sortLikePython() {
        SharedObject nums = list(3, 1.5, -2, true, 10000000000000000000.0, 2);
        assertNull(ok(nums, "sort"));
        assertEquals(arr(-2L, true, 1.5, 2L, 3L, 10000000000000000000.0), ok(nums, "__getitem__", obj()));
        SharedObject strs = list("b", "a", "\uD83D\uDE00", "\uFFFF", "ab");
        ok(strs, "sort");
        assertEquals(arr("a", "ab", "b", "\uFFFF", "\uD83D\uDE00"), ok(strs, "__getitem__", obj()),
                "strings order by code point, not UTF-16 unit");
        SharedObject arrays = list(arr(1, 2), arr(1), arr(0, "z"), arr(1, 1, 1));
        ok(arrays, "sort");
        assertEquals(arr(arr(0L, "z"), arr(1L), arr(1L, 1L, 1L), arr(1L, 2L)), ok(arrays, "__getitem__", obj()));
    }

    @Test
    void sortReverseIsStable() {
        // 1 and true order as equal but stay distinguishable, which exposes stability.
        SharedObject l = list(1, true, 0, 2);
        okKw(l, "sort", arr(), obj("reverse", true));
        JsonArray got = (JsonArray) ok(l, "__getitem__", obj());
        assertEquals(arr(2L, 1L, true, 0L).encode(), got.encode());
        SharedObject up = list(true, 1, 0);
        ok(up, "sort");
        assertEquals(arr(0L, true, 1L).encode(), ((JsonArray) ok(up, "__getitem__", obj())).encode());
    }

    @Test
    void sortErrorsLeaveListUnchanged() {
        SharedObject l = list(2, "a", 1);
        assertRaised("TypeError", "'<' not supported between instances of 'str' and 'int'", err(l, "sort"));
        assertEquals(arr(2L, "a", 1L), ok(l, "__getitem__", obj()));
        assertRaised("TypeError", "'<' not supported between instances of 'NoneType' and 'NoneType'",
                err(list(null, null), "sort"));
        assertRaised("TypeError", "'<' not supported between instances of 'dict' and 'dict'",
                err(list(obj(), obj()), "sort"));
        assertRaised("TypeError", "'<' not supported between instances of 'str' and 'int'",
                err(list(arr(1, 2), arr(1, "a")), "sort"));
    }

    @Test
    void sortArguments() {
        SharedObject l = list(2, 1);
        assertRaised("TypeError", "sort() takes no positional arguments", err(l, "sort", (Object) null));
        assertRaised("TypeError", "'str' object is not callable", errKw(l, "sort", arr(), obj("key", "len")));
        assertRaised("TypeError", "sort() got an unexpected keyword argument 'cmp'",
                errKw(l, "sort", arr(), obj("cmp", null)));
        assertNull(okKw(l, "sort", arr(), obj("key", null, "reverse", false)));
        assertEquals(arr(1L, 2L), ok(l, "__getitem__", obj()));
    }

    @Test
    void argumentBinding() {
        SharedObject l = list(1);
        assertRaised("TypeError", "append() missing required argument: 'object'", err(l, "append"));
        assertRaised("TypeError", "append() takes at most 1 positional argument (2 given)", err(l, "append", 1, 2));
        assertRaised("TypeError", "count() got an unexpected keyword argument 'y'",
                errKw(l, "count", arr(1), obj("y", 1)));
        assertRaised("TypeError", "__len__() takes at most 0 positional arguments (1 given)", err(l, "__len__", 0));
    }

    @Test
    void unknownMethodIsNotFound() {
        OrchException e = err(list(), "push");
        assertEquals(ErrorCode.NOT_FOUND, e.code());
        assertEquals("'list' object has no method 'push'", e.detail());
    }
}
