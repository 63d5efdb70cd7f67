"""Direct calls over TLS (PROTOCOL.md §7, "Direct calls", TLS).

A worker given ``ORCH_DIRECT_CERT`` and ``ORCH_DIRECT_KEY`` takes direct connections over TLS
only and offers ``directTls``; a client checks the worker's certificate chain against what it
trusts for the server. As in test_direct, ``thread_name()`` tells which path a call took: a
direct call runs on an ``orch-direct-…`` thread, a call through the server on ``orch-reader-…``.
"""
import os
import shutil
import signal
import socket
import ssl
import tempfile
import time
import unittest
from pathlib import Path
from unittest import mock

import orch
from orch import _auth, _tls, direct
from tests.support import (OrchServer, jvm_launcher, ServerTestCase, assert_hosted_errors,
                           assert_sleep_does_not_stall, patched_env, run_in_threads, self_signed_cert,
                           wait_until)
from tests.test_direct import (assert_killed_worker_fails_call_in_flight,
                               assert_unread_client_is_closed, hosted_types, raw_connect, raw_login,
                               recv_frame, send_frame, small_window, start_worker, stop_worker)

CERTS: dict = {}


def setUpModule():
    if not shutil.which("openssl"):
        raise unittest.SkipTest("openssl not installed (needed to make test certs)")
    d = Path(tempfile.mkdtemp(prefix="orch-direct-tls-"))
    CERTS["dir"] = d
    CERTS["cert"], CERTS["key"] = self_signed_cert(d, "trusted")   # the server's, and trusted workers'
    CERTS["other_cert"], CERTS["other_key"] = self_signed_cert(d, "other")  # trusted by nobody


def tearDownModule():
    if "dir" in CERTS:
        shutil.rmtree(CERTS["dir"], ignore_errors=True)


def worker_cert_env(cert_key="trusted"):
    cert, key = ((CERTS["cert"], CERTS["key"]) if cert_key == "trusted"
                 else (CERTS["other_cert"], CERTS["other_key"]))
    return {"ORCH_DIRECT_CERT": cert, "ORCH_DIRECT_KEY": key}


def read_until_closed(sock: socket.socket, timeout: float = 10) -> bytes:
    """Everything the peer sends until it closes; fails if it keeps the connection open."""
    sock.settimeout(timeout)
    data = b""
    while True:
        try:
            chunk = sock.recv(4096)
        except ConnectionResetError:
            return data
        except socket.timeout:
            raise AssertionError("the worker kept the connection open; got %r" % data)
        if not chunk:
            return data
        data += chunk


def route_of(proxy):
    return object.__getattribute__(proxy, "_route")


def assert_direct_over_tls(test: unittest.TestCase, server, typeid: str) -> None:
    """A plain client trusting the worker's certificate calls a ``typeid``, and directly."""
    m = orch.Manager(server.address, authkey=server.authkey, tls=False,
                     tls_ca=CERTS["cert"]).connect()
    test.addCleanup(m.close)
    t = m.create(typeid)
    test.assertEqual(t.ping(), "pong")
    test.assertIsNotNone(route_of(t).conn)


class TlsServerDirectTest(unittest.TestCase):
    """A TLS server and three Python workers connected to it over TLS: one with the server's
    certificate for direct calls, one without a certificate, one with a certificate the clients
    do not trust."""

    TRUSTED, NO_CERT, UNTRUSTED = "TlsDirectUtility", "TlsNoCertUtility", "TlsUntrustedUtility"

    @classmethod
    def setUpClass(cls):
        cls.server = OrchServer(extra_args=("--tls-cert", CERTS["cert"], "--tls-key",
                                            CERTS["key"]), tls_ca=CERTS["cert"])
        cls.addClassCleanup(cls.server.cleanup)
        cls.server.start()
        to_server = {"ORCH_TEST_TLS_CA": CERTS["cert"]}
        cls.trusted, cls.trusted_direct = start_worker(cls.server, cls.TRUSTED, **to_server,
                                                       **worker_cert_env("trusted"))
        cls.addClassCleanup(stop_worker, cls.trusted)
        cls.no_cert, cls.no_cert_direct = start_worker(cls.server, cls.NO_CERT, **to_server)
        cls.addClassCleanup(stop_worker, cls.no_cert)
        cls.untrusted, cls.untrusted_direct = start_worker(cls.server, cls.UNTRUSTED, **to_server,
                                                           **worker_cert_env("other"))
        cls.addClassCleanup(stop_worker, cls.untrusted)

    def setUp(self):
        self.m = self.server.manager()  # over TLS, trusting the server's certificate
        self.addCleanup(self.m.close)
        self.assertTrue(self.m._conn.tls)

    def test_worker_with_certificate_offers_tls_and_calls_go_direct(self):
        self.assertIsNotNone(self.trusted_direct)
        self.assertTrue(self.trusted_direct.startswith("127.0.0.1:"), self.trusted_direct)
        t = hosted_types(self.m)[self.TRUSTED]
        self.assertEqual((t["direct"], t["directTls"]), (self.trusted_direct, True))
        u = self.m.create(self.TRUSTED, name="tls-direct-desc")
        self.addCleanup(self.m.delete, "tls-direct-desc")
        desc = self.m._manager_op("lookup", name="tls-direct-desc")
        self.assertEqual((desc["host"], desc["direct"], desc["directTls"]),
                         (t["host"], self.trusted_direct, True))
        self.assertEqual(u.capitalize("hello"), "Hello")
        self.assertEqual(u.echo({"a": [1, None, 2.5]}), {"a": [1, None, 2.5]})
        self.assertTrue(u.thread_name().startswith("orch-direct"), u.thread_name())
        self.assertEqual(u.caller(), self.m.session)
        route = route_of(u)
        self.assertTrue(route.tls)
        self.assertIsInstance(route.conn._sock, _tls.TlsSocket)  # the direct connection is TLS
        assert_hosted_errors(self, u)
        self.assertTrue(u.thread_name().startswith("orch-direct"))

    def test_blocking_call_does_not_stall_other_tls_calls(self):
        u = self.m.create(self.TRUSTED)
        self.assertTrue(u.thread_name().startswith("orch-direct"))
        assert_sleep_does_not_stall(self, u)
        self.assertEqual(len(self.m._routes), 1)

    def test_worker_without_certificate_offers_nothing(self):
        self.assertIsNone(self.no_cert_direct)
        t = hosted_types(self.m)[self.NO_CERT]
        self.assertNotIn("direct", t)
        self.assertNotIn("directTls", t)
        u = self.m.create(self.NO_CERT, name="tls-no-cert")
        self.addCleanup(self.m.delete, "tls-no-cert")
        desc = self.m._manager_op("lookup", name="tls-no-cert")
        self.assertIn("host", desc)
        self.assertNotIn("direct", desc)
        self.assertIsNone(route_of(u))
        self.assertEqual(u.capitalize("hello"), "Hello")
        self.assertTrue(u.thread_name().startswith("orch-reader"), u.thread_name())
        self.assertEqual(u.caller(), self.m.session)

    def test_untrusted_worker_certificate_calls_go_through_the_server(self):
        t = hosted_types(self.m)[self.UNTRUSTED]
        self.assertEqual((t["direct"], t["directTls"]), (self.untrusted_direct, True))
        u = self.m.create(self.UNTRUSTED)
        self.assertEqual(u.capitalize("hello"), "Hello")
        self.assertTrue(u.thread_name().startswith("orch-reader"), u.thread_name())
        self.assertEqual(u.caller(), self.m.session)
        route = route_of(u)
        self.assertTrue(route.tls)
        self.assertIsNone(route.conn)
        self.assertGreaterEqual(route._failures, 1)  # tried, and backs off
        self.assertGreater(route._retry_at, time.monotonic())
        # The handshake is what failed: the same worker is reachable without the check.
        trusting = ssl.create_default_context(cafile=CERTS["other_cert"])
        trusting.check_hostname = False
        with socket.create_connection(_auth.parse_address(self.untrusted_direct),
                                      timeout=10) as raw:
            with trusting.wrap_socket(raw) as s:
                host = t["host"]
                self.assertEqual(raw_login(s, self.server.authkey)["body"]["session"], host)

    def test_plain_frames_on_the_tls_port_are_not_served(self):
        for frame in ({"type": "ping"},
                      {"type": "send", "address": "orch.auth", "replyAddress": "a1",
                       "body": {"op": "challenge", "clientNonce": _auth.b64(b"n" * 32)}}):
            with self.subTest(frame=frame["type"]), raw_connect(self.trusted_direct) as s:
                send_frame(s, frame)
                data = read_until_closed(s)
                self.assertNotIn(b'"type"', data)  # no frame: at most a TLS alert
                self.assertNotIn(b"serverNonce", data)
        # The worker still serves others, directly.
        m = self.server.manager()
        self.addCleanup(m.close)
        u = m.create(self.TRUSTED)
        self.assertTrue(u.thread_name().startswith("orch-direct"), u.thread_name())

    def test_stalled_handshakes_do_not_block_other_clients(self):
        # Connections that never start their handshake: were it run on the accept loop, the
        # client below could not connect within its 3 s and would go through the server.
        stalled = [raw_connect(self.trusted_direct) for _ in range(3)]
        for s in stalled:
            self.addCleanup(s.close)
        time.sleep(0.2)
        m = self.server.manager()
        self.addCleanup(m.close)
        u = m.create(self.TRUSTED)
        self.assertTrue(u.thread_name().startswith("orch-direct"), u.thread_name())
        self.assertEqual(u.capitalize("abc"), "Abc")


class KeyUpdateTest(unittest.TestCase):
    """TLS 1.3 key updates while connections are busy. A JVM renews its keys after a set amount
    of data (``jdk.tls.keyLimits``, 2^37 bytes for AES-GCM by default: a long-lived connection
    gets there); here after 16 KiB, so they happen within a test. The peer must answer each one
    while other threads write on the same connection, which an ``ssl.SSLSocket`` read by one
    thread and written by others does not survive (bad record MAC)."""

    TYPEID = "KeyUpdateUtility"

    @classmethod
    def setUpClass(cls):
        if not jvm_launcher():
            raise unittest.SkipTest("the key limits are set through ORCH_JAVA_OPTS, which only "
                                    "the JVM launcher reads")
        cls.dir = Path(tempfile.mkdtemp(prefix="orch-keyupdate-"))
        cls.addClassCleanup(shutil.rmtree, cls.dir, True)
        limits = cls.dir / "key-limits.security"
        limits.write_text("jdk.tls.keyLimits=AES/GCM/NoPadding KeyUpdate 2^14, "
                          "ChaCha20-Poly1305 KeyUpdate 2^14\n")
        cls.java_opts = "-Djava.security.properties=" + str(limits)
        cls.server = OrchServer(extra_args=("--tls-cert", CERTS["cert"], "--tls-key",
                                            CERTS["key"]), tls_ca=CERTS["cert"])
        cls.addClassCleanup(cls.server.cleanup)
        # The server's JVM logs its handshake messages, so the test can see the key updates.
        with patched_env(ORCH_JAVA_OPTS=cls.java_opts + " -Djavax.net.debug=ssl:handshake"):
            cls.server.start()
        cls.worker, cls.worker_direct = start_worker(cls.server, cls.TYPEID,
                                                     ORCH_TEST_TLS_CA=CERTS["cert"],
                                                     **worker_cert_env("trusted"))
        cls.addClassCleanup(stop_worker, cls.worker)

    def server_log(self) -> str:
        return (self.server.home / ("server-%d.log" % self.server.port)).read_text(errors="replace")

    def test_python_client_answers_the_servers_key_updates_during_concurrent_calls(self):
        before = self.server_log().count("Consuming KeyUpdate")
        with self.server.manager() as m:
            d = m.dict()

            def work(i):
                value = str(i) * 1024
                for _ in range(150):
                    d["k%d" % i] = value
                    self.assertEqual(d["k%d" % i], value)
            run_in_threads(self, work, 8)
            self.assertEqual(len(d), 8)
        # The server renewed its keys and read the client's answers, many times over.
        self.assertGreater(self.server_log().count("Consuming KeyUpdate") - before, 10)

    def test_python_worker_answers_a_java_clients_key_updates(self):
        m = self.server.manager()
        self.addCleanup(m.close)
        u = m.create(self.TYPEID, name="key-update-echo")
        self.addCleanup(m.delete, "key-update-echo")
        # The CLI calls through the server unless ORCH_DIRECT asks it to go direct.
        env = {"ORCH_JAVA_OPTS": self.java_opts, "ORCH_TLS_CA": CERTS["cert"], "ORCH_DIRECT": "on"}
        big = "k" * 100_000  # a 16 KiB key limit crossed six times in one frame
        r = self.server.cli("call", "key-update-echo", "echo", big, extra_env=env)
        self.assertEqual((r.returncode, r.stdout.strip(), r.stderr), (0, '"%s"' % big, ""))
        r = self.server.cli("call", "key-update-echo", "thread_name", extra_env=env)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertTrue(r.stdout.startswith('"orch-direct'), r.stdout)  # it went direct
        self.assertEqual(u.echo(big), big)


class PlainServerTlsWorkerTest(ServerTestCase):
    """A plain server and a worker with a certificate: it offers TLS, and a plain client that
    trusts the certificate (``tls=False, tls_ca=…``) calls it directly over TLS."""

    TYPEID = "PlainServerTlsUtility"

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.worker, cls.direct = start_worker(cls.server, cls.TYPEID, **worker_cert_env())
        cls.addClassCleanup(stop_worker, cls.worker)

    def trusting_manager(self):
        m = orch.Manager(self.server.address, authkey=self.server.authkey, tls=False,
                         tls_ca=CERTS["cert"]).connect()
        self.addCleanup(m.close)
        self.assertFalse(m._conn.tls)
        return m

    def test_plain_client_trusting_the_worker_goes_direct_over_tls(self):
        m = self.trusting_manager()
        t = hosted_types(m)[self.TYPEID]
        self.assertEqual((t["direct"], t["directTls"]), (self.direct, True))
        u = m.create(self.TYPEID)
        self.assertEqual(u.capitalize("hello"), "Hello")
        self.assertTrue(u.thread_name().startswith("orch-direct"), u.thread_name())
        self.assertEqual(u.caller(), m.session)
        route = route_of(u)
        self.assertTrue(route.tls)
        self.assertIsInstance(route.conn._sock, _tls.TlsSocket)

    def test_plain_client_not_trusting_the_worker_goes_through_the_server(self):
        u = self.m.create(self.TYPEID)  # no tls_ca: the system's roots, not this self-signed cert
        self.assertEqual(u.capitalize("hello"), "Hello")
        self.assertTrue(u.thread_name().startswith("orch-reader"), u.thread_name())
        self.assertIsNone(route_of(u).conn)

    def test_plain_login_to_the_tls_port_fails(self):
        with raw_connect(self.direct) as s:
            with self.assertRaises((EOFError, ConnectionError, OSError)):
                raw_login(s, self.server.authkey)

    def test_client_that_does_not_read_is_closed_over_tls_too(self):
        worker, address = start_worker(self.server, "TlsUnread", **worker_cert_env())
        self.addCleanup(stop_worker, worker)
        u = self.trusting_manager().create("TlsUnread")
        self.assertEqual(u.capitalize("tls"), "Tls")
        self.assertIsInstance(route_of(u).conn._sock, _tls.TlsSocket)  # u's calls go over TLS
        s = direct.client_tls_context(CERTS["cert"]).wrap_socket(small_window(address))
        assert_unread_client_is_closed(self, u, s, self.server.authkey)

    def test_forked_child_does_not_keep_a_tls_connection_open(self):
        # As test_direct's fork test, over TLS: after the worker dies, its forked child must not
        # hold the direct connection, or the call in flight would wait for the child.
        worker, _ = start_worker(self.server, "TlsForked", **worker_cert_env())
        self.addCleanup(stop_worker, worker)
        m = self.trusting_manager()
        u = m.create("TlsForked")
        self.assertTrue(u.thread_name().startswith("orch-direct"))
        child = u.fork_sleeper(60)
        self.addCleanup(lambda: os.kill(child, signal.SIGKILL))
        self.assertTrue(u.thread_name().startswith("orch-direct"))  # the parent still serves
        assert_killed_worker_fails_call_in_flight(self, u, worker)


class TlsRoutingTest(unittest.TestCase):
    """Which offers a client takes (no server needed: the Managers are not connected)."""

    def test_tls_client_ignores_plain_offers(self):
        m = orch.Manager(("127.0.0.1", 9), authkey=b"k", tls_ca=CERTS["cert"])
        self.assertIsNone(m._direct_route({"id": "1", "direct": "127.0.0.1:7", "host": "w"}))
        self.assertIsNone(m._direct_route({"id": "1", "direct": "127.0.0.1:7", "host": "w",
                                           "directTls": False}))
        route = m._direct_route({"id": "1", "direct": "127.0.0.1:7", "host": "w",
                                 "directTls": True})
        self.assertIsNotNone(route)
        self.assertTrue(route.tls)
        self.assertEqual(list(m._routes), [("127.0.0.1:7", "w", True)])

    def test_plain_and_tls_offers_at_one_address_are_different_routes(self):
        m = orch.Manager(("127.0.0.1", 9), authkey=b"k")
        plain = m._direct_route({"id": "1", "direct": "127.0.0.1:7", "host": "w"})
        tls = m._direct_route({"id": "2", "direct": "127.0.0.1:7", "host": "w",
                               "directTls": True})
        self.assertIsNot(plain, tls)
        self.assertEqual((plain.tls, tls.tls), (False, True))
        self.assertIs(m._direct_route({"id": "3", "direct": "127.0.0.1:7", "host": "w",
                                       "directTls": True}), tls)
        self.assertEqual(len(m._routes), 2)

    def test_tls_setting(self):
        self.assertTrue(orch.Manager(("127.0.0.1", 9), authkey=b"k", tls_ca="x")._tls)
        self.assertFalse(orch.Manager(("127.0.0.1", 9), authkey=b"k", tls=False, tls_ca="x")._tls)
        self.assertTrue(orch.Manager(("127.0.0.1", 9), authkey=b"k", tls=True)._tls)
        self.assertFalse(orch.Manager(("127.0.0.1", 9), authkey=b"k")._tls)

    def test_client_context_checks_the_chain_not_the_name(self):
        context = direct.client_tls_context(CERTS["cert"])
        self.assertEqual(context.verify_mode, ssl.CERT_REQUIRED)
        self.assertFalse(context.check_hostname)
        # The system's roots vouch for any public certificate: then the name must match too.
        system = direct.client_tls_context(None)
        self.assertEqual(system.verify_mode, ssl.CERT_REQUIRED)
        self.assertTrue(system.check_hostname)


class DirectCertSettingTest(ServerTestCase):
    """ORCH_DIRECT_CERT / ORCH_DIRECT_KEY that cannot be used make hosting fail."""

    class Thing:
        def ping(self):
            return "pong"

    def setUp(self):
        super().setUp()
        # One typeid per test: the server may not have seen the last test's worker go yet.
        self.TYPEID = "DirectCert-" + self._testMethodName

    def host_with(self, **values):
        h = self.server.manager()
        self.addCleanup(h.close)
        h.register(self.TYPEID, self.Thing)
        settings = {"ORCH_DIRECT": None, "ORCH_DIRECT_CERT": None, "ORCH_DIRECT_KEY": None}
        settings.update(values)
        with patched_env(**settings):
            h.start_serving()
        return h

    def assert_refused(self, error_class, *fragments, **values):
        with self.assertRaises(error_class) as cm:
            self.host_with(**values)
        message = str(cm.exception)
        self.assertNotIn("\n", message)
        for fragment in fragments:
            self.assertIn(fragment, message)
        self.assertNotIn(self.TYPEID, hosted_types(self.m))  # nothing was hosted
        return cm.exception

    def test_cert_without_key(self):
        self.assert_refused(ValueError, "ORCH_DIRECT_CERT", "ORCH_DIRECT_KEY",
                            ORCH_DIRECT_CERT=CERTS["cert"])

    def test_key_without_cert(self):
        self.assert_refused(ValueError, "ORCH_DIRECT_CERT", "ORCH_DIRECT_KEY",
                            ORCH_DIRECT_KEY=CERTS["key"])

    def test_missing_file(self):
        missing = str(CERTS["dir"] / "no-such-cert.pem")
        self.assert_refused(OSError, "ORCH_DIRECT_CERT", missing,
                            ORCH_DIRECT_CERT=missing, ORCH_DIRECT_KEY=CERTS["key"])

    def test_key_that_does_not_match(self):
        self.assert_refused(ValueError, "ORCH_DIRECT_CERT", "ORCH_DIRECT_KEY",
                            ORCH_DIRECT_CERT=CERTS["cert"], ORCH_DIRECT_KEY=CERTS["other_key"])

    def test_not_pem(self):
        junk = CERTS["dir"] / "junk.pem"
        junk.write_text("not a certificate\n")
        self.assert_refused(ValueError, "ORCH_DIRECT_CERT", str(junk),
                            ORCH_DIRECT_CERT=str(junk), ORCH_DIRECT_KEY=CERTS["key"])

    def test_direct_off_ignores_the_certificate_settings(self):
        h = self.host_with(ORCH_DIRECT="off", ORCH_DIRECT_CERT=CERTS["cert"])
        self.assertIsNone(h._host.direct_address)
        self.assertNotIn("direct", hosted_types(self.m)[self.TYPEID])
        self.assertEqual(self.m.create(self.TYPEID).ping(), "pong")

    def test_in_process_tls_worker(self):
        h = self.host_with(**worker_cert_env())
        self.assertTrue(h._host.direct_tls)
        self.assertEqual(hosted_types(self.m)[self.TYPEID]["directTls"], True)
        assert_direct_over_tls(self, self.server, self.TYPEID)
        self.assertEqual(h._host._listener.peers, 1)


class LoginDeadlineTest(ServerTestCase):
    """A TLS direct connection that does not log in within LOGIN_SECONDS is closed, whether it
    stalls the handshake or sends a byte now and then after it."""

    def setUp(self):
        super().setUp()
        self.TYPEID = "DirectTlsDeadline-" + self._testMethodName
        patcher = mock.patch.object(direct, "LOGIN_SECONDS", 1.5)
        patcher.start()
        self.addCleanup(patcher.stop)
        self.h = self.server.manager()
        self.addCleanup(self.h.close)
        self.h.register(self.TYPEID, DirectCertSettingTest.Thing)
        with patched_env(ORCH_DIRECT=None, **worker_cert_env()):
            self.h.start_serving()
        self.listener = self.h._host._listener
        self.assertTrue(self.listener.tls)

    def test_stalled_handshake_is_closed(self):
        with raw_connect(self.listener.address) as s:
            wait_until(lambda: self.listener.peers == 1, 10, "the worker to accept")
            start = time.monotonic()
            read_until_closed(s, timeout=10)
            self.assertLess(time.monotonic() - start, 8)
        wait_until(lambda: self.listener.peers == 0, 10, "the worker to drop the connection")

    def test_slow_login_is_closed(self):
        context = ssl.create_default_context(cafile=CERTS["cert"])
        context.check_hostname = False
        with raw_connect(self.listener.address) as raw, context.wrap_socket(raw) as s:
            start = time.monotonic()
            closed = False
            # A frame of 64 bytes, one byte every 0.25 s: far slower than the deadline.
            for byte in b"\x00\x00\x00\x40" + b" " * 64:
                try:
                    s.sendall(bytes([byte]))
                except OSError:
                    closed = True
                    break
                s.settimeout(0.25)
                try:
                    if s.recv(1) == b"":
                        closed = True
                        break
                except socket.timeout:
                    pass
                except OSError:
                    closed = True
                    break
            self.assertTrue(closed, "the worker kept a connection that never logged in")
            self.assertLess(time.monotonic() - start, 8)
        # Logging in in time still works.
        assert_direct_over_tls(self, self.server, self.TYPEID)


if __name__ == "__main__":
    unittest.main()
