package dev.orch.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.orch.testing.Poll;
import dev.orch.testing.TestCerts;
import dev.orch.server.OrchServer;
import dev.orch.server.ServerConfig;
import io.quarkus.test.junit.main.LaunchResult;
import io.quarkus.test.junit.main.QuarkusMainLauncher;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The CLI's behaviour as a user sees it: exit codes, stdout, one-line errors on stderr. {@link
 * CliIT} runs these against the built artifact (JVM jar, or the native executable with {@code
 * -Dnative}). The server is in-process in the test JVM: a real socket, reached only through
 * {@code --address} and {@code --authkey-file}.
 *
 * <p>They used to run in-process ({@code @QuarkusMainTest}) as well, which added nothing the
 * artifact's run does not check and cost a minute of every build.
 */
public abstract class CliCases {
    static final Duration BOUND = Duration.ofSeconds(30);
    static final Pattern QUARKUS_LINE = Pattern.compile("^[\\d:.]+ [A-Z]+ +\\[io\\.quarkus\\] ");
    static final Pattern STACK_LINE = Pattern.compile("^\\s+at [\\w$.]+\\(.*\\)$|Exception|^Caused by:");

    static Vertx vertx;
    static OrchServer server;
    static String address;
    static Path keyFile;
    static Path wrongKeyFile;

    @BeforeAll
    static void startServer() throws Exception {
        keyFile = keyFile("cli-test-key-" + System.nanoTime());
        wrongKeyFile = keyFile("not-the-key");
        vertx = Vertx.vertx();
        server = start(vertx, new ServerConfig().host("127.0.0.1").port(0).authKey(dev.orch.auth.AuthKeys.read(keyFile)));
        address = "127.0.0.1:" + server.port();
    }

    @AfterAll
    static void stopServer() throws Exception {
        if (server != null) {
            server.close().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
        }
        if (vertx != null) {
            vertx.close().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
        }
    }

    static OrchServer start(Vertx v, ServerConfig c) throws Exception {
        return OrchServer.start(v, c).toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
    }

    static Path keyFile(String key) throws IOException {
        Path f = Files.createTempFile("orch-cli-key-", ".txt");
        f.toFile().deleteOnExit();
        Files.writeString(f, key, StandardCharsets.UTF_8);
        return f;
    }

    /** {@code orch SUB --address A --authkey-file K REST…}. */
    static String[] at(String addr, Path key, String sub, String... rest) {
        List<String> a = new ArrayList<>(List.of(sub, "--address", addr, "--authkey-file", key.toString()));
        a.addAll(Arrays.asList(rest));
        return a.toArray(String[]::new);
    }

    static LaunchResult orch(QuarkusMainLauncher l, String sub, String... rest) {
        return l.launch(at(address, keyFile, sub, rest));
    }

    static String describe(LaunchResult r) {
        return "exit " + r.exitCode() + "\n--- stdout:\n" + r.getOutput() + "\n--- stderr:\n" + r.getErrorOutput();
    }

    static void assertExit(int code, LaunchResult r) {
        assertEquals(code, r.exitCode(), () -> describe(r));
    }

    /** Exactly one {@code orch: …} line on stderr, containing {@code fragment}; no stack trace. */
    static void assertOneLineError(String fragment, LaunchResult r) {
        List<String> orchLines = r.getErrorStream().stream().filter(s -> s.startsWith("orch: ")).toList();
        assertEquals(1, orchLines.size(), () -> "one 'orch: ' line expected; " + describe(r));
        assertTrue(orchLines.get(0).contains(fragment), () -> "'" + fragment + "' expected; " + describe(r));
        assertNoStackTrace(r);
    }

    /**
     * The non-blank lines on stderr, without Quarkus's own start and stop lines (the jar run by
     * {@link CliIT} logs them; {@code target/orch} turns them off).
     */
    static List<String> errLines(LaunchResult r) {
        return r.getErrorStream().stream().filter(s -> !s.isBlank() && !QUARKUS_LINE.matcher(s).find()).toList();
    }

    static void assertNoStackTrace(LaunchResult r) {
        for (String line : r.getErrorStream()) {
            assertFalse(STACK_LINE.matcher(line).find(), () -> "stack trace without --verbose: " + describe(r));
        }
    }

    static int closedPort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getByName("127.0.0.1"))) {
            return s.getLocalPort();
        }
    }

    // ---- without a server ----

    @Test
    void version(QuarkusMainLauncher l) {
        LaunchResult r = l.launch("--version");
        assertExit(0, r);
        assertTrue(r.getOutput().trim().matches("orch \\d+\\.\\d+\\.\\d+(-SNAPSHOT)?"), () -> describe(r));
        // Every command lists -V: it printed nothing, exit 0, and skipped the command.
        for (String[] args : new String[][] {{"call", "-V", "greeting", "get"}, {"server", "-V"}}) {
            LaunchResult sub = l.launch(args);
            assertExit(0, sub);
            assertEquals(r.getOutput(), sub.getOutput(), () -> String.join(" ", args) + ": " + describe(sub));
        }
    }

    @Test
    void helpListsEverySubcommand(QuarkusMainLauncher l) {
        LaunchResult r = l.launch("--help");
        assertExit(0, r);
        for (String sub : List.of("server", "new", "call", "types", "objects", "delete", "shutdown", "health", "help")) {
            assertTrue(Pattern.compile("(?m)^\\s+" + sub + "\\s").matcher(r.getOutput()).find(),
                    () -> sub + " missing from --help: " + describe(r));
        }
        // The list shows the first line of each description: a sentence of its own ('connect'
        // was cut at a semicolon).
        String list = r.getOutput().substring(r.getOutput().indexOf("Commands:"));
        for (String entry : list.split("\\R(?=  \\S)")) {
            if (!entry.startsWith("Commands:")) {
                assertTrue(entry.strip().endsWith("."), () -> "not a sentence in --help: '" + entry.strip() + "'; " + describe(r));
            }
        }
        // 'orch help' prints the same, 'orch help call' the usage of 'call' (as 'orch call --help').
        LaunchResult help = l.launch("help");
        assertExit(0, help);
        assertEquals(r.getOutput(), help.getOutput(), () -> describe(help));
        LaunchResult helpCall = l.launch("help", "call");
        assertExit(0, helpCall);
        assertTrue(helpCall.getOutput().startsWith("Usage: orch call ") && helpCall.getOutput().contains("NAME_OR_ID"),
                () -> describe(helpCall));
    }

    @Test
    void noArgumentsIsAUsageError(QuarkusMainLauncher l) {
        LaunchResult r = l.launch();
        assertExit(2, r);
        assertOneLineError("missing command", r);
    }

    @Test
    void unknownSubcommandIsAUsageError(QuarkusMainLauncher l) {
        LaunchResult r = l.launch("frobnicate");
        assertExit(2, r);
        assertEquals(List.of("orch: unknown command 'frobnicate' (see 'orch --help')"), errLines(r), () -> describe(r));
        // Whatever follows: a command named later was run without its arguments ("Missing
        // required parameters … (see 'orch call --help')").
        for (String[] args : new String[][] {{"frobnicate", "call"}, {"help", "frobnicate"}}) {
            LaunchResult then = l.launch(args);
            assertExit(2, then);
            assertEquals(List.of("orch: unknown command 'frobnicate' (see 'orch --help')"), errLines(then), () -> describe(then));
        }
        LaunchResult option = l.launch("--frobnicate", "call");
        assertExit(2, option);
        assertEquals(List.of("orch: Unknown option: '--frobnicate' (see 'orch --help')"), errLines(option), () -> describe(option));
    }

    @Test
    void usageErrorsAreOneLineNamingTheHelpToRead(QuarkusMainLauncher l) {
        LaunchResult extra = l.launch("ps", "extra", "--address", "127.0.0.1:1");
        assertExit(2, extra);
        assertEquals(List.of("orch: Unmatched argument at index 1: 'extra' (see 'orch ps --help')"), errLines(extra),
                () -> describe(extra));

        LaunchResult missing = l.launch("rm");
        assertExit(2, missing);
        assertEquals(List.of("orch: Missing required parameter: 'ID|NAME' (see 'orch rm --help')"), errLines(missing),
                () -> describe(missing));

        LaunchResult none = l.launch();
        assertEquals(List.of("orch: missing command (see 'orch --help')"), errLines(none), () -> describe(none));
    }

    @Test
    void negativeCountsAreUsageErrorsBeforeConnecting(QuarkusMainLauncher l) throws IOException {
        // Nothing listens there: a command that tried to connect would exit 3.
        String closed = "127.0.0.1:" + closedPort();
        String[][] cases = {
            at(closed, keyFile, "logs", "--tail", "-1", "web"),
            at(closed, keyFile, "spawn", "--max-restarts", "-3", "--", "true"),
            at(closed, keyFile, "stop", "--grace", "-5", "web"),
        };
        for (String[] args : cases) {
            LaunchResult r = l.launch(args);
            assertExit(2, r);
            assertEquals(1, errLines(r).size(), () -> describe(r));
            assertOneLineError(args[5] + " must", r);
        }
    }

    @Test
    void badJsonArgumentsAreUsageErrorsBeforeConnecting(QuarkusMainLauncher l) throws IOException {
        String closed = "127.0.0.1:" + closedPort();
        String[][] cases = {
            at(closed, keyFile, "call", "d", "__setitem__", "k", "{bad"),
            at(closed, keyFile, "new", "dict", "d", "-k", "nokey"),
            // Valid JSON, but no double holds it: it would go out as the string "Infinity".
            at(closed, keyFile, "call", "d", "__setitem__", "k", "1e999"),
        };
        String[] messages = {"not valid JSON: {bad", "keyword argument must be NAME=JSON: nokey", "number out of range: 1e999"};
        for (int i = 0; i < cases.length; i++) {
            LaunchResult r = l.launch(cases[i]);
            assertExit(2, r);
            assertOneLineError(messages[i], r);
        }
    }

    @Test
    void secondsThatAreNotNumbersAreUsageErrorsBeforeConnecting(QuarkusMainLauncher l) throws IOException {
        // NaN passed a "< 0" check and became 0 ms: a heartbeat that marked every worker lost at
        // once, a timeout that waited forever.
        String closed = "127.0.0.1:" + closedPort();
        String[][] cases = {
            {"server", "--listen", closed, "--heartbeat", "NaN"},
            {"server", "--listen", closed, "--grace", "NaN"},
            {"server", "--listen", closed, "--grace", "Infinity"},
            {"server", "--listen", closed, "--heartbeat", "1e10"},
            at(closed, keyFile, "health", "--timeout", "NaN"),
            // Rounded to 0 ms, which waits forever.
            at(address, keyFile, "health", "--timeout", "0.0001"),
            {"server", "--listen", closed, "--grace", "0.0004"},
            at(closed, keyFile, "connect", "--name", "n1", "--grace", "NaN"),
            // stop had its own check, which let these through to "long overflow" (exit 1).
            at(closed, keyFile, "stop", "--grace", "Infinity", "web"),
            at(closed, keyFile, "stop", "--grace", "1e10", "web"),
            at(closed, keyFile, "stop", "--grace", "0.0001", "web"),
            {"server", "--listen", closed, "--idle-timeout", "0.5"},
        };
        for (String[] args : cases) {
            LaunchResult r = l.launch(args);
            assertExit(2, r);
            String option = args[args.length - 2].startsWith("--") ? args[args.length - 2] : args[args.length - 3];
            assertOneLineError(option + " must", r);
        }
    }

    @Test
    void optionsThatCannotWorkAreUsageErrors(QuarkusMainLauncher l) throws IOException {
        String closed = "127.0.0.1:" + closedPort();
        // A server that takes no frame large enough for a login refused every client, unexplained.
        LaunchResult tiny = l.launch("server", "--listen", closed, "--max-frame", "100");
        assertExit(2, tiny);
        assertOneLineError("--max-frame must be at least 1024 bytes", tiny);
        // No connection could ever wait to log in.
        LaunchResult noLogins = l.launch("server", "--listen", closed, "--max-pending-logins", "0");
        assertExit(2, noLogins);
        assertOneLineError("--max-pending-logins must be at least 1", noLogins);
        // A node has no command to label: the labels were dropped without a word.
        LaunchResult label = l.launch(at(closed, keyFile, "connect", "--name", "n1", "--label", "a=b"));
        assertExit(2, label);
        assertOneLineError("--label is for a worker", label);
    }

    @Test
    void serverRefusesATlsKeyOfAnotherCertificate(QuarkusMainLauncher l, @TempDir Path dir) throws Exception {
        // Vert.x listened with such a pair, and every client then failed its handshake.
        TestCerts.Pair a = TestCerts.selfSigned(dir, "a");
        TestCerts.Pair b = TestCerts.selfSigned(dir, "b");
        LaunchResult r = l.launch("server", "--listen", "127.0.0.1:0", "--authkey-file", keyFile.toString(),
                "--tls-cert", a.cert.toString(), "--tls-key", b.key.toString());
        assertExit(1, r);
        assertOneLineError("TLS key " + b.key + " does not belong to certificate " + a.cert, r);
    }

    @Test
    void aTlsMismatchIsNamedWithWhatToDo(QuarkusMainLauncher l, @TempDir Path dir) throws Exception {
        TestCerts.Pair served = TestCerts.selfSigned(dir, "served");
        TestCerts.Pair other = TestCerts.selfSigned(dir, "other");
        OrchServer tls = start(vertx, new ServerConfig().host("127.0.0.1").port(0).authKey(dev.orch.auth.AuthKeys.read(keyFile))
                .tls(served.cert, served.key));
        try {
            String tlsAddress = "127.0.0.1:" + tls.port();
            String[][] cases = {
                at(tlsAddress, keyFile, "health"),
                at(tlsAddress, keyFile, "health", "--tls-ca", other.cert.toString()),
                at(address, keyFile, "health", "--tls-ca", served.cert.toString()),
            };
            String[] messages = {"or one that wants TLS (try --tls", "the server's certificate is not trusted (pass --tls-ca",
                "the server does not speak TLS"};
            for (int i = 0; i < cases.length; i++) {
                LaunchResult r = l.launch(cases[i]);
                assertExit(3, r);
                assertOneLineError(messages[i], r);
            }
            assertExit(0, l.launch(at(tlsAddress, keyFile, "health", "--tls-ca", served.cert.toString())));
        } finally {
            tls.close().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
        }
    }

    @Test
    void badServerAndTlsFileOptionsAreUsageErrorsNamingTheOption(QuarkusMainLauncher l, @TempDir Path tmp) {
        String[][] cases = {
            {"server", "--listen", "127.0.0.1:0", "--authkey-file", keyFile.toString(), "--object", "x=Value:[1"},
            {"server", "--listen", "127.0.0.1:0", "--authkey-file", keyFile.toString(), "--object", "a=dict", "--object", "a=list"},
            {"server", "--listen", "127.0.0.1:0", "--authkey-file", keyFile.toString(), "--tls-cert", tmp.toString(), "--tls-key", tmp.toString()},
            {"server", "--listen", "127.0.0.1:0", "--authkey-file", keyFile.toString(), "--tls-cert", keyFile.toString(),
                "--tls-key", tmp.resolve("missing.pem").toString()},
            at(address, keyFile, "health", "--tls-ca", tmp.resolve("missing.pem").toString()),
        };
        String[] messages = {"--object x=Value:[1: not valid JSON", "--object a=list: the name is given twice",
            "cannot read --tls-cert " + tmp + ": it is a directory", "cannot read --tls-key " + tmp.resolve("missing.pem") + ": no such file",
            "cannot read --tls-ca " + tmp.resolve("missing.pem") + ": no such file"};
        for (int i = 0; i < cases.length; i++) {
            LaunchResult r = l.launch(cases[i]);
            assertExit(2, r);
            assertOneLineError(messages[i], r);
        }
    }

    @Test
    void processNamesThatReadAsReferencesAreUsageErrorsBeforeConnecting(QuarkusMainLauncher l) throws IOException {
        String closed = "127.0.0.1:" + closedPort();
        for (String name : new String[] {"web@n1", "w2", "two\nlines"}) {
            // connect checked them only once connected (400, exit 1), or retried a closed port.
            for (String sub : new String[] {"spawn", "connect"}) {
                LaunchResult r = l.launch(at(closed, keyFile, sub, "--name", name, "--", "true"));
                assertExit(2, r);
                assertEquals(1, errLines(r).size(), () -> describe(r));
                assertOneLineError("invalid --name", r);
            }
        }
        LaunchResult node = l.launch(at(closed, keyFile, "connect", "--name", "n 1"));
        assertExit(2, node);
        assertOneLineError("invalid node --name 'n 1'", node);
    }

    @Test
    void connectChecksItsCommandBeforeConnectingAsAShellWould(QuarkusMainLauncher l) throws IOException {
        // It attached first, then failed with "BadRequest: not an executable file (400)", exit 1.
        String closed = "127.0.0.1:" + closedPort();
        LaunchResult missing = l.launch(at(closed, keyFile, "connect", "--", "/nonexistent/x"));
        assertExit(127, missing);
        assertEquals(List.of("orch: no such file: /nonexistent/x"), errLines(missing), () -> describe(missing));
        LaunchResult unknown = l.launch(at(closed, keyFile, "connect", "--", "no-such-command-" + System.nanoTime()));
        assertExit(127, unknown);
        assertOneLineError("command not found: no-such-command-", unknown);
        LaunchResult notExecutable = l.launch(at(closed, keyFile, "connect", "--", keyFile.toString()));
        assertExit(126, notExecutable);
        assertOneLineError("not an executable file: " + keyFile, notExecutable);
        // A script whose interpreter is missing: the exec failed in setpriv, which said so.
        java.nio.file.Path script = java.nio.file.Files.createTempFile("orch-bad-interp", ".sh");
        try {
            java.nio.file.Files.writeString(script, "#!/nonexistent/interp -x\necho hi\n");
            script.toFile().setExecutable(true);
            LaunchResult badInterp = l.launch(at(closed, keyFile, "connect", "--", script.toString()));
            assertExit(126, badInterp);
            assertOneLineError(script + ": /nonexistent/interp: bad interpreter: no such file", badInterp);
        } finally {
            java.nio.file.Files.deleteIfExists(script);
        }
    }

    @Test
    void serverWithAMissingKeyFileIsABadOption(QuarkusMainLauncher l) {
        LaunchResult r = l.launch("server", "--listen", "127.0.0.1:0", "--authkey-file", "/nonexistent/orch-key");
        assertExit(2, r);
        assertOneLineError("cannot read --authkey-file /nonexistent/orch-key: no such file", r);
    }

    @Test
    void aMissingKeyFileIsABadOptionNamedInWords(QuarkusMainLauncher l, @TempDir Path tmp) throws IOException {
        // Files named by options are usage errors (exit 2), as --tls-ca's is; it was exit 3.
        LaunchResult r = l.launch(at(address, Path.of("/nonexistent/orch-key"), "health"));
        assertExit(2, r);
        assertEquals(List.of("orch: cannot read --authkey-file /nonexistent/orch-key: no such file"), errLines(r), () -> describe(r));
        Path empty = Files.createFile(tmp.resolve("empty"));
        LaunchResult e = l.launch(at(address, empty, "health"));
        assertExit(2, e);
        assertOneLineError("--authkey-file " + empty + " is empty", e);
    }

    @Test
    void anUnknownHostIsNamed(QuarkusMainLauncher l) {
        // .invalid never resolves (RFC 2606).
        LaunchResult r = l.launch(at("nohost.invalid:55555", keyFile, "health", "--timeout", "10"));
        assertExit(3, r);
        assertEquals(List.of("orch: cannot connect to nohost.invalid:55555: unknown host nohost.invalid"), errLines(r),
                () -> describe(r));
    }

    @Test
    void badOptionValueIsOneLineWithoutStackTrace(QuarkusMainLauncher l) {
        LaunchResult r = l.launch("call", "d", "get", "--timeout", "soon");
        assertExit(2, r);
        assertOneLineError("--timeout", r);

        LaunchResult o = l.launch("objects", "-o", "xml");
        assertExit(2, o);
        assertOneLineError("xml", o);

        LaunchResult e = l.launch("server", "--listen", "127.0.0.1:0", "--event-loops", "0");
        assertExit(2, e);
        assertOneLineError("--event-loops", e);
    }

    @Test
    void nothingListeningExits3(QuarkusMainLauncher l) throws IOException {
        LaunchResult r = l.launch(at("127.0.0.1:" + closedPort(), keyFile, "call", "d1", "get", "--timeout", "10"));
        assertExit(3, r);
        assertOneLineError("cannot connect", r);
    }

    @Test
    void verboseShowsAStackTrace(QuarkusMainLauncher l) throws IOException {
        String addr = "127.0.0.1:" + closedPort();
        LaunchResult r = l.launch(at(addr, keyFile, "call", "d1", "get", "--verbose"));
        assertExit(3, r);
        assertTrue(r.getErrorStream().stream().anyMatch(s -> s.matches("^\\s+at [\\w$.]+\\(.*\\)$")), () -> describe(r));
        assertTrue(r.getErrorOutput().contains("OrchConnectException"), () -> describe(r));

        // -v also works before the subcommand.
        LaunchResult before = l.launch(new String[] {"-v", "health", "--address", addr, "--authkey-file", keyFile.toString()});
        assertExit(3, before);
        assertTrue(before.getErrorStream().stream().anyMatch(s -> s.matches("^\\s+at [\\w$.]+\\(.*\\)$")), () -> describe(before));
    }

    // ---- against the shared in-process server ----

    @Test
    void wrongKeyExits3(QuarkusMainLauncher l) {
        LaunchResult r = l.launch(at(address, wrongKeyFile, "health"));
        assertExit(3, r);
        assertOneLineError("auth key", r);
    }

    @Test
    void unknownObjectExits4(QuarkusMainLauncher l) {
        LaunchResult r = orch(l, "call", "no-such-object", "get");
        assertExit(4, r);
        assertOneLineError("NotFound", r);
        // What the message quotes is escaped: it stays one line and sends nothing to the terminal.
        LaunchResult odd = orch(l, "call", "two\nlines\u001b[31m", "get");
        assertExit(4, odd);
        assertOneLineError("no object named or with id 'two\\nlines\\u001b[31m'", odd);
    }

    @Test
    void raisingMethodExits1WithPythonError(QuarkusMainLauncher l) {
        assertExit(0, orch(l, "new", "dict", "raising"));
        LaunchResult r = orch(l, "call", "raising", "__getitem__", "x");
        assertExit(1, r);
        assertOneLineError("KeyError: 'x'", r);
        assertEquals("", r.getOutput().trim(), () -> describe(r));
    }

    @Test
    void anErrorWithoutDetailIsJustItsName(QuarkusMainLauncher l) {
        assertExit(0, orch(l, "new", "Queue", "always-empty"));
        LaunchResult r = orch(l, "call", "always-empty", "get", "-k", "timeout=0.1");
        assertExit(1, r);
        assertEquals(List.of("orch: Empty (500)"), errLines(r), () -> describe(r));
    }

    @Test
    void healthPrintsOk(QuarkusMainLauncher l) {
        LaunchResult r = orch(l, "health");
        assertExit(0, r);
        assertTrue(r.getOutput().startsWith("ok"), () -> describe(r));
    }

    @Test
    void typesListsTheBuiltins(QuarkusMainLauncher l) {
        LaunchResult r = orch(l, "types");
        assertExit(0, r);
        for (String t : List.of("dict", "list", "Value", "Namespace")) {
            assertTrue(Pattern.compile("(?m)^" + t + "\\s+server\\s").matcher(r.getOutput()).find(), () -> t + ": " + describe(r));
        }
        LaunchResult j = orch(l, "types", "-o", "json");
        assertExit(0, j);
        JsonArray types = new JsonArray(j.getOutput().trim());
        assertTrue(types.stream().anyMatch(o -> "Namespace".equals(((JsonObject) o).getString("typeid"))), () -> describe(j));
    }

    @Test
    void tablesKeepWideAndControlCharactersInTheirColumns(QuarkusMainLauncher l) {
        // Each CJK character takes two terminal columns.
        assertExit(0, orch(l, "new", "dict", "表名前"));
        LaunchResult r = orch(l, "objects", "-o", "wide");
        assertExit(0, r);
        List<String> lines = r.getOutputStream();
        int typeColumn = lines.get(0).indexOf("TYPEID");
        String cjk = lines.stream().filter(s -> s.contains("表名前")).findFirst().orElseThrow(() -> new AssertionError(describe(r)));
        assertEquals(typeColumn, cjk.indexOf("dict") + 3, () -> describe(r));
        assertExit(0, orch(l, "delete", "表名前"));

        // A name cannot hold a newline; a command can, and ps shows it escaped on its own row.
        LaunchResult refused = orch(l, "new", "dict", "two\nlines");
        assertExit(1, refused);
        assertOneLineError("invalid object name 'two?lines'", refused);
        LaunchResult spawn = orch(l, "spawn", "--name", "ctl-cmd", "--", "sh", "-c", "sleep 1000\n#tail");
        assertExit(0, spawn);
        String id = spawn.getOutput().trim();
        try {
            LaunchResult ps = orch(l, "ps", "-o", "wide");
            assertExit(0, ps);
            assertTrue(ps.getOutputStream().stream().anyMatch(s -> s.contains("ctl-cmd") && s.endsWith("sh -c sleep 1000\\n#tail")),
                    () -> describe(ps));
            assertTrue(ps.getOutputStream().stream().noneMatch(s -> s.startsWith("#tail")), () -> describe(ps));
        } finally {
            orch(l, "kill", id);
            Poll.until(BOUND, "ctl-cmd ended", () -> orch(l, "rm", id).exitCode() == 0);
        }
    }

    @Test
    void fullSession(QuarkusMainLauncher l) {
        LaunchResult created = orch(l, "new", "dict", "d1");
        assertExit(0, created);
        String id = created.getOutput().trim();
        assertFalse(id.isEmpty(), () -> describe(created));

        assertExit(0, orch(l, "call", "d1", "__setitem__", "k", "5"));

        LaunchResult get = orch(l, "call", "d1", "__getitem__", "k");
        assertExit(0, get);
        assertEquals("5", get.getOutput().trim());

        LaunchResult keys = orch(l, "call", "d1", "keys");
        assertExit(0, keys);
        assertEquals("[\"k\"]", keys.getOutput().trim());

        // By id too.
        LaunchResult byId = orch(l, "call", id, "__len__");
        assertExit(0, byId);
        assertEquals("1", byId.getOutput().trim());

        LaunchResult table = orch(l, "objects");
        assertExit(0, table);
        assertTrue(table.getOutputStream().get(0).matches("ID\\s+NAME\\s+TYPEID\\s+REFS\\s+HOST"), () -> describe(table));
        assertTrue(Pattern.compile("(?m)^" + Pattern.quote(id) + "\\s+d1\\s+dict\\s").matcher(table.getOutput()).find(),
                () -> describe(table));

        // -o before the subcommand, as in "orch -o json objects".
        LaunchResult json = l.launch("-o", "json", "objects", "--address", address, "--authkey-file", keyFile.toString());
        assertExit(0, json);
        JsonArray objects = new JsonArray(json.getOutput().trim());
        assertTrue(objects.stream().map(o -> (JsonObject) o)
                .anyMatch(o -> "d1".equals(o.getString("name")) && "dict".equals(o.getString("typeid")) && id.equals(o.getString("id"))),
                () -> describe(json));

        LaunchResult taken = orch(l, "new", "list", "d1");
        assertExit(1, taken);
        assertOneLineError("NameTaken", taken);

        assertExit(0, orch(l, "delete", "d1"));
        LaunchResult gone = orch(l, "call", "d1", "get");
        assertExit(4, gone);
        assertOneLineError("NotFound", gone);
    }

    @Test
    void deletePrintsEachNameItDeleted(QuarkusMainLauncher l) {
        assertExit(0, orch(l, "new", "dict", "del-a"));
        assertExit(0, orch(l, "new", "list", "del-b"));
        LaunchResult plain = orch(l, "delete", "del-a", "del-b");
        assertExit(0, plain);
        assertEquals(List.of("del-a", "del-b"), plain.getOutputStream(), () -> describe(plain));

        assertExit(0, orch(l, "new", "dict", "del-a"));
        assertExit(0, orch(l, "new", "list", "del-b"));
        LaunchResult json = orch(l, "delete", "-o", "json", "del-a", "del-b");
        assertExit(0, json);
        assertEquals(List.of(new JsonObject().put("name", "del-a").put("deleted", true),
                new JsonObject().put("name", "del-b").put("deleted", true)),
                json.getOutputStream().stream().map(JsonObject::new).toList(), () -> describe(json));

        // A missing name is reported and the names after it are still deleted.
        assertExit(0, orch(l, "new", "dict", "del-c"));
        assertExit(0, orch(l, "new", "dict", "del-d"));
        LaunchResult missing = orch(l, "delete", "-o", "json", "del-c", "del-nosuch", "del-d");
        assertExit(4, missing);
        assertEquals(List.of("{\"name\":\"del-c\",\"deleted\":true}", "{\"name\":\"del-d\",\"deleted\":true}"),
                missing.getOutputStream(), () -> describe(missing));
        assertOneLineError("NotFound", missing);
        assertExit(4, orch(l, "call", "del-d", "keys"));
    }

    @Test
    void processCommandsReportEveryFailureAndExitWithTheFirst(QuarkusMainLauncher l) {
        LaunchResult spawn = orch(l, "spawn", "--name", "multi-live", "--", "sleep", "1000");
        assertExit(0, spawn);
        String id = spawn.getOutput().trim();
        try {
            LaunchResult stop = orch(l, "stop", "--grace", "1", "multi-nosuch1", "multi-nosuch2", "multi-live");
            assertExit(4, stop);
            assertEquals(List.of(id), stop.getOutputStream(), () -> describe(stop));
            assertEquals(List.of("orch: NotFound: no process 'multi-nosuch1' (404)", "orch: NotFound: no process 'multi-nosuch2' (404)"),
                    errLines(stop), () -> describe(stop));
            assertNoStackTrace(stop);

            LaunchResult respawn = orch(l, "restart", "multi-live");
            assertExit(0, respawn);
            // rm of a live process is Busy (exit 1), of an unknown one NotFound (exit 4): whichever comes first decides.
            LaunchResult busyFirst = orch(l, "rm", "multi-live", "multi-nosuch3");
            assertExit(1, busyFirst);
            assertEquals(2, errLines(busyFirst).size(), () -> describe(busyFirst));
            assertTrue(errLines(busyFirst).get(0).startsWith("orch: Busy: process " + id + " is "), () -> describe(busyFirst));
            assertEquals("orch: NotFound: no process 'multi-nosuch3' (404)", errLines(busyFirst).get(1), () -> describe(busyFirst));
            LaunchResult notFoundFirst = orch(l, "rm", "multi-nosuch3", "multi-live");
            assertExit(4, notFoundFirst);
            assertEquals(2, errLines(notFoundFirst).size(), () -> describe(notFoundFirst));
            assertNoStackTrace(notFoundFirst);
        } finally {
            orch(l, "kill", id);
            Poll.until(BOUND, "multi-live ended", () -> orch(l, "rm", id).exitCode() == 0);
        }
    }

    @Test
    void objectCreatedAtServerStart(QuarkusMainLauncher l) throws Exception {
        Vertx v = Vertx.vertx();
        try {
            OrchServer s = start(v, new ServerConfig().host("127.0.0.1").port(0).authKey(dev.orch.auth.AuthKeys.read(keyFile))
                    .object("greeting", "Value", new JsonArray().add("educative")));
            LaunchResult r = l.launch(at("127.0.0.1:" + s.port(), keyFile, "call", "greeting", "get"));
            assertExit(0, r);
            assertEquals("\"educative\"", r.getOutput().trim());
        } finally {
            v.close().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
        }
    }

    @Test
    void shutdownStopsTheServer(QuarkusMainLauncher l) throws Exception {
        Vertx v = Vertx.vertx();
        try {
            OrchServer s = start(v, new ServerConfig().host("127.0.0.1").port(0).authKey(dev.orch.auth.AuthKeys.read(keyFile)));
            LaunchResult r = l.launch(at("127.0.0.1:" + s.port(), keyFile, "shutdown"));
            assertExit(0, r);
            Poll.until(BOUND, "server closed after 'orch shutdown'", () -> s.closeFuture().isComplete());
            assertTrue(s.closeFuture().succeeded());
            LaunchResult after = l.launch(at("127.0.0.1:" + s.port(), keyFile, "health", "--timeout", "5"));
            assertExit(3, after);
        } finally {
            v.close().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
        }
    }
}
