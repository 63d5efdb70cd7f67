package dev.orch.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.orch.client.DirectCallTest.Probe;
import dev.orch.protocol.DirectOffer;
import dev.orch.protocol.OrchException;
import dev.orch.testing.TestCerts;
import dev.orch.testing.TestServer;
import io.vertx.core.json.JsonObject;
import java.io.InputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Direct calls over TLS (PROTOCOL.md §7, TLS): a worker with a certificate, against real servers. */
class DirectTlsTest {
    @TempDir
    static Path dir;
    static TestCerts.Pair certs;
    static TestCerts.Pair stranger;
    static TestServer tlsServer;

    @BeforeAll
    static void start() throws Exception {
        certs = TestCerts.selfSigned(dir, "orch");
        stranger = TestCerts.selfSigned(dir, "stranger");
        tlsServer = TestServer.start(c -> c.tls(certs.cert, certs.key));
    }

    @AfterAll
    static void stop() {
        if (tlsServer != null) {
            tlsServer.close();
        }
    }

    private static ClientConfig overTls() {
        return tlsServer.clientConfig().tls(true, certs.cert).direct("on");
    }

    private static boolean ranDirect(RemoteObject p) {
        return ((String) p.call("where")).startsWith("orch-direct-");
    }

    @Test
    void aWorkerWithACertificateTakesDirectCallsOverTls() {
        try (OrchClient worker = OrchClient.connect(overTls().directTls(certs.cert, certs.key));
                OrchClient user = OrchClient.connect(overTls())) {
            worker.host("TlsDirectProbe", Probe.EXPOSED, (a, k) -> new Probe());
            RemoteObject p = user.create("TlsDirectProbe");
            assertEquals(worker.directAddress(), p.direct());
            assertTrue(p.directTls());
            assertTrue(ranDirect(p), "went through the server over TLS");
            assertEquals(user.session(), p.call("caller"));
            OrchException e = assertThrows(OrchException.class, () -> p.call("fail", 7));
            assertTrue(e.getMessage().contains("bad 7"), e.getMessage());
            JsonObject type = user.types().stream().map(JsonObject.class::cast)
                    .filter(t -> "TlsDirectProbe".equals(t.getString("typeid"))).findFirst().orElseThrow();
            assertEquals(true, type.getValue("directTls"));
        }
    }

    @Test
    void aWorkerCertificateTheClientDoesNotTrustMeansThroughTheServer() {
        try (OrchClient worker = OrchClient.connect(overTls().directTls(stranger.cert, stranger.key));
                OrchClient user = OrchClient.connect(overTls())) {
            worker.host("TlsStrangerProbe", Probe.EXPOSED, (a, k) -> new Probe());
            RemoteObject p = user.create("TlsStrangerProbe");
            assertTrue(p.directTls());
            assertFalse(ranDirect(p), "a worker whose certificate is not trusted was called directly");
            assertEquals(user.session(), p.call("caller"));
        }
    }

    @Test
    void aPlainServersWorkerMayStillSpeakTlsToItsClients() throws Exception {
        try (TestServer plain = TestServer.start();
                OrchClient worker = OrchClient.connect(plain.clientConfig().direct("on").directTls(certs.cert, certs.key));
                OrchClient trusting = OrchClient.connect(plain.clientConfig().direct("on").tls(false, certs.cert));
                OrchClient other = OrchClient.connect(plain.clientConfig().direct("on").tls(false, stranger.cert))) {
            worker.host("PlainServerTlsProbe", Probe.EXPOSED, (a, k) -> new Probe());
            RemoteObject p = trusting.create("PlainServerTlsProbe");
            assertTrue(p.directTls());
            assertTrue(ranDirect(p));
            // Trusting only another certificate: calls still work, through the server.
            RemoteObject q = other.lookupId(p.id());
            assertFalse(ranDirect(q));
            // A plain frame on the TLS port is not served, and the worker goes on serving.
            HostPort hp = HostPort.parse(worker.directAddress(), 0);
            try (Socket raw = new Socket(hp.host(), hp.port())) {
                byte[] body = "{\"type\":\"ping\"}".getBytes(StandardCharsets.UTF_8);
                raw.getOutputStream().write(new byte[] {0, 0, 0, (byte) body.length});
                raw.getOutputStream().write(body);
                raw.setSoTimeout(10_000);
                InputStream in = raw.getInputStream();
                byte[] got = in.readNBytes(64);
                assertFalse(new String(got, StandardCharsets.ISO_8859_1).contains("pong"), "served in the clear");
            }
            assertTrue(ranDirect(p));
        }
    }

    @Test
    void aTlsClientDoesNotTakeAPlainOffer() {
        try (DirectRoutes routes = new DirectRoutes(overTls(), () -> "caller")) {
            assertNull(routes.connection(new DirectOffer("127.0.0.1:1", false), "someone"));
        }
    }

    @Test
    void aCertificateThatCannotBeUsedFailsHosting() {
        Path missing = dir.resolve("missing.pem");
        try (OrchClient halfConfigured = OrchClient.connect(overTls().directTls(certs.cert, null))) {
            OrchConnectException e = assertThrows(OrchConnectException.class,
                    () -> halfConfigured.host("TlsHalf", Probe.EXPOSED, (a, k) -> new Probe()));
            assertTrue(e.getMessage().contains("ORCH_DIRECT_CERT and ORCH_DIRECT_KEY"), e.getMessage());
        }
        try (OrchClient noFile = OrchClient.connect(overTls().directTls(certs.cert, missing))) {
            OrchConnectException e = assertThrows(OrchConnectException.class,
                    () -> noFile.host("TlsMissing", Probe.EXPOSED, (a, k) -> new Probe()));
            assertTrue(e.getMessage().contains("for direct calls: no file " + missing), e.getMessage());
        }
        try (OrchClient swapped = OrchClient.connect(overTls().directTls(certs.key, certs.cert))) {
            OrchConnectException e = assertThrows(OrchConnectException.class,
                    () -> swapped.host("TlsSwapped", Probe.EXPOSED, (a, k) -> new Probe()));
            assertNotNull(e.getMessage());
            assertFalse(e.getMessage().contains("\n"), e.getMessage());
        }
    }
}
