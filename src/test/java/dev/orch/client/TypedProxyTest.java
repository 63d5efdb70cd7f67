package dev.orch.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.orch.testing.Poll;
import io.vertx.core.json.JsonArray;
import dev.orch.testing.TestServerExtension;
import java.time.Duration;
import java.lang.reflect.Proxy;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Typed views ({@link RemoteObject#as}) of a server's dict, against a real server. */
class TypedProxyTest {
    @RegisterExtension
    static final TestServerExtension server = TestServerExtension.perClass();

    public interface Dict {
        @Remote("__setitem__")
        void put(String k, Object v);

        @Remote("__getitem__")
        int getInt(String k);

        @Remote("__getitem__")
        long getLong(String k);

        @Remote("__getitem__")
        double getDouble(String k);

        @Remote("__getitem__")
        boolean getBool(String k);

        @Remote("__getitem__")
        String getStr(String k);

        @Remote("__getitem__")
        List<Integer> getInts(String k);

        @Remote("get")
        int getPrim(String k);

        @Remote("get")
        Integer getBoxed(String k);

        @Remote("__getitem__")
        CompletableFuture<Integer> getIntAsync(String k);
    }

    public interface Jobs {
        void put(Object item);

        @Remote("get")
        CompletableFuture<String> takeAsync();

        int qsize();
    }

    public record Pt(int x, int y) {
    }

    public interface Box<T> {
        @Remote("get")
        T get();

        @Remote("set")
        void set(T value);
    }

    public interface PtBox extends Box<Pt> {
    }

    /** Redeclares get: javac adds a bridge method returning Object. */
    public interface OwnPtBox extends Box<Pt> {
        @Override
        @Remote("get")
        Pt get();
    }

    /** A generic interface between: its own variable bound by the one below. */
    public interface ListBox<E> extends Box<List<E>> {
    }

    public interface PtsBox extends ListBox<Pt> {
    }

    /** Box's T is bound by nothing. */
    @SuppressWarnings("rawtypes")
    public interface RawBox extends Box {
    }

    public interface Anything {
        @Remote("get")
        <X> X get();
    }

    public interface Runner {
        @Remote("get")
        Runnable get();
    }

    public interface Bytes {
        @Remote("set")
        void set(byte[] value);
    }

    public interface Futures {
        @Remote("get")
        java.util.concurrent.Future<String> future();

        @Remote("get")
        java.util.concurrent.CompletionStage<Pt> stage();

        @Remote("get")
        CompletableFuture<Pt> completable();
    }

    public interface FutureRunner {
        @Remote("get")
        java.util.concurrent.Future<Runnable> runnable();
    }

    public interface Optionals {
        @Remote("get")
        java.util.Optional<Integer> get();

        @Remote("set")
        void set(java.util.Optional<Object> value);
    }

    /** Default methods built on the abstract one, which alone reaches the dict. */
    public interface Sized {
        @Remote("__len__")
        int size();

        default int twice() {
            return size() * 2;
        }

        default boolean isEmpty() {
            return size() == 0;
        }
    }

    @Test
    void cancellingAnAsyncCallWithdrawsItOnTheServer() throws Exception {
        try (OrchClient c = server.client(); OrchClient producer = server.client()) {
            Jobs jobs = c.create("typed-jobs", "Queue", new JsonArray(), null).as(Jobs.class);
            CompletableFuture<String> take = jobs.takeAsync();
            CompletableFuture<String> next = jobs.takeAsync();
            assertFalse(take.cancel(true), "cancelled before the server said whether it had answered");
            Poll.until(Duration.ofSeconds(10), "the withdrawn take to end", take::isDone);
            assertTrue(take.isCancelled(), "the withdrawn take did not end cancelled");
            producer.lookup("typed-jobs").as(Jobs.class).put("item");
            assertEquals("item", next.get(10, TimeUnit.SECONDS), "the item went to the withdrawn take");
            assertEquals(0, jobs.qsize());
        }
    }

    private static String refused(Runnable call) {
        ClassCastException e = assertThrows(ClassCastException.class, call::run);
        return e.getMessage();
    }

    @Test
    void resultsAreNeverCoerced() throws Exception {
        try (OrchClient c = server.client()) {
            Dict d = c.create("dict").as(Dict.class);
            d.put("int", 2);
            d.put("whole", 2.0);
            d.put("fraction", 2.7);
            d.put("big", 1L << 40);
            d.put("one", 1);
            d.put("text", "x");
            d.put("yes", true);
            d.put("ints", List.of(1, 2));
            d.put("mixed", List.of(1, 2.5));

            assertEquals(2, d.getInt("int"));
            assertEquals(2, d.getInt("whole"), "a whole number stored as a float is that number");
            assertEquals("Dict.getInt(): the result of '__getitem__' cannot be converted to int: expected an int, got 2.7"
                    + " (not a whole number)", refused(() -> d.getInt("fraction")));
            assertTrue(refused(() -> d.getInt("big")).contains("out of range"));
            assertEquals(1L << 40, d.getLong("big"));
            assertEquals(2.7, d.getDouble("fraction"));
            assertEquals(2.0, d.getDouble("int"));

            assertTrue(refused(() -> d.getBool("one")).endsWith("expected a boolean, got 1"));
            assertTrue(d.getBool("yes"));
            assertTrue(refused(() -> d.getStr("one")).endsWith("expected a string, got 1"));
            assertEquals("x", d.getStr("text"));
            refused(() -> d.getInt("text"));

            assertEquals(List.of(1, 2), d.getInts("ints"));
            assertTrue(refused(() -> d.getInts("mixed")).endsWith("at [1]"));

            // get() answers null for a missing key: a box takes it, a primitive does not.
            assertNull(d.getBoxed("missing"));
            assertTrue(refused(() -> d.getPrim("missing")).endsWith("expected an int, got null"));

            assertEquals(2, d.getIntAsync("int").get(5, TimeUnit.SECONDS));
            ExecutionException async = assertThrows(ExecutionException.class,
                    () -> d.getIntAsync("fraction").get(5, TimeUnit.SECONDS));
            assertInstanceOf(ClassCastException.class, async.getCause());
        }
    }

    @Test
    void defaultMethodsRunHere() {
        try (OrchClient c = server.client()) {
            RemoteObject dict = c.create("dict");
            Sized s = dict.as(Sized.class);
            assertTrue(s.isEmpty());
            dict.call("__setitem__", "a", 1);
            dict.call("__setitem__", "b", 2);
            assertEquals(2, s.size());
            assertEquals(4, s.twice());
            assertFalse(s.isEmpty());
        }
    }

    @Test
    void objectMethodsDescribeTheViewedObject() {
        try (OrchClient c = server.client()) {
            RemoteObject dict = c.create("dict");
            Sized s = dict.as(Sized.class);
            Dict d = dict.as(Dict.class);
            Sized other = c.create("dict").as(Sized.class);

            assertEquals(s, s);
            assertEquals(s, d, "two views of one object");
            assertEquals(s.hashCode(), d.hashCode());
            assertEquals(s, c.lookupId(dict.id()).as(Sized.class));
            assertNotEquals(s, other);
            assertFalse(s.equals(null));
            assertFalse(s.equals(dict), "a proxy equals proxies only");
            assertTrue(s.toString().contains(dict.id()), s.toString());

            // Another kind of proxy is not asked anything.
            AtomicInteger asked = new AtomicInteger();
            Object foreign = Proxy.newProxyInstance(Sized.class.getClassLoader(), new Class<?>[] {Sized.class}, (p, m, a) -> {
                asked.incrementAndGet();
                return m.getName().equals("toString") ? s.toString() : m.getName().equals("equals") ? true : 0;
            });
            assertFalse(s.equals(foreign));
            assertEquals(0, asked.get());
        }
    }

    @Test
    void typeVariablesOfSuperInterfacesAreBound() throws Exception {
        try (OrchClient c = server.client()) {
            RemoteObject v = c.create("Value", java.util.Map.of("x", 1, "y", 2));
            Pt p = v.as(PtBox.class).get();
            assertEquals(new Pt(1, 2), p);
            v.call("set", List.of(java.util.Map.of("x", 3, "y", 4)));
            List<Pt> pts = v.as(PtsBox.class).get();
            assertEquals(List.of(new Pt(3, 4)), pts);
            v.as(PtBox.class).set(new Pt(5, 6));
            assertEquals(new Pt(5, 6), v.as(PtBox.class).get());
            Box<Pt> own = v.as(OwnPtBox.class);
            assertEquals(new Pt(5, 6), own.get());
            assertEquals(new Pt(5, 6), v.as(OwnPtBox.class).get());
        }
    }

    private static String refusedView(RemoteObject o, Class<?> type) {
        return assertThrows(IllegalArgumentException.class, () -> o.as(type)).getMessage();
    }

    @Test
    void anInterfaceWhoseTypesCannotWorkIsRefusedBeforeAnyCall() {
        try (OrchClient c = server.client()) {
            RemoteQueue q = c.create("Queue").asQueue();
            q.put("job");
            RemoteObject o = q.object();
            String raw = refusedView(o, RawBox.class);
            assertTrue(raw.contains("Box.get()") && raw.contains("type variable"), raw);
            assertTrue(refusedView(o, Box.class).contains("Box.get()"));
            assertTrue(refusedView(o, Anything.class).contains("Anything.get()"));
            String runner = refusedView(o, Runner.class);
            assertTrue(runner.contains("Runner.get()") && runner.contains("java.lang.Runnable"), runner);
            assertTrue(refusedView(o, FutureRunner.class).contains("FutureRunner.runnable()"));
            assertTrue(refusedView(o, Bytes.class).contains("Bytes.set()"));
            assertEquals(1, q.size(), "a refused view took an item");
        }
    }

    @Test
    void everyKindOfFutureIsAsynchronous() throws Exception {
        try (OrchClient c = server.client()) {
            Futures f = c.create("Value", java.util.Map.of("x", 1, "y", 2)).as(Futures.class);
            assertEquals(new Pt(1, 2), f.stage().toCompletableFuture().get(10, TimeUnit.SECONDS));
            assertEquals(new Pt(1, 2), f.completable().get(10, TimeUnit.SECONDS));
        }
    }

    public interface Take {
        @Remote("get")
        java.util.concurrent.Future<String> take();

        int qsize();
    }

    @Test
    void aFutureOfAQueueGetTakesAndGivesTheItem() throws Exception {
        try (OrchClient c = server.client()) {
            RemoteQueue q = c.create("Queue").asQueue();
            Take t = q.object().as(Take.class);
            java.util.concurrent.Future<String> pending = t.take();
            q.put("job-1");
            assertEquals("job-1", pending.get(10, TimeUnit.SECONDS));
            assertEquals(0, t.qsize());
        }
    }

    @Test
    void optionalsAreEmptyForNull() {
        try (OrchClient c = server.client()) {
            RemoteObject v = c.create("Value", 7);
            Optionals o = v.as(Optionals.class);
            assertEquals(java.util.Optional.of(7), o.get());
            o.set(java.util.Optional.empty());
            assertNull(v.call("get"));
            assertEquals(java.util.Optional.empty(), o.get());
            o.set(java.util.Optional.of(8));
            assertEquals(8, v.call("get"));
            v.call("set", 2.5);
            assertTrue(refused(o::get).contains("expected an int"));
        }
    }

    @Test
    void fieldsARecordDoesNotHaveAreIgnored() {
        try (OrchClient c = server.client()) {
            RemoteObject v = c.create("Value", java.util.Map.of("x", 1, "y", 2, "z", 3));
            assertEquals(new Pt(1, 2), v.as(PtBox.class).get());
            v.call("set", java.util.Map.of("x", 1, "y", "two", "z", 3));
            assertTrue(refused(() -> v.as(PtBox.class).get()).contains("expected an int"), "a mistyped field is still refused");
        }
    }
}
