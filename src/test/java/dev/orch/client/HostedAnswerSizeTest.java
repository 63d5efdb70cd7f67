package dev.orch.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
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
 * A hosted answer larger than the server takes (its {@code --max-frame}) fails that call alone,
 * through the server and directly: the worker stays connected and its objects keep answering
 * (PROTOCOL.md §7). The server here takes 64 KiB frames, so the answers stay small.
 */
class HostedAnswerSizeTest {
    static final int MAX_FRAME = 64 * 1024;
    static final int TOO_LARGE = 100 * 1024;
    @RegisterExtension
    static final TestServerExtension server = TestServerExtension.perClass(c -> c.maxFrame(MAX_FRAME));

    private static OrchClient client(String direct) {
        return OrchClient.connect(server.clientConfig().direct(direct).callTimeout(Duration.ofSeconds(20)));
    }

    /** A failure message without the 100 KiB it may quote. */
    private static String clip(String s) {
        return s.length() > 300 ? s.substring(0, 300) + "… (" + s.length() + " characters)" : s;
    }

    /** {@code big(n)} returns n characters, {@code loud(n)} fails with an n-character message. */
    private static HostedObject sized() {
        return (method, args, kwargs, caller) -> {
            switch (method) {
                case "big":
                    return "x".repeat(args.getInteger(0));
                case "loud":
                    throw new IllegalStateException("y".repeat(args.getInteger(0)));
                default:
                    return "ok";
            }
        };
    }

    @ParameterizedTest
    @ValueSource(strings = {"off", "on"})
    void aResultLargerThanTheServerTakesFailsThatCallAlone(String direct) {
        try (OrchClient worker = client(direct); OrchClient user = client(direct)) {
            worker.host("Sized" + direct, List.of("big", "loud", "ok"), (a, k) -> sized());
            RemoteObject o = user.create("Sized" + direct);
            assertEquals(direct.equals("on"), o.direct() != null);

            OrchException e = assertThrows(OrchException.class, () -> o.call("big", TOO_LARGE));
            assertEquals(ErrorCode.REMOTE, e.code(), clip(e.getMessage()));
            assertEquals("ValueError", e.name());
            assertTrue(e.detail().startsWith("the result is "), clip(e.detail()));
            assertTrue(e.detail().endsWith("the orch server takes frames of at most " + MAX_FRAME
                    + " (server --max-frame)"), clip(e.detail()));

            assertTrue(worker.isOpen(), "the worker was disconnected");
            assertFalse(worker.closedFuture().isDone());
            assertEquals("ok", o.call("ok"));
            assertEquals(1000, ((String) o.call("big", 1000)).length());
            assertEquals("ok", user.create("Sized" + direct).call("ok"), "the worker still hosts the type");
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"off", "on"})
    void anErrorLargerThanTheServerTakesIsCut(String direct) {
        try (OrchClient worker = client(direct); OrchClient user = client(direct)) {
            worker.host("Loud" + direct, List.of("big", "loud", "ok"), (a, k) -> sized());
            RemoteObject o = user.create("Loud" + direct);

            OrchException e = assertThrows(OrchException.class, () -> o.call("loud", TOO_LARGE));
            assertEquals(ErrorCode.REMOTE, e.code(), clip(e.getMessage()));
            assertEquals("IllegalStateException", e.name(), "the error keeps its name");
            assertTrue(e.detail().startsWith("yyyy"), clip(e.detail()));
            assertTrue(e.detail().contains("cut from " + TOO_LARGE + " characters"), clip(e.detail()));
            assertTrue(e.detail().length() < 4096, "not cut: " + e.detail().length());

            assertTrue(worker.isOpen(), "the worker was disconnected");
            assertEquals("ok", o.call("ok"));
            // A message that fits is sent whole.
            String whole = assertThrows(OrchException.class, () -> o.call("loud", 5000)).detail();
            assertTrue(whole.equals("y".repeat(5000)), clip(whole));
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"off", "on"})
    void aFactoryErrorLargerThanTheServerTakesIsCut(String direct) {
        try (OrchClient worker = client(direct); OrchClient user = client(direct)) {
            worker.host("LoudFactory" + direct, List.of("ok"), (a, k) -> {
                throw new IllegalArgumentException("z".repeat(TOO_LARGE));
            });
            worker.host("Fine" + direct, List.of("big", "loud", "ok"), (a, k) -> sized());

            OrchException e = assertThrows(OrchException.class, () -> user.create("LoudFactory" + direct));
            assertEquals("ValueError", e.name(), clip(e.getMessage()));
            assertTrue(e.detail().startsWith("zzzz") && e.detail().contains("cut from"), clip(e.detail()));

            assertTrue(worker.isOpen(), "the worker was disconnected");
            assertEquals("ok", user.create("Fine" + direct).call("ok"));
        }
    }
}
