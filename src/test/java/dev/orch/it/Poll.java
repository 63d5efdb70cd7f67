package dev.orch.it;

import java.time.Duration;
import java.util.function.BooleanSupplier;

/** Waits for eventually-true state with a bound, instead of sleeping. */
public final class Poll {
    private Poll() {
    }

    public static void until(Duration limit, BooleanSupplier condition) {
        until(limit, "condition", condition);
    }

    public static void until(Duration limit, String what, BooleanSupplier condition) {
        long deadline = System.nanoTime() + limit.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out after " + limit.toMillis() + " ms waiting for " + what);
            }
            try {
                Thread.sleep(50);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError("interrupted waiting for " + what);
            }
        }
    }
}
