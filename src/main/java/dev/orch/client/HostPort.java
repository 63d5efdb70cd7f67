package dev.orch.client;

/** A parsed {@code HOST:PORT}; IPv6 hosts go in brackets ({@code [::1]:55555}). */
public final class HostPort {
    private final String host;
    private final int port;

    private HostPort(String host, int port) {
        this.host = host;
        this.port = port;
    }

    public String host() {
        return host;
    }

    public int port() {
        return port;
    }

    /** Parses an address; throws {@link IllegalArgumentException} with a readable message. */
    public static HostPort parse(String address, int defaultPort) {
        if (address == null || address.isBlank()) {
            throw new IllegalArgumentException("empty address");
        }
        String a = address.trim();
        String host;
        String port = null;
        if (a.startsWith("[")) {
            int close = a.indexOf(']');
            if (close < 0) {
                throw new IllegalArgumentException("bad address '" + address + "': missing ']'");
            }
            host = a.substring(1, close);
            if (close + 1 < a.length()) {
                if (a.charAt(close + 1) != ':') {
                    throw new IllegalArgumentException("bad address '" + address + "'");
                }
                port = a.substring(close + 2);
            }
        } else {
            int colon = a.lastIndexOf(':');
            if (colon >= 0 && a.indexOf(':') == colon) {
                host = a.substring(0, colon);
                port = a.substring(colon + 1);
            } else {
                host = a;
            }
        }
        if (host.isEmpty()) {
            host = "127.0.0.1";
        }
        int p = defaultPort;
        if (port != null) {
            try {
                p = Integer.parseInt(port);
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("bad port in address '" + address + "'");
            }
            if (p < 0 || p > 65535) {
                throw new IllegalArgumentException("port out of range in address '" + address + "'");
            }
        }
        return new HostPort(host, p);
    }

    @Override
    public String toString() {
        return format(host, port);
    }

    /** {@code HOST:PORT}, an IPv6 host in brackets, as {@link #parse} reads it back. */
    public static String format(String host, int port) {
        return (host.contains(":") ? "[" + host + "]" : host) + ":" + port;
    }
}
