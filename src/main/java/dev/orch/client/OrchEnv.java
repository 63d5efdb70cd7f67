package dev.orch.client;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * The environment variables that tell a process how to reach an orch server. Clients take them
 * as defaults, and orch sets them for the processes it starts, so that a child reaches its
 * server with no options: a TLS server's children get {@link #TLS_CA}.
 */
public final class OrchEnv {
    public static final String ADDRESS = "ORCH_ADDRESS";
    public static final String AUTHKEY_FILE = "ORCH_AUTHKEY_FILE";
    /** A PEM file to trust for TLS; implies TLS. */
    public static final String TLS_CA = "ORCH_TLS_CA";
    /** {@code 1} for TLS with the system's roots when there is no {@link #TLS_CA}. */
    public static final String TLS = "ORCH_TLS";

    private OrchEnv() {
    }

    /** What a child needs to connect to {@code address} with the key in {@code keyFile}. */
    public static Map<String, String> reach(String address, String keyFile) {
        Map<String, String> env = new LinkedHashMap<>();
        if (address != null) {
            env.put(ADDRESS, address);
        }
        if (keyFile != null) {
            env.put(AUTHKEY_FILE, Path.of(keyFile).toAbsolutePath().toString());
        }
        return env;
    }

    /** The TLS part: {@link #TLS_CA} with an absolute path (a child may run elsewhere), or {@link #TLS}. */
    public static Map<String, String> tls(boolean tls, Path ca) {
        if (ca != null) {
            return Map.of(TLS_CA, ca.toAbsolutePath().toString());
        }
        return tls ? Map.of(TLS, "1") : Map.of();
    }

    /** {@link #TLS} parsed: unset or blank is false; throws {@link IllegalArgumentException} if malformed. */
    static boolean tlsFlag(String value) {
        if (value == null) {
            return false;
        }
        switch (value.trim().toLowerCase(Locale.ROOT)) {
            case "":
            case "0":
            case "off":
            case "false":
            case "no":
                return false;
            case "1":
            case "on":
            case "true":
            case "yes":
                return true;
            default:
                throw new IllegalArgumentException(TLS + " must be 1 or 0 (on or off), not '" + value.trim() + "'");
        }
    }

    /** {@link #ADDRESS}, or {@link ClientConfig#DEFAULT_ADDRESS} when it is unset or blank. */
    public static String address() {
        String v = System.getenv(ADDRESS);
        return v == null || v.isBlank() ? ClientConfig.DEFAULT_ADDRESS : v.trim();
    }

    static Path path(String name) {
        String v = System.getenv(name);
        return v == null || v.isBlank() ? null : Path.of(v.trim());
    }
}
