package dev.orch.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.orch.protocol.ErrorCode;
import dev.orch.protocol.FrameCodec;
import dev.orch.protocol.NotJsonException;
import dev.orch.protocol.OrchException;
import dev.orch.testing.TestServerExtension;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Java values either arrive as what they were or are refused where they are sent (README, Java
 * client): by the client for arguments, by the worker for hosted results, by the server for an
 * answer it cannot write.
 */
class ValueFidelityTest {
    @RegisterExtension
    static final TestServerExtension server = TestServerExtension.perClass();

    public static class Pojo {
        public int a = 1;
    }

    public static class PojoWithMap {
        public Map<Object, String> m = collide();
    }

    static Map<Object, String> collide() {
        Map<Object, String> m = new LinkedHashMap<>();
        m.put(1, "a");
        m.put("1", "b");
        return m;
    }

    /** A list nested {@code depth} deep, itself included. */
    static Object nested(int depth) {
        Object x = new ArrayList<>();
        for (int i = 1; i < depth; i++) {
            x = new ArrayList<>(List.of(x));
        }
        return x;
    }

    @Test
    void nanBesideAPojoIsRefusedLikeABareNan() {
        try (OrchClient c = server.client()) {
            RemoteObject v = c.create("Value");
            for (Object bad : new Object[] {Double.NaN, Float.POSITIVE_INFINITY}) {
                IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                        () -> v.call("set", new ArrayList<>(Arrays.asList(new Pojo(), bad))));
                assertTrue(e.getMessage().contains("NaN or infinite"), e.getMessage());
            }
            assertEquals(null, v.call("get"), "nothing was sent");
            v.call("set", List.of(new Pojo(), 1.5));
            assertEquals(new JsonArray().add(new JsonObject().put("a", 1)).add(1.5), v.call("get"));
        }
    }

    @Test
    void mapKeysBecomeStringsAsPythonMakesThemAndCollisionsAreRefused() {
        try (OrchClient c = server.client()) {
            RemoteObject v = c.create("Value");
            Map<Object, Object> keys = new LinkedHashMap<>();
            keys.put(1, "int");
            keys.put(2.5, "double");
            keys.put(true, "boolean");
            keys.put(null, "null");
            v.call("set", keys);
            assertEquals(new JsonObject().put("1", "int").put("2.5", "double").put("true", "boolean").put("null", "null"),
                    v.call("get"));

            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> v.call("set", collide()));
            assertEquals("map keys 1 (Integer) and '1' (String) both become the JSON key '1' and cannot be sent:"
                    + " an object holds one of them", e.getMessage());
            Map<Object, Object> same = new HashMap<>(Map.of(1, "int", 1L, "long"));
            assertThrows(IllegalArgumentException.class, () -> v.call("set", List.of(same)), "nested, and 1 and 1L");
            assertThrows(IllegalArgumentException.class, () -> v.call("set", new PojoWithMap()), "within a POJO");
            assertThrows(NotJsonException.class, () -> v.call("set", Map.of(List.of(1), "x")));
            // A typed proxy's arguments are written the same way.
            interface Setter {
                void set(Object value);
            }
            assertThrows(IllegalArgumentException.class, () -> v.as(Setter.class).set(collide()));
            v.as(Setter.class).set(Map.of(7, "x"));
            assertEquals(new JsonObject().put("7", "x"), v.call("get"));
        }
    }

    @Test
    void bytesAreRefusedOtherJavaTypesAreWrittenAsDocumented() {
        try (OrchClient c = server.client()) {
            RemoteObject v = c.create("Value");
            NotJsonException e = assertThrows(NotJsonException.class, () -> v.call("set", (Object) new byte[] {1, 2, 0}));
            assertTrue(e.getMessage().startsWith("a byte[] cannot be sent"), e.getMessage());
            assertThrows(NotJsonException.class, () -> v.call("set", List.of(new Pojo(), new byte[] {1})));
            assertThrows(NotJsonException.class, () -> v.call("set", new Object()));

            v.call("set", new java.util.Date(0));
            assertEquals(0, v.call("get"), "a Date is its milliseconds, as Jackson writes it");
            v.call("set", new java.util.TreeSet<>(List.of(2, 1)));
            assertEquals(new JsonArray().add(1).add(2), v.call("get"));
            v.call("set", new java.math.BigDecimal("0.10000000000000000000001"));
            assertEquals(0.1, v.call("get"), "a fraction is a double at the server");
            IllegalArgumentException huge = assertThrows(IllegalArgumentException.class,
                    () -> v.call("set", new java.math.BigDecimal("1e400")));
            assertTrue(huge.getMessage().contains("out of range"), huge.getMessage());
        }
    }

    @Test
    void anAnswerTooDeepToWriteFailsTheCallNotTheRequest() {
        try (OrchClient c = server.client()) {
            RemoteObject d = c.create("dict");
            // frame, body, args, value: the deepest argument a call takes.
            Object deepest = nested(FrameCodec.MAX_DEPTH - 3);
            d.call("__setitem__", "k", deepest);
            assertEquals(new JsonObject().put("k", deepest).encode(), ((JsonObject) d.call("copy")).encode());
            // items() answers [["k", value]]: two levels deeper than the value went in.
            OrchException e = assertThrows(OrchException.class, () -> d.call("items"));
            assertEquals(ErrorCode.REMOTE, e.code(), e.getMessage());
            assertEquals("ValueError", e.name());
            assertTrue(e.detail().startsWith("the result nests deeper than 256"), e.detail());
            assertEquals(1, d.call("__len__"), "the connection and the object are fine");
        }
    }

    /** Results a Java worker cannot send as they are. */
    public static class Results {
        public Map<Object, String> collide() {
            return ValueFidelityTest.collide();
        }

        public Map<Integer, String> intKeys() {
            return Map.of(1, "a");
        }

        public Object deep() {
            return nested(300);
        }

        public byte[] bytes() {
            return new byte[] {1};
        }

        public Pojo pojo() {
            return new Pojo();
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"off", "on"})
    void aHostedResultThatCannotBeSentFailsThatCall(String direct) {
        try (OrchClient worker = OrchClient.connect(server.clientConfig().direct(direct));
                OrchClient user = OrchClient.connect(server.clientConfig().direct(direct))) {
            worker.host("Results" + direct, Results::new, Results.class);
            RemoteObject o = user.create("Results" + direct);
            assertEquals(direct.equals("on"), o.direct() != null);

            OrchException collide = assertThrows(OrchException.class, () -> o.call("collide"));
            assertEquals("ValueError", collide.name(), collide.getMessage());
            assertTrue(collide.detail().startsWith("the result cannot be sent: map keys 1 (Integer) and '1' (String)"),
                    collide.detail());
            OrchException deep = assertThrows(OrchException.class, () -> o.call("deep"));
            assertEquals(ErrorCode.REMOTE, deep.code(), deep.getMessage());
            assertEquals("ValueError", deep.name(), deep.getMessage());
            assertTrue(deep.detail().startsWith("the result nests deeper than 256"), deep.detail());
            OrchException bytes = assertThrows(OrchException.class, () -> o.call("bytes"));
            assertEquals("TypeError", bytes.name(), bytes.getMessage());

            assertEquals(new JsonObject().put("1", "a"), o.call("intKeys"));
            assertEquals(new JsonObject().put("a", 1), o.call("pojo"));
        }
    }
}
