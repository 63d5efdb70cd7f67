package dev.orch.process;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Everything a managed process started that still runs: the other members of its process group,
 * and the <em>escapees</em>, descendants that left the group ({@code setsid CMD &}, a daemon, a
 * job-control shell's jobs). A signal to the group misses escapees, so {@link Signals} signals
 * them on their own. Once an escapee's parent dies it is reparented away from the process's tree
 * and could no longer be found by parentage, so escapees are remembered by identity (pid + start
 * ticks) each time the tree is looked at: at every stop, every {@code ps}, and now and then while
 * the process runs ({@link LineageWatch}). The group's members are remembered too, until the next
 * look: one that has left the group by then ({@code setsid} after the look) is an escapee, even
 * if its parent is gone meanwhile. An escapee the tree never showed is out of reach: a daemon's
 * double fork orphans it within milliseconds. With a group of its own, a remembered escapee is
 * also listed in the {@link GroupReaper}, so that it dies with the server.
 *
 * <p>Without a group of its own (no {@code setsid} on the host) every descendant counts as an
 * escapee: they are in the server's group, which must never be signalled.
 *
 * <p>Needs {@code /proc}. Thread-safe: looked at from worker threads.
 */
final class Lineage {
    private final Map<Long, Signals.Member> escapees = new LinkedHashMap<>();
    /** The group's members at the last look (not the leader): any of them may leave the group. */
    private Map<Long, Signals.Member> members = new HashMap<>();
    private long leader = -1;
    private long leaderStart = -1;
    private boolean grouped;

    /**
     * A run began with leader {@code pid}. Escapees of earlier runs that still run stay known: the
     * next stop ends them too, rather than leave them beside the new run.
     */
    synchronized void started(long pid, long startTicks, boolean ownGroup) {
        members = new HashMap<>(); // of the last run's group, which its stop has ended
        leader = pid;
        leaderStart = startTicks;
        grouped = ownGroup;
    }

    /**
     * The run's group members and escapees in {@code procs} (one {@link ProcStats#scan()}).
     * Escapees are found below the leader, below the group's members and below the escapees known
     * before; those found are remembered, known ones that are gone forgotten.
     */
    synchronized List<Signals.Member> look(Map<Long, ProcStats.Stat> procs) {
        ProcStats.Stat lead = procs.get(leader);
        boolean leaderIsOurs = lead != null && lead.startTicks() == leaderStart;
        // While a newcomer has the leader's pid, processes in a group with that id may be its.
        boolean groupIsOurs = grouped && (lead == null || leaderIsOurs);
        List<Signals.Member> out = new ArrayList<>();
        Set<Long> seen = new HashSet<>();
        ArrayDeque<ProcStats.Stat> todo = new ArrayDeque<>();
        if (leaderIsOurs && !lead.isDead()) {
            seen.add(leader);
            todo.add(lead);
        }
        Map<Long, Signals.Member> inGroup = new HashMap<>();
        if (groupIsOurs) {
            for (ProcStats.Stat s : procs.values()) {
                if (s.pgrp() == leader && s.pid() != leader && !s.isDead()) {
                    Signals.Member m = member(s);
                    out.add(m);
                    inGroup.put(s.pid(), m);
                    seen.add(s.pid());
                    todo.add(s);
                }
            }
        }
        if (grouped) {
            // Members of the last look that left the group since: escapees, found by identity, as
            // their parent may have exited meanwhile (CMD starting a job that calls setsid later).
            for (Signals.Member m : members.values()) {
                ProcStats.Stat s = procs.get(m.pid());
                if (runs(m, s) && s.pgrp() != leader && escapees.putIfAbsent(m.pid(), m) == null) {
                    GroupReaper.addEscapee(m.pid(), m.start());
                }
            }
            members = inGroup;
        }
        for (Iterator<Signals.Member> it = escapees.values().iterator(); it.hasNext();) {
            Signals.Member m = it.next();
            ProcStats.Stat s = procs.get(m.pid());
            if (!runs(m, s)) {
                forget(it, m);
            } else if (seen.add(m.pid())) {
                out.add(m);
                todo.add(s);
            }
        }
        Map<Long, List<ProcStats.Stat>> kids = children(procs);
        while (!todo.isEmpty()) {
            ProcStats.Stat parent = todo.removeFirst();
            for (ProcStats.Stat c : kids.getOrDefault(parent.pid(), List.of())) {
                // A child older than its parent has a reused pid for a parent: not ours.
                if (c.startTicks() < parent.startTicks() || !seen.add(c.pid())) {
                    continue;
                }
                Signals.Member m = member(c);
                out.add(m);
                todo.add(c);
                boolean escaped = !grouped || c.pgrp() != leader;
                if (escaped && escapees.putIfAbsent(c.pid(), m) == null && grouped) {
                    GroupReaper.addEscapee(c.pid(), c.startTicks());
                }
            }
        }
        return out;
    }

    /** Whether the run leads a process group of its own, whose members are all its. */
    synchronized boolean ownsGroup() {
        return grouped;
    }

    /** The escapees remembered, as of the last look. */
    synchronized List<Signals.Member> escapees() {
        return new ArrayList<>(escapees.values());
    }

    /** Forgets the escapees that no longer run, reading only theirs from /proc (a stop has just ended them). */
    synchronized void forgetGone() {
        for (Iterator<Signals.Member> it = escapees.values().iterator(); it.hasNext();) {
            Signals.Member m = it.next();
            if (!runs(m, ProcStats.stat(m.pid()))) {
                forget(it, m);
            }
        }
    }

    private void forget(Iterator<Signals.Member> it, Signals.Member m) {
        it.remove();
        if (grouped) {
            GroupReaper.forgetEscapee(m.pid(), m.start());
        }
    }

    private static boolean runs(Signals.Member m, ProcStats.Stat s) {
        return s != null && !s.isDead() && s.startTicks() == m.start();
    }

    private static Map<Long, List<ProcStats.Stat>> children(Map<Long, ProcStats.Stat> procs) {
        Map<Long, List<ProcStats.Stat>> kids = new HashMap<>();
        for (ProcStats.Stat s : procs.values()) {
            if (!s.isDead()) {
                kids.computeIfAbsent(s.ppid(), k -> new ArrayList<>()).add(s);
            }
        }
        return kids;
    }

    private static Signals.Member member(ProcStats.Stat s) {
        return new Signals.Member(s.pid(), s.startTicks());
    }
}
