package dev.orch.objects.builtin;

import java.util.HashMap;
import java.util.Iterator;
import java.util.Map;
import java.util.NoSuchElementException;

/**
 * An insertion-ordered hash map with O(1) removal of the newest entry, which Java 17's
 * {@code LinkedHashMap} lacks and {@code dict.popitem()} needs. Keys must already be
 * normalized ({@code Json.key}); null is a valid key (Python's {@code None}).
 */
final class OrderedTable implements Iterable<OrderedTable.Entry> {

    /** One key/value pair, linked in insertion order. */
    static final class Entry {
        final Object key;
        Object value;
        private Entry prev;
        private Entry next;

        private Entry(Object key, Object value) {
            this.key = key;
            this.value = value;
        }
    }

    private final Map<Object, Entry> index = new HashMap<>();
    private Entry head;
    private Entry tail;

    int size() {
        return index.size();
    }

    Entry find(Object key) {
        return index.get(key);
    }

    /** Sets a value; a key already present keeps its position, as in Python. */
    void put(Object key, Object value) {
        Entry e = index.get(key);
        if (e != null) {
            e.value = value;
            return;
        }
        e = new Entry(key, value);
        index.put(key, e);
        e.prev = tail;
        if (tail == null) {
            head = e;
        } else {
            tail.next = e;
        }
        tail = e;
    }

    /** Removes and returns the entry for {@code key}, or null. */
    Entry remove(Object key) {
        Entry e = index.remove(key);
        if (e != null) {
            unlink(e);
        }
        return e;
    }

    /** Removes and returns the newest entry, or null when empty. */
    Entry removeLast() {
        Entry e = tail;
        if (e != null) {
            index.remove(e.key);
            unlink(e);
        }
        return e;
    }

    void clear() {
        index.clear();
        head = null;
        tail = null;
    }

    private void unlink(Entry e) {
        if (e.prev == null) {
            head = e.next;
        } else {
            e.prev.next = e.next;
        }
        if (e.next == null) {
            tail = e.prev;
        } else {
            e.next.prev = e.prev;
        }
        e.prev = null;
        e.next = null;
    }

    @Override
    public Iterator<Entry> iterator() {
        return new Iterator<>() {
            private Entry cursor = head;

            @Override
            public boolean hasNext() {
                return cursor != null;
            }

            @Override
            public Entry next() {
                if (cursor == null) {
                    throw new NoSuchElementException();
                }
                Entry e = cursor;
                cursor = cursor.next;
                return e;
            }
        };
    }
}
