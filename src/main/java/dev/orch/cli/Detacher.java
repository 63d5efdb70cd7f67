package dev.orch.cli;

import dev.orch.auth.AuthKeys;
import dev.orch.cli.common.CliException;
import dev.orch.cli.common.ExitCodes;
import dev.orch.client.ClientConfig;
import dev.orch.client.OrchClient;
import dev.orch.server.ServerConfig;
import java.io.File;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code orch server --detach}: starts the same command again in the background, in its own
 * session, and returns once it accepts an authenticated connection: the seed's {@code start()}
 * without its {@code sleep}.
 */
final class Detacher {
    private static final Duration READY_TIMEOUT = Duration.ofSeconds(60);
    private static final String ORCH_PREFIX = "orch: ";
    private final PrintWriter out;
    private final PrintWriter err;
    private final boolean verbose;

    /**
     * @param out where the address, pid and log of the started server are printed
     * @param err where, with {@code verbose}, the output of a server that failed to start is
     *     copied before its log is removed
     */
    Detacher(PrintWriter out, PrintWriter err, boolean verbose) {
        this.out = out;
        this.err = err;
        this.verbose = verbose;
    }

    int detach(ServerConfig config) throws IOException, InterruptedException {
        List<String> cmd = selfCommand();
        Path home = AuthKeys.fromEnvironment().home();
        try {
            AuthKeys.createPrivateDirectories(home);
        } catch (FileAlreadyExistsException e) {
            throw new CliException(ExitCodes.REMOTE_ERROR, "cannot use " + home + " as the orch home: not a directory", e);
        } catch (IOException e) {
            throw cannot("create the orch home " + home, e);
        }
        // With port 0 the port is known only once the server listens: a temporary name until then.
        // So too when a server already listens on the port: server-PORT.log may be that server's,
        // and a start that is bound to fail must neither write into it nor remove it.
        boolean temporary = config.port() == 0 || listening(config.host(), config.port());
        Path log = home.resolve("server-" + config.port() + ".log");
        boolean created;
        long offset;
        try {
            log = temporary ? Files.createTempFile(home, "server-starting-", ".log") : log;
            created = temporary || createNew(log);
            if (!created && !Files.isWritable(log)) {
                throw new AccessDeniedException(log.toString());
            }
            offset = Files.size(log);
        } catch (IOException e) {
            throw cannot("create log file " + (temporary ? "in " + home : log), e);
        }
        Path ready;
        try {
            ready = Files.createTempFile(home, "ready-", ".txt");
            Files.delete(ready);
        } catch (IOException e) {
            throw cannot("create a file in " + home, e);
        }
        if (new File("/usr/bin/setsid").canExecute()) {
            cmd.add(0, "/usr/bin/setsid");
        }
        ProcessBuilder pb = new ProcessBuilder(cmd)
                .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
                .redirectErrorStream(true);
        pb.environment().put(ServerCommand.ENV_READY_FILE, ready.toString());
        if (config.authKeyFile() != null) {
            // The key may have just been generated: hand the child the very same file.
            pb.environment().put(AuthKeys.ENV_KEY_FILE, config.authKeyFile().toString());
        }
        Process p = pb.start();
        try {
            long deadline = System.nanoTime() + READY_TIMEOUT.toNanos();
            while (System.nanoTime() < deadline) {
                if (!p.isAlive()) {
                    throw failed(p.exitValue(), log, offset, created && (temporary || !listening(config.host(), config.port())));
                }
                if (Files.exists(ready)) {
                    List<String> lines = Files.readAllLines(ready, StandardCharsets.UTF_8);
                    if (lines.size() >= 2) {
                        String address = lines.get(0);
                        if (loginWorks(config, address)) {
                            if (temporary) {
                                log = named(log, home, address);
                            }
                            out.println("orch server listening on " + address + " (pid " + p.pid() + ", log " + log + ")");
                            out.flush();
                            return ExitCodes.OK;
                        }
                    }
                }
                Thread.sleep(50);
            }
        } finally {
            Files.deleteIfExists(ready);
        }
        p.destroy();
        // The log stays: it is all the user has to find out why.
        throw new CliException(ExitCodes.REMOTE_ERROR, "server did not accept connections within "
                + READY_TIMEOUT.toSeconds() + " s; see " + log);
    }

    /** A file the start needs could not be made: what failed and why, as other file errors say it. */
    private static CliException cannot(String what, IOException e) {
        return new CliException(ExitCodes.REMOTE_ERROR, "cannot " + what + ": " + AuthKeys.describe(e), e);
    }

    /**
     * The failure of a server that exited before it listened, from what it wrote to {@code log}
     * after {@code offset}. A log this start created ({@code ours}) is removed once its reason is
     * in the message, so failed starts leave no files behind. A log without the child's
     * {@code orch:} line (a JVM that would not start) holds the only explanation: it is kept
     * and named instead.
     */
    private CliException failed(int exit, Path log, long offset, boolean ours) {
        List<String> lines = linesFrom(log, offset);
        String reason = null;
        String last = null;
        for (String l : lines) {
            if (!l.isBlank()) {
                last = l.trim();
                if (last.startsWith(ORCH_PREFIX)) {
                    // The child's own error line; the error mapper adds the prefix again.
                    reason = last.substring(ORCH_PREFIX.length());
                }
            }
        }
        if (!ours || (reason == null && last != null)) {
            String why = reason != null ? reason : last != null ? last + " (see " + log + ")" : "it exited with code " + exit;
            return new CliException(ExitCodes.REMOTE_ERROR, "server did not start: " + why);
        }
        if (verbose) {
            // The stack trace -v asked for is in the log about to go.
            for (String l : lines) {
                if (!l.isBlank() && !l.trim().startsWith(ORCH_PREFIX)) {
                    err.println(l);
                }
            }
            err.flush();
        }
        try {
            Files.deleteIfExists(log);
        } catch (IOException e) {
            // Left behind; the reason is reported all the same.
        }
        return new CliException(ExitCodes.REMOTE_ERROR, "server did not start: "
                + (reason != null ? reason : "it exited with code " + exit + " and no output"));
    }

    private static List<String> linesFrom(Path log, long offset) {
        try (java.io.RandomAccessFile f = new java.io.RandomAccessFile(log.toFile(), "r")) {
            long n = Math.max(0, f.length() - offset);
            byte[] b = new byte[(int) Math.min(n, 1 << 20)];
            f.seek(f.length() - b.length);
            f.readFully(b);
            return new String(b, StandardCharsets.UTF_8).lines().toList();
        } catch (IOException e) {
            return List.of();
        }
    }

    /** Creates {@code f}; false if it already exists (a log of an earlier server on that port). */
    private static boolean createNew(Path f) throws IOException {
        try {
            // Private, as the logs of port 0 (temporary files) are: a log tells what ran and why.
            Files.createFile(f, java.nio.file.attribute.PosixFilePermissions.asFileAttribute(
                    java.nio.file.attribute.PosixFilePermissions.fromString("rw-------")));
            return true;
        } catch (java.nio.file.FileAlreadyExistsException e) {
            return false;
        }
    }

    /** True if something accepts connections on HOST:PORT (the loopback for a wildcard host). */
    private static boolean listening(String host, int port) {
        try (java.net.Socket s = new java.net.Socket()) {
            java.net.InetAddress a = java.net.InetAddress.getByName(host);
            s.connect(new java.net.InetSocketAddress(a.isAnyLocalAddress() ? java.net.InetAddress.getLoopbackAddress() : a, port), 1000);
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    /** Renames a temporary log after the port the server got; the server keeps writing to it. */
    private static Path named(Path log, Path home, String address) {
        Path target = home.resolve("server-" + address.substring(address.lastIndexOf(':') + 1) + ".log");
        try {
            return Files.exists(target) ? log : Files.move(log, target);
        } catch (IOException e) {
            return log;
        }
    }

    private static boolean loginWorks(ServerConfig config, String address) {
        ClientConfig cc = new ClientConfig().address(address).authKey(config.authKey()).name("orch-detach")
                .connectTimeout(Duration.ofSeconds(2)).callTimeout(Duration.ofSeconds(5));
        if (config.tlsCert() != null) {
            cc.tls(true, config.tlsCert());
        }
        try (OrchClient c = OrchClient.connect(cc)) {
            // The smallest answer the manager gives: a server with the smallest --max-frame
            // (1024) cannot send the type list.
            c.status();
            return true;
        } catch (RuntimeException e) {
            return false;
        }
    }

    /** This process's own command line, without {@code --detach}. */
    private static List<String> selfCommand() {
        ProcessHandle.Info info = ProcessHandle.current().info();
        String exe = info.command().orElseThrow(() -> new CliException(ExitCodes.REMOTE_ERROR,
                "cannot find this program's path to detach"));
        List<String> cmd = new ArrayList<>();
        cmd.add(exe);
        for (String a : info.arguments().orElse(new String[0])) {
            if (!a.equals("--detach")) {
                cmd.add(a);
            }
        }
        return cmd;
    }
}
