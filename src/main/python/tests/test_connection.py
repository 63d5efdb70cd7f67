"""Login, key resolution and connection loss against a real server."""
import gc
import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import weakref
from pathlib import Path
from unittest import mock

import orch
from orch import _auth
from tests.support import (ORCH_BIN, OrchServer, ServerTestCase, free_port, patched_env,
                           run_in_threads, wait_until)
from tests.test_direct import recv_frame, send_frame


class LoginTest(ServerTestCase):
    def test_wrong_authkey_is_a_clear_error(self):
        with self.assertRaises(orch.AuthenticationError) as cm:
            orch.Manager(self.server.address, authkey=b"wrong").connect()
        # Refused by the server now (it proves nothing first), worded as before.
        self.assertEqual(str(cm.exception),
                         "authentication failed: the orch server at %s does not hold the same "
                         "authkey as this client (check ORCH_AUTHKEY / ORCH_AUTHKEY_FILE / "
                         "ORCH_HOME)" % self.server.address)

    def test_first_call_connects_a_manager_never_connected(self):
        m = orch.Manager(self.server.address, authkey=self.server.authkey)
        self.assertIsNone(m.session)
        q = m.Queue()  # as with multiprocessing.Manager(): no connect() needed
        self.addCleanup(m.close)
        self.assertTrue(m.session)
        q.put(1)
        self.assertEqual(q.get(timeout=5), 1)
        m.close()
        with self.assertRaisesRegex(ConnectionError, "Manager is closed; call connect"):
            m.dict()  # closed on purpose: no silent new session
        m.connect()
        self.assertEqual(len(m.dict({"a": 1})), 1)

    def test_first_call_raises_what_connect_raises(self):
        with self.assertRaises(orch.AuthenticationError):
            orch.Manager(self.server.address, authkey=b"wrong").dict()

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
        with self.assertRaises(ConnectionError):
            orch.Manager(("127.0.0.1", free_port()), authkey=b"x").connect()

    def test_many_threads_many_calls(self):
        d = self.m.dict()
        barrier = threading.Barrier(16)

        def work(i):
            barrier.wait()
            for j in range(100):
                d[f"{i}.{j}"] = j
                self.assertEqual(d[f"{i}.{j}"], j)
        run_in_threads(self, work, 16)
        self.assertEqual(len(d), 1600)

    def test_calls_in_flight_when_background_reading_starts_get_their_replies(self):
        # A lone caller reads its own reply off the socket; once the connection must also take
        # frames nobody asked for (hosting), background readers take over mid-call.
        d = self.m.dict()
        started = threading.Barrier(9)

        def work(i):
            started.wait()
            if i == 8:
                time.sleep(0.05)
                self.m.start_serving()
                return
            for j in range(300):
                d[f"{i}.{j}"] = j
                self.assertEqual(d[f"{i}.{j}"], j)
        run_in_threads(self, work, 9, timeout=60)
        self.assertEqual(len(d), 2400)
        self.assertTrue(self.m._connection()._background)
        self.assertEqual(self.m.Value(7).get(), 7)


class ServerProofTest(unittest.TestCase):
    """The client proves the key first and takes the connection only once the proof in the
    server's login reply checks out (PROTOCOL.md §3): a fake server on a real socket."""

    KEY = b"the-key"

    def refused(self, server_proof) -> None:
        """Asserts a login reply with ``server_proof(cn, sn)`` (absent when None) is refused."""
        listener = socket.create_server(("127.0.0.1", 0))
        self.addCleanup(listener.close)
        seen: dict = {}

        def serve():
            conn, _ = listener.accept()
            with conn:
                conn.settimeout(10)
                challenge = recv_frame(conn)
                cn = _auth.unb64(challenge["body"]["clientNonce"])
                sn = os.urandom(32)
                send_frame(conn, {"type": "message", "address": challenge["replyAddress"],
                                  "body": {"serverNonce": _auth.b64(sn), "alg": _auth.ALGORITHM}})
                login = recv_frame(conn)
                seen["proved"] = _auth.matches(_auth.client_proof(self.KEY, sn, cn),
                                               _auth.unb64(login["body"].get("proof")))
                body = {"session": "fake", "protocol": 1, "server": "orch/fake"}
                proof = server_proof(cn, sn)
                if proof is not None:
                    body["serverProof"] = proof
                send_frame(conn, {"type": "message", "address": login["replyAddress"],
                                  "body": body})
                try:
                    seen["after"] = conn.recv(1)
                except OSError:
                    seen["after"] = b""

        t = threading.Thread(target=serve, daemon=True)
        t.start()
        host, port = listener.getsockname()[:2]
        with self.assertRaises(orch.AuthenticationError) as cm:
            orch.Manager("%s:%d" % (host, port), authkey=self.KEY).connect()
        self.assertIn("does not hold the same authkey", str(cm.exception))
        t.join(10)
        self.assertTrue(seen.get("proved"), "the client proved the key first")
        self.assertEqual(seen.get("after"), b"", "nothing sent after a bad login reply")

    def test_missing_server_proof_is_refused(self):
        self.refused(lambda cn, sn: None)

    def test_wrong_server_proof_is_refused(self):
        self.refused(lambda cn, sn: _auth.b64(_auth.server_proof(b"other", cn, sn)))
        self.refused(lambda cn, sn: _auth.b64(_auth.client_proof(self.KEY, sn, cn)))
        self.refused(lambda cn, sn: "%%")


class ConnectFailureTest(ServerTestCase):
    """A failed connect keeps its cause's class (and is a ConnectionError, as connect() says)."""

    def test_refused(self):
        with self.assertRaises(ConnectionRefusedError) as cm:
            orch.Manager(("127.0.0.1", free_port()), authkey=b"k").connect()
        self.assertIn("cannot connect to orch server at 127.0.0.1:", str(cm.exception))

    def test_unknown_host(self):
        with self.assertRaises(socket.gaierror) as cm:
            orch.Manager(("no-such-host.invalid", 1), authkey=b"k").connect()
        self.assertIsInstance(cm.exception, ConnectionError)
        self.assertIsNotNone(cm.exception.errno)
        self.assertIn("cannot connect to orch server at no-such-host.invalid:1: ",
                      str(cm.exception))

    def test_timeout(self):
        # A listener whose backlog is full drops further SYNs: the connect times out.
        listener = socket.socket()
        self.addCleanup(listener.close)
        listener.bind(("127.0.0.1", 0))
        listener.listen(0)
        filler = socket.create_connection(listener.getsockname())
        self.addCleanup(filler.close)
        start = time.monotonic()
        with self.assertRaises(TimeoutError if sys.version_info >= (3, 10) else socket.timeout) as cm:
            orch.Manager(listener.getsockname(), authkey=b"k", connect_timeout=0.5).connect()
        self.assertIsInstance(cm.exception, ConnectionError)
        self.assertIn("cannot connect", str(cm.exception))
        self.assertLess(time.monotonic() - start, 10)

    def test_empty_host_is_this_host_as_for_socket_connect(self):
        with orch.Manager(("", self.server.port), authkey=self.server.authkey,
                          tls_ca=self.server.tls_ca) as m:
            self.assertEqual(m.address, ("", self.server.port))
            self.assertEqual(m.dict(a=1).copy(), {"a": 1})


class FakeServer:
    """A peer on 127.0.0.1 that takes one connection and runs ``script(conn)`` on it (the
    login included, or not): for what no orch server sends."""

    def __init__(self, test: unittest.TestCase, script) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        test.addCleanup(self.listener.close)
        self.address = self.listener.getsockname()
        self.thread = threading.Thread(target=self._run, args=(script,), daemon=True)
        self.thread.start()
        test.addCleanup(self.thread.join, 10)

    def _run(self, script) -> None:
        conn, _ = self.listener.accept()
        with conn:
            conn.settimeout(10)
            try:
                script(conn)
            except OSError:
                pass  # the client left


KEY = b"fake-key"


def until_closed(conn: socket.socket) -> None:
    """Reads (and drops) what the client sends until it closes the connection."""
    while conn.recv(65536):
        pass


def log_in(conn: socket.socket) -> None:
    """The server's side of the login (PROTOCOL.md §3), for KEY."""
    handshake = _auth.ServerHandshake(KEY)
    challenge = recv_frame(conn)
    answer, _ = handshake.challenge(challenge["body"])
    send_frame(conn, {"type": "message", "address": challenge["replyAddress"], "body": answer})
    login = recv_frame(conn)
    proved, error = handshake.login(login["body"])
    assert error is None, error
    send_frame(conn, {"type": "message", "address": login["replyAddress"], "body": {
        "session": "fake", "protocol": 1, "server": "orch/fake", **proved}})


class LoginFailureTest(unittest.TestCase):
    """Whatever ends the login but a wrong key is a ConnectionError (connect() says so, and the
    serve_forever retry loop relies on it), also of its cause's class where that is public,
    naming the address and what happened."""

    def where(self, server: FakeServer) -> str:
        return "%s:%d" % server.address

    def test_no_login_answer(self):
        # Accepts, never answers: the login times out.
        server = FakeServer(self, until_closed)
        m = orch.Manager(server.address, authkey=KEY, connect_timeout=1)
        m.register("Hosted", dict)
        start = time.monotonic()
        with self.assertRaises(ConnectionError) as cm:
            m.serve_forever()  # the documented retry loop catches ConnectionError
        self.assertIsInstance(cm.exception, TimeoutError if sys.version_info >= (3, 10)
                              else socket.timeout)
        self.assertEqual(str(cm.exception), "no login answer from the orch server at %s within "
                         "1 s" % self.where(server))
        self.assertLess(time.monotonic() - start, 2.5)
        self.assertIsNone(m._conn)

    def test_not_an_orch_server(self):
        from multiprocessing.managers import BaseManager
        other = BaseManager(("127.0.0.1", 0), authkey=b"x")
        other.start()
        self.addCleanup(other.shutdown)
        with self.assertRaises(ConnectionError) as cm:
            orch.Manager(other.address, authkey=b"x", connect_timeout=5).connect()
        self.assertNotIsInstance(cm.exception, orch.OrchError)
        self.assertEqual(type(cm.exception), ConnectionError)
        self.assertIn("%s:%d is not an orch server: it answered the login with bytes that are "
                      "not an orch frame (" % other.address, str(cm.exception))

    def test_other_protocol_announcing_a_huge_frame_is_found_out_at_once(self):
        # "HTTP" read as a length is 1.2 GB: without a bound the client would wait for it.
        server = FakeServer(self, lambda conn: (conn.sendall(b"HTTP/1.1 400 Bad Request\r\n"),
                                                until_closed(conn)))
        start = time.monotonic()
        with self.assertRaises(ConnectionError) as cm:
            orch.Manager(server.address, authkey=KEY, connect_timeout=4).connect()
        self.assertLess(time.monotonic() - start, 3)
        self.assertIn("is not an orch server", str(cm.exception))
        self.assertIn("a frame of 1213486160 bytes announced at the login", str(cm.exception))

    def test_a_login_refused_with_an_error_frame(self):
        def refuse(conn):
            challenge = recv_frame(conn)
            send_frame(conn, {"type": "err", "address": challenge["replyAddress"],
                              "failureCode": 400, "name": "BadRequest",
                              "message": "BadRequest: no such op"})
            until_closed(conn)
        server = FakeServer(self, refuse)
        with self.assertRaises(ConnectionError) as cm:
            orch.Manager(server.address, authkey=KEY, connect_timeout=4).connect()
        self.assertIsInstance(cm.exception, orch.RemoteError)
        self.assertEqual((cm.exception.code, cm.exception.name), (400, "BadRequest"))
        self.assertEqual(str(cm.exception), "the orch server at %s refused the login: [400] "
                         "BadRequest: no such op" % self.where(server))

    def test_a_malformed_frame_after_the_login_is_a_connection_error(self):
        def serve(conn):
            log_in(conn)
            first = recv_frame(conn)  # an err frame whose fields are of the wrong types
            send_frame(conn, {"type": "err", "address": first["replyAddress"], "failureCode": 404,
                              "name": 5, "message": {"not": "text"}})
            recv_frame(conn)
            conn.sendall(b"\x00\x00\x00\x03\xff\xfe\xfd")  # not UTF-8: the stream is unusable
            until_closed(conn)
        server = FakeServer(self, serve)
        m = orch.Manager(server.address, authkey=KEY, connect_timeout=4).connect()
        self.addCleanup(m.close)
        with self.assertRaises(orch.RemoteError) as cm:  # that call fails, the connection stays
            m.lookup("x")
        self.assertEqual(cm.exception.code, 404)
        with self.assertRaises(ConnectionError) as cm:
            m.lookup("y")
        self.assertEqual(type(cm.exception), ConnectionError)
        self.assertIn("the orch server at %s sent a malformed frame (frame is not valid UTF-8"
                      % self.where(server), str(cm.exception))
        with self.assertRaises(ConnectionError):
            m.lookup("z")


class KeyResolutionMatchesCliTest(ServerTestCase):
    """The README promises keys "resolve like the CLI": each case runs ``orch health`` and
    ``orch.Manager().connect()`` with the same environment and expects the same outcome."""

    def setUp(self):
        super().setUp()
        # An empty ORCH_HOME, so no case can pass by falling through to the server's key file.
        self.dir = Path(tempfile.mkdtemp(prefix="orch-keys-"))
        self.addCleanup(shutil.rmtree, self.dir, True)

    def key_file(self, name, data):
        path = self.dir / name
        path.write_bytes(data)
        return str(path)

    def env(self, **values):
        values.setdefault("ORCH_HOME", str(self.dir))
        values.setdefault("ORCH_AUTHKEY", None)
        values.setdefault("ORCH_AUTHKEY_FILE", None)
        values.setdefault("ORCH_ADDRESS", None)
        return values

    def cli_health(self, env):
        full = self.server.env()
        for k, v in env.items():
            if v is None:
                full.pop(k, None)
            else:
                full[k] = v
        return subprocess.run([ORCH_BIN, "health", "--address", self.server.address], env=full,
                              capture_output=True, text=True, timeout=60)

    def python_connect(self, env):
        """None when the Manager logs in, else the exception it raised."""
        with patched_env(**env):
            try:
                orch.Manager(self.server.address).connect().close()
            except Exception as e:
                return e
        return None

    def assert_both_log_in(self, env):
        cli = self.cli_health(env)
        self.assertEqual(cli.returncode, 0, "CLI: " + cli.stderr)
        self.assertIsNone(self.python_connect(env))

    def test_key_file_ending_in_crlf(self):
        key = self.server.authkey
        self.assert_both_log_in(self.env(ORCH_AUTHKEY_FILE=self.key_file("crlf", key + b"\r\n")))
        (self.dir / "authkey").write_bytes(key + b"\r\n")  # the default file is read the same way
        self.assert_both_log_in(self.env())

    def test_empty_orch_authkey_falls_through_to_the_key_file(self):
        key_file = self.key_file("k", self.server.authkey + b"\n")
        self.assert_both_log_in(self.env(ORCH_AUTHKEY="", ORCH_AUTHKEY_FILE=key_file))
        (self.dir / "authkey").write_bytes(self.server.authkey)
        self.assert_both_log_in(self.env(ORCH_AUTHKEY=""))

    def test_empty_key_file_is_a_clear_error(self):
        for data in (b"", b"\n", b"\r\n"):
            with self.subTest(data=data):
                path = self.key_file("empty", data)
                env = self.env(ORCH_AUTHKEY_FILE=path)
                cli = self.cli_health(env)
                self.assertNotEqual(cli.returncode, 0)
                self.assertIn("auth key file %s is empty" % path, cli.stderr)
                error = self.python_connect(env)
                # An OSError like a missing key file, not a login failure blaming the server.
                self.assertIsInstance(error, OSError)
                self.assertNotIsInstance(error, ConnectionError)
                self.assertEqual(str(error), "auth key file %s is empty" % path)

    def test_empty_key_file_fails_before_connecting(self):
        # Nothing listens there: a connection attempt would raise ConnectionError instead.
        with patched_env(**self.env(ORCH_AUTHKEY_FILE=self.key_file("empty", b""))):
            with self.assertRaises(OSError) as cm:
                orch.Manager(("127.0.0.1", free_port())).connect()
        self.assertNotIsInstance(cm.exception, ConnectionError)
        self.assertIn("is empty", str(cm.exception))

    def test_authkey_argument_types(self):
        # bytes() would take these too: five zero bytes, b"k".
        for bad in (5, [107]):
            with self.subTest(authkey=bad):
                with self.assertRaises(TypeError) as cm:
                    orch.Manager(self.server.address, authkey=bad)
                self.assertIn("authkey must be bytes, bytearray or str", str(cm.exception))
        for empty in (b"", "", bytearray()):
            with self.subTest(authkey=empty):
                with self.assertRaises(ValueError):
                    orch.Manager(self.server.address, authkey=empty)
        key = self.server.authkey
        for good in (key, bytearray(key), key.decode()):
            with self.subTest(authkey=good):
                orch.Manager(self.server.address, authkey=good).connect().close()


def server_connections(port: int) -> int:
    """Established TCP connections whose local port is ``port``: the server's ends of its
    sessions (and of nothing else, for a server that listens there)."""
    count = 0
    for name in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(name) as f:
                lines = f.readlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if int(fields[1].rsplit(":", 1)[1], 16) == port and fields[3] == "01":
                count += 1
    return count


class Thing:
    def __init__(self, start=0):
        self.n = start

    def get(self):
        return self.n


@unittest.skipUnless(os.path.exists("/proc/net/tcp") and os.path.isdir("/proc/self/fd"),
                     "needs Linux's /proc")
class UnreferencedManagerTest(ServerTestCase):
    """A Manager nothing references any more (no variable, no proxy, no call waiting, not
    hosting) is closed once collected: its threads end, its sockets close and the server ends
    its session. One still in use by any of those goes on working."""

    @staticmethod
    def fds() -> int:
        return len(os.listdir("/proc/self/fd"))

    def new(self) -> orch.Manager:
        return orch.Manager(self.server.address, authkey=self.server.authkey,
                            tls_ca=self.server.tls_ca).connect()

    def assert_freed(self, use, count: int = 100) -> None:
        gc.collect()
        threads, fds = threading.active_count(), self.fds()
        sessions = server_connections(self.server.port)
        for _ in range(count):
            use()
        gc.collect()
        # Tickers exit as their connection goes; give them and the server a moment.
        wait_until(lambda: threading.active_count() < threads + 10, 10,
                   "the threads of unreferenced Managers to end (%d, from %d)"
                   % (threading.active_count(), threads))
        wait_until(lambda: self.fds() < fds + 10, 10, "their sockets to close")
        wait_until(lambda: server_connections(self.server.port) < sessions + 10, 10,
                   "the server to end their sessions (%d, from %d)"
                   % (server_connections(self.server.port), sessions))

    def test_managers_dropped_without_close_are_freed(self):
        self.m.Value(7, name="unreferenced-ctr")
        self.addCleanup(self.m.delete, "unreferenced-ctr")

        def get_value():
            m = self.new()
            return m.lookup("unreferenced-ctr").value
        self.assert_freed(get_value)

    def test_direct_connections_of_dropped_managers_are_freed(self):
        self.m.register("UnreferencedThing", Thing)
        self.m.start()

        def call_direct():
            t = self.new().UnreferencedThing(3)
            self.assertIsNotNone(t._route)
            self.assertEqual(t.get(), 3)
            self.assertIsNotNone(t._route.conn, "the call went direct")
        self.assert_freed(call_direct, 30)
        wait_until(lambda: self.m._host._listener.peers < 10, 10,
                   "the worker to see the direct connections close")

    def test_a_proxy_keeps_its_connection(self):
        lst = self.new().list([1])
        gc.collect()
        time.sleep(1.5)  # a ticker's period: it would have found its connection gone
        lst.append(2)
        self.assertEqual(lst[:], [1, 2])
        self.assertFalse(lst._conn.closed)

    def test_a_waiting_call_keeps_its_connection(self):
        q = self.new().Queue(name="unreferenced-q")
        self.addCleanup(self.m.delete, "unreferenced-q")
        got = []
        waiter = threading.Thread(target=lambda get: got.append(get(timeout=30)), args=(q.get,))
        waiter.start()
        del q
        gc.collect()
        time.sleep(1.5)
        self.m.lookup("unreferenced-q").put("item")
        waiter.join(30)
        self.assertEqual(got, ["item"])

    def test_a_hosting_manager_keeps_serving(self):
        host = self.new()
        host.register("UnreferencedHosted", Thing)
        host.start()
        conn = weakref.ref(host._conn)
        self.addCleanup(lambda: conn() and conn().close())
        del host
        gc.collect()
        time.sleep(1.5)
        self.assertIsNotNone(conn(), "the hosting connection was collected")
        self.assertEqual(self.m.UnreferencedHosted(5).get(), 5)


class InterruptedCallTest(ServerTestCase):
    """Ctrl-C in a blocking call: the server may hold the call, so the connection must go (that
    is how a call is withdrawn), and nothing the call would have taken is lost."""

    def setUp(self):
        super().setUp()
        previous = signal.signal(signal.SIGINT, signal.default_int_handler)
        self.addCleanup(signal.signal, signal.SIGINT, previous)
        self.records = []
        handler = logging.Handler()
        handler.emit = self.records.append
        logging.getLogger("orch").addHandler(handler)
        self.addCleanup(logging.getLogger("orch").removeHandler, handler)

    def interrupted_get(self, m, name, interrupt=None, expected=KeyboardInterrupt):
        q = m.Queue(name=name)
        if interrupt is None:
            threading.Timer(0.3, os.kill, (os.getpid(), signal.SIGINT)).start()
        else:
            interrupt()
        with self.assertRaises(type(expected) if isinstance(expected, BaseException)
                               else expected) as raised:
            q.get()
        if isinstance(expected, BaseException):  # the very exception, not one made from it
            self.assertIs(raised.exception, expected)
        with self.assertRaises(ConnectionError) as cm:
            q.qsize()
        self.assertIn("interrupted (%s)" % type(raised.exception).__name__, str(cm.exception))
        with self.assertRaises(ConnectionError):
            m.dict()
        # The server dropped the parked get: the next item goes to the next consumer.
        with self.server.manager() as other:
            q2 = other.lookup(name)
            q2.put("item")
            self.assertEqual(q2.get(timeout=5), "item")
        self.assertEqual([r.getMessage() for r in self.records if r.levelno >= logging.ERROR], [])

    def test_a_lone_caller(self):
        m = self.server.manager()
        self.addCleanup(m.close)
        self.interrupted_get(m, "interrupted-lone")

    def test_a_caller_waiting_on_a_background_reader(self):
        m = self.server.manager()
        self.addCleanup(m.close)
        m.start_serving()  # background readers read; the caller sleeps until its reply is in
        self.interrupted_get(m, "interrupted-background")

    def alarm_raising(self, error):
        """The ``signal.alarm`` timeout pattern: a handler that raises ``error`` into the wait."""
        def handler(signum, frame):
            raise error
        previous = signal.signal(signal.SIGALRM, handler)
        self.addCleanup(signal.signal, signal.SIGALRM, previous)
        self.addCleanup(signal.setitimer, signal.ITIMER_REAL, 0)
        return lambda: signal.setitimer(signal.ITIMER_REAL, 0.3)

    def test_a_signal_handlers_exception_in_a_lone_caller(self):
        # TimeoutError is an OSError, as the socket's own failures are; it stays the caller's.
        for error in (TimeoutError("deadline"), LookupError("mine")):
            with self.subTest(error=type(error).__name__):
                m = self.server.manager()
                self.addCleanup(m.close)
                self.interrupted_get(m, "alarm-lone-%s" % type(error).__name__,
                                     self.alarm_raising(error), error)

    def test_a_signal_handlers_exception_while_a_background_thread_reads(self):
        m = self.server.manager()
        self.addCleanup(m.close)
        m.start_serving()
        error = TimeoutError("deadline")
        self.interrupted_get(m, "alarm-background", self.alarm_raising(error), error)

    def test_a_signal_handlers_exception_while_another_caller_reads(self):
        m = self.server.manager()
        self.addCleanup(m.close)
        other = m.Queue()
        outcome = []

        def read():  # this thread's own wait makes it the reader
            try:
                outcome.append(other.get(timeout=10))
            except BaseException as e:
                outcome.append(e)
        reader = threading.Thread(target=read)
        reader.start()
        self.addCleanup(reader.join, 15)
        time.sleep(0.2)
        error = TimeoutError("deadline")
        self.interrupted_get(m, "alarm-other-reader", self.alarm_raising(error), error)
        reader.join(15)
        self.assertIsInstance(outcome[0], ConnectionError)


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
