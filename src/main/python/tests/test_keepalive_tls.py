"""Keepalive against a short server idle timeout, and TLS."""
import os
import shutil
import signal
import tempfile
import threading
import time
import unittest
from pathlib import Path
from unittest import mock

import orch
from orch import connection
from tests.support import OrchServer, self_signed_cert


class KeepaliveTest(unittest.TestCase):
    """A server with --idle-timeout 1 (its shortest): clients and workers ping often enough."""

    IDLE = 2.5  # seconds idle: past the server's timeout, more than twice over

    @classmethod
    def setUpClass(cls):
        # One server for the class: each test uses connections of its own.
        cls.server = OrchServer(extra_args=("--idle-timeout", "1"))
        try:
            cls.server.start()
        except BaseException:
            cls.server.cleanup()
            raise

    @classmethod
    def tearDownClass(cls):
        cls.server.cleanup()

    def test_pings_follow_the_idle_timeout_the_server_gives(self):
        host = self.server.manager()  # a worker, idle as well: its types must not go
        self.addCleanup(host.close)
        host.register("IdleCounter", Counter)
        host.start_serving()
        m = self.server.manager()
        self.addCleanup(m.close)
        self.assertEqual(m._conn.idle_timeout, 1)
        self.assertAlmostEqual(m._conn.keepalive_seconds, 1 / 3)
        d = m.dict()
        c = m.create("IdleCounter")
        self.assertEqual(c.incr(), 1)
        direct = c._route.conn  # a direct connection, idle too
        time.sleep(self.IDLE)
        d["k"] = 1
        self.assertEqual(d["k"], 1)
        self.assertEqual(c.incr(), 2)
        self.assertIs(c._route.conn, direct)
        self.assertFalse(direct.closed)
        self.assertEqual(m.create("IdleCounter").incr(), 1)  # built by the idle worker

    def test_keepalive_is_at_most_keepalive_seconds(self):
        m = self.server.manager()
        self.addCleanup(m.close)
        m._conn._idle_timeout = connection.DEFAULT_IDLE_TIMEOUT  # as from an older server
        self.assertEqual(m._conn.keepalive_seconds, connection.KEEPALIVE_SECONDS)

    def test_without_ping_the_server_closes_idle_connections(self):
        # Control for the test above: the short idle timeout is real.
        with mock.patch.object(connection, "KEEPALIVE_SECONDS", 3600), \
                mock.patch.object(connection.Connection, "idle_timeout", 3 * 3600):
            m = self.server.manager()
            self.addCleanup(m.close)
            self.assertEqual(m._conn.keepalive_seconds, 3600)
            d = m.dict()
            time.sleep(self.IDLE)
            with self.assertRaises(ConnectionError):
                d["k"] = 1


class FrozenServerTest(unittest.TestCase):
    """A server that stops answering without closing (a frozen JVM, a network cut): the
    client's pings find it out, and a parked call fails instead of waiting for ever."""

    def test_a_parked_call_ends_when_the_server_stops_answering(self):
        server = OrchServer(extra_args=("--idle-timeout", "1"))
        self.addCleanup(server.cleanup)
        server.start()
        self.addCleanup(os.kill, server.proc.pid, signal.SIGCONT)  # before the cleanup stops it
        m = server.manager()
        self.addCleanup(m.close)
        idle = server.manager()
        self.addCleanup(idle.close)
        q = m.Queue()
        # An idle client reads nothing, so the pongs wait unread: that is no silence.
        time.sleep(1.5)
        self.assertEqual(idle.dict({"k": 1}).copy(), {"k": 1})
        outcome = {}

        def get():
            try:
                outcome["result"] = q.get()
            except BaseException as e:  # noqa: B902 - handed to the test thread
                outcome["error"] = e

        t = threading.Thread(target=get, daemon=True)
        t.start()
        time.sleep(0.3)  # parked by now; sent or parked, it must end all the same
        os.kill(server.proc.pid, signal.SIGSTOP)
        t.join(15)
        self.assertFalse(t.is_alive(), "a parked get still waits on a server that answers nothing")
        self.assertIsInstance(outcome.get("error"), ConnectionError, outcome)
        self.assertIn("did not answer a ping", str(outcome["error"]))


class Counter:
    def __init__(self):
        self.n = 0

    def incr(self):
        self.n += 1
        return self.n


@unittest.skipUnless(shutil.which("openssl"), "openssl not installed (needed to make a test cert)")
class TlsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        # One certificate and server for the class: each test uses connections of its own.
        cls.dir = Path(tempfile.mkdtemp(prefix="orch-tls-"))
        try:
            cert, key = self_signed_cert(cls.dir, "server")
            cls.cert = cert
            cls.server = OrchServer(extra_args=("--tls-cert", str(cert), "--tls-key", str(key)),
                                    tls_ca=str(cert))
            try:
                cls.server.start()
            except BaseException:
                cls.server.cleanup()
                raise
        except BaseException:
            shutil.rmtree(cls.dir, True)
            raise

    @classmethod
    def tearDownClass(cls):
        cls.server.cleanup()
        shutil.rmtree(cls.dir, True)

    def test_tls_round_trip(self):
        with orch.Manager(self.server.address, authkey=self.server.authkey, tls=True,
                          tls_ca=self.cert) as m:
            lst = m.list([1])
            lst.append(2)
            self.assertEqual(lst[:], [1, 2])

    def test_worker_over_tls_offers_no_direct_address(self):
        class Counter:
            def __init__(self):
                self.n = 0

            def incr(self):
                self.n += 1
                return self.n

        host = orch.Manager(self.server.address, authkey=self.server.authkey, tls=True,
                            tls_ca=self.cert)
        self.addCleanup(host.close)
        host.register("TlsCounter", Counter)
        host.start_serving()
        self.assertIsNone(host._host.direct_address)
        with orch.Manager(self.server.address, authkey=self.server.authkey, tls=True,
                          tls_ca=self.cert) as m:
            c = m.create("TlsCounter", name="tls-c")
            self.assertNotIn("direct", m._manager_op("lookup", name="tls-c"))
            self.assertIsNone(c._route)
            self.assertEqual([c.incr(), c.incr()], [1, 2])
            m.delete("tls-c")

    def test_plain_client_cannot_log_in_to_tls_server(self):
        with self.assertRaises((ConnectionError, OSError, orch.OrchError)):
            orch.Manager(self.server.address, authkey=self.server.authkey,
                         connect_timeout=3).connect()


if __name__ == "__main__":
    unittest.main()
