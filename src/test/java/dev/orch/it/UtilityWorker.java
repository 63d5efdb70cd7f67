package dev.orch.it;

import dev.orch.auth.AuthKeys;
import dev.orch.client.ClientConfig;
import dev.orch.client.OrchClient;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;

/**
 * A worker process for {@link HostingAcrossProcessesIT}: {@code UtilityWorker ADDRESS KEYFILE [CA]}
 * hosts typeid {@code UtilityClass}, prints {@code ready} and runs until stdin closes or the
 * connection to the server closes. With {@code CA} it connects with TLS, trusting that PEM file.
 * Without arguments it connects as the environment says ({@code OrchClient.connect()}), as a
 * worker started by {@code orch spawn} does, and runs until its connection closes.
 */
public final class UtilityWorker {
    private UtilityWorker() {
    }

    /** The hosted class: its public methods are the exposed methods. */
    public static final class Utility {
        /** Python's {@code str.capitalize}: first character upper case, the rest lower case. */
        public String capitalize(String s) {
            if (s.isEmpty()) {
                return s;
            }
            int first = s.codePointAt(0);
            return new String(Character.toChars(Character.toTitleCase(first))) + s.substring(Character.charCount(first)).toLowerCase();
        }

        /** The thread that runs the call: {@code orch-direct-N} for a call that came straight here. */
        public String where() {
            return Thread.currentThread().getName();
        }

        /** Sleeps, so a test can kill this process while a call is in flight. */
        public String nap(int seconds) throws InterruptedException {
            System.out.println("napping on " + Thread.currentThread().getName());
            System.out.flush();
            Thread.sleep(seconds * 1000L);
            return "rested";
        }
    }

    public static void main(String[] args) throws Exception {
        if (args.length == 0) {
            // Started by the server (orch spawn): everything comes from the environment, and
            // stdin is not ours to watch; the worker runs until stopped or the server goes.
            OrchClient client = OrchClient.connect();
            client.host("UtilityClass", Utility::new, Utility.class);
            System.out.println("ready");
            System.out.flush();
            client.closedFuture().join();
            System.exit(0);
        }
        ClientConfig config = new ClientConfig().address(args[0]).authKey(AuthKeys.read(Path.of(args[1])))
                .name("utility-worker");
        if (args.length > 2) {
            config.tls(true, Path.of(args[2]));
        }
        OrchClient client = OrchClient.connect(config);
        client.host("UtilityClass", Utility::new, Utility.class);
        System.out.println("ready");
        System.out.flush();
        CompletableFuture<Void> stdinClosed = CompletableFuture.runAsync(() -> {
            try {
                while (System.in.read() >= 0) {
                    // Keep reading until end of input.
                }
            } catch (java.io.IOException e) {
                // Treat as closed.
            }
        });
        CompletableFuture.anyOf(stdinClosed, client.closedFuture()).join();
        client.close();
        System.exit(0);
    }
}
