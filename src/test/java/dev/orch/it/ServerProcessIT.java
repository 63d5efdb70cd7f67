package dev.orch.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.orch.testing.Poll;
import dev.orch.testing.RawClient;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/** {@code orch server} as a process: detaching, signals, key files and start-up errors. */
class ServerProcessIT {
    static final Duration BOUND = Duration.ofSeconds(30);

    @AfterAll
    static void cleanup() {
        Procs.killAll();
    }

    static Path home() {
        return Procs.tempDir("orch-home-");
    }

    static void assertOneLineError(String fragment, Procs.Result r) {
        List<String> orch = r.errLines().stream().filter(l -> l.startsWith("orch: ")).toList();
        assertEquals(1, orch.size(), r::toString);
        assertTrue(orch.get(0).contains(fragment), () -> "'" + fragment + "' expected: " + r);
        assertFalse(r.errLines().stream().anyMatch(l -> l.trim().startsWith("at ") || l.contains("Exception")), r::toString);
    }

    @Test
    void detachReturnsOnceLoginsWorkWithAGeneratedKey() throws Exception {
        Path home = home();
        Map<String, String> env = Map.of("ORCH_HOME", home.toString());

        Procs.Result detached = Procs.orch(env, "server", "--listen", "127.0.0.1:0", "--detach");
        assertEquals(0, detached.exit, detached::toString);
        String address = Procs.find("listening on (127\\.0\\.0\\.1:\\d+)", detached.out);
        long pid = Long.parseLong(Procs.find("\\(pid (\\d+)", detached.out));
        Procs.track(pid);
        assertNotEquals(ProcessHandle.current().pid(), pid);
        assertTrue(ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false), "detached server is running");
        // Its log is named after the port it got, not the 0 it was given, and says it listens.
        Path log = home.resolve("server-" + address.substring(address.lastIndexOf(':') + 1) + ".log");
        assertTrue(detached.out.contains("log " + log), detached::toString);
        assertTrue(Files.isRegularFile(log), log::toString);
        assertFalse(Files.exists(home.resolve("server-0.log")));

        // Immediately usable, with the key from the same ORCH_HOME and no --authkey-file.
        Procs.Result health = Procs.orch(env, "health", "--address", address);
        assertEquals(0, health.exit, health::toString);
        assertTrue(health.out.startsWith("ok"), health::toString);
        assertEquals(0, Procs.orch(env, "new", "Value", "v", "42", "--address", address).exit);
        Procs.Result v = Procs.orch(env, "call", "v", "get", "--address", address);
        assertEquals(0, v.exit, v::toString);
        assertEquals("42", v.out.trim());

        // The key the server generated: $ORCH_HOME/authkey, owner-only.
        Path key = home.resolve("authkey");
        assertTrue(Files.isRegularFile(key), "key file created");
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(key)));
        assertTrue(Files.size(key) >= 32, "a real key");

        // Without the key (another, empty home): cannot authenticate.
        Procs.Result noKey = Procs.orch(Map.of("ORCH_HOME", home().toString()), "health", "--address", address);
        assertEquals(3, noKey.exit, noKey::toString);
        assertOneLineError("no auth key", noKey);

        // A second server on the same port fails, saying why, and the first keeps running, its log
        // untouched: the failed start neither writes into it nor leaves a log of its own.
        String logBefore = Files.readString(log);
        List<Path> filesBefore = files(home);
        Procs.Result second = Procs.orch(env, "server", "--listen", address, "--detach");
        assertNotEquals(0, second.exit, second::toString);
        assertOneLineError("address already in use", second);
        assertTrue(second.err.contains(address), second::toString);
        assertEquals(0, Procs.orch(env, "health", "--address", address).exit);
        assertEquals(logBefore, Files.readString(log), "the running server's log");
        assertEquals(filesBefore, files(home));

        // SIGTERM stops it.
        ProcessHandle h = ProcessHandle.of(pid).orElseThrow();
        assertTrue(h.destroy(), "SIGTERM sent");
        h.onExit().get(BOUND.toSeconds(), TimeUnit.SECONDS);
        assertFalse(h.isAlive());
        Procs.Result down = Procs.orch(env, "health", "--address", address, "--timeout", "5");
        assertEquals(3, down.exit, down::toString);
        assertTrue(Files.readString(log).contains("stopped"), "orderly stop logged");
    }

    @Test
    void detachWorksWithTheSmallestMaxFrame() throws Exception {
        Map<String, String> env = Map.of("ORCH_HOME", home().toString());
        Procs.Result detached = Procs.orch(env, "server", "--listen", "127.0.0.1:0", "--max-frame", "1024", "--detach");
        assertEquals(0, detached.exit, detached::toString);
        long pid = Long.parseLong(Procs.find("\\(pid (\\d+)", detached.out));
        Procs.track(pid);
        String address = Procs.find("listening on (127\\.0\\.0\\.1:\\d+)", detached.out);
        assertEquals(0, Procs.orch(env, "health", "--address", address).exit);
        ProcessHandle h = ProcessHandle.of(pid).orElseThrow();
        h.destroy();
        h.onExit().get(BOUND.toSeconds(), TimeUnit.SECONDS);
    }

    @Test
    void aFailedDetachSaysWhyAndLeavesNoLogBehind() throws Exception {
        Path home = home();
        Map<String, String> env = Map.of("ORCH_HOME", home.toString());
        // Something else (not an orch server, so without a log in ORCH_HOME) holds this port.
        try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"))) {
            String busy = "127.0.0.1:" + taken.getLocalPort();
            String[][] cases = {
                {"--listen", "127.0.0.1:0", "--object", "x=NoSuchType", "unknown typeid 'NoSuchType'"},
                {"--listen", "127.0.0.1:0", "--object", "x=Value:[1,2,3,4]", "TypeError"},
                {"--listen", "nohost.invalid:0", "nohost.invalid"},
                {"--listen", "nohost.invalid:" + taken.getLocalPort(), "nohost.invalid"},
                {"--listen", busy, "address already in use"},
            };
            for (String[] c : cases) {
                List<String> args = new ArrayList<>(List.of("server", "--detach"));
                args.addAll(List.of(c).subList(0, c.length - 1));
                Procs.Result r = Procs.orch(env, args.toArray(String[]::new));
                assertEquals(1, r.exit, r::toString);
                assertOneLineError("server did not start: cannot start server on ", r);
                assertTrue(r.err.contains(c[c.length - 1]), r::toString);
                assertEquals(List.of(home.resolve("authkey")), files(home), () -> "left behind by " + r);
            }
        }
        // With -v the detail (the child's stack trace) is shown before its log goes.
        Procs.Result v = Procs.orch(env, "server", "--detach", "-v", "--listen", "127.0.0.1:0", "--object", "x=NoSuchType");
        assertEquals(1, v.exit, v::toString);
        assertTrue(v.err.contains("Caused by: java.lang.IllegalArgumentException: --object x: NotFound"), v::toString);
        assertTrue(v.errLines().contains("orch: server did not start: cannot start server on 127.0.0.1:0: --object x: "
                + "NotFound: unknown typeid 'NoSuchType'"), v::toString);
        assertEquals(List.of(home.resolve("authkey")), files(home), v::toString);
    }

    /** The files in {@code dir}, sorted. */
    static List<Path> files(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.sorted().toList();
        }
    }

    @Test
    void foregroundServerExits0OnSigterm() throws Exception {
        Path home = home();
        Procs.Server s = Procs.server(Map.of("ORCH_HOME", home.toString()));
        Procs.Result health = Procs.orch(Map.of("ORCH_HOME", home.toString()), "health", "--address", s.address);
        assertEquals(0, health.exit, health::toString);
        s.process.destroy();
        assertTrue(s.process.waitFor(BOUND.toSeconds(), TimeUnit.SECONDS), s::log);
        assertEquals(0, s.process.exitValue(), s::log);
        assertFalse(s.log().contains("can be read by every user"), "the generated key is private: " + s.log());
    }

    @Test
    void aKeyFileEveryUserCanReadIsWarnedAbout() throws Exception {
        Path home = home();
        Path key = home.resolve("shared-key");
        Files.writeString(key, "open-secret");
        Files.setPosixFilePermissions(key, java.nio.file.attribute.PosixFilePermissions.fromString("rw-r--r--"));
        Procs.Server s = Procs.server(Map.of("ORCH_HOME", home.toString()), "--authkey-file", key.toString());
        Procs.Result health = Procs.orch(Map.of("ORCH_HOME", home.toString()), "health", "--address", s.address,
                "--authkey-file", key.toString());
        assertEquals(0, health.exit, health::toString);
        s.process.destroy();
        assertTrue(s.process.waitFor(BOUND.toSeconds(), TimeUnit.SECONDS), s::log);
        assertTrue(s.log().contains("auth key file " + key + " can be read by every user of this machine (rw-r--r--)"), s::log);
    }

    @Test
    void aSmallHeapGivenInOrchJavaOptsReplacesTheLaunchersHeapSizes() throws Exception {
        // The launcher's -Xms64m would make the JVM refuse -Xmx48m if both were passed.
        assertServerAnswersWithJavaOpts("-Xmx48m");
    }

    @Test
    void aCollectorGivenInOrchJavaOptsReplacesTheLaunchersCollector() throws Exception {
        // The launcher's -XX:+UseSerialGC beside another collector would stop the JVM.
        assertServerAnswersWithJavaOpts("-XX:+UseG1GC");
        assertServerAnswersWithJavaOpts("-XX:+UseParallelGC");
    }

    private static void assertServerAnswersWithJavaOpts(String javaOpts) throws Exception {
        Procs.assumeJvmLauncher();
        Map<String, String> env = Map.of("ORCH_HOME", home().toString(), "ORCH_JAVA_OPTS", javaOpts);
        Procs.Server s = Procs.server(env);
        Procs.Result health = Procs.orch(env, "health", "--address", s.address);
        assertEquals(0, health.exit, health::toString);
        s.process.destroy();
        assertTrue(s.process.waitFor(BOUND.toSeconds(), TimeUnit.SECONDS), s::log);
    }

    @Test
    void orchAuthkeyEnvironmentWorksForBothSides() throws Exception {
        Path serverHome = home();
        Procs.Server s = Procs.server(Map.of("ORCH_HOME", serverHome.toString(), "ORCH_AUTHKEY", "env-secret-1"));
        assertFalse(Files.exists(serverHome.resolve("authkey")), "no key file generated when ORCH_AUTHKEY is set");

        Path clientHome = home();
        Procs.Result ok = Procs.orch(Map.of("ORCH_HOME", clientHome.toString(), "ORCH_AUTHKEY", "env-secret-1"),
                "health", "--address", s.address);
        assertEquals(0, ok.exit, ok::toString);

        Procs.Result wrong = Procs.orch(Map.of("ORCH_HOME", clientHome.toString(), "ORCH_AUTHKEY", "env-secret-2"),
                "health", "--address", s.address);
        assertEquals(3, wrong.exit, wrong::toString);
        assertOneLineError("auth key", wrong);
        // An operator sees refused logins (a key guessed at, a client with an old key).
        dev.orch.testing.Poll.until(BOUND, "a warning of the refused login",
                () -> s.log().contains("WARN") && s.log().contains("refused a login from"));

        // ORCH_ADDRESS is the default for --address.
        Procs.Result byEnv = Procs.orch(Map.of("ORCH_HOME", clientHome.toString(), "ORCH_AUTHKEY", "env-secret-1",
                "ORCH_ADDRESS", s.address), "types");
        assertEquals(0, byEnv.exit, byEnv::toString);
        assertTrue(byEnv.out.contains("dict"), byEnv::toString);

        // Spawned children reach the server through a private key file, never with the key itself
        // (nor with the server's own start-up variables) in their environment.
        Map<String, String> client = Map.of("ORCH_HOME", clientHome.toString(), "ORCH_AUTHKEY", "env-secret-1",
                "ORCH_ADDRESS", s.address);
        Procs.Result spawned = Procs.orch(client, "spawn", "--name", "envcheck", "--", "sh", "-c",
                "echo \"key=${ORCH_AUTHKEY-unset} ready=${ORCH_READY_FILE-unset}\"; test \"$(cat \"$ORCH_AUTHKEY_FILE\")\" = env-secret-1 && echo file-ok");
        assertEquals(0, spawned.exit, spawned::toString);
        String[] out = new String[1];
        dev.orch.testing.Poll.until(BOUND, "the child's output", () -> {
            out[0] = Procs.orch(client, "logs", "envcheck").out;
            return out[0].contains("file-ok");
        });
        assertTrue(out[0].contains("key=unset ready=unset"), out[0]);
    }

    @Test
    void loginTimeoutAndMaxPendingOutputAreSettable() throws Exception {
        Map<String, String> env = Map.of("ORCH_HOME", home().toString(), "ORCH_AUTHKEY", "limits");
        Procs.Server s = Procs.server(env, "--login-timeout", "3", "--max-frame", "65536",
                "--max-pending-output", "65536");
        dev.orch.client.HostPort at = dev.orch.client.HostPort.parse(s.address, 0);
        try (RawClient silent = new RawClient(at.host(), at.port())) {
            // The default, 30 s, would keep it open past this. (3 s leaves the next client time
            // to log in on a busy machine.)
            assertTrue(silent.closedByServerWithin(Duration.ofSeconds(10)), "closed without a login");
        }
        try (RawClient slow = new RawClient(at.host(), at.port())) {
            slow.login("limits".getBytes(java.nio.charset.StandardCharsets.UTF_8));
            JsonObject created = slow.manager(new JsonObject().put("op", "create").put("typeid", "Value")
                    .put("args", new JsonArray().add("v".repeat(60_000))));
            String address = created.getJsonObject("body").getString("address");
            // 24 MB of answers, never read: more than the sockets hold, less than the default
            // limit of 32 MiB, so only the option cuts this client off.
            StringBuilder gets = new StringBuilder();
            for (int i = 0; i < 400; i++) {
                gets.append(new JsonObject().put("type", "send").put("address", address).put("replyAddress", "g" + i)
                        .put("body", new JsonObject().put("method", "get").put("args", new JsonArray())).encode()).append('\n');
            }
            for (String frame : gets.toString().split("\n")) {
                slow.write(frame);
            }
            Poll.until(Duration.ofSeconds(20), "the slow consumer to be cut off", () -> s.log().contains("a slow consumer"));
            assertTrue(s.log().contains("(limit 65536)"), s::log);
        }
        Procs.Result tooSmall = Procs.orch(env, "server", "--listen", "127.0.0.1:0", "--max-pending-output", "1000");
        assertEquals(2, tooSmall.exit, tooSmall::toString);
        assertOneLineError("--max-pending-output", tooSmall);
        Procs.Result badLogin = Procs.orch(env, "server", "--listen", "127.0.0.1:0", "--login-timeout", "0");
        assertEquals(2, badLogin.exit, badLogin::toString);
        assertOneLineError("--login-timeout", badLogin);
        s.process.destroy();
        assertTrue(s.process.waitFor(BOUND.toSeconds(), TimeUnit.SECONDS), s::log);
    }

    @Test
    void badListenValueIsAUsageError() throws Exception {
        Procs.Result r = Procs.orch(Map.of("ORCH_HOME", home().toString()), "server", "--listen", "localhost:notaport");
        assertEquals(2, r.exit, r::toString);
        assertOneLineError("--listen", r);
        assertEquals("", r.out, r::toString);
    }

    @Test
    void tlsCertWithoutKeyIsAUsageError() throws Exception {
        Path cert = Files.createFile(home().resolve("cert.pem"));
        Procs.Result r = Procs.orch(Map.of("ORCH_HOME", home().toString()), "server", "--listen", "127.0.0.1:0",
                "--tls-cert", cert.toString());
        assertEquals(2, r.exit, r::toString);
        assertOneLineError("--tls-key", r);
    }
}
