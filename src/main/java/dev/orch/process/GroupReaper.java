package dev.orch.process;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.jboss.logging.Logger;

/**
 * Kills the process groups of our children when this JVM dies, however it dies.
 *
 * <p>{@code setpriv --pdeathsig KILL} ends a child with us, but not what the child started: a
 * shell script's background jobs or a server's workers would be left running, unwatched. So one
 * small shell process, in a session of its own, reads {@code add PGID} and {@code del PGID}
 * lines from a pipe whose only writer is this JVM. When the JVM dies (SIGKILL and the OOM killer
 * included) the kernel closes the pipe; the shell reads end-of-file and sends SIGKILL to every
 * group still listed. A group is listed from its leader's start to its leader's exit: while the
 * leader lives its pid cannot be reused, so the shell never signals a stranger's group.
 *
 * <p>Escapees (see {@link Lineage}) are listed as {@code esc PID START} once seen, and
 * unlisted when seen gone; as an escapee may die unseen, the shell checks at the end that PID is
 * still the process that started at START ticks after boot ({@code /proc/PID/stat}) before it
 * kills that process's group, or the process alone if that group is the shell's own or init's. An
 * escapee never seen (started, gone from the group and orphaned between two looks) survives us.
 */
final class GroupReaper {
    private static final Logger LOG = Logger.getLogger(GroupReaper.class);
    private static final String SH = "/bin/sh";
    // Group ids, pids and start ticks come only from this JVM, as digits. The lists are
    // space-separated strings: POSIX sh has no arrays, and the lists are as long as the live
    // children and escapees.
    private static final String SCRIPT = String.join("\n",
            "trap '' INT HUP TERM",
            "set -f",
            "groups=' '",
            "escs=' '",
            "while read -r op g t; do",
            "  case $op in",
            "    add) groups=\"$groups$g \" ;;",
            "    del) left=' '; for x in $groups; do [ \"$x\" = \"$g\" ] || left=\"$left$x \"; done; groups=$left ;;",
            "    esc) escs=\"$escs$g:$t \" ;;",
            "    unesc) left=' '; for x in $escs; do [ \"$x\" = \"$g:$t\" ] || left=\"$left$x \"; done; escs=$left ;;",
            "  esac",
            "done",
            // 'kill -9 -PGID' signals a group in dash and bash alike (dash refuses 'kill -KILL -- -PGID').
            "for g in $groups; do kill -9 \"-$g\" 2>/dev/null; done",
            "for e in $escs; do",
            "  p=${e%:*}",
            "  { read -r st < \"/proc/$p/stat\"; } 2>/dev/null || continue",
            // After the last ')' (the command name may hold any): $3 is field 5 (the group),
            // ${20} field 22 (the start time).
            "  set -- ${st##*)}",
            "  [ \"${20}\" = \"${e#*:}\" ] || continue",
            "  if [ \"$3\" -gt 1 ] && [ \"$3\" != \"$$\" ]; then kill -9 \"-$3\" 2>/dev/null; else kill -9 \"$p\" 2>/dev/null; fi",
            "done");

    private static final GroupReaper INSTANCE = new GroupReaper();

    private OutputStream pipe;
    private boolean started;

    private GroupReaper() {
    }

    /** Lists group {@code pgid} (a child just started as its leader) for the kill at our death. */
    static void add(long pgid) {
        INSTANCE.send("add " + pgid + "\n");
    }

    /** Unlists group {@code pgid}: its leader has exited, so its id may soon be reused. */
    static void remove(long pgid) {
        INSTANCE.send("del " + pgid + "\n");
    }

    /**
     * Lists escapee {@code pid}, started at {@code startTicks} (/proc), to be killed with its
     * group at our death if it still runs then.
     */
    static void addEscapee(long pid, long startTicks) {
        INSTANCE.send("esc " + pid + " " + startTicks + "\n");
    }

    /** Unlists an escapee that was seen gone. */
    static void forgetEscapee(long pid, long startTicks) {
        INSTANCE.send("unesc " + pid + " " + startTicks + "\n");
    }

    private synchronized void send(String line) {
        if (!started) {
            started = true;
            pipe = start();
        }
        if (pipe == null) {
            return;
        }
        try {
            pipe.write(line.getBytes(StandardCharsets.US_ASCII));
            pipe.flush();
        } catch (IOException e) {
            LOG.warnf("the process-group reaper is gone (%s): children's own children may outlive orch", e.getMessage());
            pipe = null;
        }
    }

    private static OutputStream start() {
        if (!Files.isExecutable(Path.of(SH)) || Launcher.SETSID == null) {
            LOG.debugf("no %s or setsid: children's own children may outlive orch", SH);
            return null;
        }
        try {
            // In a session of its own, so that a signal to our group (Ctrl-C) does not end it
            // before it has done its work.
            Process p = new ProcessBuilder(Launcher.SETSID, SH, "-c", SCRIPT)
                    .redirectOutput(ProcessBuilder.Redirect.DISCARD)
                    .redirectError(ProcessBuilder.Redirect.DISCARD)
                    .start();
            return p.getOutputStream();
        } catch (IOException e) {
            LOG.warnf("cannot start the process-group reaper (%s): children's own children may outlive orch", e.getMessage());
            return null;
        }
    }
}
