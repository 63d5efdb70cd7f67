package dev.orch.server;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;

/**
 * The requests of one connection that await an answer for the client, by reply address: so that
 * a second request under an address in flight can be refused (a cancel names its call by that
 * address, and two answers under one could not be told apart), and so that when the client's
 * input ends the connection knows what it still owes and which parked calls to withdraw, first
 * made first. Used on the connection's event loop only.
 */
final class CallsInFlight {
    /** One request awaiting its answer. */
    abstract static class Call {
        /** Where the request went. */
        final String address;
        /** The client's reply address: the call's id, as a cancel names it. */
        final String replyAddress;

        Call(String address, String replyAddress) {
            this.address = address;
            this.replyAddress = replyAddress;
        }
    }

    private final LinkedHashMap<String, Call> byReplyAddress = new LinkedHashMap<>();

    /** Adds {@code c}, unless a call under its reply address is in flight: then false. */
    boolean add(Call c) {
        return byReplyAddress.putIfAbsent(c.replyAddress, c) == null;
    }

    /** Removes {@code c}; nothing if it is not listed (another call's address stays taken). */
    void remove(Call c) {
        byReplyAddress.remove(c.replyAddress, c);
    }

    boolean isEmpty() {
        return byReplyAddress.isEmpty();
    }

    /** The calls now, first made first: a copy, as answering them changes this. */
    List<Call> snapshot() {
        return new ArrayList<>(byReplyAddress.values());
    }
}
