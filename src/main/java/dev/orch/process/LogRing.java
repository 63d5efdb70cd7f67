package dev.orch.process;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A bounded log of lines with live followers. Holds at most {@code capacity} bytes of output (each
 * line counts its bytes plus one for the newline); the oldest lines are dropped first. Appending is
 * a short critical section so the pipe readers never wait on clients; followers are called on the
 * appending thread, outside the lock, with each batch of lines read in one go.
 */
public final class LogRing {
    /** Receives lines as they are captured, on the capturing thread: it must not block. */
    public interface Follower {
        /** A batch of new lines, in order. */
        void lines(List<LogLine> lines);

        /** The log is closed (its process was removed or the supervisor stopped); no more lines come. */
        default void closed() {
        }
    }

    /** Default capacity, 1 MiB. */
    public static final int DEFAULT_CAPACITY = 1 << 20;

    private final long capacity;
    private final ArrayDeque<LogLine> lines = new ArrayDeque<>();
    private final List<Follower> followers = new CopyOnWriteArrayList<>();
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
        }
        for (Follower f : followers) {
            try {
                f.lines(added);
            } catch (RuntimeException e) {
                // A broken follower must not stop the capture of the child's output.
                followers.remove(f);
            }
        }
        return added;
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
                followers.add(follower);
            }
            return new ArrayList<>(out);
        }
    }

    /** Ends every follower: each gets {@link Follower#closed()} once and is dropped. */
    public void close() {
        for (Follower f : followers) {
            if (followers.remove(f)) {
                f.closed();
            }
        }
    }

    /** Stops calling {@code follower}. */
    public void unfollow(Follower follower) {
        followers.remove(follower);
    }

    /** Bytes held now, at most the capacity. */
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

    private static long cost(LogLine l) {
        return l.bytes().length + 1L;
    }
}
