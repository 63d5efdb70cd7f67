package dev.orch.it;

import dev.orch.testing.Poll;
import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Runs {@code target/orch} and other programs as child processes: bounded runs with captured
 * output, servers started on a free port through {@code ORCH_READY_FILE}, and cleanup of
 * everything started ({@link #killAll()} in {@code @AfterAll}).
 */
public final class Procs {
    public static final Duration RUN_TIMEOUT = Duration.ofSeconds(90);
    public static final Duration START_TIMEOUT = Duration.ofSeconds(90);

    private static final List<ProcessHandle> STARTED = new CopyOnWriteArrayList<>();
    private static final List<Path> TEMP = new CopyOnWriteArrayList<>();

    private Procs() {
    }

    /** The program under test: {@code target/orch} (JVM launcher script or native executable). */
    public static String launcher() {
        return System.getProperty("orch.launcher", "target/orch");
    }

    /** Whether the program under test is the JVM launcher script, which reads {@code ORCH_JAVA_OPTS}. */
    public static boolean isJvmLauncher() {
        try (java.io.InputStream in = Files.newInputStream(Path.of(launcher()))) {
            return in.read() == '#' && in.read() == '!';
        } catch (IOException e) {
            return false;
        }
    }

    /**
     * Skips the calling test unless the program under test is the JVM launcher: with
     * {@code -Dnative} it is the native executable, which takes no JVM options.
     */
    public static void assumeJvmLauncher() {
        org.junit.jupiter.api.Assumptions.assumeTrue(isJvmLauncher(), "not the JVM launcher: ORCH_JAVA_OPTS has no effect");
    }

    /** Exit code and output of a finished process. */
    public static final class Result {
        public final int exit;
        public final String out;
        public final String err;
        public final List<String> command;

        Result(int exit, String out, String err, List<String> command) {
            this.exit = exit;
            this.out = out;
            this.err = err;
            this.command = command;
        }

        /** Lines of stderr that are not blank. */
        public List<String> errLines() {
            List<String> l = new ArrayList<>();
            for (String s : err.split("\\R")) {
                if (!s.isBlank()) {
                    l.add(s);
                }
            }
            return l;
        }

        @Override
        public String toString() {
            return command + " -> exit " + exit + "\n--- stdout:\n" + out + "--- stderr:\n" + err;
        }
    }

    /** {@code target/orch ARGS…} with extra environment variables, bounded by {@link #RUN_TIMEOUT}. */
    public static Result orch(Map<String, String> env, String... args) {
        List<String> cmd = new ArrayList<>();
        cmd.add(launcher());
        cmd.addAll(Arrays.asList(args));
        return run(cmd, env, RUN_TIMEOUT);
    }

    public static Result orch(String... args) {
        return orch(Map.of(), args);
    }

    /** Runs a command to completion (killed after {@code timeout}), capturing stdout and stderr. */
    public static Result run(List<String> cmd, Map<String, String> env, Duration timeout) {
        try {
            Path out = Files.createTempFile("orch-out-", ".txt");
            Path err = Files.createTempFile("orch-err-", ".txt");
            try {
                ProcessBuilder pb = new ProcessBuilder(cmd).redirectOutput(out.toFile()).redirectError(err.toFile())
                        .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
                isolate(pb.environment(), env);
                Process p = pb.start();
                STARTED.add(p.toHandle());
                if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                    p.destroyForcibly();
                    p.waitFor(10, TimeUnit.SECONDS);
                    throw new AssertionError(cmd + " did not finish within " + timeout + "; stderr:\n" + Files.readString(err));
                }
                STARTED.remove(p.toHandle());
                return new Result(p.exitValue(), Files.readString(out, StandardCharsets.UTF_8),
                        Files.readString(err, StandardCharsets.UTF_8), cmd);
            } finally {
                Files.deleteIfExists(out);
                Files.deleteIfExists(err);
            }
        } catch (IOException e) {
            throw new AssertionError("cannot run " + cmd, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted running " + cmd, e);
        }
    }

    /** Starts a long-running child; its stdout and stderr go to {@code log}. Killed by {@link #killAll()}. */
    public static Process start(List<String> cmd, Map<String, String> env, Path log) {
        try {
            ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
            isolate(pb.environment(), env);
            Process p = pb.start();
            STARTED.add(p.toHandle());
            return p;
        } catch (IOException e) {
            throw new AssertionError("cannot start " + cmd, e);
        }
    }

    /**
     * The child's environment: the test's, without any {@code ORCH_*} variable of the developer's
     * shell (an inherited {@code ORCH_AUTHKEY} or {@code ORCH_HOME} would change which key is
     * used), plus {@code extra}.
     */
    static void isolate(Map<String, String> childEnv, Map<String, String> extra) {
        childEnv.keySet().removeIf(k -> k.startsWith("ORCH_"));
        childEnv.putAll(extra);
    }

    /** Kills a process started elsewhere (e.g. a detached server) in {@link #killAll()}. */
    public static void track(long pid) {
        ProcessHandle.of(pid).ifPresent(STARTED::add);
    }

    /** Kills every process started through this class that is still alive, and waits for them. */
    public static void killAll() {
        for (ProcessHandle h : STARTED) {
            h.descendants().forEach(ProcessHandle::destroyForcibly);
            h.destroyForcibly();
        }
        for (ProcessHandle h : STARTED) {
            try {
                h.onExit().get(10, TimeUnit.SECONDS);
            } catch (Exception e) {
                // Best effort.
            }
        }
        STARTED.clear();
        for (Path p : TEMP) {
            deleteRecursively(p);
        }
        TEMP.clear();
    }

    /** A temporary directory, deleted by {@link #killAll()}. */
    public static Path tempDir(String prefix) {
        try {
            Path d = Files.createTempDirectory(prefix);
            TEMP.add(d);
            return d;
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }

    private static void deleteRecursively(Path p) {
        try (java.util.stream.Stream<Path> all = Files.walk(p)) {
            all.sorted(java.util.Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
        } catch (IOException e) {
            // Best effort.
        }
    }

    /** A foreground {@code orch server} running as a child of the test. */
    public static final class Server {
        public final Process process;
        public final String address;
        public final long pid;
        public final Path log;

        Server(Process process, String address, long pid, Path log) {
            this.process = process;
            this.address = address;
            this.pid = pid;
            this.log = log;
        }

        public int port() {
            return Integer.parseInt(address.substring(address.lastIndexOf(':') + 1));
        }

        public String log() {
            try {
                return Files.readString(log);
            } catch (IOException e) {
                return "(no log: " + e + ")";
            }
        }
    }

    /**
     * Starts {@code target/orch server --listen 127.0.0.1:0 EXTRA…} in the foreground and waits
     * (bounded) until it has written its address to {@code ORCH_READY_FILE}.
     */
    public static Server server(Map<String, String> env, String... extra) {
        Path dir = tempDir("orch-server-");
        Path ready = dir.resolve("ready.txt");
        Path log = dir.resolve("server.log");
        List<String> cmd = new ArrayList<>(List.of(launcher(), "server", "--listen", "127.0.0.1:0"));
        cmd.addAll(Arrays.asList(extra));
        Map<String, String> e = new java.util.HashMap<>(env);
        e.put("ORCH_READY_FILE", ready.toString());
        Process p = start(cmd, e, log);
        String[] lines = awaitReadyFile(ready, p, log);
        return new Server(p, lines[0], Long.parseLong(lines[1]), log);
    }

    /** Waits for {@code HOST:PORT\nPID\n} in {@code ready}; fails early if {@code p} dies. */
    public static String[] awaitReadyFile(Path ready, Process p, Path log) {
        String[][] found = new String[1][];
        Poll.until(START_TIMEOUT, "server ready file " + ready, () -> {
            if (!p.isAlive()) {
                String text;
                try {
                    text = Files.readString(log);
                } catch (IOException e) {
                    text = e.toString();
                }
                throw new AssertionError("server exited with " + p.exitValue() + " before it was ready:\n" + text);
            }
            try {
                if (!Files.exists(ready)) {
                    return false;
                }
                String text = Files.readString(ready);
                if (!text.endsWith("\n")) {
                    return false;
                }
                String[] l = text.split("\n");
                if (l.length < 2) {
                    return false;
                }
                found[0] = l;
                return true;
            } catch (IOException e) {
                return false;
            }
        });
        return found[0];
    }

    /**
     * Returns as soon as {@code text} is in the growing file {@code log} (only its new bytes are
     * read, so a JVM's class-load log can time a signal to a moment of its start); fails if
     * {@code p} ends first or {@code timeout} passes.
     */
    public static void awaitText(Path log, String text, Process p, Duration timeout) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        StringBuilder seen = new StringBuilder();
        long offset = 0;
        while (seen.indexOf(text) < 0) {
            if (System.nanoTime() >= deadline || !p.isAlive()) {
                throw new AssertionError("no " + text + " in " + log);
            }
            if (Files.exists(log)) {
                try (java.io.RandomAccessFile f = new java.io.RandomAccessFile(log.toFile(), "r")) {
                    byte[] b = new byte[(int) Math.max(0, f.length() - offset)];
                    f.seek(offset);
                    f.readFully(b);
                    offset += b.length;
                    // Keep a line's worth from before, in case the text was cut between two reads.
                    seen.delete(0, Math.max(0, seen.length() - text.length()));
                    seen.append(new String(b, StandardCharsets.ISO_8859_1));
                }
            }
            Thread.sleep(1);
        }
    }

    /** The text of a file a process writes to, "" while it does not exist yet (for polls and failure messages). */
    public static String readOrEmpty(Path file) {
        try {
            return Files.readString(file);
        } catch (IOException e) {
            return "";
        }
    }

    /** Writes a fresh key file (mode 0600, no trailing newline) and returns its path. */
    public static Path keyFile(String key) {
        try {
            Path f = tempDir("orch-key-").resolve("authkey");
            Files.createFile(f, java.nio.file.attribute.PosixFilePermissions.asFileAttribute(
                    java.nio.file.attribute.PosixFilePermissions.fromString("rw-------")));
            Files.writeString(f, key);
            return f;
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }

    /** The first group of {@code regex} in {@code text}, or a failed assertion. */
    public static String find(String regex, String text) {
        Matcher m = Pattern.compile(regex).matcher(text);
        if (!m.find()) {
            throw new AssertionError("no match for /" + regex + "/ in:\n" + text);
        }
        return m.groupCount() > 0 ? m.group(1) : m.group();
    }

    /**
     * A Java client for waiting on a server's state. Polling with {@code orch ps} or {@code orch
     * types} starts a JVM each turn: a core kept busy for as long as the wait lasts, taken from
     * the very processes being waited for.
     */
    public static dev.orch.client.OrchClient client(String address, Path keyFile) {
        return dev.orch.client.OrchClient.connect(clientConfig(address, keyFile));
    }

    public static dev.orch.client.ClientConfig clientConfig(String address, Path keyFile) {
        try {
            return new dev.orch.client.ClientConfig().address(address).authKey(dev.orch.auth.AuthKeys.read(keyFile));
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }

    /** {@code orch ps --all}'s rows, through {@code client}. */
    public static io.vertx.core.json.JsonArray psRows(dev.orch.client.OrchClient client) {
        io.vertx.core.json.JsonObject r = (io.vertx.core.json.JsonObject) client.request(dev.orch.process.ProcessEndpoint.ADDRESS,
                new io.vertx.core.json.JsonObject().put("op", "ps").put("all", true));
        return r.getJsonArray("processes");
    }
}
