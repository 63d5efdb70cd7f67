package dev.orch.cli.common;

import dev.orch.auth.AuthKeys;
import dev.orch.client.ClientConfig;
import dev.orch.client.OrchClient;
import dev.orch.client.OrchEnv;
import java.nio.file.Path;
import java.time.Duration;
import picocli.CommandLine.Option;

/** How a command reaches the server: address, key, TLS and timeout. */
public final class ClientOptions {
    @Option(names = {"-a", "--address"}, paramLabel = "HOST:PORT",
            description = "Server address (default: $ORCH_ADDRESS or 127.0.0.1:55555).")
    String address;

    @Option(names = "--authkey-file", paramLabel = "FILE",
            description = "Auth key file (default: $ORCH_AUTHKEY, $ORCH_AUTHKEY_FILE, then $ORCH_HOME/authkey).")
    Path authKeyFile;

    @Option(names = "--tls", description = "Connect with TLS (default: on when $ORCH_TLS_CA is set, or $ORCH_TLS=1).")
    boolean tls;

    @Option(names = "--tls-ca", paramLabel = "PEM", description = "Trust this certificate (or CA) for TLS; implies --tls (default: $ORCH_TLS_CA).")
    Path tlsCa;

    @Option(names = "--timeout", paramLabel = "SECONDS", defaultValue = "30",
            description = "Give up waiting for the server after this many seconds (default: ${DEFAULT-VALUE}; 0 waits forever).")
    double timeoutSeconds;

    /** The effective address. */
    public String address() {
        return address != null ? address : OrchEnv.address();
    }

    public Duration timeout() {
        // No upper bound: a huge timeout means, as 0 does, wait as long as it takes.
        return Double.isInfinite(timeoutSeconds) || timeoutSeconds > Seconds.MAX
                ? Duration.ZERO : Seconds.of("--timeout", timeoutSeconds, 0);
    }

    /** The client configuration, with the key resolved; throws on a bad address or missing key. */
    public ClientConfig config(String clientName) throws AuthKeys.KeyException {
        ClientConfig c = new ClientConfig();
        try {
            c.address(address());
        } catch (IllegalArgumentException e) {
            throw CliException.usage(e.getMessage());
        }
        try {
            c.directMode();
        } catch (IllegalArgumentException e) {
            throw CliException.usage(e.getMessage());
        }
        // A bad option, checked before connecting (exit 2), like a bad --authkey-file.
        OptionFiles.requireReadable("--tls-ca", tlsCa);
        if (tls || tlsCa != null) {
            c.tls(true, tlsCa);
        } else {
            try {
                c.tls();  // ORCH_TLS_CA / ORCH_TLS decide; a malformed one is the user's to fix
            } catch (IllegalArgumentException e) {
                throw CliException.usage(e.getMessage());
            }
        }
        Duration t = timeout();
        return c.authKey(key().key())
                .name(clientName)
                .callTimeout(t)
                .connectTimeout(t.isZero() || t.compareTo(Duration.ofSeconds(10)) > 0 ? Duration.ofSeconds(10) : t);
    }

    /**
     * The resolved key and the file it came from (null when it came from {@code ORCH_AUTHKEY}).
     * An {@code --authkey-file} that cannot be read is a usage error (exit 2), as any file an
     * option names; a key the environment points at that cannot be read throws KeyException
     * (exit 3: this client cannot log in).
     */
    public AuthKeys.Resolved key() throws AuthKeys.KeyException {
        try {
            return AuthKeys.fromEnvironment().forClient(authKeyFile);
        } catch (AuthKeys.KeyException e) {
            if (authKeyFile != null) {
                throw CliException.usage(e.getMessage());
            }
            throw e;
        }
    }

    /** Uses {@code a} (an address given as an argument) instead of {@code --address} and the default. */
    public void useAddress(String a) {
        address = a;
    }

    /** Connects and logs in on the application's Vert.x. */
    public OrchClient connect(String clientName) throws AuthKeys.KeyException {
        return OrchClient.connect(config(clientName));
    }
}
