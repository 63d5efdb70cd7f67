package dev.orch.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.orch.client.OrchClient;
import dev.orch.client.Remote;
import dev.orch.client.RemoteObject;
import dev.orch.protocol.ErrorCode;
import dev.orch.protocol.OrchException;
import dev.orch.testing.Poll;
import dev.orch.testing.TestServerExtension;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** A client hosting a type that other clients create and call, through the server. */
class HostingTest {
    @RegisterExtension
    static final TestServerExtension server = TestServerExtension.perClass();

    /** The seed's Utility class. */
    public static class Utility {
        public String capitalize(String s) {
            return s.isEmpty() ? s : Character.toUpperCase(s.charAt(0)) + s.substring(1).toLowerCase();
        }

        public int add(int a, int b) {
            return a + b;
        }

        public String fail(String why) {
            throw new IllegalArgumentException(why);
        }
    }

    /** A hosted type whose {@code take} blocks on a queue through the worker's own connection. */
    public static class Waiter {
        private final RemoteObject queue;

        public Waiter(RemoteObject queue) {
            this.queue = queue;
        }

        public Object take() {
            return queue.call("get");
        }

        public String ping() {
            return "pong";
        }
    }

    /** A typed view of a remote dict and of the hosted type. */
    public interface Scores {
        @Remote("__setitem__")
        void put(String key, int value);

        @Remote("__getitem__")
        int get(String key);

        @Remote("__len__")
        CompletableFuture<Integer> size();
    }

    public interface UtilityView {
        String capitalize(String s);
    }

    private static boolean typeListed(OrchClient c, String typeid) {
        return c.types().stream().anyMatch(t -> ((JsonObject) t).getString("typeid").equals(typeid));
    }

    @Test
    void hostedTypeIsCreatedAndCalledByAnotherClient() {
        try (OrchClient worker = server.client(); OrchClient user = server.client()) {
            worker.host("UtilityClass", Utility::new, Utility.class);
            RemoteObject u = user.create("UtilityClass");
            assertEquals("Hello", u.call("capitalize", "hELLO"));
            assertEquals(5, ((Number) u.call("add", 2, 3)).intValue());
            assertEquals("Hello", u.as(UtilityView.class).capitalize("hello"));
            OrchException e = assertThrows(OrchException.class, () -> u.call("fail", "no"));
            assertEquals(ErrorCode.REMOTE, e.code());
            assertEquals("ValueError", e.name());
            assertEquals("no", e.detail());
            assertEquals(ErrorCode.NOT_FOUND, assertThrows(OrchException.class, () -> u.call("missing")).code());
            JsonObject type = (JsonObject) user.types().stream()
                    .filter(t -> ((JsonObject) t).getString("typeid").equals("UtilityClass")).findFirst().get();
            assertEquals(worker.session(), type.getString("host"));
            user.release(u);
        }
    }

    @Test
    void callsAreAnsweredConcurrentlyAndPipelined() throws Exception {
        try (OrchClient worker = server.client(); OrchClient user = server.client()) {
            worker.host("Pipe", Utility::new, Utility.class);
            RemoteObject u = user.create("Pipe");
            List<CompletableFuture<Object>> calls = new ArrayList<>();
            for (int i = 0; i < 500; i++) {
                calls.add(u.callAsync("add", i, 1));
            }
            for (int i = 0; i < 500; i++) {
                assertEquals(i + 1, ((Number) calls.get(i).get(10, TimeUnit.SECONDS)).intValue());
            }
        }
    }

    @Test
    void aBlockedHostedCallDoesNotStallOtherCallsToTheWorker() throws Exception {
        try (OrchClient worker = server.client(); OrchClient user = server.client()) {
            RemoteObject q = worker.create("Queue");
            worker.host("Waiter", () -> new Waiter(q), Waiter.class);
            RemoteObject w = user.create("Waiter");
            List<CompletableFuture<Object>> takes = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                takes.add(w.callAsync("take"));
            }
            // Three calls now block inside the worker, one of them waiting on the worker's own connection.
            for (int i = 0; i < 20; i++) {
                assertEquals("pong", w.call("ping"));
            }
            assertTrue(takes.stream().noneMatch(CompletableFuture::isDone));
            for (int i = 0; i < 3; i++) {
                q.call("put", i);
            }
            List<Object> got = new ArrayList<>();
            for (CompletableFuture<Object> t : takes) {
                got.add(t.get(10, TimeUnit.SECONDS));
            }
            got.sort(java.util.Comparator.comparingInt(o -> ((Number) o).intValue()));
            assertEquals(List.of(0, 1, 2), got);
        }
    }

    @Test
    void typedProxyOverABuiltinObject() throws Exception {
        try (OrchClient user = server.client()) {
            Scores s = user.create("dict").as(Scores.class);
            s.put("a", 4);
            assertEquals(4, s.get("a"));
            assertEquals(1, s.size().get(5, TimeUnit.SECONDS));
        }
    }

    @Test
    void hostDisconnectGives410AndRemovesTheType() {
        OrchClient user = server.client();
        RemoteObject u;
        try (OrchClient worker = server.client()) {
            worker.host("Ephemeral", Utility::new, Utility.class);
            u = user.create("Ephemeral");
            assertEquals("X", u.call("capitalize", "x"));
        }
        Poll.until(Duration.ofSeconds(5), "410 after the host left", () -> {
            try {
                u.call("capitalize", "x");
                return false;
            } catch (OrchException e) {
                return e.code() == ErrorCode.HOST_GONE;
            }
        });
        // A direct call sees the worker's connection drop before the server has handled the
        // disconnect, so the type may still be listed for a moment.
        Poll.until(Duration.ofSeconds(5), "the type to go with its host", () -> !typeListed(user, "Ephemeral"));
        assertEquals(ErrorCode.NOT_FOUND, assertThrows(OrchException.class, () -> user.create("Ephemeral")).code());
        user.release(u);
        assertFalse(user.objects().stream().anyMatch(o -> ((JsonObject) o).getString("id").equals(u.id())));
        user.close();
    }

    @Test
    void releasingAHostedObjectTellsTheHost() {
        try (OrchClient worker = server.client(); OrchClient user = server.client()) {
            List<String> built = new ArrayList<>();
            worker.host("Counted", List.of("ping"), (args, kwargs) -> {
                built.add("x");
                return (method, a, kw, session) -> "pong";
            });
            RemoteObject o = user.create("Counted");
            assertEquals("pong", o.call("ping"));
            assertEquals(1, built.size());
            user.release(o);
            // The server drops the host's registration: the address no longer answers.
            Poll.until(Duration.ofSeconds(5), "object address gone", () -> {
                try {
                    user.request(o.address(), new JsonObject().put("method", "ping"));
                    return false;
                } catch (OrchException e) {
                    return e.code() == ErrorCode.NOT_FOUND;
                }
            });
        }
    }

    @Test
    void aSecondHostCannotStealALiveType() {
        try (OrchClient a = server.client(); OrchClient b = server.client()) {
            a.host("Mine", Utility::new, Utility.class);
            OrchException e = assertThrows(OrchException.class, () -> b.host("Mine", Utility::new, Utility.class));
            assertEquals(ErrorCode.NAME_TAKEN, e.code());
            assertTrue(typeListed(b, "Mine"));
        }
    }
}
