"""Keepalive against a short server idle timeout, and TLS."""
import shutil
import tempfile
import time
import unittest
from pathlib import Path
from unittest import mock

import orch
from orch import connection
from tests.support import OrchServer, self_signed_cert


class KeepaliveTest(unittest.TestCase):
    def setUp(self):
        self.server = OrchServer(extra_args=("--idle-timeout", "2"))
        self.addCleanup(self.server.cleanup)
        self.server.start()

    def test_ping_keeps_an_idle_connection_open(self):
        with mock.patch.object(connection, "KEEPALIVE_SECONDS", 0.5):
            m = self.server.manager()
            self.addCleanup(m.close)
            d = m.dict()
            time.sleep(5)
            d["k"] = 1
            self.assertEqual(d["k"], 1)

    def test_without_ping_the_server_closes_idle_connections(self):
        # Control for the test above: the short idle timeout is real.
        with mock.patch.object(connection, "KEEPALIVE_SECONDS", 3600):
            m = self.server.manager()
            self.addCleanup(m.close)
            d = m.dict()
            time.sleep(5)
            with self.assertRaises(ConnectionError):
                d["k"] = 1


@unittest.skipUnless(shutil.which("openssl"), "openssl not installed (needed to make a test cert)")
class TlsTest(unittest.TestCase):
    def setUp(self):
        self.dir = Path(tempfile.mkdtemp(prefix="orch-tls-"))
        self.addCleanup(shutil.rmtree, self.dir, True)
        cert, key = self_signed_cert(self.dir, "server")
        self.cert = cert
        self.server = OrchServer(extra_args=("--tls-cert", str(cert), "--tls-key", str(key)),
                                 tls_ca=str(cert))
        self.addCleanup(self.server.cleanup)
        self.server.start()

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
