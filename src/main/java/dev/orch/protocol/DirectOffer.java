package dev.orch.protocol;

import dev.orch.client.HostPort;
import io.vertx.core.json.JsonObject;

/**
 * Where a hosting worker takes direct calls (PROTOCOL.md §7): its {@code direct} address and
 * whether that port speaks TLS ({@code directTls}). Sent with {@code host}, passed on in object
 * descriptions and the {@code types} reply.
 */
public final class DirectOffer {
    static final String ADDRESS = "direct";
    static final String TLS = "directTls";

    private final String address;
    private final boolean tls;

    public DirectOffer(String address, boolean tls) {
        this.address = address;
        this.tls = tls;
    }

    /** {@code HOST:PORT}, brackets around an IPv6 host. */
    public String address() {
        return address;
    }

    /** True when the worker's port takes TLS connections only. */
    public boolean tls() {
        return tls;
    }

    /** Adds {@code direct} (and {@code directTls} when true) to {@code json}. */
    public JsonObject putInto(JsonObject json) {
        json.put(ADDRESS, address);
        if (tls) {
            json.put(TLS, true);
        }
        return json;
    }

    /**
     * The offer in a {@code host} request, or null without {@code direct}; a malformed one is the
     * sender's error (400), since a worker would otherwise advertise an address no client can use.
     */
    public static DirectOffer fromRequest(JsonObject body) {
        Object value = body.getValue(ADDRESS);
        Object tls = body.getValue(TLS);
        if (tls != null && !(tls instanceof Boolean)) {
            throw OrchException.badRequest("'" + TLS + "' must be a boolean");
        }
        if (value == null) {
            if (Boolean.TRUE.equals(tls)) {
                throw OrchException.badRequest("'" + TLS + "' needs '" + ADDRESS + "'");
            }
            return null;
        }
        String bad = "'" + ADDRESS + "' must be a string HOST:PORT";
        if (!(value instanceof String)) {
            throw OrchException.badRequest(bad);
        }
        String s = ((String) value).trim();
        int colon = s.lastIndexOf(':');
        boolean bracketed = s.startsWith("[");
        if (colon <= 0 || (bracketed ? s.charAt(colon - 1) != ']' : s.indexOf(':') != colon)) {
            throw OrchException.badRequest(bad + ", not '" + s + "'");
        }
        try {
            if (HostPort.parse(s, 0).port() == 0) {
                throw OrchException.badRequest("'" + ADDRESS + "' needs a port other than 0, not '" + s + "'");
            }
        } catch (IllegalArgumentException e) {
            throw OrchException.badRequest(bad + ": " + e.getMessage());
        }
        return new DirectOffer(s, Boolean.TRUE.equals(tls));
    }

    /** The offer in an object description, or null when there is none (or it is not a string). */
    public static DirectOffer fromDescription(JsonObject description) {
        Object value = description.getValue(ADDRESS);
        return value instanceof String
                ? new DirectOffer((String) value, Boolean.TRUE.equals(description.getValue(TLS)))
                : null;
    }

    @Override
    public String toString() {
        return tls ? "tls://" + address : address;
    }
}
