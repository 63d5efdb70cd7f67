package dev.orch.process;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Signals a managed process with its group, without ever hitting a stranger that reused a pid.
 * Blocking: worker threads only.
 *
 * <p>A group id cannot be reused as a pid while any member of the group exists. So signalling
 * {@code -PGID} is safe while our leader is alive, and also after it died as long as no process
 * has pid PGID (a process that did would be a newcomer that may lead a foreign group). Members
 * are additionally remembered by pid + start time and signalled one by one when the group cannot
 * be used.
 */
final class Signals {
    /** A process identity: pid plus start time (/proc ticks, or epoch ms without /proc). */
    record Member(long pid, long start) {
    }

    private Signals() {
    }

    /** The other members of the process's group (or its descendants without groups), now. */
    static List<Member> members(ManagedProcess mp) {
        List<Member> out = new ArrayList<>();
        if (ProcStats.AVAILABLE && mp.grouped) {
            for (ProcStats.Stat s : ProcStats.scan().values()) {
                if (s.pgrp() == mp.pid && s.pid() != mp.pid && !s.isDead()) {
                    out.add(new Member(s.pid(), s.startTicks()));
                }
            }
        } else if (mp.leaderAlive()) {
            mp.process.toHandle().descendants().forEach(h -> out.add(new Member(h.pid(), startMillis(h))));
        }
        return out;
    }

    /** Sends {@code "TERM"} or {@code "KILL"} to the process's group, or else to each known member. */
    static void send(ManagedProcess mp, String signal, List<Member> members) {
        boolean kill = "KILL".equals(signal);
        if (mp.grouped && groupIsOurs(mp) && Launcher.signalGroup(mp.pid, signal)) {
            return;
        }
        if (mp.leaderAlive()) {
            Launcher.signalTree(mp.pid, kill);
        }
        for (Member m : members) {
            handle(m).ifPresent(h -> {
                if (kill) {
                    h.destroyForcibly();
                } else {
                    h.destroy();
                }
            });
        }
    }

    /** Whether any of {@code members} still runs (zombies do not count). */
    static boolean anyAlive(List<Member> members) {
        for (Member m : members) {
            if (alive(m)) {
                return true;
            }
        }
        return false;
    }

    static boolean alive(Member m) {
        if (ProcStats.AVAILABLE) {
            ProcStats.Stat s = ProcStats.stat(m.pid());
            return s != null && !s.isDead() && s.startTicks() == m.start();
        }
        return handle(m).isPresent();
    }

    private static boolean groupIsOurs(ManagedProcess mp) {
        return mp.leaderAlive() || (ProcStats.AVAILABLE && !ProcStats.exists(mp.pid));
    }

    private static Optional<ProcessHandle> handle(Member m) {
        if (ProcStats.AVAILABLE && !alive(m)) {
            return Optional.empty();
        }
        Optional<ProcessHandle> h = ProcessHandle.of(m.pid()).filter(ProcessHandle::isAlive);
        if (!ProcStats.AVAILABLE) {
            h = h.filter(p -> startMillis(p) == m.start());
        }
        return h;
    }

    private static long startMillis(ProcessHandle h) {
        return h.info().startInstant().map(Instant::toEpochMilli).orElse(-1L);
    }
}
