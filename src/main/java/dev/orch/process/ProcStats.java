package dev.orch.process;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Reads process facts from Linux's {@code /proc}: identity (pid + start time), parent, group,
 * CPU ticks, resident memory, command line. Every method tolerates a process vanishing midway
 * (it returns null or an empty result). Callers check {@link #AVAILABLE} and fall back to
 * {@link ProcessHandle} elsewhere.
 */
public final class ProcStats {
    private static final Path PROC = Path.of("/proc");
    /** Whether {@code /proc} looks like Linux's. */
    public static final boolean AVAILABLE = Files.isReadable(PROC.resolve("self/stat"));
    /** Kernel clock ticks per second (USER_HZ) and page size, from the auxiliary vector. */
    public static final long CLOCK_TICKS;
    public static final long PAGE_SIZE;

    static {
        long hz = 100;
        long page = 4096;
        try {
            ByteBuffer b = ByteBuffer.wrap(Files.readAllBytes(PROC.resolve("self/auxv"))).order(ByteOrder.nativeOrder());
            while (b.remaining() >= 16) {
                long type = b.getLong();
                long value = b.getLong();
                if (type == 6 && value > 0) { // AT_PAGESZ
                    page = value;
                } else if (type == 17 && value > 0) { // AT_CLKTCK
                    hz = value;
                } else if (type == 0) {
                    break;
                }
            }
        } catch (IOException | RuntimeException e) {
            // Not Linux, or a 32-bit auxv: keep the usual values.
        }
        CLOCK_TICKS = hz;
        PAGE_SIZE = page;
    }

    /**
     * One line of {@code /proc/PID/stat}.
     *
     * @param startTicks start time in clock ticks after boot (field 22): with the pid, the
     *                   process's identity, since the kernel reuses pids
     * @param cpuTicks   user + system time (fields 14 and 15)
     */
    public record Stat(long pid, long ppid, long pgrp, long session, char state, long startTicks, long cpuTicks) {
        /** A zombie or dead task: it runs no more. */
        public boolean isDead() {
            return state == 'Z' || state == 'X' || state == 'x';
        }
    }

    private ProcStats() {
    }

    /** The stat of {@code pid}, or null if there is no such process. */
    public static Stat stat(long pid) {
        try {
            return parse(pid, Files.readString(PROC.resolve(Long.toString(pid)).resolve("stat"), StandardCharsets.ISO_8859_1));
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }

    /** Every process in the system by pid; skips those that vanish during the scan. */
    public static Map<Long, Stat> scan() {
        Map<Long, Stat> all = new HashMap<>();
        try (DirectoryStream<Path> dir = Files.newDirectoryStream(PROC)) {
            for (Path p : dir) {
                String n = p.getFileName().toString();
                if (n.isEmpty() || !Character.isDigit(n.charAt(0))) {
                    continue;
                }
                Stat s = stat(Long.parseLong(n));
                if (s != null) {
                    all.put(s.pid(), s);
                }
            }
        } catch (IOException | RuntimeException e) {
            // Partial result is fine for monitoring.
        }
        return all;
    }

    /** Resident set size in bytes ({@code statm} field 2 × page size), or -1. */
    public static long rssBytes(long pid) {
        try {
            String s = Files.readString(PROC.resolve(Long.toString(pid)).resolve("statm"), StandardCharsets.ISO_8859_1);
            String[] f = s.trim().split(" ");
            return Long.parseLong(f[1]) * PAGE_SIZE;
        } catch (IOException | RuntimeException e) {
            return -1;
        }
    }

    /** The command line, or an empty list (kernel threads, vanished processes). */
    public static List<String> cmdline(long pid) {
        List<String> out = new ArrayList<>();
        try {
            byte[] b = Files.readAllBytes(PROC.resolve(Long.toString(pid)).resolve("cmdline"));
            int start = 0;
            for (int i = 0; i < b.length; i++) {
                if (b[i] == 0) {
                    out.add(new String(b, start, i - start, StandardCharsets.UTF_8));
                    start = i + 1;
                }
            }
            if (start < b.length) {
                out.add(new String(b, start, b.length - start, StandardCharsets.UTF_8));
            }
        } catch (IOException | RuntimeException e) {
            // Vanished.
        }
        return out;
    }

    /** Seconds since boot, or -1. */
    public static double uptimeSeconds() {
        try {
            String s = Files.readString(PROC.resolve("uptime"), StandardCharsets.ISO_8859_1);
            return Double.parseDouble(s.substring(0, s.indexOf(' ')));
        } catch (IOException | RuntimeException e) {
            return -1;
        }
    }

    /** Whether some process, zombie or not, has this pid. */
    public static boolean exists(long pid) {
        return Files.exists(PROC.resolve(Long.toString(pid)));
    }

    static Stat parse(long pid, String line) {
        // comm (field 2) may contain spaces and parentheses: fields resume after the last ')'.
        int close = line.lastIndexOf(')');
        String[] f = line.substring(close + 2).trim().split(" ");
        // f[k - 3] is field k of proc(5).
        return new Stat(pid, Long.parseLong(f[1]), Long.parseLong(f[2]), Long.parseLong(f[3]), f[0].charAt(0),
                Long.parseLong(f[19]), Long.parseLong(f[11]) + Long.parseLong(f[12]));
    }
}
