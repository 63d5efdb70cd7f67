package dev.orch.cli;

import dev.orch.cli.common.CliException;
import dev.orch.cli.common.ExitCodes;
import dev.orch.client.ClientConfig;
import dev.orch.client.OrchClient;
import dev.orch.server.ServerConfig;
import java.io.File;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
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
    private final PrintWriter out;

    Detacher(PrintWriter out) {
        this.out = out;
    }

    int detach(ServerConfig config) throws IOException, InterruptedException {
        List<String> cmd = selfCommand();
        Path home = dev.orch.auth.AuthKeys.fromEnvironment().home();
        Files.createDirectories(home);
        // With port 0 the port is known only once the server listens: a temporary name until then.
        Path log = config.port() == 0 ? Files.createTempFile(home, "server-starting-", ".log")
                : home.resolve("server-" + config.port() + ".log");
        Path ready = Files.createTempFile(home, "ready-", ".txt");
        Files.delete(ready);
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
            pb.environment().put(dev.orch.auth.AuthKeys.ENV_KEY_FILE, config.authKeyFile().toString());
        }
        Process p = pb.start();
        long deadline = System.nanoTime() + READY_TIMEOUT.toNanos();
        while (System.nanoTime() < deadline) {
            if (!p.isAlive()) {
                throw new CliException(ExitCodes.REMOTE_ERROR, "server did not start: " + lastLine(log));
            }
            if (Files.exists(ready)) {
                List<String> lines = Files.readAllLines(ready, StandardCharsets.UTF_8);
                if (lines.size() >= 2) {
                    String address = lines.get(0);
                    if (loginWorks(config, address)) {
                        Files.deleteIfExists(ready);
                        if (config.port() == 0) {
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
        p.destroy();
        throw new CliException(ExitCodes.REMOTE_ERROR, "server did not accept connections within "
                + READY_TIMEOUT.toSeconds() + " s; see " + log);
    }

    /** Renames the log of a server started on port 0 after the port it got; the server keeps writing to it. */
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
            c.types();
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

    private static String lastLine(Path log) {
        try {
            List<String> lines = Files.readAllLines(log, StandardCharsets.UTF_8);
            for (int i = lines.size() - 1; i >= 0; i--) {
                if (!lines.get(i).isBlank()) {
                    // The child's own "orch: …" line; the error mapper adds the prefix again.
                    String l = lines.get(i).trim();
                    return l.startsWith("orch: ") ? l.substring("orch: ".length()) : l;
                }
            }
        } catch (IOException e) {
            // Fall through.
        }
        return "no output (see " + log + ")";
    }
}
