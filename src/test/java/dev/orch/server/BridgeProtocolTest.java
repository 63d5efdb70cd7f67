package dev.orch.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.orch.testing.LoginOrder;
import dev.orch.testing.RawClient;
import dev.orch.testing.TestServer;
import dev.orch.testing.TestServerExtension;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.eventbus.ReplyFailure;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The front end seen through a plain socket: authentication and every defect of the stock bridge. */
class BridgeProtocolTest {
    @RegisterExtension
    static final TestServerExtension server = TestServerExtension.perClass();

    @Test
    void loginSucceedsWithTheRightKey() throws Exception {
        try (RawClient c = server.raw()) {
            JsonObject reply = c.login(TestServer.KEY);
            assertEquals("message", reply.getString("type"));
            JsonObject body = reply.getJsonObject("body");
            assertEquals(1, body.getInteger("protocol"));
            assertTrue(body.getString("server").startsWith("orch/"));
            assertEquals(16, body.getString("session").length());
            assertEquals(120, body.getInteger("idleTimeout"), "the default --idle-timeout, for the client's pings");
        }
        try (TestServer s = TestServer.start(c -> c.idleTimeout(java.time.Duration.ofMillis(1500))); RawClient c = s.raw()) {
            assertEquals(1.5, c.login(TestServer.KEY).getJsonObject("body").getDouble("idleTimeout"));
        }
    }

    @Test
    void wrongKeyGets401AndTheConnectionIsClosed() throws Exception {
        try (RawClient c = server.raw()) {
            JsonObject reply = c.login("wrong".getBytes(StandardCharsets.UTF_8), false);
            assertEquals("err", reply.getString("type"));
            assertEquals(401, reply.getInteger("failureCode"));
            assertTrue(c.closedByServer());
        }
    }

    @Test
    void theServerProvesTheKeyOnlyAfterTheClientHas() throws Exception {
        LoginOrder.assertClientProvesFirst(server::raw, TestServer.KEY);
    }

    @Test
    void loginWithoutChallengeIsRefused() throws Exception {
        try (RawClient c = server.raw()) {
            JsonObject reply = c.request("orch.auth", new JsonObject().put("op", "login").put("proof", "AAAA"));
            assertEquals(401, reply.getInteger("failureCode"));
            assertTrue(c.closedByServer());
        }
    }

    @Test
    void framesBeforeLoginGet401AndDoNothing() throws Exception {
        try (RawClient c = server.raw()) {
            JsonObject r = c.request("orch.manager", new JsonObject().put("op", "create").put("typeid", "dict").put("name", "early"));
            assertEquals(401, r.getInteger("failureCode"));
            c.write(new JsonObject().put("type", "register").put("address", "orch.events").put("replyAddress", "x1"));
            JsonObject r2 = c.read();
            assertEquals(401, r2.getInteger("failureCode"));
            // Ping works before login, and login still works afterwards.
            c.write("{\"type\":\"ping\"}");
            assertEquals("pong", c.read().getString("type"));
            c.login(TestServer.KEY);
            JsonObject look = c.manager(new JsonObject().put("op", "lookup").put("name", "early"));
            assertEquals(404, look.getInteger("failureCode"), "the early create must not have happened");
        }
    }

    @Test
    void oversizeLengthPrefixGets413AndCloseWithoutBuffering() throws Exception {
        try (RawClient c = server.raw()) {
            c.login(TestServer.KEY);
            c.writeRaw(new byte[] {0x7f, (byte) 0xff, (byte) 0xff, (byte) 0xf0});
            JsonObject err = c.read();
            assertEquals(413, err.getInteger("failureCode"));
            assertEquals("FrameTooLarge", err.getString("name"));
            assertTrue(c.closedByServer());
        }
    }

    @Test
    void beforeLoginAFrameLongerThanLoginTakesGets413AndClose() throws Exception {
        try (RawClient c = server.raw()) {
            // One byte of a 16 MiB frame: refused at once, nothing allocated for it.
            c.writeRaw(new byte[] {0x01, 0, 0, 0, '{'});
            JsonObject err = c.read();
            assertEquals(413, err.getInteger("failureCode"));
            assertTrue(err.getString("message").contains("outside 1..65536 before login"), err.getString("message"));
            assertTrue(c.closedByServer());
        }
        try (RawClient c = server.raw()) {
            // 64 KiB is taken before login, and a larger frame after it.
            c.write(padded("{\"type\":\"ping\"", 64 * 1024));
            assertEquals("pong", c.read().getString("type"));
            c.login(TestServer.KEY);
            c.write(padded("{\"type\":\"ping\"", 256 * 1024));
            assertEquals("pong", c.read().getString("type"));
        }
    }

    /** {@code head}, then spaces and a closing brace: a JSON object of exactly {@code length} bytes. */
    private static String padded(String head, int length) {
        return head + " ".repeat(length - head.length() - 1) + "}";
    }

    @Test
    void unknownMissingAndBadTypesGet400AndTheConnectionStaysUsable() throws Exception {
        try (RawClient c = server.raw()) {
            c.login(TestServer.KEY);
            c.write("{\"type\":\"frobnicate\",\"replyAddress\":\"q1\"}");
            JsonObject e1 = c.read();
            assertEquals(400, e1.getInteger("failureCode"));
            assertEquals("q1", e1.getString("address"));
            c.write("{\"address\":\"orch.manager\"}");
            assertEquals(400, c.read().getInteger("failureCode"));
            c.write("{\"type\":42}");
            assertEquals(400, c.read().getInteger("failureCode"));
            c.write("this is not json");
            assertEquals(400, c.read().getInteger("failureCode"));
            c.write("[1,2,3]");
            assertEquals(400, c.read().getInteger("failureCode"));
            c.write("{\"type\":\"send\",\"replyAddress\":\"q2\"}");
            assertEquals(400, c.read().getInteger("failureCode"));
            c.write("{\"type\":\"send\",\"address\":\"orch.manager\",\"replyAddress\":\"q3\",\"body\":[1]}");
            assertEquals(400, c.read().getInteger("failureCode"));
            c.write("{\"type\":\"ping\"}");
            assertEquals("pong", c.read().getString("type"));
            JsonObject types = c.manager(new JsonObject().put("op", "types"));
            assertEquals("message", types.getString("type"));
        }
    }

    @Test
    void clientDeliveryHeadersAreIgnored() throws Exception {
        try (RawClient c = server.raw()) {
            c.login(TestServer.KEY);
            String id = c.manager(new JsonObject().put("op", "create").put("typeid", "Value").put("args", new JsonArray().add(7)))
                    .getJsonObject("body").getString("id");
            c.write(new JsonObject().put("type", "send").put("address", "orch.obj." + id).put("replyAddress", "h1")
                    .put("headers", new JsonObject().put("timeout", "1").put("localOnly", "false").put("codecName", "nope")
                            .put("orch.session", "someone-else"))
                    .put("body", new JsonObject().put("method", "get")));
            JsonObject r = c.read();
            assertEquals("message", r.getString("type"), r.encode());
            assertEquals(7, r.getJsonObject("body").getInteger("result"));
        }
    }

    @Test
    void duplicateRegisterThenDisconnectLeavesNoConsumer() throws Exception {
        String address;
        try (RawClient c = server.raw()) {
            c.login(TestServer.KEY);
            address = "orch.host." + c.session;
            c.write(new JsonObject().put("type", "register").put("address", address));
            c.write(new JsonObject().put("type", "register").put("address", address));
            c.write("{\"type\":\"ping\"}");
            assertEquals("pong", c.read().getString("type"), "duplicate register is harmless and unanswered");
        }
        dev.orch.testing.Poll.until(java.time.Duration.ofSeconds(5), "consumer to be gone", () -> {
            try {
                server.get().vertx.eventBus().request(address, new JsonObject()).toCompletionStage().toCompletableFuture()
                        .get(5, TimeUnit.SECONDS);
                return false;
            } catch (Exception e) {
                Throwable cause = e.getCause();
                return cause instanceof ReplyException && ((ReplyException) cause).failureType() == ReplyFailure.NO_HANDLERS;
            }
        });
    }

    @Test
    void registrationsOutsideTheSessionAreForbidden() throws Exception {
        try (RawClient a = server.raw(); RawClient b = server.raw()) {
            a.login(TestServer.KEY);
            b.login(TestServer.KEY);
            for (String addr : new String[] {"orch.manager", "orch.auth", "orch.host." + a.session, "orch.obj.nope",
                "orch.reply." + a.session + ".x", "anything"}) {
                b.write(new JsonObject().put("type", "register").put("address", addr));
                JsonObject e = b.read();
                assertEquals(403, e.getInteger("failureCode"), addr);
            }
            b.write(new JsonObject().put("type", "register").put("address", "orch.reply." + b.session + ".x"));
            b.write(new JsonObject().put("type", "register").put("address", "orch.events"));
            b.write("{\"type\":\"ping\"}");
            assertEquals("pong", b.read().getString("type"), "own reply prefix and events are allowed");
        }
    }

    @Test
    void aRegisterWithAReplyAddressIsAnsweredLikeASend() throws Exception {
        try (RawClient c = server.raw()) {
            c.login(TestServer.KEY);
            c.write(new JsonObject().put("type", "register").put("address", "orch.manager").put("replyAddress", "a1"));
            JsonObject refused = c.read();
            assertEquals("err", refused.getString("type"));
            assertEquals("a1", refused.getString("address"), "the refusal names the register");
            assertEquals(403, refused.getInteger("failureCode"));

            c.write(new JsonObject().put("type", "register").put("address", "orch.events").put("replyAddress", "a2"));
            JsonObject taken = c.read();
            assertEquals("message", taken.getString("type"));
            assertEquals("a2", taken.getString("address"));
            assertEquals(new JsonObject().put("result", true), taken.getJsonObject("body"));

            c.write(new JsonObject().put("type", "register").put("address", 7).put("replyAddress", "a3"));
            JsonObject bad = c.read();
            assertEquals("a3", bad.getString("address"));
            assertEquals(400, bad.getInteger("failureCode"));

            c.write(new JsonObject().put("type", "unregister").put("address", "orch.events").put("replyAddress", "u1"));
            assertEquals(new JsonObject().put("result", true), c.read().getJsonObject("body"));
            c.write(new JsonObject().put("type", "unregister").put("address", "orch.events").put("replyAddress", "u2"));
            JsonObject again = c.read();
            assertEquals("u2", again.getString("address"));
            assertEquals(new JsonObject().put("result", false), again.getJsonObject("body"), "nothing was registered");
        }
    }

    @Test
    void sendingToAnotherSessionsAddressOrPublishingIsForbidden() throws Exception {
        try (RawClient a = server.raw(); RawClient b = server.raw()) {
            a.login(TestServer.KEY);
            b.login(TestServer.KEY);
            JsonObject r = b.request("orch.host." + a.session, new JsonObject().put("op", "create"));
            assertEquals(403, r.getInteger("failureCode"));
            JsonObject r2 = b.request(ManagerService.SESSION_CLOSED, new JsonObject());
            assertEquals(403, r2.getInteger("failureCode"));
            // An address outside what clients may use is forbidden whether or not anything listens (§2).
            JsonObject r3 = b.request("orch.nothing", new JsonObject());
            assertEquals(403, r3.getInteger("failureCode"));
            assertEquals("Forbidden: may not send to 'orch.nothing'", r3.getString("message"));
            b.write(new JsonObject().put("type", "publish").put("address", "orch.events").put("body", new JsonObject()));
            assertEquals(403, b.read().getInteger("failureCode"));
        }
    }

    @Test
    void badAuthBodiesGet400() throws Exception {
        try (RawClient c = server.raw()) {
            assertEquals(400, c.request("orch.auth", new JsonObject().put("op", "dance")).getInteger("failureCode"));
            assertEquals(400, c.request("orch.auth", new JsonObject().put("op", "challenge").put("clientNonce", "%%"))
                    .getInteger("failureCode"));
            assertEquals(400, c.request("orch.auth", new JsonObject().put("op", "challenge").put("clientNonce", "AAAA"))
                    .getInteger("failureCode"), "a nonce shorter than 16 bytes");
            assertNotNull(c.login(TestServer.KEY).getJsonObject("body"));
            assertEquals(400, c.request("orch.auth", new JsonObject().put("op", "challenge")).getInteger("failureCode"),
                    "already logged in");
            assertFalse(c.closedByServerQuickly());
        }
    }
}
