package dev.orch.protocol;

import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;

/**
 * Times on the wire and in tables: ISO-8601 UTC with exactly three fraction digits. Instant's own
 * text drops a zero fraction and keeps whatever precision the clock gave (milli-, micro- or
 * nanoseconds), so times from different sources would not line up or compare as text.
 */
public final class Timestamps {
    private static final DateTimeFormatter MILLIS = DateTimeFormatter.ofPattern("uuuu-MM-dd'T'HH:mm:ss.SSS'Z'")
            .withZone(ZoneOffset.UTC);

    private Timestamps() {
    }

    /** {@code 2025-05-01T12:00:00.120Z}; null for null. */
    public static String millis(Instant t) {
        return t == null ? null : MILLIS.format(t);
    }

    /** The same for a text {@link Instant#parse} reads; other text is returned as it is. */
    public static String millis(String iso) {
        if (iso == null) {
            return null;
        }
        try {
            return millis(Instant.parse(iso));
        } catch (RuntimeException e) {
            return iso;
        }
    }
}
