package dev.orch.protocol;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.time.Instant;
import org.junit.jupiter.api.Test;

class TimestampsTest {
    @Test
    void alwaysThreeFractionDigits() {
        // Instant.toString would give "…:32Z" and "…:05.472751044Z" for these.
        assertEquals("2026-01-02T09:11:32.000Z", Timestamps.millis(Instant.parse("2026-01-02T09:11:32Z")));
        assertEquals("2026-01-02T09:13:05.472Z", Timestamps.millis(Instant.parse("2026-01-02T09:13:05.472751044Z")));
        assertEquals("2026-01-02T09:11:32.030Z", Timestamps.millis("2026-01-02T09:11:32.030Z"));
        assertEquals("not a time", Timestamps.millis("not a time"));
        assertNull(Timestamps.millis((String) null));
    }
}
