package dev.orch.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.orch.protocol.ErrorCode;
import dev.orch.protocol.OrchException;
import dev.orch.testing.TestServer;
import io.vertx.core.json.JsonArray;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Plain Java classes hosted with {@link OrchClient#host(String, java.util.function.Supplier, Class)}
 * ({@link ReflectiveObject}), called by another client through a real server.
 */
class ReflectiveHostingTest {
    static TestServer server;

    /** Parameters of each kind, to see what each takes. */
    public static class Conversions {
        public int prim(int x) {
            return x * 2;
        }

        public String boxed(Integer x) {
            return String.valueOf(x);
        }

        public long wide(long x) {
            return x;
        }

        public double half(double x) {
            return x / 2;
        }

        public String echo(String s) {
            return s;
        }

        public boolean not(boolean b) {
            return !b;
        }

        public List<Integer> list(List<Integer> in) {
            return in;
        }

        public int sum(int[] xs) {
            int s = 0;
            for (int x : xs) {
                s += x;
            }
            return s;
        }
    }

    @BeforeAll
    static void start() {
        server = TestServer.start();
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    private static OrchException typeError(Runnable call) {
        OrchException e = assertThrows(OrchException.class, call::run);
        assertEquals(ErrorCode.REMOTE, e.code(), e.getMessage());
        assertEquals("TypeError", e.name(), e.getMessage());
        return e;
    }

    @Test
    void argumentsAreNeverCoerced() {
        try (OrchClient worker = server.client(); OrchClient user = server.client()) {
            worker.host("Conversions", Conversions::new, Conversions.class);
            RemoteObject o = user.create("Conversions");

            assertEquals(4, o.call("prim", 2));
            assertEquals(4, o.call("prim", 2.0), "a whole number sent as a float is that number");
            OrchException fraction = typeError(() -> o.call("prim", 1.5));
            assertEquals("prim() argument 1: expected an int, got 1.5 (not a whole number)", fraction.detail());
            assertEquals("prim() argument 1: expected an int, got null", typeError(() -> o.call("prim", (Object) null)).detail());
            assertTrue(typeError(() -> o.call("prim", 1L << 40)).detail().contains("out of range"));
            typeError(() -> o.call("prim", "2"));
            typeError(() -> o.call("prim", true));

            assertEquals("null", o.call("boxed", (Object) null), "a box takes null");
            assertEquals("3", o.call("boxed", 3));
            assertEquals(1L << 40, ((Number) o.call("wide", 1L << 40)).longValue());
            assertEquals(1.5, o.call("half", 3), "a double takes an integer");

            assertEquals("echo() argument 1: expected a string, got 1", typeError(() -> o.call("echo", 1)).detail());
            assertEquals(null, o.call("echo", (Object) null));
            typeError(() -> o.call("not", 1));
            assertEquals(false, o.call("not", true));

            assertEquals(new JsonArray().add(1).add(2), o.call("list", new JsonArray().add(1).add(2.0)));
            OrchException inList = typeError(() -> o.call("list", new JsonArray().add(1).add(2.5)));
            assertTrue(inList.detail().endsWith("at [1]"), inList.detail());
            typeError(() -> o.call("list", new JsonArray().add(1).add("2")));
            assertEquals(3, o.call("sum", new JsonArray().add(1).add(2)));
            typeError(() -> o.call("sum", new JsonArray().add(1).addNull()));
            typeError(() -> o.call("sum", new JsonArray().add(1).add(0.5)));
        }
    }
}
