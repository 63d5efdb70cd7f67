package dev.orch.process;

import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Signals a managed process with its group and its escapees (see {@link Lineage}), without ever
 * hitting a stranger that reused a pid. Blocking: worker threads only.
 *
 * <p>A group id cannot be reused as a pid while any member of the group exists. So signalling
 * {@code -PGID} is safe while our leader is alive, and also after it died as long as no process
 * has pid PGID (a process that did would be a newcomer that may lead a foreign group). Members
 * are additionally remembered by pid + start time and signalled one by one when the group cannot
 * be used. An escapee's own group is signalled on the same terms: while its leader is one of
 * ours, or (with groups of our own) while one of ours is in it and no process has its id; so the
 * processes an escapee forks after it was seen are signalled too, when they stay in its group.
 */
final class Signals {
    /** A process identity: pid plus start time (/proc ticks, or epoch ms without /proc). */
    record Member(long pid, long start) {
    }

    /**
     * What is signalled: one run of a command started by {@link Launcher}, the leader
     * ({@code process}, null before it started), in a group of its own when {@code grouped}, and
     * the {@link Lineage} that remembers what it started. A spawned process
     * ({@link ManagedProcess#target()}) or an {@code orch connect} worker's command.
     */
    record Target(long pid, Process process, boolean grouped, Lineage lineage) {
        boolean leaderAlive() {
            return process != null && process.isAlive();
        }
    }

    private Signals() {
    }

    /**
     * The other members of the process's group and its escapees, now (remembering the escapees);
     * without /proc, its descendants.
     */
    static List<Member> members(Target t) {
        if (ProcStats.AVAILABLE) {
            return t.lineage().look(ProcStats.scan());
        }
        List<Member> out = new ArrayList<>();
        if (t.leaderAlive()) {
            t.process().toHandle().descendants().forEach(h -> out.add(new Member(h.pid(), startMillis(h))));
        }
        return out;
    }

    /** {@code a} and the members of {@code b} not in it. */
    static List<Member> union(List<Member> a, List<Member> b) {
        Set<Member> all = new LinkedHashSet<>(a);
        all.addAll(b);
        return new ArrayList<>(all);
    }

    /**
     * Sends {@code signal} ({@code "TERM"}, {@code "KILL"}, or another name {@code kill -s}
     * takes) to the process's group, or else to each known member, and to each escapee's group,
     * or else to the escapee. Without /proc, any signal but KILL is sent as TERM.
     */
    static void send(Target t, String signal, List<Member> members) {
        boolean kill = "KILL".equals(signal);
        boolean group = t.grouped() && groupIsOurs(t) && Launcher.signalGroup(t.pid(), signal);
        if (!ProcStats.AVAILABLE) {
            if (!group && t.leaderAlive()) {
                Launcher.signalTree(t.pid(), kill);
            }
            for (Member m : members) {
                handle(m).ifPresent(h -> destroy(h, kill ? "KILL" : "TERM"));
            }
            return;
        }
        if (!group && t.leaderAlive()) {
            // Its descendants are members (Lineage#look): they are signalled below, once.
            destroy(t.process().toHandle(), signal);
        }
        // Who runs now, as checked now: only these vouch for a group.
        Map<Long, ProcStats.Stat> live = new LinkedHashMap<>();
        for (Member m : members) {
            ProcStats.Stat s = ProcStats.stat(m.pid());
            if (s != null && !s.isDead() && s.startTicks() == m.start()) {
                live.put(m.pid(), s);
            }
        }
        ProcStats.Stat self = ProcStats.stat(ProcessHandle.current().pid());
        long ownGroup = self != null ? self.pgrp() : -1;
        Set<Long> signalled = new HashSet<>();
        if (group) {
            signalled.add(t.pid());
        }
        for (ProcStats.Stat s : live.values()) {
            long g = s.pgrp();
            if (signalled.contains(g)) {
                continue;
            }
            if (groupIsOurs(t, g, ownGroup, live) && Launcher.signalGroup(g, signal)) {
                signalled.add(g);
                continue;
            }
            handle(new Member(s.pid(), s.startTicks())).ifPresent(h -> destroy(h, signal));
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

    private static boolean groupIsOurs(Target t) {
        return t.leaderAlive() || (ProcStats.AVAILABLE && !ProcStats.exists(t.pid()));
    }

    /**
     * Whether group {@code g}, which one of {@code live} is in, may be signalled: never the
     * server's; yes if its leader is one of ours, or (with groups of our own, so that {@code g}
     * was made in one of our sessions) if no process has its id.
     */
    private static boolean groupIsOurs(Target t, long g, long ownGroup, Map<Long, ProcStats.Stat> live) {
        if (g <= 1 || g == ownGroup) {
            return false;
        }
        return live.containsKey(g) || (t.grouped() && !ProcStats.exists(g));
    }

    /** {@code h} was just checked to be the process we mean (pid and start time). */
    private static void destroy(ProcessHandle h, String signal) {
        switch (signal) {
            case "KILL" -> h.destroyForcibly();
            case "TERM" -> h.destroy();
            // A forwarded INT or HUP must arrive as itself: ProcessHandle knows only TERM and KILL.
            default -> Launcher.signalProcess(h.pid(), signal);
        }
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
