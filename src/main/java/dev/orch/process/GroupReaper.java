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
 */
final class GroupReaper {
    private static final Logger LOG = Logger.getLogger(GroupReaper.class);
    private static final String SH = "/bin/sh";
    // Group ids come only from this JVM, as digits. The list is a space-separated string: POSIX sh
    // has no arrays, and the list is as long as the live children.
    private static final String SCRIPT = String.join("\n",
            "trap '' INT HUP TERM",
            "groups=' '",
            "while read -r op g; do",
            "  case $op in",
            "    add) groups=\"$groups$g \" ;;",
            "    del) left=' '; for x in $groups; do [ \"$x\" = \"$g\" ] || left=\"$left$x \"; done; groups=$left ;;",
            "  esac",
            "done",
            // 'kill -9 -PGID' signals a group in dash and bash alike (dash refuses 'kill -KILL -- -PGID').
            "for g in $groups; do kill -9 \"-$g\" 2>/dev/null; done");

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
