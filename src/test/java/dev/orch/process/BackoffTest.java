package dev.orch.process;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class BackoffTest {
    @Test
    void defaultDoublesFromOneSecondToSixtySecondCap() {
        long[] expected = {1000, 2000, 4000, 8000, 16000, 32000, 60000, 60000};
        for (int i = 0; i < expected.length; i++) {
            assertEquals(expected[i], Backoff.DEFAULT.delayMillis(i), "failure " + i);
        }
        assertEquals(60000, Backoff.DEFAULT.delayMillis(10_000), "no overflow for long crash loops");
    }

    @Test
    void stableAfterSixtySeconds() {
        assertFalse(Backoff.DEFAULT.isStable(59_999));
        assertTrue(Backoff.DEFAULT.isStable(60_000));
    }

    @Test
    void rejectsCapBelowBase() {
        assertThrows(IllegalArgumentException.class,
                () -> new Backoff(Duration.ofSeconds(2), Duration.ofSeconds(1), Duration.ZERO));
    }
}
