package dev.orch.bench;

import java.lang.management.CompilationMXBean;
import java.lang.management.ManagementFactory;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * Tells when this JVM's JIT compilers have gone quiet, so that timing measures compiled code.
 *
 * <p>A fixed warm-up gets the call path compiled when the client has a CPU to itself. With
 * several client JVMs sharing two CPUs, C2 is still compiling when timing starts and takes CPU
 * from the calls being timed: four client processes gave about two thirds of the calls/s they
 * gave once the compilers were done. A long-running client has long finished compiling, so the steady state is
 * what a benchmark should show.
 */
final class JitSettle {
    /** Compile time must stay unchanged this long. */
    static final long QUIET_NANOS = TimeUnit.MILLISECONDS.toNanos(500);
    private static final CompilationMXBean JIT = jit();

    private final long start = System.nanoTime();
    private final long maxNanos;
    private long lastTotal = -1;
    private long quietSince;

    /** Waits at most {@code max}; zero means settled at once. */
    JitSettle(Duration max) {
        long n;
        try {
            n = max.toNanos();
        } catch (ArithmeticException e) {
            n = Long.MAX_VALUE; // centuries: as good as no limit
        }
        maxNanos = n;
    }

    /** True once no compilation has finished for {@link #QUIET_NANOS}, or the longest wait is over. */
    boolean settled() {
        long now = System.nanoTime();
        if (JIT == null || now - start >= maxNanos) {
            return true;
        }
        long total = JIT.getTotalCompilationTime();
        if (total != lastTotal) {
            lastTotal = total;
            quietSince = now;
            return false;
        }
        return now - quietSince >= QUIET_NANOS;
    }

    private static CompilationMXBean jit() {
        try {
            CompilationMXBean b = ManagementFactory.getCompilationMXBean();
            // None in a native image: nothing is compiled at run time there.
            return b != null && b.isCompilationTimeMonitoringSupported() ? b : null;
        } catch (RuntimeException | LinkageError e) {
            return null;
        }
    }
}
