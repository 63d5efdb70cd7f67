package dev.orch.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.orch.protocol.ErrorCode;
import dev.orch.protocol.OrchException;
import dev.orch.testing.TestServerExtension;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A hosted type that fails in ways a Java program can (an {@link Error}, a result that is not
 * JSON, a factory returning null) answers its caller with an error at once, through the server
 * and directly; the caller never waits out its call timeout.
 */
class HostedFailureTest {
    /** Far longer than any answer takes: a call that runs into it was left unanswered. */
    static final Duration CALL_TIMEOUT = Duration.ofSeconds(20);
    @RegisterExtension
    static final TestServerExtension server = TestServerExtension.perClass();

    private static OrchClient client(String direct) {
        return OrchClient.connect(server.clientConfig().direct(direct).callTimeout(CALL_TIMEOUT));
    }

    private static OrchException fails(Runnable call) {
        long t0 = System.nanoTime();
        OrchException e = assertThrows(OrchException.class, call::run);
        assertTrue(System.nanoTime() - t0 < CALL_TIMEOUT.toNanos() / 2, "answered only at the timeout: " + e);
        return e;
    }

    @ParameterizedTest
    @ValueSource(strings = {"off", "on"})
    void failingHostedCallsAreAnsweredWithAnError(String direct) {
        try (OrchClient worker = client(direct); OrchClient user = client(direct)) {
            String type = "Failing" + direct;
            worker.host(type, List.of("error", "notJson", "ok"), (a, k) -> (method, args, kwargs, caller) -> {
                switch (method) {
                    case "error":
                        throw new StackOverflowError();
                    case "notJson":
                        return new Object();
                    default:
                        return "ok";
                }
            });
            RemoteObject o = user.create(type);

            OrchException error = fails(() -> o.call("error"));
            assertEquals(ErrorCode.REMOTE, error.code());
            assertEquals("StackOverflowError", error.name());
            assertEquals("", error.detail(), "no 'null' detail");

            OrchException notJson = fails(() -> o.call("notJson"));
            assertEquals("TypeError", notJson.name());
            assertTrue(notJson.detail().startsWith("the result is not JSON"), notJson.detail());

            assertEquals("ok", o.call("ok"));
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"off", "on"})
    void aMethodsOwnErrorCodeReachesTheCallerByEitherRoute(String direct) {
        try (OrchClient worker = client(direct); OrchClient user = client(direct)) {
            String type = "Coded" + direct;
            worker.host(type, List.of("teapot", "tooLarge"), (a, k) -> (method, args, kwargs, caller) -> {
                if (method.equals("teapot")) {
                    throw new OrchException(418, "Teapot", "short and stout");
                }
                // As from a call the method made itself, which its own client refused.
                throw new OrchException(ErrorCode.FRAME_TOO_LARGE, "the request is too large");
            });
            RemoteObject o = user.create(type);

            OrchException teapot = fails(() -> o.call("teapot"));
            assertEquals(418, teapot.failureCode());
            assertEquals(ErrorCode.REMOTE, teapot.code(), "no name for 418 here");
            assertEquals("Teapot", teapot.name());
            assertEquals("short and stout", teapot.detail());

            // 413 speaks of the caller's own connection: the server makes it a 502, and so does the direct route.
            OrchException tooLarge = fails(() -> o.call("tooLarge"));
            assertEquals(ErrorCode.BAD_REPLY, tooLarge.code(), tooLarge.getMessage());
            assertEquals(502, tooLarge.failureCode());
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"off", "on"})
    void theCausesOfAHostedFailureReachTheCaller(String direct) {
        try (OrchClient worker = client(direct); OrchClient user = client(direct)) {
            String type = "Caused" + direct;
            worker.host(type, List.of("wrapped", "rewrapped", "loop"), (a, k) -> (method, args, kwargs, caller) -> {
                java.io.IOException io = new java.io.IOException("disk full");
                switch (method) {
                    case "wrapped":
                        throw new IllegalStateException("save failed", io);
                    case "rewrapped":
                        // new RuntimeException(cause) takes the cause's text as its message.
                        throw new RuntimeException(new java.io.UncheckedIOException("write", io));
                    default:
                        RuntimeException a1 = new RuntimeException("a");
                        RuntimeException b1 = new RuntimeException("b", a1);
                        a1.initCause(b1);
                        throw a1;
                }
            });
            RemoteObject o = user.create(type);

            OrchException wrapped = fails(() -> o.call("wrapped"));
            assertEquals("IllegalStateException", wrapped.name());
            assertEquals("save failed; caused by IOException: disk full", wrapped.detail());

            OrchException rewrapped = fails(() -> o.call("rewrapped"));
            assertEquals("java.io.UncheckedIOException: write; caused by IOException: disk full", rewrapped.detail());

            assertEquals("a; caused by RuntimeException: b", fails(() -> o.call("loop")).detail(), "a cycle ends");
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"off", "on"})
    void aFailingFactoryFailsTheCreate(String direct) {
        try (OrchClient worker = client(direct); OrchClient user = client(direct)) {
            worker.host("ErrorFactory" + direct, List.of("m"), (a, k) -> {
                throw new NoClassDefFoundError("com/example/Missing");
            });
            worker.host("NullFactory" + direct, List.of("m"), (a, k) -> null);

            OrchException error = fails(() -> user.create("ErrorFactory" + direct));
            assertEquals("NoClassDefFoundError", error.name());
            assertEquals("com/example/Missing", error.detail());

            OrchException nul = fails(() -> user.create("NullFactory" + direct));
            assertEquals("TypeError", nul.name());
            assertTrue(nul.detail().contains("returned null"), nul.detail());
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"off", "on"})
    void aSlowHostedCallTimesOutAtItsCallTimeout(String direct) {
        try (OrchClient worker = client(direct);
                OrchClient user = OrchClient.connect(server.clientConfig().direct(direct).callTimeout(Duration.ofMillis(300)))) {
            worker.host("Slow" + direct, List.of("nap"), (a, k) -> (method, args, kwargs, caller) -> {
                try {
                    Thread.sleep(3_000);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                return "late";
            });
            RemoteObject o = user.create("Slow" + direct);
            long t0 = System.nanoTime();
            OrchException e = assertThrows(OrchException.class, () -> o.call("nap"));
            long ms = (System.nanoTime() - t0) / 1_000_000;
            assertEquals(ErrorCode.TIMEOUT, e.code(), e.getMessage());
            // Through the server the client asks it to withdraw the call; told that nothing was
            // (a hosted call is never parked), it gives up at once rather than after a grace.
            assertTrue(ms >= 290 && ms < 1_000, "timed out after " + ms + " ms");
        }
    }

    @org.junit.jupiter.api.Test
    void aCallOnAnObjectTheWorkerNoLongerHoldsIsAnswered404() throws Exception {
        try (OrchClient worker = client("off"); OrchClient user = client("off")) {
            worker.host("Forgetful", List.of("echo"), (a, k) -> (method, args, kwargs, caller) -> args.getValue(0));
            RemoteObject o = user.create("Forgetful");
            assertEquals("x", o.call("echo", "x"));
            // The worker lets go of the object while a call is on its way: played by dropping
            // its handler without a word to the server, which therefore still routes calls here.
            java.lang.reflect.Field f = OrchClient.class.getDeclaredField("connection");
            f.setAccessible(true);
            java.lang.reflect.Field h = ClientConnection.class.getDeclaredField("handlers");
            h.setAccessible(true);
            ((java.util.Map<?, ?>) h.get(f.get(worker))).remove(dev.orch.protocol.Addresses.object(o.id()));
            OrchException e = fails(() -> o.call("echo", "y"));
            assertEquals(ErrorCode.NOT_FOUND, e.code());
            assertEquals("this worker holds no object '" + o.id() + "'", e.detail());
        }
    }
}
