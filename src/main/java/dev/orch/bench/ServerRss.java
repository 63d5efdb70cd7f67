package dev.orch.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** A process's resident set size, from {@code /proc/PID/status} (Linux). */
public final class ServerRss {
    private ServerRss() {
    }

    /** VmRSS in MiB, one decimal; -1 when unknown. */
    public static double megabytes(long pid) {
        try {
            for (String l : Files.readAllLines(Path.of("/proc/" + pid + "/status"))) {
                if (l.startsWith("VmRSS:")) {
                    long kb = Long.parseLong(l.replaceAll("[^0-9]", ""));
                    return Math.round(kb / 102.4) / 10.0;
                }
            }
        } catch (IOException | NumberFormatException e) {
            // Not Linux, or the process is gone.
        }
        return -1;
    }
}
