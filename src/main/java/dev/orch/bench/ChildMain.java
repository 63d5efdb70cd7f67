package dev.orch.bench;

import dev.orch.client.ClientConfig;
import dev.orch.client.OrchClient;
import dev.orch.protocol.FrameCodec;
import io.vertx.core.Vertx;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.PrintStream;

/** The two roles of {@code orch bench-worker}: a client of {@code --processes}, and the UtilityClass host. */
public final class ChildMain {
    private ChildMain() {
    }

    /** Hosts UtilityClass, prints "ready", and serves until stdin closes. */
    public static void host(Vertx vertx, ClientConfig config, BufferedReader stdin, PrintStream out) throws IOException {
        try (OrchClient c = OrchClient.connect(config.name("orch-bench-worker"))) {
            c.host(Scenario.UTILITY, Utility.EXPOSED, (a, k) -> new Utility());
            out.println("ready");
            out.flush();
            while (stdin.readLine() != null) {
                // Nothing to do: the parent closes stdin to stop us.
            }
        }
    }

    /**
     * Runs one client: "ready" once warmed up, waits for "go", prints "done" when its timed calls
     * are over, then waits for "report" and prints one JSON result line.
     */
    public static void client(Vertx vertx, ClientConfig config, Scenario s, BenchSettings settings,
            BufferedReader stdin, PrintStream out) throws Exception {
        ClientRun.StartGate gate = () -> handshake(stdin, out, "ready", "go");
        ClientRun run = new ClientRun(settings, null);
        ClientResult r;
        if (s == Scenario.TCP_PINGPONG) {
            r = run.pingPong(config.host(), config.port(), gate);
            handshake(stdin, out, "done", "report");
        } else {
            try (OrchClient c = OrchClient.connect(config.name("orch-bench-client"))) {
                r = run.run(s, c, gate);
                handshake(stdin, out, "done", "report");
            }
        }
        out.println(FrameCodec.toJson(r.toJson()));
        out.flush();
    }

    /**
     * Prints {@code say} and waits for the parent's {@code await} line. The parent says "go" to
     * every client at once, and asks for results ("report") only once every client is "done":
     * compressing the histogram, encoding it, closing the connection and the JVM's exit all take
     * CPU that would otherwise slow the clients still being timed (with four client JVMs on two
     * CPUs, a first JSON encoding that set up data binding cost the others a tenth of their rate).
     */
    private static void handshake(BufferedReader stdin, PrintStream out, String say, String await) throws IOException {
        out.println(say);
        out.flush();
        String l;
        while ((l = stdin.readLine()) != null && !l.trim().equals(await)) {
            // Wait for the parent.
        }
        if (l == null) {
            throw new IOException("the bench parent went away");
        }
    }
}
