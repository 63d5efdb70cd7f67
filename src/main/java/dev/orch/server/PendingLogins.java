package dev.orch.server;

import java.util.Iterator;
import java.util.LinkedHashSet;
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

    /** A connection as seen from here, from any event loop. */
    interface Waiting {
        /** Closes the connection on its own loop if it still has not logged in. */
        void evict();
    }

    private final int limit;
    /** Connections waiting to log in, oldest first; each leaves when it logs in or closes. */
    private final LinkedHashSet<Waiting> waiting = new LinkedHashSet<>();
    private final ThrottledWarning evictions = new ThrottledWarning(LOG);

    PendingLogins(int limit) {
        this.limit = limit;
    }

    /** Takes a new connection, closing the oldest waiting one if more than the limit wait. */
    void admit(Waiting c) {
        Waiting evicted = null;
        synchronized (this) {
            waiting.add(c);
            if (waiting.size() > limit) {
                Iterator<Waiting> oldest = waiting.iterator();
                evicted = oldest.next();
                oldest.remove();
                evictions.occurred("more than %d connections waited to log in: closed the oldest of them (%d since the"
                        + " last warning); a flood of connections without logins, or raise --max-pending-logins", limit);
            }
        }
        if (evicted != null) {
            evicted.evict();
        }
    }

    /** {@code c} logged in or closed: it waits no more (and is not kept reachable from here). */
    synchronized void leave(Waiting c) {
        waiting.remove(c);
    }

    /** Connections waiting now (for tests). */
    synchronized int size() {
        return waiting.size();
    }
}
