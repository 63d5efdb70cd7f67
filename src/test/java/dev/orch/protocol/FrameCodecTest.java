package dev.orch.protocol;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class FrameCodecTest {

    private static final class Recorder implements FrameParser.Listener {
        final List<JsonObject> frames = new ArrayList<>();
        final List<MalformedFrame> malformed = new ArrayList<>();
        long tooLarge = -1;
        /** How many frames had been handed on when the end was heard; -1 before. */
        int framesAtEnd = -1;

        @Override
        public void onFrame(JsonObject frame) {
            frames.add(frame);
        }

        @Override
        public void onEnd() {
            assertEquals(-1, framesAtEnd, "the end is heard once");
            framesAtEnd = frames.size();
        }

        @Override
        public void onMalformed(MalformedFrame error) {
            malformed.add(error);
        }

        @Override
        public void onTooLarge(long announced) {
            tooLarge = announced;
        }
    }

    @Test
    void pingEncodesToTheDocumentedBytes() {
        byte[] expected = {0, 0, 0, 0x0f, '{', '"', 't', 'y', 'p', 'e', '"', ':', '"', 'p', 'i', 'n', 'g', '"', '}'};
        assertArrayEquals(expected, FrameCodec.encode(Frames.ping()).getBytes());
    }

    @Test
    void sendFrameHasLengthPrefixOfUtf8Payload() {
        JsonObject f = Frames.send("orch.obj.x", "r1", new JsonObject().put("method", "é"));
        byte[] bytes = FrameCodec.encode(f).getBytes();
        byte[] json = f.encode().getBytes(StandardCharsets.UTF_8);
        assertEquals(json.length, Buffer.buffer(bytes).getInt(0));
        assertEquals(f.encode(), new String(bytes, 4, bytes.length - 4, StandardCharsets.UTF_8));
    }

    @Test
    void streamedSendFramesEqualTheFrameObjectEncodingWhateverCameBefore() {
        // The streaming encoder reuses one buffer per thread: a large frame before a small one,
        // and one without a reply address, must each come out exactly as the frame object would.
        String big = "é".repeat(100_000);
        for (JsonObject body : List.of(new JsonObject().put("method", "get"),
                new JsonObject().put("method", "echo").put("args", new io.vertx.core.json.JsonArray().add(big)),
                new JsonObject().put("method", "x").put("kwargs", new JsonObject().put("n", 1.5).put("ok", true)))) {
            for (String reply : new String[] {"r7", null}) {
                byte[] streamed = FrameCodec.encodeSendBytes("orch.obj.a", reply, body);
                byte[] expected = FrameCodec.encodeBytes(Frames.send("orch.obj.a", reply, body));
                assertEquals(Frames.send("orch.obj.a", reply, body),
                        FrameCodec.decode(streamed, 4, streamed.length - 4));
                assertEquals(expected.length, streamed.length);
                assertEquals(Buffer.buffer(expected).getInt(0), Buffer.buffer(streamed).getInt(0));
            }
        }
    }

    @Test
    void errFrameCarriesCodeNameAndMessage() {
        JsonObject f = Frames.err("r9", OrchException.raised("KeyError", "'x'"));
        assertEquals("{\"type\":\"err\",\"address\":\"r9\",\"failureCode\":500,\"failureType\":\"RECIPIENT_FAILURE\","
                + "\"name\":\"KeyError\",\"message\":\"KeyError: 'x'\"}", f.encode());
        OrchException back = Frames.toException(f);
        assertEquals(ErrorCode.REMOTE, back.code());
        assertEquals("KeyError", back.name());
        assertEquals("'x'", back.detail());
    }

    @Test
    void parserReassemblesFramesSplitAtEveryByte() {
        Buffer stream = Buffer.buffer();
        for (int i = 0; i < 3; i++) {
            stream.appendBuffer(FrameCodec.encode(new JsonObject().put("type", "send").put("n", i)));
        }
        Recorder r = new Recorder();
        FrameParser p = new FrameParser(1024, r);
        for (int i = 0; i < stream.length(); i++) {
            p.handle(stream.getBuffer(i, i + 1));
        }
        assertEquals(3, r.frames.size());
        assertEquals(2, r.frames.get(2).getInteger("n"));
    }

    /** An offload that parks the work until the test runs it, as an event loop's later turn would. */
    private static final class ParkedOffload implements FrameParser.Offload {
        final List<Runnable> parked = new ArrayList<>();
        final List<Thread> threads = new ArrayList<>();

        @Override
        public void decode(java.util.function.Supplier<Object> decode, java.util.function.Consumer<Object> deliver) {
            parked.add(() -> {
                Object[] out = new Object[1];
                Thread t = new Thread(() -> out[0] = decode.get());
                threads.add(t);
                t.start();
                try {
                    t.join();
                } catch (InterruptedException e) {
                    throw new AssertionError(e);
                }
                deliver.accept(out[0]);
            });
        }

        void runNext() {
            parked.remove(0).run();
        }
    }

    @Test
    void largeFramesAreParsedByTheOffloadAndWhatFollowsWaitsInOrder() {
        String big = "x".repeat(300_000);
        Buffer stream = FrameCodec.encode(new JsonObject().put("type", "send").put("n", 0))
                .appendBuffer(FrameCodec.encode(new JsonObject().put("type", "send").put("big", big)))
                .appendBuffer(FrameCodec.encode(new JsonObject().put("type", "send").put("n", 2)))
                .appendBuffer(lengthPrefixed("{\"type\":\"send\",\"big\":" + "1".repeat(299_960) + "]}"))
                .appendBuffer(FrameCodec.encode(new JsonObject().put("type", "send").put("n", 4)));
        Recorder r = new Recorder();
        FrameParser p = new FrameParser(1024 * 1024, r);
        ParkedOffload offload = new ParkedOffload();
        p.offload(256 * 1024, offload);
        int chunk = 64 * 1024 + 7;
        int fed = 0;
        // Up to the end of the first large frame: the small frame before it is parsed at once,
        // the large one goes to the offload.
        while (offload.parked.isEmpty()) {
            p.handle(stream.getBuffer(fed, Math.min(stream.length(), fed + chunk)));
            fed += chunk;
        }
        assertEquals(1, r.frames.size());
        // Bytes that arrive meanwhile are held, even whole frames.
        while (fed < stream.length()) {
            p.handle(stream.getBuffer(fed, Math.min(stream.length(), fed + chunk)));
            fed += chunk;
        }
        assertEquals(1, r.frames.size());
        assertEquals(1, offload.parked.size());
        offload.runNext(); // the large frame, then the small one after it; the malformed one is offloaded in turn
        assertEquals(3, r.frames.size());
        assertEquals(big, r.frames.get(1).getString("big"));
        assertEquals(2, r.frames.get(2).getInteger("n"));
        assertTrue(r.malformed.isEmpty());
        assertEquals(1, offload.parked.size());
        offload.runNext();
        assertEquals(1, r.malformed.size(), "a large malformed frame is reported as a small one is");
        assertEquals(4, r.frames.size());
        assertEquals(4, r.frames.get(3).getInteger("n"));
        assertEquals(2, offload.threads.size());
        assertTrue(offload.parked.isEmpty());
    }

    @Test
    void theEndIsHeardAfterEveryWholeFrameBeforeItEvenOneParsedElsewhere() {
        Buffer stream = FrameCodec.encode(new JsonObject().put("type", "send").put("big", "z".repeat(2000)))
                .appendBuffer(FrameCodec.encode(new JsonObject().put("type", "send").put("n", 1)))
                .appendBuffer(Buffer.buffer().appendInt(50).appendString("{\"cut short"));
        Recorder r = new Recorder();
        FrameParser p = new FrameParser(1024 * 1024, r);
        ParkedOffload offload = new ParkedOffload();
        p.offload(1024, offload);
        p.handle(stream);
        p.end();
        assertEquals(-1, r.framesAtEnd, "not while a frame before the end is parsed elsewhere");
        offload.runNext();
        assertEquals(2, r.frames.size());
        assertEquals(2, r.framesAtEnd, "the frame cut short by the end is dropped");
        p.handle(FrameCodec.encode(new JsonObject().put("type", "send").put("n", 3)));
        assertEquals(2, r.frames.size(), "nothing is parsed after the end");

        Recorder plain = new Recorder();
        FrameParser q = new FrameParser(1024, plain);
        q.handle(FrameCodec.encode(new JsonObject().put("type", "send").put("n", 0)));
        q.end();
        assertEquals(1, plain.framesAtEnd);
    }

    private static Buffer lengthPrefixed(String payload) {
        byte[] b = payload.getBytes(StandardCharsets.UTF_8);
        return Buffer.buffer().appendInt(b.length).appendBytes(b);
    }

    @Test
    void aParserStoppedWhileAFrameIsParsedElsewhereDeliversNothingMore() {
        Buffer stream = FrameCodec.encode(new JsonObject().put("type", "send").put("big", "y".repeat(2000)))
                .appendBuffer(FrameCodec.encode(new JsonObject().put("type", "send").put("n", 1)));
        Recorder r = new Recorder();
        FrameParser p = new FrameParser(1024 * 1024, r);
        ParkedOffload offload = new ParkedOffload();
        p.offload(1000, offload);
        p.handle(stream);
        p.stop();
        offload.runNext();
        assertTrue(r.frames.isEmpty(), r.frames::toString);
    }

    @Test
    void parserReassemblesLargeFramesFromSocketSizedChunksAmongSmallOnes() {
        // As a socket delivers them: 64 KiB chunks that cut frames anywhere, a large frame
        // arriving over many chunks, small frames before and after it in the same chunks.
        String big = "x".repeat(3 * 1024 * 1024 + 17);
        Buffer stream = FrameCodec.encode(new JsonObject().put("type", "send").put("n", 0))
                .appendBuffer(FrameCodec.encode(new JsonObject().put("type", "send").put("big", big)))
                .appendBuffer(FrameCodec.encode(new JsonObject().put("type", "send").put("n", 2)))
                .appendBuffer(FrameCodec.encode(new JsonObject().put("type", "send").put("big", big + "y")));
        Recorder r = new Recorder();
        FrameParser p = new FrameParser(4 * 1024 * 1024, r);
        int chunk = 64 * 1024 + 7;
        for (int i = 0; i < stream.length(); i += chunk) {
            p.handle(stream.getBuffer(i, Math.min(stream.length(), i + chunk)));
        }
        assertEquals(4, r.frames.size());
        assertEquals(0, r.frames.get(0).getInteger("n"));
        assertEquals(big, r.frames.get(1).getString("big"));
        assertEquals(2, r.frames.get(2).getInteger("n"));
        assertEquals(big + "y", r.frames.get(3).getString("big"));
        assertTrue(r.malformed.isEmpty());
    }

    @Test
    void aStoppedParserHoldsNothingAndTakesNoMoreFrames() {
        Buffer frame = FrameCodec.encode(new JsonObject().put("type", "ping").put("pad", "p".repeat(60_000)));
        Recorder r = new Recorder();
        FrameParser p = new FrameParser(64 * 1024, r);
        p.handle(frame.getBuffer(0, 50_000));
        assertTrue(p.allocated() >= 50_000, "holds the partial frame");
        p.stop();
        assertEquals(0, p.allocated());
        p.handle(frame.getBuffer(50_000, frame.length()));
        p.handle(FrameCodec.encode(new JsonObject().put("type", "ping")));
        assertEquals(0, r.frames.size());
        assertEquals(0, p.allocated());
    }

    @Test
    void parserMemoryFollowsTheBytesReceivedNotTheLengthAnnounced() {
        // A 15 MB frame in socket-sized chunks: the buffer grows with what arrived (at most twice
        // it), never to the announced length up front, and the frame still costs linear time.
        String big = "x".repeat(15 * 1000 * 1000);
        Buffer frame = FrameCodec.encode(new JsonObject().put("type", "send").put("big", big));
        Recorder r = new Recorder();
        FrameParser p = new FrameParser(16 * 1024 * 1024, r);
        p.handle(frame.getBuffer(0, 5));
        assertTrue(p.allocated() <= 4096, "one byte of a 15 MB frame holds " + p.allocated());
        int chunk = 64 * 1024;
        long started = System.nanoTime();
        for (int i = 5; i < frame.length(); i += chunk) {
            p.handle(frame.getBuffer(i, Math.min(frame.length(), i + chunk)));
            long received = Math.min(frame.length(), i + chunk) - 4;
            assertTrue(p.allocated() <= Math.max(2 * received, 4096), p.allocated() + " bytes held for " + received);
        }
        long millis = (System.nanoTime() - started) / 1_000_000;
        assertEquals(1, r.frames.size());
        assertEquals(big, r.frames.get(0).getString("big"));
        assertEquals(0, p.allocated());
        // Copying the tail per chunk took 13 s; growing by doubling takes well under one.
        assertTrue(millis < 5000, "15 MB reassembled in " + millis + " ms");
    }

    @Test
    void aLimitRaisedByAFrameAppliesToTheFramesAfterItInTheSameChunk() {
        // As a server raises it on login, with the next frames already read.
        Buffer large = FrameCodec.encode(new JsonObject().put("type", "ping").put("pad", "p".repeat(100)));
        Buffer stream = FrameCodec.encode(new JsonObject().put("type", "login")).appendBuffer(large).appendBuffer(large);
        List<String> seen = new ArrayList<>();
        FrameParser[] parser = new FrameParser[1];
        parser[0] = new FrameParser(64, new FrameParser.Listener() {
            @Override
            public void onFrame(JsonObject frame) {
                seen.add(frame.getString("type"));
                parser[0].maxFrame(1024);
            }

            @Override
            public void onMalformed(MalformedFrame error) {
                seen.add("malformed");
            }

            @Override
            public void onTooLarge(long announced) {
                seen.add("too large");
            }
        });
        parser[0].handle(stream);
        assertEquals(List.of("login", "ping", "ping"), seen);
        assertEquals(1024, parser[0].maxFrame());
        assertEquals("too large", refusedAt64(large));
    }

    private static String refusedAt64(Buffer frame) {
        Recorder r = new Recorder();
        new FrameParser(64, r).handle(frame);
        return r.tooLarge == frame.length() - 4 ? "too large" : "taken";
    }

    @Test
    void parserHandlesSeveralFramesInOneChunk() {
        Buffer stream = FrameCodec.encode(Frames.ping()).appendBuffer(FrameCodec.encode(Frames.pong()));
        Recorder r = new Recorder();
        new FrameParser(1024, r).handle(stream);
        assertEquals(List.of("ping", "pong"), List.of(r.frames.get(0).getString("type"), r.frames.get(1).getString("type")));
    }

    @Test
    void oversizeLengthIsRejectedBeforeAnyPayloadArrives() {
        Recorder r = new Recorder();
        FrameParser p = new FrameParser(16 * 1024 * 1024, r);
        p.handle(Buffer.buffer().appendInt(0x7FFFFFF0));
        assertEquals(0x7FFFFFF0L, r.tooLarge);
        // Further bytes are ignored: the stream can no longer be trusted.
        p.handle(FrameCodec.encode(Frames.ping()));
        assertTrue(r.frames.isEmpty());
    }

    @Test
    void zeroAndNegativeLengthsAreRejected() {
        Recorder zero = new Recorder();
        new FrameParser(1024, zero).handle(Buffer.buffer().appendInt(0));
        assertEquals(0, zero.tooLarge);
        Recorder neg = new Recorder();
        new FrameParser(1024, neg).handle(Buffer.buffer().appendInt(-1));
        assertEquals(0xFFFFFFFFL, neg.tooLarge);
    }

    @Test
    void malformedPayloadIsReportedAndTheStreamContinues() {
        byte[] bad = "{not json".getBytes(StandardCharsets.UTF_8);
        Buffer stream = Buffer.buffer().appendInt(bad.length).appendBytes(bad)
                .appendBuffer(FrameCodec.encode(Buffer.buffer("[1,2]").length() > 0 ? new JsonObject().put("type", "x") : null));
        byte[] array = "[1,2]".getBytes(StandardCharsets.UTF_8);
        stream.appendInt(array.length).appendBytes(array);
        Recorder r = new Recorder();
        new FrameParser(1024, r).handle(stream);
        assertEquals(2, r.malformed.size());
        assertEquals(ErrorCode.BAD_REQUEST, r.malformed.get(0).code());
        assertEquals(1, r.frames.size());
    }

    @Test
    void authProofsMatchTheDocumentedConstruction() throws Exception {
        byte[] key = "k".getBytes(StandardCharsets.UTF_8);
        byte[] cn = new byte[32];
        byte[] sn = new byte[32];
        sn[0] = 1;
        javax.crypto.Mac mac = javax.crypto.Mac.getInstance("HmacSHA256");
        mac.init(new javax.crypto.spec.SecretKeySpec(key, "HmacSHA256"));
        mac.update("orch-server".getBytes(StandardCharsets.US_ASCII));
        mac.update(cn);
        mac.update(sn);
        assertArrayEquals(mac.doFinal(), AuthProofs.serverProof(key, cn, sn));
        mac.update("orch-client".getBytes(StandardCharsets.US_ASCII));
        mac.update(sn);
        mac.update(cn);
        assertArrayEquals(mac.doFinal(), AuthProofs.clientProof(key, sn, cn));
        assertTrue(!java.util.Arrays.equals(AuthProofs.serverProof(key, cn, sn), AuthProofs.clientProof(key, cn, sn)));
    }

    private static String nested(int depth, String inner) {
        return "[".repeat(depth) + inner + "]".repeat(depth);
    }

    private static MalformedFrame malformed(String payload) {
        byte[] b = payload.getBytes(StandardCharsets.UTF_8);
        return org.junit.jupiter.api.Assertions.assertThrows(MalformedFrame.class, () -> FrameCodec.decode(b, 0, b.length));
    }

    @Test
    void framesNestUpToTheLimitAndNoDeeper() {
        // frame{ body{ args[ value: the value may nest MAX_DEPTH - 3 deep.
        String ok = "{\"type\":\"send\",\"address\":\"orch.obj.a\",\"replyAddress\":\"r9\",\"body\":{\"args\":"
                + nested(FrameCodec.MAX_DEPTH - 2, "") + "}}";
        byte[] b = ok.getBytes(StandardCharsets.UTF_8);
        assertEquals("orch.obj.a", FrameCodec.decode(b, 0, b.length).getString("address"));
        MalformedFrame e = malformed(ok.replace("\"args\":", "\"args\":["). replace("]}}", "]]}}"));
        assertEquals(ErrorCode.BAD_REQUEST, e.code());
        assertTrue(e.detail().contains("nests deeper than 256"), e.detail());
        // What preceded the fault is kept, so the error can go to the caller.
        assertEquals("send", e.type());
        assertEquals("orch.obj.a", e.address());
        assertEquals("r9", e.replyAddress());
    }

    @Test
    void writingDeeperThanTheLimitFails() {
        io.vertx.core.json.JsonArray deep = new io.vertx.core.json.JsonArray();
        for (int i = 0; i < FrameCodec.MAX_DEPTH; i++) {
            deep = new io.vertx.core.json.JsonArray().add(deep);
        }
        JsonObject body = new JsonObject().put("method", "append").put("args", new io.vertx.core.json.JsonArray().add(deep));
        OrchException e = org.junit.jupiter.api.Assertions.assertThrows(OrchException.class,
                () -> FrameCodec.encodeSendBytes("orch.obj.a", "r1", body));
        assertTrue(e.detail().contains("nests deeper than 256"), e.detail());
    }

    @Test
    void nanAndInfinityAreRefusedNotSentAsStrings() {
        for (double bad : new double[] {Double.NaN, Double.POSITIVE_INFINITY, Double.NEGATIVE_INFINITY}) {
            JsonObject body = new JsonObject().put("method", "set").put("args", new io.vertx.core.json.JsonArray().add(bad));
            IllegalArgumentException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                    () -> FrameCodec.encodeSendBytes("orch.obj.a", "r1", body));
            assertTrue(e.getMessage().contains("NaN or infinite"), e.getMessage());
        }
        JsonObject fine = new JsonObject().put("args", new io.vertx.core.json.JsonArray().add(1.5).add(-0.0f));
        assertEquals("{\"type\":\"send\",\"address\":\"a\",\"body\":{\"args\":[1.5,-0.0]}}",
                new String(FrameCodec.encodeSendBytes("a", null, fine), 4, FrameCodec.encodeSendBytes("a", null, fine).length - 4,
                        java.nio.charset.StandardCharsets.UTF_8));
    }

    @Test
    void framesAreWrittenAsVertxWritesThemWithoutItsMapper() {
        JsonObject nested = new JsonObject().put("list", new io.vertx.core.json.JsonArray().add(1).add(-2.5).add("x\"y\\z\n")
                .add(new JsonObject().put("deep", new io.vertx.core.json.JsonArray().addNull().add(true))))
                .put("big", new java.math.BigInteger("123456789012345678901234567890")).put("long", Long.MIN_VALUE)
                .put("map", java.util.Map.of("k", List.of(1, 2))).put("unicode", "é€😀");
        for (JsonObject f : List.of(Frames.ping(), Frames.send("orch.obj.a", "r1", nested), Frames.message("r2", null, "plain"),
                Frames.err("r3", OrchException.badRequest("bad \u0001 input")))) {
            byte[] b = FrameCodec.encodeBytes(f);
            assertEquals(b.length - 4, Buffer.buffer(b).getInt(0));
            assertEquals(f.encode(), new String(b, 4, b.length - 4, StandardCharsets.UTF_8));
            assertArrayEquals(b, FrameCodec.encode(f).getBytes());
        }
        assertEquals(nested.encode(), FrameCodec.toJson(nested));
        assertEquals("[1,\"a\",null]", FrameCodec.toJson(new io.vertx.core.json.JsonArray().add(1).add("a").addNull()));
        assertEquals("\"s\"", FrameCodec.toJson("s"));
        assertEquals("null", FrameCodec.toJson(null));
        org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class, () -> FrameCodec.toJson(List.of(Double.NaN)));
        org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                () -> FrameCodec.encodeBytes(new JsonObject().put("v", Double.POSITIVE_INFINITY)));
    }

    @Test
    void parseValueTakesOneJsonValueOfAnyType() throws Exception {
        JsonObject o = (JsonObject) FrameCodec.parseValue(" {\"a\":[1,{\"b\":null}],\"c\":\"é\"} ");
        assertEquals(1, o.getJsonArray("a").getInteger(0));
        assertTrue(o.getJsonArray("a").getJsonObject(1).containsKey("b"));
        assertEquals("é", o.getString("c"));
        assertEquals(new io.vertx.core.json.JsonArray().add(1).add(2.5), FrameCodec.parseValue("[1,2.5]"));
        assertEquals(12, FrameCodec.parseValue("12"));
        assertEquals(new java.math.BigInteger("99999999999999999999"), FrameCodec.parseValue("99999999999999999999"));
        assertEquals("s", FrameCodec.parseValue("\"s\""));
        assertEquals(Boolean.TRUE, FrameCodec.parseValue("true"));
        assertEquals(null, FrameCodec.parseValue("null"));
        for (String notOneValue : new String[] {"", "  ", "hello", "1 2", "{\"a\":1} x", "[1,", "12abc", "NaN", "'s'",
                nested(FrameCodec.MAX_DEPTH + 1, "")}) {
            org.junit.jupiter.api.Assertions.assertThrows(java.io.IOException.class, () -> FrameCodec.parseValue(notOneValue), notOneValue);
        }
        OrchException e = org.junit.jupiter.api.Assertions.assertThrows(OrchException.class, () -> FrameCodec.parseValue("[1e999]"));
        assertTrue(e.detail().contains("out of range"), e.detail());
    }

    @Test
    void numbersBeyondADoubleAreRefusedNotTurnedIntoInfinity() {
        MalformedFrame e = malformed("{\"type\":\"send\",\"address\":\"orch.manager\",\"replyAddress\":\"r2\",\"body\":{\"args\":[1e400]}}");
        assertTrue(e.detail().contains("1e400") && e.detail().contains("out of range"), e.detail());
        assertEquals("r2", e.replyAddress());
        malformed("{\"body\":{\"args\":[-1e400]}}");
        byte[] tiny = "{\"v\":1e-400,\"big\":123456789012345678901234567890}".getBytes(StandardCharsets.UTF_8);
        JsonObject f = FrameCodec.decode(tiny, 0, tiny.length);
        assertEquals(0.0, f.getDouble("v"));
        assertEquals(new java.math.BigInteger("123456789012345678901234567890"), f.getValue("big"));
    }

    @Test
    void aLoneSurrogateIsTakenInAStringButNamedWhenItIsAKey() {
        byte[] value = "{\"v\":\"a\\ud800b\"}".getBytes(StandardCharsets.UTF_8);
        assertEquals("a\ud800b", FrameCodec.decode(value, 0, value.length).getString("v"));
        MalformedFrame e = malformed("{\"replyAddress\":\"r4\",\"body\":{\"\\ud800\":1}}");
        assertEquals("r4", e.replyAddress());
        assertTrue(e.detail().contains("object key holds a lone surrogate"), e.detail());
    }

    @Test
    void malformedPayloadsKeepTheEnvelopeReadBeforeTheFault() {
        MalformedFrame e = malformed("{\"type\":\"send\",\"replyAddress\":\"r3\",\"body\":{\"x\":tru}}");
        assertEquals("r3", e.replyAddress());
        assertEquals("frame is not valid JSON", e.detail());
        assertEquals(null, malformed("[1,2]").replyAddress());
        assertTrue(malformed("{\"a\":1} {}").detail().contains("after"));
    }

    private static byte[] bytes(int... v) {
        byte[] b = new byte[v.length];
        for (int i = 0; i < v.length; i++) {
            b[i] = (byte) v[i];
        }
        return b;
    }

    @Test
    void utf8IsCheckedStrictly() {
        assertTrue(Utf8.wellFormed(bytes(), 0, 0));
        assertTrue(Utf8.wellFormed("plain ascii, longer than eight bytes".getBytes(StandardCharsets.UTF_8), 0, 36));
        byte[] mixed = "é€😀 ok ascii tail é".getBytes(StandardCharsets.UTF_8);
        assertTrue(Utf8.wellFormed(mixed, 0, mixed.length));
        assertTrue(Utf8.wellFormed(bytes(0xf4, 0x8f, 0xbf, 0xbf), 0, 4)); // U+10FFFF
        for (byte[] bad : new byte[][] {
                bytes(0xc0, 0xaf), bytes(0xc1, 0xbf), // overlong 2-byte "/" and DEL
                bytes(0xe0, 0x80, 0xaf), bytes(0xf0, 0x80, 0x80, 0xaf), // overlong 3- and 4-byte
                bytes(0xed, 0xa0, 0x80), // a surrogate (CESU-8)
                bytes(0xf4, 0x90, 0x80, 0x80), bytes(0xf5, 0x80, 0x80, 0x80), // past U+10FFFF
                bytes(0x80), bytes(0xff), bytes(0xc3), bytes(0xe2, 0x82), bytes(0xc3, 0x28)}) {
            assertTrue(!Utf8.wellFormed(bad, 0, bad.length), java.util.Arrays.toString(bad));
        }
        byte[] overlong = "{\"type\":\"send\",\"replyAddress\":\"r4\",\"body\":{\"args\":[\"a\u00c0\u00afb\"]}}"
                .getBytes(StandardCharsets.ISO_8859_1);
        MalformedFrame e = org.junit.jupiter.api.Assertions.assertThrows(MalformedFrame.class,
                () -> FrameCodec.decode(overlong, 0, overlong.length));
        assertEquals("frame is not valid UTF-8", e.detail());
        assertEquals("r4", e.replyAddress());
    }
}
