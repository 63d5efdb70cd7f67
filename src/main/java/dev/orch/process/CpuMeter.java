package dev.orch.process;

import java.util.HashMap;
import java.util.Map;

/**
 * CPU percentage between two samples of the same process (100 = one core). Sampling happens on
 * demand (each {@code ps}), so an idle supervisor reads nothing. The first sample of a process
 * gives its average since it started; samples closer than {@link #MIN_INTERVAL_NANOS} reuse the
 * previous figure rather than divide by a tiny interval.
 */
final class CpuMeter {
    static final long MIN_INTERVAL_NANOS = 500_000_000L;

    private record Sample(long startTicks, long cpuTicks, long nanos, double percent) {
    }

    private final Map<Long, Sample> last = new HashMap<>();

    /** The CPU percentage of {@code s} now; forgets processes not measured by this call's caller for long. */
    synchronized double percent(ProcStats.Stat s, long nowNanos, double uptimeSeconds) {
        Sample prev = last.get(s.pid());
        double pct;
        if (prev != null && prev.startTicks() == s.startTicks()) {
            long dt = nowNanos - prev.nanos();
            if (dt < MIN_INTERVAL_NANOS) {
                return prev.percent();
            }
            pct = 100.0 * (s.cpuTicks() - prev.cpuTicks()) / ProcStats.CLOCK_TICKS / (dt / 1e9);
        } else {
            double age = uptimeSeconds - (double) s.startTicks() / ProcStats.CLOCK_TICKS;
            pct = age > 0 ? 100.0 * s.cpuTicks() / ProcStats.CLOCK_TICKS / age : 0.0;
        }
        pct = Math.max(0.0, Math.round(pct * 10.0) / 10.0);
        last.put(s.pid(), new Sample(s.startTicks(), s.cpuTicks(), nowNanos, pct));
        return pct;
    }

    /** Drops samples of pids not in {@code alive}, so the map stays as small as the process table. */
    synchronized void retain(java.util.Set<Long> alive) {
        last.keySet().retainAll(alive);
    }
}
