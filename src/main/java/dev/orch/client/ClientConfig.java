package dev.orch.client;

import dev.orch.auth.AuthKeys;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;

/** How to reach and authenticate to a server. */
public final class ClientConfig {
    /** The address used when neither the caller nor {@link OrchEnv#ADDRESS} gives one. */
    public static final String DEFAULT_ADDRESS = "127.0.0.1:55555";

    private String host = "127.0.0.1";
    private int port = 55555;
    private byte[] authKey;
    /** Null until set or taken from the environment ({@link OrchEnv#TLS_CA}, {@link OrchEnv#TLS}). */
    private Boolean tls;
    private Path tlsCa;
    private String name = "orch-java";
    private Duration connectTimeout = Duration.ofSeconds(10);
    private Duration callTimeout = Duration.ofSeconds(60);
    private Duration pingInterval = Duration.ofSeconds(30);
    private String direct = System.getenv(DirectMode.ENV);
    private Path directCert = OrchEnv.path(DirectTls.CERT_ENV);
    private Path directKey = OrchEnv.path(DirectTls.KEY_ENV);
    /** Sent at login to a worker: the session this process has at the server. */
    private String loginSession;

    /**
     * A configuration from the environment, resolved as the CLI and the Python client resolve it,
     * so a process orch starts (or {@code orch connect} runs) reaches its server with no options:
     * the address from {@code ORCH_ADDRESS} (else {@value #DEFAULT_ADDRESS}), the key from
     * {@code ORCH_AUTHKEY}, {@code ORCH_AUTHKEY_FILE}, then {@code $ORCH_HOME/authkey}; TLS from
     * {@code ORCH_TLS_CA} and {@code ORCH_TLS} as always.
     *
     * @throws OrchConnectException if there is no usable key (the message says where it looked)
     * @throws IllegalArgumentException if {@code ORCH_ADDRESS} is malformed
     */
    public static ClientConfig fromEnvironment() {
        ClientConfig c = new ClientConfig().address(OrchEnv.address());
        try {
            return c.authKey(AuthKeys.fromEnvironment().forClient(null).key());
        } catch (AuthKeys.KeyException e) {
            throw new OrchConnectException(e.getMessage(), e);
        }
    }

    /** Parses {@code HOST:PORT}, {@code :PORT} or {@code HOST} (default port 55555). */
    public ClientConfig address(String address) {
        HostPort hp = HostPort.parse(address, 55555);
        this.host = hp.host();
        this.port = hp.port();
        return this;
    }

    public ClientConfig host(String host) {
        this.host = host;
        return this;
    }

    public ClientConfig port(int port) {
        this.port = port;
        return this;
    }

    /**
     * The shared secret the server was started with (copied).
     *
     * @throws NullPointerException if {@code key} is null
     * @throws IllegalArgumentException if it is empty, which no server accepts
     */
    public ClientConfig authKey(byte[] key) {
        Objects.requireNonNull(key, "authKey: the key is null");
        if (key.length == 0) {
            throw new IllegalArgumentException("authKey: the key is empty");
        }
        this.authKey = key.clone();
        return this;
    }

    /**
     * Use TLS; {@code ca} is the PEM file of the certificate (or its CA) to trust, or null for the
     * JVM's defaults. Without this call the environment decides: TLS trusting {@code ORCH_TLS_CA}
     * when it is set, TLS with the JVM's defaults when {@code ORCH_TLS=1}, else plain TCP.
     */
    public ClientConfig tls(boolean tls, Path ca) {
        this.tls = tls;
        this.tlsCa = ca;
        return this;
    }

    /** Informative client name sent at login. */
    public ClientConfig name(String name) {
        this.name = name;
        return this;
    }

    /**
     * How long connecting may take, TCP connect, TLS handshake and login together (default 10 s).
     *
     * @throws IllegalArgumentException if {@code d} is null, zero or negative: a connect must end
     */
    public ClientConfig connectTimeout(Duration d) {
        if (d == null || d.isZero() || d.isNegative()) {
            throw new IllegalArgumentException("connectTimeout must be positive, not " + d);
        }
        this.connectTimeout = d;
        return this;
    }

    /**
     * Timeout of the blocking calls, writing the request included; zero waits forever. A call the
     * server may hold parked (a queue's {@code get}) is then withdrawn, and its caller waits for
     * the server to confirm it, so that a call reported as timed out took nothing; a server that
     * answers nothing within a second more is taken to be gone and the connection is closed. Once
     * the server has answered the cancel, the call's own answer is waited for however long it
     * takes: a withdrawn {@code Condition.wait} ends only when it holds its lock again.
     * Durations too long to count in nanoseconds wait forever. Default 60 s.
     *
     * @throws IllegalArgumentException if {@code d} is null or negative
     */
    public ClientConfig callTimeout(Duration d) {
        this.callTimeout = notNegative("callTimeout", d);
        return this;
    }

    /**
     * How often to send a keep-alive {@code ping} (default 30 s; zero sends none); shortened to a
     * third of the server's idle timeout when its login reply gives a shorter one.
     *
     * @throws IllegalArgumentException if {@code d} is null or negative
     */
    public ClientConfig pingInterval(Duration d) {
        this.pingInterval = notNegative("pingInterval", d);
        return this;
    }

    private static Duration notNegative(String setter, Duration d) {
        if (d == null || d.isNegative()) {
            throw new IllegalArgumentException(setter + " must be zero or positive, not " + d);
        }
        return d;
    }

    /**
     * Direct calls to hosting workers: {@code on}, {@code off} or {@code HOST:PORT} (see
     * {@link DirectMode}); the default comes from {@code ORCH_DIRECT}. Checked when connecting.
     */
    public ClientConfig direct(String setting) {
        this.direct = setting;
        return this;
    }

    /** The parsed {@link #direct(String)} setting; throws {@link IllegalArgumentException} if it is malformed. */
    public DirectMode directMode() {
        return DirectMode.parse(direct);
    }

    /**
     * The certificate and key (PEM files) this process presents when it takes direct calls: with
     * them its direct port speaks TLS only; without them a process connected to the server over
     * TLS offers no direct calls. The defaults come from {@code ORCH_DIRECT_CERT} and
     * {@code ORCH_DIRECT_KEY}. Checked when this process first hosts a type.
     */
    public ClientConfig directTls(Path cert, Path key) {
        this.directCert = cert;
        this.directKey = key;
        return this;
    }

    Path directCert() {
        return directCert;
    }

    Path directKey() {
        return directKey;
    }

    ClientConfig loginSession(String session) {
        this.loginSession = session;
        return this;
    }

    String loginSession() {
        return loginSession;
    }

    /** A copy to reach another peer with the same key and timeouts. */
    ClientConfig copy() {
        ClientConfig c = new ClientConfig();
        c.host = host;
        c.port = port;
        c.authKey = authKey;
        c.tls = tls;
        c.tlsCa = tlsCa;
        c.name = name;
        c.connectTimeout = connectTimeout;
        c.callTimeout = callTimeout;
        c.pingInterval = pingInterval;
        c.direct = direct;
        c.directCert = directCert;
        c.directKey = directKey;
        c.loginSession = loginSession;
        return c;
    }

    public String host() {
        return host;
    }

    public int port() {
        return port;
    }

    public byte[] authKey() {
        return authKey;
    }

    /** Whether to use TLS; throws {@link IllegalArgumentException} if {@code ORCH_TLS} decides and is malformed. */
    public boolean tls() {
        if (tls == null) {
            Path ca = OrchEnv.path(OrchEnv.TLS_CA);
            boolean flag = OrchEnv.tlsFlag(System.getenv(OrchEnv.TLS));
            tlsCa = ca;
            tls = ca != null || flag;
        }
        return tls;
    }

    public Path tlsCa() {
        tls();
        return tlsCa;
    }

    public String name() {
        return name;
    }

    public Duration connectTimeout() {
        return connectTimeout;
    }

    public Duration callTimeout() {
        return callTimeout;
    }

    public Duration pingInterval() {
        return pingInterval;
    }

    public String address() {
        // An IPv6 host in brackets, so the address reads back as what it is ([::1]:55555).
        return HostPort.format(host, port);
    }
}
