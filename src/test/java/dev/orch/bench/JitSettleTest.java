package dev.orch.bench;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.lang.management.ManagementFactory;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class JitSettleTest {
    @Test
    void noWaitIsSettledAtOnce() {
        assertTrue(new JitSettle(Duration.ZERO).settled());
    }

    @Test
    void aLimitTooLongForNanosecondsMeansNoLimit() {
        assumeTrue(ManagementFactory.getCompilationMXBean().isCompilationTimeMonitoringSupported());
        assertFalse(new JitSettle(Duration.ofSeconds(Long.MAX_VALUE)).settled());
    }

    @Test
    void settlesOnlyAfterAQuietSpellAndNeverAfterTheLongestWait() throws Exception {
        assumeTrue(ManagementFactory.getCompilationMXBean().isCompilationTimeMonitoringSupported());
        Duration max = Duration.ofSeconds(3);
        long t0 = System.nanoTime();
        JitSettle jit = new JitSettle(max);
        // The first look only records the compile time: never settled before a quiet spell.
        assertFalse(jit.settled());
        while (!jit.settled()) {
            Thread.sleep(20);
        }
        long took = System.nanoTime() - t0;
        assertTrue(took >= JitSettle.QUIET_NANOS, "settled after " + took + " ns");
        assertTrue(took < max.toNanos() + TimeUnit.SECONDS.toNanos(2), "settled after " + took + " ns");
    }
}
