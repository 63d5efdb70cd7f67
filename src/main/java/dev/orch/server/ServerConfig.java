package dev.orch.server;

import dev.orch.protocol.FrameCodec;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/** Settings of one server; a mutable builder-style bean filled by the CLI or by tests. */
public final class ServerConfig {
    private String host = "127.0.0.1";
    private int port = 55555;
    private byte[] authKey;
    private Path authKeyFile;
    private int maxFrame = FrameCodec.DEFAULT_MAX_FRAME;
    private Duration idleTimeout = Duration.ofSeconds(120);
    private Duration loginTimeout = Duration.ofSeconds(30);
    private int maxPendingLogins = DEFAULT_MAX_PENDING_LOGINS;
    /** Default of {@link #maxPendingLogins()}: a few MiB of login frames at most. */
    public static final int DEFAULT_MAX_PENDING_LOGINS = 1024;
    private Duration hostTimeout = Duration.ofSeconds(30);
    private Duration drainTimeout = Duration.ofSeconds(2);
    private Duration stopGrace = Duration.ofSeconds(10);
    private Duration heartbeat = Duration.ofSeconds(2);
    private int eventLoops;
    private int maxInFlight = 4096;
    private int maxRegistrations = 65536;
    private long maxPendingOutput;
    private Path tlsCert;
    private Path tlsKey;
    private final List<InitialObject> objects = new ArrayList<>();
    private String version = "dev";

    /** An object created when the server starts, e.g. {@code --object greeting=Value:["hi"]}. */
    public static final class InitialObject {
        public final String name;
        public final String typeid;
        public final io.vertx.core.json.JsonArray args;

        public InitialObject(String name, String typeid, io.vertx.core.json.JsonArray args) {
            this.name = name;
            this.typeid = typeid;
            this.args = args;
        }
    }

    public String host() {
        return host;
    }

    public ServerConfig host(String host) {
        this.host = host;
        return this;
    }

    public int port() {
        return port;
    }

    /** Port 0 picks a free port; read it back with {@link OrchServer#port()}. */
    public ServerConfig port(int port) {
        this.port = port;
        return this;
    }

    public byte[] authKey() {
        return authKey;
    }

    public ServerConfig authKey(byte[] key) {
        this.authKey = key.clone();
        return this;
    }

    /** The key file handed to children as {@code ORCH_AUTHKEY_FILE}; may be null. */
    public Path authKeyFile() {
        return authKeyFile;
    }

    public ServerConfig authKeyFile(Path file) {
        this.authKeyFile = file;
        return this;
    }

    public int maxFrame() {
        return maxFrame;
    }

    public ServerConfig maxFrame(int bytes) {
        this.maxFrame = bytes;
        return this;
    }

    public Duration idleTimeout() {
        return idleTimeout;
    }

    public ServerConfig idleTimeout(Duration d) {
        this.idleTimeout = d;
        return this;
    }

    /** Connections that may wait to log in at once before the oldest is closed (at least 1). */
    public int maxPendingLogins() {
        return maxPendingLogins;
    }

    public ServerConfig maxPendingLogins(int n) {
        if (n < 1) {
            throw new IllegalArgumentException("maxPendingLogins must be at least 1");
        }
        this.maxPendingLogins = n;
        return this;
    }

    public Duration loginTimeout() {
        return loginTimeout;
    }

    public ServerConfig loginTimeout(Duration d) {
        this.loginTimeout = d;
        return this;
    }

    /** How long a worker may take to build a hosted object before the create fails with 504. */
    /** Event loops serving connections and objects; 0 means {@link OrchServer#defaultEventLoops()}. */
    public int eventLoops() {
        return eventLoops;
    }

    public ServerConfig eventLoops(int n) {
        if (n < 0) {
            throw new IllegalArgumentException("event loops must not be negative (0: the default)");
        }
        this.eventLoops = n;
        return this;
    }

    /**
     * How long a hosting worker gets to build an object, and how long a connection whose client
     * ended its side waits for the answers it still owes (PROTOCOL.md §8).
     */
    public Duration hostTimeout() {
        return hostTimeout;
    }

    public ServerConfig hostTimeout(Duration d) {
        this.hostTimeout = d;
        return this;
    }

    /** On shutdown, how long requests already in flight may take before connections are closed. */
    public Duration drainTimeout() {
        return drainTimeout;
    }

    public ServerConfig drainTimeout(Duration d) {
        this.drainTimeout = d;
        return this;
    }

    /** How long a stopped child gets between SIGTERM and SIGKILL. */
    public Duration stopGrace() {
        return stopGrace;
    }

    public ServerConfig stopGrace(Duration d) {
        this.stopGrace = d;
        return this;
    }

    /** Heartbeat interval asked of workers and nodes; three missed heartbeats make them lost. */
    public Duration heartbeat() {
        return heartbeat;
    }

    public ServerConfig heartbeat(Duration d) {
        this.heartbeat = d;
        return this;
    }

    public int maxInFlight() {
        return maxInFlight;
    }

    public ServerConfig maxInFlight(int n) {
        this.maxInFlight = n;
        return this;
    }

    public int maxRegistrations() {
        return maxRegistrations;
    }

    public ServerConfig maxRegistrations(int n) {
        this.maxRegistrations = n;
        return this;
    }

    /**
     * Bytes a connection may have waiting to be written to it, unread by its client, before it is
     * closed as a slow consumer (PROTOCOL.md §8): by default twice the largest frame, and at least
     * 32 MiB.
     */
    public long maxPendingOutput() {
        return maxPendingOutput > 0 ? maxPendingOutput : Math.max(2L * maxFrame, 32L * 1024 * 1024);
    }

    /** Sets {@link #maxPendingOutput()}; 0 for the default. */
    public ServerConfig maxPendingOutput(long bytes) {
        this.maxPendingOutput = bytes;
        return this;
    }

    public Path tlsCert() {
        return tlsCert;
    }

    public Path tlsKey() {
        return tlsKey;
    }

    public ServerConfig tls(Path cert, Path key) {
        this.tlsCert = cert;
        this.tlsKey = key;
        return this;
    }

    public List<InitialObject> objects() {
        return objects;
    }

    public ServerConfig object(String name, String typeid, io.vertx.core.json.JsonArray args) {
        objects.add(new InitialObject(name, typeid, args));
        return this;
    }

    public String version() {
        return version;
    }

    public ServerConfig version(String v) {
        this.version = v;
        return this;
    }
}
