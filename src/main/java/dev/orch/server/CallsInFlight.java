package dev.orch.server;

import java.util.ArrayList;
import java.util.List;

/**
 * The requests of one connection that await an answer for the client, so that when its input
 * ends the connection knows what it still owes and which parked calls to withdraw. Linked
 * through the calls themselves: making and answering one costs no lookup and no allocation
 * beyond the call. Used on the connection's event loop only.
 */
final class CallsInFlight {
    /** One request awaiting its answer. */
    abstract static class Call {
        /** Where the request went. */
        final String address;
        /** The client's reply address: the call's id, as a cancel names it. */
        final String replyAddress;
        private Call prev;
        private Call next;
        private boolean listed;

        Call(String address, String replyAddress) {
            this.address = address;
            this.replyAddress = replyAddress;
        }
    }

    private Call head;
    private Call tail;

    void add(Call c) {
        c.prev = tail;
        c.next = null;
        if (tail == null) {
            head = c;
        } else {
            tail.next = c;
        }
        tail = c;
        c.listed = true;
    }

    /** Removes {@code c}; nothing if it is not listed. */
    void remove(Call c) {
        if (!c.listed) {
            return;
        }
        c.listed = false;
        if (c.prev == null) {
            head = c.next;
        } else {
            c.prev.next = c.next;
        }
        if (c.next == null) {
            tail = c.prev;
        } else {
            c.next.prev = c.prev;
        }
        c.prev = null;
        c.next = null;
    }

    boolean isEmpty() {
        return head == null;
    }

    /** The calls now, first made first: a copy, as answering them changes this. */
    List<Call> snapshot() {
        List<Call> all = new ArrayList<>();
        for (Call c = head; c != null; c = c.next) {
            all.add(c);
        }
        return all;
    }
}
