package dev.orch.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.orch.testing.RawClient;
import dev.orch.testing.TestServer;
import dev.orch.testing.TestServerExtension;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Names are as long as their characters (code points), as any client counts them, not their
 * UTF-16 units; a name quoted in an error is cut between characters, never inside one.
 */
class NamesTest {
    /** One character, two UTF-16 units. */
    static final String EMOJI = "\uD83D\uDE00";
    @RegisterExtension
    static final TestServerExtension server = TestServerExtension.perClass();

    /** {@code s} holds no half of a surrogate pair, which no client could encode or print. */
    private static void assertWholeCharacters(String s) {
        assertTrue(s.codePoints().noneMatch(c -> Character.getType(c) == Character.SURROGATE), s);
    }

    @Test
    void objectNamesCountCharacters() throws Exception {
        try (RawClient c = server.raw()) {
            c.login(TestServer.KEY);
            String longest = EMOJI.repeat(256);
            JsonObject made = c.manager(new JsonObject().put("op", "create").put("typeid", "dict").put("name", longest));
            assertEquals("message", made.getString("type"), made.encode());
            assertEquals(longest, made.getJsonObject("body").getString("name"));
            c.manager(new JsonObject().put("op", "delete").put("name", longest));

            JsonObject refused = c.manager(new JsonObject().put("op", "create").put("typeid", "dict").put("name", longest + EMOJI));
            assertEquals(400, refused.getInteger("failureCode"), refused.encode());
            String message = refused.getString("message");
            assertWholeCharacters(message);
            assertTrue(message.startsWith("BadRequest: invalid object name '" + EMOJI.repeat(39) + "…' ("), message);
        }
    }

    @Test
    void processNamesCountCharacters() throws Exception {
        try (RawClient c = server.raw()) {
            c.login(TestServer.KEY);
            JsonObject spawn = new JsonObject().put("op", "spawn").put("command", new JsonArray().add("sleep").add("1000"));
            String longest = EMOJI.repeat(128);
            JsonObject started = c.request("orch.process", spawn.copy().put("name", longest));
            assertEquals("message", started.getString("type"), started.encode());
            assertEquals(longest, started.getJsonObject("body").getString("name"));
            c.request("orch.process", new JsonObject().put("op", "kill").put("id", started.getJsonObject("body").getString("id")));

            JsonObject refused = c.request("orch.process", spawn.copy().put("name", longest + EMOJI));
            assertEquals(400, refused.getInteger("failureCode"), refused.encode());
            String message = refused.getString("message");
            assertWholeCharacters(message);
            assertTrue(message.startsWith("BadRequest: invalid process name '" + EMOJI.repeat(39) + "…' ("), message);
        }
    }
}
