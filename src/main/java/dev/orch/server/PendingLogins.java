package dev.orch.server;

import java.util.ArrayDeque;
import java.util.Iterator;
import org.jboss.logging.Logger;

/**
 * Bounds the connections that have not logged in yet. A peer without the key can open them for
 * free (the login timeout only ends each one), and each holds a socket and up to a login frame of
 * memory: unbounded, a flood from one host filled the heap or the file descriptors. Past the
 * limit the oldest waiting connection is closed, not the new one: a real client logs in within
 * milliseconds, so it is never the oldest for long, while a flood must keep opening connections
 * faster than logins complete to keep anyone out.
 */
final class PendingLogins {
    private static final Logger LOG = Logger.getLogger(PendingLogins.class);

    /** The contract a waiting connection offers; read from other event loops. */
    interface Waiting {
        /** False once logged in or closed (may lag: {@link #evict} checks again on its own loop). */
        boolean waitingForLogin();

        /** Closes the connection on its own loop if it still has not logged in. */
        void evict();
    }

    private final int limit;
    /** Connections in the order they came; logged-in and closed ones are dropped lazily. */
    private final ArrayDeque<Waiting> queue = new ArrayDeque<>();
    private final ThrottledWarning evictions = new ThrottledWarning(LOG);

    PendingLogins(int limit) {
        this.limit = limit;
    }

    /** Takes a new connection, closing the oldest waiting one if more than the limit wait. */
    void admit(Waiting c) {
        Waiting evicted = null;
        synchronized (this) {
            queue.addLast(c);
            if (queue.size() > limit) {
                // Amortized: after this the queue holds only those still waiting.
                for (Iterator<Waiting> it = queue.iterator(); it.hasNext();) {
                    if (!it.next().waitingForLogin()) {
                        it.remove();
                    }
                }
                if (queue.size() > limit) {
                    evicted = queue.pollFirst();
                    evictions.occurred("more than %d connections waited to log in: closed the oldest of them (%d since the"
                            + " last warning); a flood of connections without logins, or raise --max-pending-logins", limit);
                }
            }
        }
        if (evicted != null) {
            evicted.evict();
        }
    }

    /** Connections counted now, waiting or not yet dropped (for tests). */
    synchronized int size() {
        return queue.size();
    }
}
