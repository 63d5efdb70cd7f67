package dev.orch.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.orch.protocol.ErrorCode;
import dev.orch.protocol.OrchException;
import dev.orch.testing.TestServerExtension;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Plain Java classes hosted with {@link OrchClient#host(String, java.util.function.Supplier, Class)}
 * ({@link ReflectiveObject}), called by another client through a real server.
 */
class ReflectiveHostingTest {
    @RegisterExtension
    static final TestServerExtension server = TestServerExtension.perClass();

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

    /** Floating-point parameters of each form. */
    public static class Floats {
        public double dbl(double x) {
            return x;
        }

        public float flt(Float x) {
            return x;
        }

        public double sum(double[] xs) {
            return java.util.Arrays.stream(xs).sum();
        }

        public int count(List<Double> xs) {
            return xs.size();
        }
    }

    /** Overloads in the order javac writes them; getMethods() may give them in any. */
    public static class Overloads {
        public String add(String a, String b) {
            return a + b;
        }

        public int add(int a, int b) {
            return a + b;
        }

        public String kind(int x) {
            return "int";
        }

        public String kind(long x) {
            return "long";
        }

        public String kind(double x) {
            return "double";
        }

        public String kind(Object x) {
            return "Object";
        }

        public int sum(int... xs) {
            int s = 0;
            for (int x : xs) {
                s += x;
            }
            return s;
        }

        public String join(String separator, String... parts) {
            return String.join(separator, parts);
        }

        public String pick(Integer a, int b) {
            return "Integer, int";
        }

        public String pick(int a, Integer b) {
            return "int, Integer";
        }

        public String boxed(Integer x) {
            return "Integer";
        }

        public String boxed(long x) {
            return "long";
        }

        public String boxed(String x) {
            return "String";
        }
    }

    /** Not public: its public methods are not reachable through their own Method without help. */
    static class Hidden {
        public int get() {
            return 42;
        }

        public String twice(String s) {
            return s + s;
        }
    }

    public interface Greeter {
        String greet(String name);
    }

    private static final class SecretGreeter implements Greeter {
        @Override
        public String greet(String name) {
            return "hello " + name;
        }
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

    @Test
    void aNumberAFloatingTypeCannotHoldIsRefusedNotMadeInfiniteOrZero() {
        try (OrchClient worker = server.client(); OrchClient user = server.client()) {
            worker.host("Floats", Floats::new, Floats.class);
            RemoteObject o = user.create("Floats");
            java.math.BigInteger huge = java.math.BigInteger.TEN.pow(400);

            assertEquals("dbl() argument 1: expected a number, got 1" + "0".repeat(38) + "… (out of range)",
                    typeError(() -> o.call("dbl", huge)).detail());
            typeError(() -> o.call("dbl", java.math.BigInteger.TEN.pow(309).negate()));
            assertTrue(typeError(() -> o.call("sum", new JsonArray().add(1).add(huge))).detail().endsWith("at [1]"));
            typeError(() -> o.call("count", new JsonArray().add(huge)));
            typeError(() -> o.call("flt", 1e300));
            typeError(() -> o.call("flt", 1e-50));

            // Rounding, as Java's widening rounds, is no loss of the number.
            assertEquals(9007199254740992.0, o.call("dbl", (1L << 53) + 1));
            assertEquals(0.1, o.call("flt", 0.1), "0.1f, written back as 0.1");
            assertEquals(0.0, o.call("flt", 0.0));
            assertEquals(4.9e-324, o.call("dbl", 4.9e-324));
        }
    }

    @Test
    void theOverloadThatTakesTheArgumentsRuns() {
        try (OrchClient worker = server.client(); OrchClient user = server.client()) {
            worker.host("Overloads", Overloads::new, Overloads.class);
            RemoteObject o = user.create("Overloads");

            assertEquals("ab", o.call("add", "a", "b"));
            assertEquals(3, o.call("add", 1, 2));
            OrchException neither = typeError(() -> o.call("add", "a", 1));
            assertEquals("no overload of add() takes these arguments: add(String, String) (argument 2: expected a string,"
                    + " got 1); add(int, int) (argument 1: expected an int, got 'a')", neither.detail());
            assertTrue(typeError(() -> o.call("add", 1)).detail().startsWith("add() does not take 1 argument"));

            // The most specific that takes the argument, as Java would choose.
            assertEquals("int", o.call("kind", 1));
            assertEquals("long", o.call("kind", 1L << 40));
            assertEquals("double", o.call("kind", 1.5));
            assertEquals("double", o.call("kind", 2.0), "written as a float, meant as one");
            assertEquals("Object", o.call("kind", "x"));
            assertEquals("Object", o.call("kind", (Object) null));

            assertEquals("Integer, int", o.call("pick", null, 2));
            OrchException ambiguous = typeError(() -> o.call("pick", 1, 2));
            assertEquals("pick() is ambiguous for these arguments: pick(Integer, int), pick(int, Integer)", ambiguous.detail());
            // Java's first phase: an overload that takes the number without boxing wins.
            assertEquals("long", o.call("boxed", 5));
            assertEquals("boxed() is ambiguous for these arguments: boxed(Integer), boxed(String)",
                    typeError(() -> o.call("boxed", (Object) null)).detail(), "as in Java");
            assertEquals("String", o.call("boxed", "5"));
        }
    }

    @Test
    void varargsTakeTheirArgumentsOneByOneOrAsAnArray() {
        try (OrchClient worker = server.client(); OrchClient user = server.client()) {
            worker.host("Varargs", Overloads::new, Overloads.class);
            RemoteObject o = user.create("Varargs");

            assertEquals(0, o.call("sum"));
            assertEquals(5, o.call("sum", 5));
            assertEquals(6, o.call("sum", 1, 2, 3));
            assertEquals(3, o.call("sum", new JsonArray().add(1).add(2)));
            assertEquals("sum() argument 2: expected an int, got 2.5 (not a whole number)",
                    typeError(() -> o.call("sum", 1, 2.5)).detail());
            assertEquals("a-b-c", o.call("join", "-", "a", "b", "c"));
            assertEquals("", o.call("join", "-"));
            typeError(() -> o.call("join"));
        }
    }

    @Test
    void aClassThatIsNotPublicIsHosted() {
        try (OrchClient worker = server.client(); OrchClient user = server.client()) {
            worker.host("Hidden", Hidden::new, Hidden.class);
            RemoteObject h = user.create("Hidden");
            assertEquals(42, h.call("get"));
            assertEquals("abab", h.call("twice", "ab"));

            // A private class behind the public interface that is hosted.
            worker.host("Greeter", SecretGreeter::new, Greeter.class);
            assertEquals("hello bob", user.create("Greeter").call("greet", "bob"));

            // A JDK class in a package not open to orch: its methods are reached through List.
            List<Integer> fixed = java.util.Collections.unmodifiableList(new java.util.ArrayList<>(List.of(1, 2, 3)));
            worker.host("ReadOnly", () -> java.util.Collections.unmodifiableList(new java.util.ArrayList<>(List.of(1, 2, 3))),
                    fixed.getClass());
            RemoteObject r = user.create("ReadOnly");
            assertEquals(2, r.call("get", 1));
            assertEquals(3, r.call("size"));
            assertEquals("[1, 2, 3]", r.call("toString"));
            assertEquals("NotImplementedError", assertThrows(OrchException.class, () -> r.call("clear")).name());
        }
    }

    @Test
    void aFactoryReturningAnotherTypeFailsTheCreate() {
        try (OrchClient worker = server.client(); OrchClient user = server.client()) {
            worker.host("Mistyped", () -> "not a greeter", Greeter.class);
            OrchException e = typeError(() -> user.create("Mistyped"));
            assertTrue(e.detail().contains("returned a java.lang.String, not a"), e.detail());
        }
    }

    @Test
    void aSupplierTakesNoConstructorArguments() {
        try (OrchClient worker = server.client(); OrchClient user = server.client()) {
            worker.host("NoArgs", Hidden::new, Hidden.class);
            assertEquals("NoArgs() takes no arguments", typeError(() -> user.create("NoArgs", 10)).detail());
            assertEquals("NoArgs() takes no arguments", typeError(() -> user.create(null, "NoArgs", new JsonArray(),
                    new io.vertx.core.json.JsonObject().put("n", 1))).detail());
            assertEquals(42, user.create("NoArgs").call("get"));
        }
    }

    public record Point(int x, int y) {
    }

    public static class Points {
        public int sum(Point p) {
            return p.x() + p.y();
        }
    }

    @Test
    void argumentFieldsARecordDoesNotHaveAreIgnored() {
        try (OrchClient worker = server.client(); OrchClient user = server.client()) {
            worker.host("Points", Points::new, Points.class);
            RemoteObject p = user.create("Points");
            assertEquals(3, p.call("sum", java.util.Map.of("x", 1, "y", 2, "z", 3)));
            typeError(() -> p.call("sum", java.util.Map.of("x", 1, "y", 2.5)));
        }
    }

    public record Named(String name, java.util.Optional<String> nickname) {
    }

    public static class Finder {
        public java.util.Optional<String> find(String key) {
            return key.equals("a") ? java.util.Optional.of("found") : java.util.Optional.empty();
        }

        public java.util.OptionalInt count(boolean some) {
            return some ? java.util.OptionalInt.of(3) : java.util.OptionalInt.empty();
        }

        public Named named(String nick) {
            return new Named("n", java.util.Optional.ofNullable(nick));
        }
    }

    @Test
    void anOptionalResultIsItsValueOrNull() {
        try (OrchClient worker = server.client(); OrchClient user = server.client()) {
            worker.host("Finder", Finder::new, Finder.class);
            RemoteObject f = user.create("Finder");
            assertEquals("found", f.call("find", "a"));
            assertEquals(null, f.call("find", "b"));
            assertEquals(3, f.call("count", true));
            assertEquals(null, f.call("count", false));
            assertEquals(new JsonObject().put("name", "n").put("nickname", "x"), f.call("named", "x"));
            assertEquals(new JsonObject().put("name", "n").putNull("nickname"), f.call("named", (Object) null));
        }
    }
}
