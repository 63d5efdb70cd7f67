"""TLS defaults from the environment (CLI.md, first paragraph; PROTOCOL.md §10).

``ORCH_TLS_CA`` (a PEM file to trust; implies TLS) and ``ORCH_TLS`` (TLS with the system's roots)
are what a Manager uses when not told otherwise, so a child of a TLS server, which gets
``ORCH_TLS_CA`` = the server's ``--tls-cert`` file, connects with ``Manager()``. That file may be
a leaf issued by a CA: it is trusted as an anchor (``VERIFY_X509_PARTIAL_CHAIN``), as in Java.
"""
import os
import shutil
import ssl
import socket
import subprocess
import sys
import tempfile
import time
import unittest
from pathlib import Path
from unittest import mock

import orch
from orch import direct
from tests.support import ORCH_BIN, PY_ROOT, OrchServer, self_signed_cert, shared_server, wait_until

CERTS: dict = {}
SERVER: dict = {}
PARTIAL_CHAIN = hasattr(ssl, "VERIFY_X509_PARTIAL_CHAIN")


def _openssl(*args: str) -> None:
    subprocess.run(["openssl", *args], check=True, capture_output=True)


def make_ca(d: Path, name: str) -> tuple:
    cert, key = d / (name + ".pem"), d / (name + "-key.pem")
    _openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj",
             "/CN=" + name, "-addext", "basicConstraints=critical,CA:TRUE", "-addext",
             "keyUsage=critical,keyCertSign,cRLSign", "-keyout", str(key), "-out", str(cert))
    return str(cert), str(key)


def make_leaf(d: Path, name: str, ca: tuple) -> tuple:
    """A certificate for IP 127.0.0.1 signed by ``ca`` (not self-signed) and its key."""
    cert, key, csr, ext = (d / (name + ".pem"), d / (name + "-key.pem"), d / (name + ".csr"),
                           d / (name + ".ext"))
    ext.write_text("subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\n")
    _openssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=127.0.0.1", "-keyout",
             str(key), "-out", str(csr))
    _openssl("x509", "-req", "-in", str(csr), "-CA", ca[0], "-CAkey", ca[1], "-CAcreateserial",
             "-days", "1", "-extfile", str(ext), "-out", str(cert))
    return str(cert), str(key)


def setUpModule():
    if not shutil.which("openssl"):
        raise unittest.SkipTest("openssl not installed (needed to make test certs)")
    d = Path(tempfile.mkdtemp(prefix="orch-tls-env-"))
    CERTS["dir"] = d
    ca = make_ca(d, "test-ca")
    CERTS["ca"] = ca[0]
    CERTS["leaf"], CERTS["leaf_key"] = make_leaf(d, "server", ca)      # the server's cert
    other = make_ca(d, "other-ca")
    CERTS["other_ca"] = other[0]
    CERTS["other_leaf"], _ = make_leaf(d, "other-server", other)
    # One TLS server for the module, its certificate a leaf issued by test-ca.
    server = OrchServer(extra_args=("--tls-cert", CERTS["leaf"], "--tls-key", CERTS["leaf_key"]),
                        tls_ca=CERTS["ca"])
    try:
        server.start()
    except BaseException:
        server.cleanup()
        shutil.rmtree(d, ignore_errors=True)
        raise
    SERVER["tls"] = server


def tearDownModule():
    if "tls" in SERVER:
        SERVER.pop("tls").cleanup()
    if "dir" in CERTS:
        shutil.rmtree(CERTS["dir"], ignore_errors=True)


def clean_env(**values: str) -> dict:
    """A minimal environment for a child: no ORCH_* but ``values``, and this package on the
    path; ORCH_HOME an empty directory so no ~/.orch key is picked up."""
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "PYTHONPATH": str(PY_ROOT),
           "ORCH_HOME": str(CERTS["dir"] / "no-home")}
    env.update(values)
    return env


def run_child(code: str, env: dict, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                          timeout=timeout, stdin=subprocess.DEVNULL)


ROUND_TRIP = ("import orch\n"
              "with orch.Manager(connect_timeout=5) as m:\n"
              "    l = m.list([1]); l.append(2); print('tls' if m._tls else 'plain', l[:])\n")


def env_only(**values):
    """Patches os.environ for a block: ORCH_TLS* removed, then ``values`` set (restored after)."""
    patch = mock.patch.dict(os.environ, values)
    patch.start()
    for k in ("ORCH_TLS", "ORCH_TLS_CA"):
        if k not in values:
            os.environ.pop(k, None)
    return patch


class EnvResolutionTest(unittest.TestCase):
    """How ``tls``/``tls_ca`` and the environment combine (no connection made)."""

    def resolve(self, env: dict, **kwargs) -> tuple:
        patch = env_only(**env)
        try:
            m = orch.Manager("127.0.0.1:1", authkey=b"k", **kwargs)
            return m._tls, m._tls_ca
        finally:
            patch.stop()

    def test_defaults_and_explicit_arguments(self):
        cases = [
            ({}, {}, (False, None)),
            ({"ORCH_TLS_CA": "/x/ca.pem"}, {}, (True, "/x/ca.pem")),
            ({"ORCH_TLS_CA": ""}, {}, (False, None)),                        # empty = unset
            ({"ORCH_TLS": "1"}, {}, (True, None)),                           # system roots
            ({"ORCH_TLS": " Yes "}, {}, (True, None)),
            ({"ORCH_TLS": "off", "ORCH_TLS_CA": "/x/ca.pem"}, {}, (True, "/x/ca.pem")),
            ({"ORCH_TLS": "0"}, {}, (False, None)),
            ({"ORCH_TLS": ""}, {}, (False, None)),
            ({"ORCH_TLS_CA": "/x/ca.pem"}, {"tls": False}, (False, "/x/ca.pem")),
            ({"ORCH_TLS": "true"}, {"tls": False}, (False, None)),
            ({"ORCH_TLS_CA": "/x/ca.pem"}, {"tls_ca": "/y/mine.pem"}, (True, "/y/mine.pem")),
            ({}, {"tls": True}, (True, None)),
            ({}, {"tls_ca": "/y/mine.pem"}, (True, "/y/mine.pem")),
            ({}, {"tls": False, "tls_ca": "/y/mine.pem"}, (False, "/y/mine.pem")),
        ]
        for env, kwargs, expected in cases:
            with self.subTest(env=env, kwargs=kwargs):
                self.assertEqual(self.resolve(env, **kwargs), expected)

    def test_malformed_orch_tls_raises_naming_the_variable(self):
        for kwargs in ({}, {"tls": True}, {"tls_ca": "/y/mine.pem"}):
            with self.subTest(kwargs=kwargs):
                with self.assertRaises(ValueError) as cm:
                    self.resolve({"ORCH_TLS": "maybe"}, **kwargs)
                message = str(cm.exception)
                self.assertIn("ORCH_TLS", message)
                self.assertIn("maybe", message)
                self.assertNotIn("\n", message)

    def test_environment_is_read_when_the_manager_is_made(self):
        patch = env_only(ORCH_TLS_CA="/x/ca.pem")
        try:
            m = orch.Manager("127.0.0.1:1", authkey=b"k")
        finally:
            patch.stop()
        self.assertNotIn("ORCH_TLS_CA", os.environ)
        self.assertEqual((m._tls, m._tls_ca), (True, "/x/ca.pem"))


class TlsFromEnvironmentTest(unittest.TestCase):
    """Children with only ORCH_ADDRESS, ORCH_AUTHKEY_FILE and (or not) ORCH_TLS_CA."""

    def setUp(self):
        self.server = SERVER["tls"]

    def base_env(self, **values) -> dict:
        return clean_env(ORCH_ADDRESS=self.server.address,
                         ORCH_AUTHKEY_FILE=str(self.server.keyfile), **values)

    def test_manager_uses_orch_tls_ca(self):
        r = run_child(ROUND_TRIP, self.base_env(ORCH_TLS_CA=CERTS["ca"]))
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout.strip(), "tls [1, 2]")

    def test_without_orch_tls_ca_fails_quickly_and_says_why(self):
        start = time.monotonic()
        r = run_child(ROUND_TRIP, self.base_env())
        self.assertLess(time.monotonic() - start, 30)  # not a hang (connect_timeout is 5 s)
        self.assertNotEqual(r.returncode, 0)
        last = r.stderr.strip().splitlines()[-1]
        self.assertTrue(last.startswith("ConnectionError"), r.stderr)
        self.assertIn("TLS", last)
        self.assertIn("ORCH_TLS_CA", last)

    @unittest.skipUnless(PARTIAL_CHAIN, "needs ssl.VERIFY_X509_PARTIAL_CHAIN (Python 3.10+)")
    def test_server_leaf_as_orch_tls_ca(self):
        # What a TLS server hands its children: its own certificate, here issued by a CA.
        r = run_child(ROUND_TRIP, self.base_env(ORCH_TLS_CA=CERTS["leaf"]))
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout.strip(), "tls [1, 2]")

    def test_orch_tls_uses_the_system_roots(self):
        # The test CA is in no system store: ORCH_TLS=1 alone does TLS, and the check fails.
        r = run_child(ROUND_TRIP, self.base_env(ORCH_TLS="1"))
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("CERTIFICATE_VERIFY_FAILED", r.stderr)

    def test_bad_orch_tls_in_a_child(self):
        r = run_child(ROUND_TRIP, self.base_env(ORCH_TLS="maybe", ORCH_TLS_CA=CERTS["ca"]))
        self.assertNotEqual(r.returncode, 0)
        last = r.stderr.strip().splitlines()[-1]
        self.assertTrue(last.startswith("ValueError: ORCH_TLS="), r.stderr)


class ExplicitBeatsEnvironmentTest(unittest.TestCase):
    def test_tls_false_reaches_a_plain_server_despite_orch_tls_ca(self):
        plain = shared_server()
        patch = env_only(ORCH_TLS_CA=CERTS["ca"])
        self.addCleanup(patch.stop)
        with orch.Manager(plain.address, authkey=plain.authkey, tls=False,
                          connect_timeout=5) as m:
            self.assertFalse(m._tls)
            self.assertEqual(m._tls_ca, CERTS["ca"])  # kept for TLS direct ports
            d = m.dict()
            d["k"] = 1
            self.assertEqual(d["k"], 1)
        # Control: without tls=False the same environment means TLS, which a plain server
        # does not speak.
        with self.assertRaises((OSError, orch.OrchError)):
            orch.Manager(plain.address, authkey=plain.authkey, connect_timeout=3).connect()

    def test_tls_ca_argument_beats_orch_tls_ca(self):
        server = SERVER["tls"]
        patch = env_only(ORCH_TLS_CA=CERTS["other_ca"])
        self.addCleanup(patch.stop)
        with orch.Manager(server.address, authkey=server.authkey, tls_ca=CERTS["ca"],
                          connect_timeout=5) as m:
            self.assertEqual(m.list([5])[:], [5])
        with self.assertRaises(ssl.SSLCertVerificationError):
            orch.Manager(server.address, authkey=server.authkey, connect_timeout=5).connect()


class TrustedLeafTest(unittest.TestCase):
    """A CA file holding a leaf certificate issued by a CA trusts that leaf (partial chain)."""

    def setUp(self):
        self.server = SERVER["tls"]

    def connect(self, ca: str) -> orch.Manager:
        m = orch.Manager(self.server.address, authkey=self.server.authkey, tls_ca=ca,
                         connect_timeout=5)
        self.addCleanup(m.close)
        return m.connect()

    def test_issuing_ca_is_trusted(self):
        self.assertEqual(self.connect(CERTS["ca"]).list([1])[:], [1])

    @unittest.skipUnless(PARTIAL_CHAIN, "needs ssl.VERIFY_X509_PARTIAL_CHAIN (Python 3.10+)")
    def test_leaf_is_trusted_as_an_anchor(self):
        self.assertEqual(self.connect(CERTS["leaf"]).list([2])[:], [2])

    @unittest.skipUnless(PARTIAL_CHAIN, "needs ssl.VERIFY_X509_PARTIAL_CHAIN (Python 3.10+)")
    def test_without_partial_chain_openssl_refuses_the_leaf(self):
        # Control: the flag is what makes the test above pass. Python 3.13 sets it by default,
        # so it is cleared here.
        context = ssl.create_default_context(cafile=CERTS["leaf"])
        context.verify_flags &= ~ssl.VERIFY_X509_PARTIAL_CHAIN
        host, port = self.server.address.split(":")
        with socket.create_connection((host, int(port)), timeout=5) as sock:
            with self.assertRaises(ssl.SSLCertVerificationError):
                context.wrap_socket(sock, server_hostname=host).close()

    def test_other_ca_or_its_leaf_is_refused(self):
        for ca in (CERTS["other_ca"], CERTS["other_leaf"]):
            with self.subTest(ca=ca):
                with self.assertRaises(ssl.SSLCertVerificationError) as cm:
                    self.connect(ca)
                # A ConnectionError too, as connect() promises, saying where and why.
                self.assertIsInstance(cm.exception, ConnectionError)
                self.assertIn("the TLS handshake with the orch server at %s failed: "
                              % self.server.address, str(cm.exception))
                self.assertIn("CERTIFICATE_VERIFY_FAILED", str(cm.exception))
                self.assertEqual(cm.exception.reason, "CERTIFICATE_VERIFY_FAILED")

    @unittest.skipUnless(PARTIAL_CHAIN, "needs ssl.VERIFY_X509_PARTIAL_CHAIN (Python 3.10+)")
    def test_direct_call_context_trusts_the_leaf_too(self):
        # client_tls_context checks workers' direct ports; it skips the host name.
        context = direct.client_tls_context(CERTS["leaf"])
        self.assertTrue(context.verify_flags & ssl.VERIFY_X509_PARTIAL_CHAIN)
        host, port = self.server.address.split(":")
        with socket.create_connection((host, int(port)), timeout=5) as sock:
            tls = context.wrap_socket(sock)
            self.assertIsNotNone(tls.getpeercert())
            tls.close()
        refusing = direct.client_tls_context(CERTS["other_leaf"])
        with socket.create_connection((host, int(port)), timeout=5) as sock:
            with self.assertRaises(ssl.SSLCertVerificationError):
                refusing.wrap_socket(sock).close()


class HostNameTest(unittest.TestCase):
    """With a CA file, clients check the server's certificate chain, not its name (servers in
    a cluster are reached by IP), in Python as in Java (PROTOCOL.md §7, TLS)."""

    @classmethod
    def setUpClass(cls):
        cls.cert, key = self_signed_cert(CERTS["dir"], "named", san="DNS:orch-server.example")
        cls.server = OrchServer(extra_args=("--tls-cert", cls.cert, "--tls-key", key),
                                tls_ca=cls.cert)
        cls.addClassCleanup(cls.server.cleanup)
        cls.server.start()

    def test_certificate_naming_another_host_is_accepted_from_a_ca_file(self):
        host, port = self.server.address.split(":")
        # Control: the name really does not match 127.0.0.1.
        with socket.create_connection((host, int(port)), timeout=5) as sock:
            with self.assertRaises(ssl.SSLCertVerificationError) as caught:
                ssl.create_default_context(cafile=self.cert).wrap_socket(
                    sock, server_hostname=host).close()
            self.assertIn("IP address mismatch", str(caught.exception))
        with orch.Manager(self.server.address, authkey=self.server.authkey, tls_ca=self.cert,
                          connect_timeout=5) as m:
            self.assertEqual(m.list([3])[:], [3])
        r = self.server.cli("health", "--tls-ca", self.cert)
        self.assertEqual(r.returncode, 0, r.stderr)


class SpawnedChildTest(unittest.TestCase):
    """A child spawned by a TLS server reaches it with ``Manager()`` (needs the server to hand
    children ORCH_TLS_CA, PROTOCOL.md §10)."""

    def setUp(self):
        self.server = SERVER["tls"]
        self.m = self.server.manager()
        self.addCleanup(self.m.close)

    def orch(self, *args: str, timeout: float = 60) -> subprocess.CompletedProcess:
        """``orch CMD --options… ARGS``: the client options go before a spawn's ``--``."""
        cmd, rest = args[0], args[1:]
        return subprocess.run(
            [ORCH_BIN, cmd, "--address", self.server.address, "--authkey-file",
             str(self.server.keyfile), "--tls-ca", CERTS["ca"], *rest],
            env=self.server.env(), capture_output=True, text=True, timeout=timeout)

    def process_op(self, **body):
        """A PROTOCOL.md §10 request (faster than one JVM per ``orch`` command)."""
        return self.m._connection().request("orch.process", body, timeout=30)

    def _forget(self, pid: str) -> None:
        for op in ("kill", "rm"):
            try:
                self.process_op(op=op, id=pid)
            except (OSError, orch.OrchError):
                pass

    @unittest.skipUnless(PARTIAL_CHAIN, "needs ssl.VERIFY_X509_PARTIAL_CHAIN (Python 3.10+)")
    def test_spawned_python_child_connects_with_no_options(self):
        code = ("import orch\n"
                "m = orch.Manager().connect()\n"
                "d = m.dict(); d['who'] = 'child'\n"
                "print('child-ok', m._tls, d['who'], flush=True)\n"
                "m.close()\n")
        script = ('echo "ca=${ORCH_TLS_CA:-}"; '
                  '[ -n "${ORCH_TLS_CA:-}" ] && exec "$0" -c "$1"; echo no-ca')
        r = self.orch("spawn", "--env", "PYTHONPATH=%s" % PY_ROOT, "--",
                      "sh", "-c", script, sys.executable, code)
        self.assertEqual(r.returncode, 0, r.stderr)
        pid = r.stdout.strip()
        self.addCleanup(self._forget, pid)

        def ended():
            for entry in self.process_op(op="ps", all=True)["processes"]:
                if entry.get("id") == pid and entry.get("state") not in ("running", "starting"):
                    return entry
            return None

        entry = wait_until(ended, 60, "spawned %s to end" % pid, interval=0.1)
        logs = self.orch("logs", pid)
        self.assertEqual(logs.returncode, 0, logs.stderr)
        out = logs.stdout + logs.stderr
        if "no-ca" in logs.stdout.splitlines():
            self.skipTest("this orch server does not hand its children ORCH_TLS_CA yet")
        self.assertIn("ca=" + CERTS["leaf"], logs.stdout.splitlines(), out)
        self.assertIn("child-ok True child", logs.stdout.splitlines(), out)
        self.assertEqual(entry.get("exitCode"), 0, entry)


if __name__ == "__main__":
    unittest.main()
