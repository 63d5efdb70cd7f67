package dev.orch.server;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.orch.protocol.FrameCodec;
import dev.orch.testing.RawClient;
import dev.orch.testing.TestServer;
import io.vertx.core.VertxOptions;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/**
 * Frames above {@link BridgeConnection#PARSE_ELSEWHERE_ABOVE} are parsed on a worker thread while
 * their connection is not read: what the client sent after them still comes in order, and the
 * other connections of the event loop go on as before. (That they are answered sooner than
 * before is a matter of time, left to benchmarks.)
 */
class LargeFrameTest {

    private static JsonObject call(String id, String reply, String method, JsonArray args) {
        return new JsonObject().put("type", "send").put("address", "orch.obj." + id).put("replyAddress", reply)
                .put("body", new JsonObject().put("method", method).put("args", args));
    }

    @Test
    void framesAfterALargeOneAreTakenInOrder() throws Exception {
        try (TestServer s = TestServer.start(new VertxOptions(), c -> c.eventLoops(1)); RawClient c = s.raw()) {
            c.login(TestServer.KEY);
            String id = c.manager(new JsonObject().put("op", "create").put("typeid", "dict")).getJsonObject("body").getString("id");
            String big = "é".repeat(BridgeConnection.PARSE_ELSEWHERE_ABOVE);
            String malformed = "{\"type\":\"send\",\"address\":\"orch.obj." + id + "\",\"replyAddress\":\"m\",\"body\":"
                    + "1".repeat(BridgeConnection.PARSE_ELSEWHERE_ABOVE) + "]}";
            byte[] m = malformed.getBytes(StandardCharsets.UTF_8);
            // One write: the large frames and the small ones between and after them arrive together.
            Buffer all = FrameCodec.encode(call(id, "r1", "__setitem__", new JsonArray().add("k").add(big)))
                    .appendBuffer(FrameCodec.encode(call(id, "r2", "get", new JsonArray().add("k"))))
                    .appendBuffer(Buffer.buffer().appendInt(m.length).appendBytes(m))
                    .appendBuffer(FrameCodec.encode(call(id, "r3", "__setitem__", new JsonArray().add("k").add("small"))))
                    .appendBuffer(FrameCodec.encode(call(id, "r4", "get", new JsonArray().add("k"))));
            c.writeRaw(all.getBytes());
            JsonObject r1 = c.read();
            assertEquals("r1", r1.getString("address"), r1.encode());
            JsonObject r2 = c.read();
            assertEquals("r2", r2.getString("address"));
            assertEquals(big, r2.getJsonObject("body").getString("result"), "the get after the large set sees it");
            JsonObject bad = c.read();
            assertEquals("err", bad.getString("type"), bad.encode());
            assertEquals(400, bad.getInteger("failureCode"), bad.encode());
            assertEquals("m", bad.getString("address"), "the error goes to the reply address it was sent with");
            JsonObject r3 = c.read();
            assertEquals("r3", r3.getString("address"), r3.encode());
            JsonObject r4 = c.read();
            assertEquals("r4", r4.getString("address"));
            assertEquals("small", r4.getJsonObject("body").getString("result"));
        }
    }

    @Test
    void largeFramesOnOneConnectionAndCallsOnAnotherOfTheLoopAllComplete() throws Exception {
        try (TestServer s = TestServer.start(new VertxOptions(), c -> c.eventLoops(1));
                RawClient sender = s.raw(); RawClient other = s.raw()) {
            sender.login(TestServer.KEY);
            other.login(TestServer.KEY);
            String id = sender.manager(new JsonObject().put("op", "create").put("typeid", "list")).getJsonObject("body").getString("id");
            JsonArray numbers = new JsonArray();
            for (int i = 0; i < 400_000; i++) {
                numbers.add(i);
            }
            Buffer frame = FrameCodec.encode(call(id, "x", "extend", new JsonArray().add(numbers)));
            Thread flood = new Thread(() -> {
                try {
                    for (int i = 0; i < 8; i++) {
                        sender.writeRaw(frame.getBytes());
                    }
                } catch (Exception e) {
                    // the test's close ends it
                }
            });
            flood.start();
            // The other connection's calls are answered, whatever the sender's frames cost.
            for (int i = 0; i < 50; i++) {
                JsonObject st = other.manager(new JsonObject().put("op", "status"));
                assertEquals("message", st.getString("type"), st.encode());
            }
            flood.join(60_000);
            for (int i = 0; i < 8; i++) {
                JsonObject r = sender.read();
                assertEquals("x", r.getString("address"), r.encode());
            }
            JsonObject len = sender.request("orch.obj." + id, new JsonObject().put("method", "__len__"));
            assertEquals(8 * 400_000, len.getJsonObject("body").getInteger("result"));
        }
    }
}
