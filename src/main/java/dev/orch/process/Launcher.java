package dev.orch.process;

import dev.orch.auth.AuthKeys;
import dev.orch.protocol.OrchException;
import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

/**
 * Starts children in their own process group and signals those groups. Blocking: call from a
 * worker thread.
 *
 * <p>{@link ProcessBuilder} cannot call {@code setpgid}, so a child is launched as
 * {@code setsid CMD…}. A ProcessBuilder child is never a group leader, so util-linux's
 * {@code setsid} calls {@code setsid(2)} and execs CMD in place: the pid Java sees is CMD's pid,
 * and it is also the group id and session id of CMD and all its descendants. Without
 * {@code setsid} children share our group; signals then go to the process and its
 * {@link ProcessHandle#descendants() descendants} one by one (only TERM and KILL).
 *
 * <p>A child must not outlive an orch that is killed outright (SIGKILL, the OOM killer): nobody
 * would watch or stop it, and a restarted orch would start it a second time. So CMD runs behind
 * {@code setpriv --pdeathsig KILL}, which execs in place too. The kernel sends that signal when
 * the <em>thread</em> that forked the child ends, so every child is forked by one thread that
 * lives as long as the JVM, never by a pool thread that may retire. What CMD itself starts, in
 * its group, and the escapees seen (see {@link Lineage}), are killed by the {@link GroupReaper}.
 */
final class Launcher {
    static final String SETSID = firstExecutable("/usr/bin/setsid", "/bin/setsid");
    static final String KILL = firstExecutable("/usr/bin/kill", "/bin/kill");
    static final String SETPRIV = firstExecutable("/usr/bin/setpriv", "/bin/setpriv");

    private static final ExecutorService FORKER = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "orch-launcher");
        t.setDaemon(true);
        return t;
    });

    private Launcher() {
    }

    /** Whether children get their own process group. */
    static boolean groups() {
        return SETSID != null;
    }

    /** Whether children are killed when this JVM dies ({@code setpriv --pdeathsig} works here). */
    static boolean diesWithUs() {
        return PdeathSig.WORKS;
    }

    /**
     * Starts the child with stdout and stderr as pipes; stdin is this process's own when
     * {@code inheritStdin} (see {@link #stdinIsPipeOrFile}), else /dev/null.
     */
    static Process start(ProcessSpec spec, Map<String, String> extraEnv, boolean inheritStdin) throws IOException {
        List<String> argv = new ArrayList<>();
        if (SETSID != null) {
            argv.add(SETSID);
        }
        if (PdeathSig.WORKS) {
            argv.addAll(List.of(SETPRIV, "--pdeathsig", "KILL", "--"));
        }
        argv.addAll(spec.command());
        ProcessBuilder pb = new ProcessBuilder(argv);
        // Children reach the server with ORCH_AUTHKEY_FILE (extraEnv): the key itself in an
        // environment is readable by everything the child starts and shows in crash dumps. The
        // ready file is orch server --detach's own business. A spec may still set either.
        pb.environment().remove(AuthKeys.ENV_KEY);
        pb.environment().remove("ORCH_READY_FILE"); // ServerCommand.ENV_READY_FILE
        pb.environment().putAll(spec.env());
        pb.environment().putAll(extraEnv);
        if (spec.cwd() != null) {
            pb.directory(new File(spec.cwd()));
        }
        pb.redirectInput(inheritStdin ? ProcessBuilder.Redirect.INHERIT : ProcessBuilder.Redirect.from(new File("/dev/null")));
        Process p = onForker(pb);
        if (SETSID != null) {
            long pgid = p.pid();
            GroupReaper.add(pgid);
            p.onExit().thenRun(() -> GroupReaper.remove(pgid));
        }
        return p;
    }

    private static Process onForker(ProcessBuilder pb) throws IOException {
        try {
            return FORKER.submit(pb::start).get();
        } catch (ExecutionException e) {
            if (e.getCause() instanceof IOException) {
                throw (IOException) e.getCause();
            }
            throw new IOException(e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while starting " + pb.command().get(0), e);
        }
    }

    /**
     * Whether this process's stdin can be handed to a child: a pipe or a file, not a terminal.
     * A child runs in a session of its own, where the terminal's job control cannot stop it, so
     * from a background job it would read the input meant for the shell. False when unknown.
     */
    static boolean stdinIsPipeOrFile() {
        try {
            String target = Files.readSymbolicLink(Path.of("/proc/self/fd/0")).toString();
            return !(target.startsWith("/dev/pts/") || target.startsWith("/dev/tty") || target.equals("/dev/console"));
        } catch (IOException | UnsupportedOperationException | SecurityException e) {
            return false;
        }
    }

    /** Checked once, on first use: util-linux before 2.33 has a setpriv without --pdeathsig. */
    private static final class PdeathSig {
        static final boolean WORKS = SETPRIV != null && runs(SETPRIV, "--pdeathsig", "KILL", "--", "true");

        private static boolean runs(String... argv) {
            try {
                Process p = new ProcessBuilder(argv).redirectErrorStream(true)
                        .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
                return p.waitFor(5, TimeUnit.SECONDS) && p.exitValue() == 0;
            } catch (IOException e) {
                return false;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return false;
            }
        }
    }

    /**
     * Fails with 400 unless the command can be executed and the directory exists, because once
     * behind {@code setsid} an unknown command would only show up as an exit code.
     */
    static void check(ProcessSpec spec) {
        if (spec.cwd() != null && !Files.isDirectory(Path.of(spec.cwd()))) {
            throw OrchException.badRequest((Files.exists(Path.of(spec.cwd())) ? "not a directory: " : "no such directory: ")
                    + spec.cwd());
        }
        Unrunnable u = unrunnable(spec);
        if (u != null) {
            throw OrchException.badRequest(u.message());
        }
    }

    /** Why a command cannot be executed, with the code a shell exits with for it. */
    record Unrunnable(int exitCode, String message) {
    }

    /** Why {@code spec}'s command cannot be executed (its cwd assumed to exist), or null if it can. */
    static Unrunnable unrunnable(ProcessSpec spec) {
        String cmd = spec.command().get(0);
        if (cmd.indexOf('/') >= 0) {
            Path p = spec.cwd() != null ? Path.of(spec.cwd()).resolve(cmd) : Path.of(cmd);
            if (!Files.exists(p)) {
                return new Unrunnable(127, "no such file: " + cmd);
            }
            if (!Files.isExecutable(p) || Files.isDirectory(p)) {
                return new Unrunnable(126, "not an executable file: " + cmd);
            }
            return badInterpreter(p, cmd);
        }
        String path = spec.env().getOrDefault("PATH", System.getenv("PATH"));
        if (path != null) {
            for (String dir : path.split(":")) {
                Path p = Path.of(dir.isEmpty() ? "." : dir).resolve(cmd);
                if (Files.isExecutable(p) && !Files.isDirectory(p)) {
                    return badInterpreter(p, cmd);
                }
            }
        }
        return new Unrunnable(127, "command not found: " + cmd);
    }

    /**
     * A script whose {@code #!} names an interpreter that cannot run, as a shell says it (exit
     * 126): the exec would fail in the wrapper (setsid, setpriv), whose own message named it.
     */
    private static Unrunnable badInterpreter(Path script, String cmd) {
        byte[] head = new byte[256];
        int n;
        try (java.io.InputStream in = Files.newInputStream(script)) {
            n = in.readNBytes(head, 0, head.length);
        } catch (java.io.IOException e) {
            return null; // the exec will say what is wrong
        }
        if (n < 3 || head[0] != '#' || head[1] != '!') {
            return null;
        }
        String line = new String(head, 2, n - 2, java.nio.charset.StandardCharsets.UTF_8).split("\n", 2)[0].trim();
        String interpreter = line.split("[ \t]", 2)[0];
        if (!interpreter.startsWith("/")) {
            return null; // a relative interpreter is resolved by the kernel against the caller's directory
        }
        Path i = Path.of(interpreter);
        if (!Files.exists(i)) {
            return new Unrunnable(126, cmd + ": " + interpreter + ": bad interpreter: no such file");
        }
        if (!Files.isExecutable(i) || Files.isDirectory(i)) {
            return new Unrunnable(126, cmd + ": " + interpreter + ": bad interpreter: not an executable file");
        }
        return null;
    }

    /**
     * Sends {@code signal} (a name {@code kill -s} takes: {@code "TERM"}, {@code "KILL"},
     * {@code "INT"}…) to process group {@code pgid} with
     * {@code kill -s SIG -- -PGID}; returns false if that could not be done (no kill binary, no
     * such group).
     */
    static boolean signalGroup(long pgid, String signal) {
        return pgid > 1 && kill(signal, "-" + pgid);
    }

    /**
     * Sends {@code signal} (a name such as {@code "INT"}) to process {@code pid} alone; returns
     * false if that could not be done. The caller checks first that {@code pid} is still the
     * process it means.
     */
    static boolean signalProcess(long pid, String signal) {
        return pid > 1 && kill(signal, Long.toString(pid));
    }

    private static boolean kill(String signal, String target) {
        if (KILL == null) {
            return false;
        }
        try {
            Process k = new ProcessBuilder(KILL, "-s", signal, "--", target)
                    .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
            return k.waitFor(5, TimeUnit.SECONDS) && k.exitValue() == 0;
        } catch (IOException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    /**
     * Fallback without groups: signals {@code pid} and its descendants through ProcessHandle,
     * which checks each process's start time, so a reused pid is never hit.
     */
    static void signalTree(long pid, boolean kill) {
        Optional<ProcessHandle> h = ProcessHandle.of(pid);
        if (h.isEmpty()) {
            return;
        }
        List<ProcessHandle> all = new ArrayList<>();
        h.get().descendants().forEach(all::add);
        all.add(h.get());
        for (ProcessHandle p : all) {
            if (kill) {
                p.destroyForcibly();
            } else {
                p.destroy();
            }
        }
    }

    private static String firstExecutable(String... candidates) {
        for (String c : candidates) {
            if (Files.isExecutable(Path.of(c))) {
                return c;
            }
        }
        return null;
    }
}
