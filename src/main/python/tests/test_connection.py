"""Login, key resolution and connection loss against a real server."""
import os
import threading
import time
import unittest
from unittest import mock

import orch
from tests.support import OrchServer, ServerTestCase


class LoginTest(ServerTestCase):
    def test_wrong_authkey_is_a_clear_error(self):
        with self.assertRaises(orch.AuthenticationError) as cm:
            orch.Manager(self.server.address, authkey=b"wrong").connect()
        self.assertIn("authkey", str(cm.exception))

    def test_key_and_address_from_environment(self):
        env = {"ORCH_AUTHKEY_FILE": str(self.server.keyfile), "ORCH_ADDRESS": self.server.address}
        with mock.patch.dict(os.environ, env):
            with orch.Manager() as m:
                self.assertTrue(m.session)
                self.assertEqual(m.address[1], self.server.port)
        with mock.patch.dict(os.environ, {"ORCH_AUTHKEY": self.server.authkey.decode(),
                                          "ORCH_ADDRESS": self.server.address}):
            with orch.Manager() as m:
                m.dict()
        with mock.patch.dict(os.environ, {"ORCH_HOME": str(self.server.home)}):
            os.environ.pop("ORCH_AUTHKEY", None)
            os.environ.pop("ORCH_AUTHKEY_FILE", None)
            with orch.Manager(self.server.address) as m:
                m.list()

    def test_nothing_listening_is_connection_error(self):
        from tests.support import free_port
        with self.assertRaises(ConnectionError):
            orch.Manager(("127.0.0.1", free_port()), authkey=b"x").connect()

    def test_many_threads_many_calls(self):
        d = self.m.dict()
        barrier = threading.Barrier(16)
        errors = []

        def work(i):
            try:
                barrier.wait()
                for j in range(100):
                    d[f"{i}.{j}"] = j
                    self.assertEqual(d[f"{i}.{j}"], j)
            except BaseException as e:
                errors.append(e)
        threads = [threading.Thread(target=work, args=(i,)) for i in range(16)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
        self.assertEqual(errors, [])
        self.assertEqual(len(d), 1600)


class ServerKilledDuringQueueGetTest(unittest.TestCase):
    def setUp(self):
        self.server = OrchServer()
        self.addCleanup(self.server.cleanup)
        self.server.start()

    def test_blocked_get_fails_with_connection_error(self):
        m = self.server.manager()
        self.addCleanup(m.close)
        try:
            q = m.Queue()
        except orch.RemoteError as e:
            if e.code == 404:
                self.skipTest("server has no Queue type yet (the hosted-method variant in "
                              "test_hosting covers this)")
            raise
        threading.Timer(1.0, self.server.kill).start()
        start = time.monotonic()
        with self.assertRaises(ConnectionError):
            q.get()
        self.assertLess(time.monotonic() - start, 30)
        with self.assertRaises(ConnectionError):
            m.dict()
        with self.assertRaises(ConnectionError):
            q.put(1)


if __name__ == "__main__":
    unittest.main()
