package dev.orch.process;

import dev.orch.protocol.Timestamps;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Builds {@code ps} entries with CPU, memory and descendants. Blocking (reads {@code /proc}
 * once per call, on demand: nothing is sampled while nobody asks).
 *
 * <p>A process's {@code children} are its descendants, then the escapees its {@link Lineage}
 * remembers that are no longer descendants (their parent died: they were handed to init) with
 * their own descendants: a stop ends them too, so ps shows them.
 */
final class Metrics {
    /**
     * A process to report: fields known on the context, pid (-1 if not running), identity, and
     * what remembers its escapees (null: none).
     */
    record Row(JsonObject base, long pid, long startTicks, Lineage lineage) {
        Row(JsonObject base, long pid, long startTicks) {
            this(base, pid, startTicks, null);
        }
    }

    private Metrics() {
    }

    static JsonArray table(List<Row> rows, CpuMeter cpu) {
        return table(rows, cpu, ProcStats.AVAILABLE ? ProcStats.scan() : Map.of());
    }

    /** As {@link #table(List, CpuMeter)}, from {@code procs}, a {@link ProcStats#scan()} just made. */
    static JsonArray table(List<Row> rows, CpuMeter cpu, Map<Long, ProcStats.Stat> procs) {
        JsonArray out = new JsonArray();
        if (!ProcStats.AVAILABLE) {
            out.add(fallback(server(), ProcessHandle.current().pid()));
            for (Row r : rows) {
                JsonObject j = r.base().copy();
                out.add(r.pid() > 0 ? fallback(j, r.pid()) : j.put("cpuPercent", null).put("rssBytes", null).put("children", new JsonArray()));
            }
            return out;
        }
        long now = System.nanoTime();
        double uptime = ProcStats.uptimeSeconds();
        Map<Long, List<ProcStats.Stat>> kids = new HashMap<>();
        for (ProcStats.Stat s : procs.values()) {
            if (!s.isDead()) {
                kids.computeIfAbsent(s.ppid(), k -> new ArrayList<>()).add(s);
            }
        }
        // Group members by group: a double fork's orphan stays in the group, reparented away.
        Map<Long, List<ProcStats.Stat>> groups = new HashMap<>();
        for (ProcStats.Stat s : procs.values()) {
            if (!s.isDead() && s.pgrp() != s.pid()) {
                groups.computeIfAbsent(s.pgrp(), k -> new ArrayList<>()).add(s);
            }
        }
        Set<Long> measured = new HashSet<>();
        long self = ProcessHandle.current().pid();
        JsonObject server = server();
        measure(server, procs.get(self), cpu, now, uptime, measured);
        out.add(server.put("children", new JsonArray()));
        for (Row r : rows) {
            JsonObject j = r.base().copy();
            ProcStats.Stat s = r.pid() > 0 ? procs.get(r.pid()) : null;
            if (s != null && (s.startTicks() != r.startTicks() || s.isDead())) {
                s = null; // gone, or its pid now belongs to someone else
            }
            measure(j, s, cpu, now, uptime, measured);
            JsonArray children = new JsonArray();
            Set<Long> listed = new HashSet<>();
            if (s != null) {
                listed.add(s.pid());
                descendants(kids.getOrDefault(s.pid(), List.of()), kids, listed, children, cpu, now, uptime, measured);
            }
            if (s != null && r.lineage() != null && r.lineage().ownsGroup()) {
                for (ProcStats.Stat g : groups.getOrDefault(s.pid(), List.of())) {
                    // Started after the leader: not a stranger that had the group's id before.
                    if (g.startTicks() >= s.startTicks() && !listed.contains(g.pid())) {
                        descendants(List.of(g), kids, listed, children, cpu, now, uptime, measured);
                    }
                }
            }
            if (r.lineage() != null) {
                for (Signals.Member m : r.lineage().escapees()) {
                    ProcStats.Stat e = procs.get(m.pid());
                    if (e != null && !e.isDead() && e.startTicks() == m.start() && !listed.contains(e.pid())) {
                        descendants(List.of(e), kids, listed, children, cpu, now, uptime, measured);
                    }
                }
            }
            out.add(j.put("children", children));
        }
        cpu.retain(measured);
        return out;
    }

    /** Adds {@code first} and their descendants, each once, to {@code children}. */
    private static void descendants(List<ProcStats.Stat> first, Map<Long, List<ProcStats.Stat>> kids, Set<Long> listed,
            JsonArray children, CpuMeter cpu, long now, double uptime, Set<Long> measured) {
        ArrayDeque<ProcStats.Stat> todo = new ArrayDeque<>(first);
        while (!todo.isEmpty()) {
            ProcStats.Stat c = todo.removeFirst();
            if (!listed.add(c.pid())) {
                continue;
            }
            JsonObject cj = new JsonObject().put("pid", c.pid())
                    .put("ppid", c.ppid())
                    .put("command", new JsonArray(new ArrayList<>(ProcStats.cmdline(c.pid()))));
            measure(cj, c, cpu, now, uptime, measured);
            children.add(cj);
            todo.addAll(kids.getOrDefault(c.pid(), List.of()));
        }
    }

    private static void measure(JsonObject j, ProcStats.Stat s, CpuMeter cpu, long now, double uptime, Set<Long> measured) {
        if (s == null) {
            j.put("cpuPercent", null).put("rssBytes", null);
            return;
        }
        measured.add(s.pid());
        long rss = ProcStats.rssBytes(s.pid());
        j.put("cpuPercent", cpu.percent(s, now, uptime)).put("rssBytes", rss < 0 ? null : rss);
    }

    private static JsonObject server() {
        ProcessHandle.Info info = ProcessHandle.current().info();
        JsonArray cmd = new JsonArray();
        info.command().ifPresent(cmd::add);
        info.arguments().ifPresent(a -> {
            for (String s : a) {
                cmd.add(s);
            }
        });
        return new JsonObject().put("id", "server").put("name", "server").put("node", ProcessSpec.LOCAL)
                .put("pid", ProcessHandle.current().pid()).put("state", ProcessState.RUNNING.wire())
                .put("restarts", 0).put("exitCode", null)
                .put("startedAt", info.startInstant().map(Timestamps::millis).orElse(null)).put("command", cmd);
    }

    /** Without /proc: average CPU since start from ProcessHandle; no RSS. */
    private static JsonObject fallback(JsonObject j, long pid) {
        Optional<ProcessHandle> h = ProcessHandle.of(pid);
        Double pct = null;
        if (h.isPresent()) {
            ProcessHandle.Info info = h.get().info();
            Optional<Instant> start = info.startInstant();
            Optional<Duration> total = info.totalCpuDuration();
            if (start.isPresent() && total.isPresent()) {
                long age = Duration.between(start.get(), Instant.now()).toMillis();
                pct = age > 0 ? Math.round(1000.0 * total.get().toMillis() / age) / 10.0 : 0.0;
            }
        }
        JsonArray children = new JsonArray();
        h.ifPresent(p -> p.descendants().forEach(d -> children.add(new JsonObject().put("pid", d.pid())
                .put("command", new JsonArray(d.info().command().map(List::of).orElse(List.of()))))));
        return j.put("cpuPercent", pct).put("rssBytes", null).put("children", children);
    }
}
