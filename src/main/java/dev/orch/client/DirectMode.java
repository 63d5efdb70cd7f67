package dev.orch.client;

import java.util.Locale;

/**
 * Whether this process offers and uses direct calls to hosting workers (PROTOCOL.md §7, direct
 * calls), from {@code ORCH_DIRECT}: {@code on} (the default), {@code off}, or {@code HOST:PORT},
 * the address a worker listens on and advertises.
 */
public final class DirectMode {
    /** The environment variable both clients read. */
    public static final String ENV = "ORCH_DIRECT";
    public static final DirectMode ON = new DirectMode(true, null);
    public static final DirectMode OFF = new DirectMode(false, null);

    private final boolean enabled;
    private final HostPort listen;

    private DirectMode(boolean enabled, HostPort listen) {
        this.enabled = enabled;
        this.listen = listen;
    }

    /** Parses a setting; null or blank means on. Throws {@link IllegalArgumentException} with a readable message. */
    public static DirectMode parse(String value) {
        if (value == null || value.isBlank()) {
            return ON;
        }
        String v = value.trim().toLowerCase(Locale.ROOT);
        switch (v) {
            case "on":
            case "1":
            case "true":
            case "yes":
                return ON;
            case "off":
            case "0":
            case "false":
            case "no":
                return OFF;
            default:
                break;
        }
        String usage = ENV + " must be on, off or HOST:PORT, not '" + value.trim() + "'";
        HostPort hp;
        try {
            hp = HostPort.parse(value, -1);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(usage);
        }
        if (hp.port() < 0) {
            throw new IllegalArgumentException(usage);
        }
        String h = hp.host();
        if (h.equals("0.0.0.0") || h.equals("::") || h.equals("*")) {
            // The address is handed to clients as it is: it must be one they can reach.
            throw new IllegalArgumentException(ENV + "=" + value.trim()
                    + ": name an address clients can reach, not the wildcard " + h);
        }
        return new DirectMode(true, hp);
    }

    public boolean enabled() {
        return enabled;
    }

    /** The fixed address to listen on, or null to listen beside the connection to the server. */
    public HostPort listen() {
        return listen;
    }

    @Override
    public String toString() {
        return !enabled ? "off" : listen == null ? "on" : listen.toString();
    }
}
