package dev.orch.objects.builtin;

import dev.orch.objects.Args;
import dev.orch.objects.BasicObject;
import dev.orch.objects.Invocation;
import dev.orch.objects.Json;
import dev.orch.protocol.OrchException;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * A list instance. Indices may be negative; {@code __getitem__}, {@code __setitem__} and
 * {@code __delitem__} also take a slice object (see {@link Slice}). Element equality
 * ({@code __contains__}, {@code remove}, {@code index}, {@code count}) is {@link Py#equal}.
 */
final class SharedList extends BasicObject {
    final List<Object> items = new ArrayList<>();

    // Reordering keeps every value: as a read, for references.
    private static final java.util.Set<String> READS = java.util.Set.of(
            "__getitem__", "__len__", "__contains__", "index", "count", "reverse", "sort", "__repr__", "__str__");
    private static final java.util.Set<String> GROWS = java.util.Set.of("append", "extend", "insert");

    @Override
    public StoredChange storedChange(String method) {
        return READS.contains(method) ? StoredChange.NONE : GROWS.contains(method) ? StoredChange.GROWS : StoredChange.ANY;
    }

    @Override
    public void forEachStored(java.util.function.Consumer<Object> sink) {
        items.forEach(sink);
    }

    @Override
    protected Object call(Invocation call) {
        switch (call.method()) {
            case "__getitem__":
                return getItem(Args.bind(call, "index").get(0));
            case "__setitem__": {
                Args a = Args.bind(call, "index", "value");
                setItem(a.get(0), a.get(1));
                return null;
            }
            case "__delitem__":
                delItem(Args.bind(call, "index").get(0));
                return null;
            case "__len__":
                Args.bind(call);
                return (long) items.size();
            case "__contains__":
                return find(Args.bind(call, "value").get(0), 0, items.size()) >= 0;
            case "append":
                items.add(Py.store(Args.bind(call, "object").get(0)));
                return null;
            case "extend":
                items.addAll(Py.iterate(Args.bind(call, "iterable").get(0)));
                return null;
            case "insert": {
                Args a = Args.bind(call, "index", "object");
                long i = Py.toIndex(a.get(0));
                items.add(clamp(i < 0 ? i + items.size() : i), Py.store(a.get(1)));
                return null;
            }
            case "pop":
                return pop(call);
            case "remove": {
                int i = find(Args.bind(call, "value").get(0), 0, items.size());
                if (i < 0) {
                    throw OrchException.raised("ValueError", "list.remove(x): x not in list");
                }
                items.remove(i);
                return null;
            }
            case "index":
                return index(call);
            case "count": {
                Object x = Args.bind(call, "value").get(0);
                long n = 0;
                for (Object item : items) {
                    if (Py.equal(item, x)) {
                        n++;
                    }
                }
                return n;
            }
            case "reverse":
                Args.bind(call);
                Collections.reverse(items);
                return null;
            case "sort":
                sort(call);
                return null;
            case "clear":
                Args.bind(call);
                items.clear();
                return null;
            default:
                throw noSuchMethod("list", call.method());
        }
    }

    private Object getItem(Object index) {
        if (index instanceof JsonObject) {
            return Slice.resolve((JsonObject) index, items.size()).select(items, Py::out);
        }
        return Py.out(items.get(position(index, "list index out of range")));
    }

    private void setItem(Object index, Object value) {
        if (!(index instanceof JsonObject)) {
            items.set(position(index, "list assignment index out of range"), Py.store(value));
            return;
        }
        Slice.resolve((JsonObject) index, items.size()).assign(items, Py.iterate(value), "sequence");
    }

    private void delItem(Object index) {
        if (!(index instanceof JsonObject)) {
            items.remove(position(index, "list assignment index out of range"));
            return;
        }
        Slice s = Slice.resolve((JsonObject) index, items.size());
        if (s.step == 1) {
            items.subList(s.start, Math.max(s.start, s.stop)).clear();
            return;
        }
        boolean[] doomed = new boolean[items.size()];
        for (int i = 0; i < s.length; i++) {
            doomed[s.at(i)] = true;
        }
        List<Object> kept = new ArrayList<>(items.size() - s.length);
        for (int i = 0; i < items.size(); i++) {
            if (!doomed[i]) {
                kept.add(items.get(i));
            }
        }
        items.clear();
        items.addAll(kept);
    }

    /** An integer index resolved against the length, or {@code IndexError}. */
    private int position(Object index, String outOfRange) {
        return Py.position(index, items.size(), "list indices must be integers or slices, not " + Json.typeName(index), outOfRange);
    }

    private Object pop(Invocation call) {
        long i = Py.toIndex(Args.bind(call, "index").get(0, -1L));
        if (items.isEmpty()) {
            throw OrchException.raised("IndexError", "pop from empty list");
        }
        if (i < 0) {
            i += items.size();
        }
        if (i < 0 || i >= items.size()) {
            throw OrchException.raised("IndexError", "pop index out of range");
        }
        return items.remove((int) i);
    }

    private long index(Invocation call) {
        Args a = Args.bind(call, "value", "start", "stop");
        Object x = a.get(0);
        int from = bound(a.get(1, 0L));
        int to = bound(a.get(2, (long) items.size()));
        int i = find(x, from, to);
        if (i < 0) {
            throw OrchException.raised("ValueError", Json.repr(x) + " is not in list");
        }
        return i;
    }

    /** A start/stop bound for {@code index}, clamped like a slice index. */
    private int bound(Object v) {
        if (!Py.isInteger(v)) {
            throw OrchException.raised("TypeError", "slice indices must be integers or have an __index__ method");
        }
        long i = Py.toIndex(v);
        return clamp(i < 0 ? i + items.size() : i);
    }

    private int clamp(long i) {
        return (int) Math.max(0, Math.min(items.size(), i));
    }

    private int find(Object x, int from, int to) {
        for (int i = from; i < to; i++) {
            if (Py.equal(items.get(i), x)) {
                return i;
            }
        }
        return -1;
    }

    /**
     * Python's {@code sort(*, key=None, reverse=False)}. JSON cannot carry a function, so
     * {@code key} must be null. Sorts a copy and commits only on success, so an unorderable pair
     * leaves the list unchanged. Reversing before and after keeps a reverse sort stable, as
     * CPython does.
     */
    private void sort(Invocation call) {
        if (call.args() != null && !call.args().isEmpty()) {
            throw OrchException.raised("TypeError", "sort() takes no positional arguments");
        }
        Args a = Args.bind(call, "key", "reverse");
        Object key = a.get(0, null);
        if (key != null) {
            throw OrchException.raised("TypeError", "'" + Json.typeName(key) + "' object is not callable");
        }
        boolean reverse = a.getBool(1, false);
        List<Object> copy = new ArrayList<>(items);
        if (reverse) {
            Collections.reverse(copy);
        }
        copy.sort(Py::compare);
        if (reverse) {
            Collections.reverse(copy);
        }
        items.clear();
        items.addAll(copy);
    }
}
