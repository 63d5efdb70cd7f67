package dev.orch.process;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.json.JsonObject;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class LogRingTest {
    private static List<LogLine> capture(byte[] input, long capacity) throws InterruptedException {
        LogRing ring = new LogRing(capacity);
        PipeReader.start(new ByteArrayInputStream(input), ring, false, "t").join(5000);
        return ring.snapshot(Integer.MAX_VALUE, 0, null);
    }

    @Test
    void keepsNonUtf8AndUnterminatedLastLine() throws Exception {
        byte[] in = {'o', 'k', '\n', (byte) 0xff, (byte) 0xfe, '\n', 'l', 'a', 's', 't'};
        List<LogLine> lines = capture(in, 1024);
        assertEquals(3, lines.size());
        JsonObject first = lines.get(0).toJson();
        assertEquals("ok", first.getString("text"));
        assertNull(first.getValue("eol"));
        JsonObject bin = lines.get(1).toJson();
        assertNull(bin.getValue("text"));
        assertEquals("//4=", bin.getString("b64"));
        JsonObject last = lines.get(2).toJson();
        assertEquals("last", last.getString("text"));
        assertEquals(false, last.getBoolean("eol"));
        assertEquals(List.of(1L, 2L, 3L), List.of(lines.get(0).seq(), lines.get(1).seq(), lines.get(2).seq()));
    }

    @Test
    void validUtf8StaysText() throws Exception {
        List<LogLine> lines = capture("héllo ✓\n".getBytes(StandardCharsets.UTF_8), 1024);
        assertEquals("héllo ✓", lines.get(0).toJson().getString("text"));
    }

    @Test
    void boundedByCapacityDroppingOldest() throws Exception {
        StringBuilder sb = new StringBuilder();
        for (int i = 1; i <= 1000; i++) {
            sb.append(String.format("%09d", i)).append('\n'); // 10 bytes per line
        }
        LogRing ring = new LogRing(100 * LogRing.cost(9));
        PipeReader.start(new ByteArrayInputStream(sb.toString().getBytes(StandardCharsets.US_ASCII)), ring, true, "t").join(5000);
        assertEquals(100, ring.size());
        assertTrue(ring.bytes() <= ring.capacity());
        assertEquals(900, ring.dropped());
        List<LogLine> tail = ring.snapshot(3, 0, null);
        assertEquals("000000998", tail.get(0).toJson().getString("text"));
        assertEquals("000001000", tail.get(2).toJson().getString("text"));
        assertEquals("err", tail.get(2).toJson().getString("stream"));
        assertEquals(2, ring.snapshot(10, 998, null).size(), "after filters by sequence number");
    }

    @Test
    void longLinesAreCutLosslessly() throws Exception {
        byte[] in = new byte[PipeReader.MAX_LINE * 2 + 10];
        java.util.Arrays.fill(in, (byte) 'x');
        in[in.length - 1] = '\n';
        List<LogLine> lines = capture(in, 1 << 20);
        assertEquals(3, lines.size());
        assertFalse(lines.get(0).eol());
        assertTrue(lines.get(2).eol());
        int total = 0;
        for (LogLine l : lines) {
            total += l.bytes().length;
        }
        assertEquals(in.length - 1, total);
    }

    @Test
    void followerGetsLinesAfterSnapshotThenClose() {
        LogRing ring = new LogRing(1024);
        ring.append(false, List.of("a".getBytes()), List.of(true));
        List<String> got = new ArrayList<>();
        boolean[] closed = {false};
        List<LogLine> snap = ring.snapshot(10, 0, new LogRing.Follower() {
            @Override
            public void lines(List<LogLine> lines) {
                lines.forEach(l -> got.add(new String(l.bytes())));
            }

            @Override
            public void closed() {
                closed[0] = true;
            }
        });
        assertEquals(1, snap.size());
        ring.append(false, List.of("b".getBytes(), "c".getBytes()), List.of(true, true));
        assertEquals(List.of("b", "c"), got);
        ring.close();
        assertTrue(closed[0]);
        assertArrayEquals("a".getBytes(), snap.get(0).bytes());
    }

    @Test
    void followersGetEveryLineOnceInOrderFromTwoAppendingThreads() throws Exception {
        // stdout and stderr are captured by two threads; lines delivered out of number order were
        // dropped by orch logs -f, which skips any line not newer than the last it printed.
        LogRing ring = new LogRing(1 << 20);
        ring.append(false, List.of("before".getBytes()), List.of(true));
        List<Long> got = java.util.Collections.synchronizedList(new ArrayList<>());
        List<LogLine> snap = ring.snapshot(10, 0, new LogRing.Follower() {
            @Override
            public void lines(List<LogLine> lines) {
                lines.forEach(l -> got.add(l.seq()));
            }
        });
        int perThread = 20_000;
        Thread[] threads = new Thread[2];
        for (int t = 0; t < threads.length; t++) {
            boolean err = t == 1;
            threads[t] = new Thread(() -> {
                for (int i = 0; i < perThread; i++) {
                    ring.append(err, List.of(("l" + i).getBytes()), List.of(true));
                }
            });
            threads[t].start();
        }
        for (Thread t : threads) {
            t.join(30_000);
        }
        assertEquals(1, snap.size());
        assertEquals(2 * perThread, got.size(), "every line once");
        for (int i = 0; i < got.size(); i++) {
            assertEquals(i + 2L, got.get(i), "in sequence order");
        }
    }
}
