package dev.orch.objects.builtin;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class OrderedTableTest {

    private static List<Object> keys(OrderedTable t) {
        List<Object> out = new ArrayList<>();
        for (OrderedTable.Entry e : t) {
            out.add(e.key);
        }
        return out;
    }

    @Test
    void removalsAnywhereKeepTheLinksConsistent() {
        OrderedTable t = new OrderedTable();
        for (long i = 0; i < 5; i++) {
            t.put(i, i, "v" + i);
        }
        t.put(null, null, "none");
        assertEquals("v0", t.remove(0L).value);
        assertEquals("v2", t.remove(2L).value);
        assertNull(t.remove(2L));
        assertEquals("none", t.removeLast().value);
        assertEquals(List.of(1L, 3L, 4L), keys(t));
        assertEquals(4L, t.removeLast().key);
        t.put(0L, 0L, "again");
        assertEquals(List.of(1L, 3L, 0L), keys(t));
        assertEquals(3, t.size());
        t.remove(1L);
        t.remove(0L);
        t.remove(3L);
        assertNull(t.removeLast());
        assertEquals(List.of(), keys(t));
        t.put("x", "x", 1);
        assertEquals(List.of("x"), keys(t));
        t.clear();
        assertEquals(0, t.size());
        assertNull(t.removeLast());
    }

    @Test
    void anEntryKeepsItsKeyAsFirstGivenAndIsFoundByItsHashForm() {
        OrderedTable t = new OrderedTable();
        t.put(2L, 2.0, "a");
        t.put(2L, 2L, "b");
        assertEquals(List.of(2.0), keys(t), "the first spelling stays, as in Python");
        assertEquals("b", t.find(2L).value);
        assertEquals(2.0, t.removeLast().key);
        assertNull(t.find(2L), "removeLast unindexes by the hash form");
    }
}
