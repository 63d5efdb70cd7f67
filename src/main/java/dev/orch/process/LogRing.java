package dev.orch.process;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.locks.ReentrantLock;

/**
 * A bounded log of lines with live followers. Holds at most {@code capacity} bytes of heap: each
 * line counts what it takes there, not only its text (see {@link #cost}); the oldest lines are
 * dropped first. Appending is
 * a short critical section so that snapshots never wait on followers; followers are called on an
 * appending thread, outside that lock, with each batch of lines read in one go, every line once
 * and in sequence order even when stdout and stderr are appended from two threads.
 */
public final class LogRing {
    /** Receives lines as they are captured, on a capturing thread: it must not block. */
    public interface Follower {
        /** A batch of new lines, in order. */
        void lines(List<LogLine> lines);

        /** The log is closed (its process was removed or the supervisor stopped); no more lines come. */
        default void closed() {
        }
    }

    /** Default capacity, 1 MiB of heap: about 7,000 lines of 80 characters. */
    public static final int DEFAULT_CAPACITY = 1 << 20;

    private final long capacity;
    private final ArrayDeque<LogLine> lines = new ArrayDeque<>();
    private final List<Following> followers = new CopyOnWriteArrayList<>();
    /** Batches numbered but not yet handed to followers, in sequence order; guarded by this. */
    private final ArrayDeque<List<LogLine>> undelivered = new ArrayDeque<>();
    /**
     * Held while handing batches to followers. Numbering happens under the ring's lock, but two
     * appenders (stdout and stderr) would otherwise call followers in whatever order their threads
     * got there, and a follower (orch logs -f) that skips what is not newer would lose lines.
     */
    private final ReentrantLock delivery = new ReentrantLock();
    private long bytes;
    private long nextSeq = 1;
    private long dropped;

    public LogRing(long capacity) {
        if (capacity <= 0) {
            throw new IllegalArgumentException("capacity must be positive");
        }
        this.capacity = capacity;
    }

    /** Appends lines given as (stream, bytes, eol) triples, numbering them; returns the stored lines. */
    List<LogLine> append(boolean stderr, List<byte[]> contents, List<Boolean> eols) {
        long now = System.currentTimeMillis();
        List<LogLine> added = new ArrayList<>(contents.size());
        synchronized (this) {
            for (int i = 0; i < contents.size(); i++) {
                LogLine l = new LogLine(nextSeq++, stderr, now, contents.get(i), eols.get(i));
                added.add(l);
                lines.addLast(l);
                bytes += cost(l);
            }
            while (bytes > capacity && !lines.isEmpty()) {
                bytes -= cost(lines.removeFirst());
                dropped++;
            }
            if (!added.isEmpty()) {
                undelivered.addLast(added);
            }
        }
        deliver();
        return added;
    }

    /** A follower and the first sequence number it has not had in its snapshot. */
    private record Following(Follower follower, long from) {
    }

    /**
     * Hands every undelivered batch to the followers, oldest first. Whoever holds the delivery
     * lock takes the batches of appenders that wait for it, so each batch goes out once, in order.
     */
    private void deliver() {
        delivery.lock();
        try {
            while (true) {
                List<LogLine> batch;
                synchronized (this) {
                    batch = undelivered.pollFirst();
                }
                if (batch == null) {
                    return;
                }
                for (Following f : followers) {
                    List<LogLine> news = newFor(f, batch);
                    if (news.isEmpty()) {
                        continue;
                    }
                    try {
                        f.follower().lines(news);
                    } catch (RuntimeException e) {
                        // A broken follower must not stop the capture of the child's output.
                        followers.remove(f);
                    }
                }
            }
        } finally {
            delivery.unlock();
        }
    }

    /** The lines of {@code batch} that {@code f}'s snapshot did not already hold. */
    private static List<LogLine> newFor(Following f, List<LogLine> batch) {
        if (batch.get(0).seq() >= f.from()) {
            return batch;
        }
        List<LogLine> news = new ArrayList<>();
        for (LogLine l : batch) {
            if (l.seq() >= f.from()) {
                news.add(l);
            }
        }
        return news;
    }

    /**
     * The last {@code tail} lines with a sequence number above {@code afterSeq} (use 0 for all).
     * With {@code follower} non-null it is registered atomically with the snapshot, so it receives
     * exactly the lines after those returned.
     */
    public List<LogLine> snapshot(int tail, long afterSeq, Follower follower) {
        synchronized (this) {
            ArrayDeque<LogLine> out = new ArrayDeque<>();
            Iterator<LogLine> it = lines.descendingIterator();
            while (it.hasNext() && out.size() < tail) {
                LogLine l = it.next();
                if (l.seq() <= afterSeq) {
                    break;
                }
                out.addFirst(l);
            }
            if (follower != null) {
                // Batches numbered before now but not yet delivered are in the snapshot already.
                followers.add(new Following(follower, nextSeq));
            }
            return new ArrayList<>(out);
        }
    }

    /** Ends every follower: each gets {@link Follower#closed()} once and is dropped. */
    public void close() {
        // Lines numbered before the close still reach the followers, before their end.
        deliver();
        for (Following f : followers) {
            if (followers.remove(f)) {
                f.follower().closed();
            }
        }
    }

    /** Stops calling {@code follower}. */
    public void unfollow(Follower follower) {
        followers.removeIf(f -> f.follower() == follower);
    }

    /** Followers being called now. */
    public int followerCount() {
        return followers.size();
    }

    /** Heap bytes its lines take now (see {@link #cost}), at most the capacity. */
    public synchronized long bytes() {
        return bytes;
    }

    /** Lines held now. */
    public synchronized int size() {
        return lines.size();
    }

    /** Lines dropped so far to stay within the capacity. */
    public synchronized long dropped() {
        return dropped;
    }

    /** Sequence number the next line will get. */
    public synchronized long nextSeq() {
        return nextSeq;
    }

    public long capacity() {
        return capacity;
    }

    /**
     * The heap a stored line takes: its LogLine (12-byte header, two longs, a reference, two
     * booleans: 40 bytes), its byte[] (16-byte header, rounded up to 8 bytes) and its slot in the
     * deque (4 bytes, up to 8 as the deque doubles), with compressed pointers (heaps below 32 GB).
     * Counting only the text let a process printing empty lines hold 60 times the capacity.
     */
    static long cost(int length) {
        return 40 + ((16 + length + 7L) & ~7L) + 8;
    }

    private static long cost(LogLine l) {
        return cost(l.bytes().length);
    }
}
