package dev.orch.objects.builtin;

import java.util.HashMap;
import java.util.Iterator;
import java.util.Map;
import java.util.NoSuchElementException;

/**
 * An insertion-ordered hash map with O(1) removal of the newest entry, which Java 17's
 * {@code LinkedHashMap} lacks and {@code dict.popitem()} needs. Entries are found by a key's hash
 * form ({@code Json.key}) and keep the key as it was first given, as Python's dict does
 * ({@code d[2.0] = x; d[2] = y} leaves the key {@code 2.0}); null is a valid key ({@code None}).
 */
final class OrderedTable implements Iterable<OrderedTable.Entry> {

    /** One key/value pair, linked in insertion order. */
    static final class Entry {
        /** The key as first given, answered by {@code keys()} and the like. */
        final Object key;
        Object value;
        private final Object hashKey;
        private Entry prev;
        private Entry next;

        private Entry(Object hashKey, Object key, Object value) {
            this.hashKey = hashKey;
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

    /** The entry whose key hashes as {@code hashKey}, or null. */
    Entry find(Object hashKey) {
        return index.get(hashKey);
    }

    /**
     * Sets a value; a key already present keeps its position and its first spelling, as in
     * Python. {@code key} is the key as given, {@code hashKey} its hash form.
     */
    void put(Object hashKey, Object key, Object value) {
        Entry e = index.get(hashKey);
        if (e != null) {
            e.value = value;
            return;
        }
        e = new Entry(hashKey, key, value);
        index.put(hashKey, e);
        e.prev = tail;
        if (tail == null) {
            head = e;
        } else {
            tail.next = e;
        }
        tail = e;
    }

    /** Removes and returns the entry whose key hashes as {@code hashKey}, or null. */
    Entry remove(Object hashKey) {
        Entry e = index.remove(hashKey);
        if (e != null) {
            unlink(e);
        }
        return e;
    }

    /** Removes and returns the newest entry, or null when empty. */
    Entry removeLast() {
        Entry e = tail;
        if (e != null) {
            index.remove(e.hashKey);
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
