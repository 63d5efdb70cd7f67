package dev.orch.process;

import static org.junit.jupiter.api.Assertions.assertNotEquals;

import dev.orch.testing.Poll;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/** What the escapee tests share: finding an escapee a script started, and seeing it end. */
final class EscapeeProbe {
    static final Duration GONE = Duration.ofSeconds(5);

    private EscapeeProbe() {
    }

    /**
     * The pid a script wrote to {@code file} (within {@code wait}), once it runs in a session of
     * its own outside the group of {@code leader}; added to {@code started} for the clean-up.
     */
    static long escapee(Path file, long leader, Duration wait, List<Long> started) {
        long[] pid = {-1};
        Poll.until(wait, "an escapee's pid in " + file.getFileName(), () -> {
            try {
                pid[0] = Long.parseLong(Files.readString(file).trim());
                return true;
            } catch (Exception e) {
                return false;
            }
        });
        started.add(pid[0]);
        Poll.until(GONE, "escapee " + pid[0] + " in a session of its own", () -> {
            ProcStats.Stat s = ProcStats.stat(pid[0]);
            return s != null && s.session() == pid[0] && ProcStats.cmdline(pid[0]).size() > 0
                    && !ProcStats.cmdline(pid[0]).get(0).equals("setsid");
        });
        assertNotEquals(leader, ProcStats.stat(pid[0]).pgrp(), "out of the leader's group");
        return pid[0];
    }

    static void gone(long pid, String what) {
        Poll.until(GONE, what + " (pid " + pid + ") ended", () -> !alive(pid));
    }

    /** Running (zombies count as gone: nobody may reap orphans here). */
    static boolean alive(long pid) {
        ProcStats.Stat s = ProcStats.stat(pid);
        return s != null && !s.isDead();
    }
}
