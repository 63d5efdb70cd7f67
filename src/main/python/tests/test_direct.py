"""Direct calls to a hosting worker (PROTOCOL.md §7, "Direct calls").

A Python worker (tests/hosted_worker.py) listens for direct calls and offers its address with
``host``; a client then calls its objects over a connection to the worker instead of through
the server. ``thread_name()`` tells which path a call took: a direct call runs on an
``orch-direct-…`` thread, a call through the server on the worker's ``orch-reader-…`` thread.
"""
import base64
import json
import os
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
import unittest
from pathlib import Path

import orch
import orch.direct
from orch import _auth
from tests.support import (ORCH_BIN, PY_ROOT, OrchServer, ServerTestCase, assert_hosted_errors,
                           assert_sleep_does_not_stall, call_later, kill_once_started, patched_env,
                           run_in_threads, wait_until)


def start_worker(server: OrchServer, typeid: str, **env_extra: str):
    """A tests.hosted_worker process hosting ``typeid``; returns (process, direct address or
    None)."""
    env = server.env()
    env["ORCH_AUTHKEY_FILE"] = str(server.keyfile)
    env.pop("ORCH_DIRECT", None)
    env.update(env_extra)
    proc = subprocess.Popen([sys.executable, "-m", "tests.hosted_worker", server.address, typeid],
                            cwd=str(PY_ROOT), env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    line = proc.stdout.readline()
    if line.strip() != "ready":
        proc.kill()
        raise AssertionError("worker did not start: " + line + proc.stdout.read())
    direct = proc.stdout.readline().split()
    if direct[:1] != ["direct"]:
        proc.kill()
        raise AssertionError("worker did not print its direct address: %r" % direct)
    return proc, (None if direct[1] == "none" else direct[1])


def stop_worker(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)
    proc.stdout.close()


def hosted_types(m: orch.Manager) -> dict:
    return {t["typeid"]: t for t in m.types()}


# -- raw frames, for the worker's side of the protocol -------------------------------------------

def send_frame(sock: socket.socket, frame) -> None:
    payload = json.dumps(frame).encode() if not isinstance(frame, bytes) else frame
    sock.sendall(struct.pack(">I", len(payload)) + payload)


def recv_exact(sock: socket.socket, n: int) -> bytes:
    data = b""
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            raise EOFError("closed after %d of %d bytes" % (len(data), n))
        data += chunk
    return data


def recv_frame(sock: socket.socket) -> dict:
    (length,) = struct.unpack(">I", recv_exact(sock, 4))
    return json.loads(recv_exact(sock, length))


def assert_closed(test: unittest.TestCase, sock: socket.socket) -> None:
    """The peer closed: recv gives EOF (or a reset) within the socket's timeout."""
    try:
        data = sock.recv(1)
    except ConnectionResetError:
        return
    test.assertEqual(data, b"", "the worker kept the connection open")


def raw_connect(address: str) -> socket.socket:
    host, port = _auth.parse_address(address)
    sock = socket.create_connection((host, port), timeout=30)
    sock.settimeout(30)
    return sock


def raw_login(sock: socket.socket, key: bytes, session=None) -> dict:
    """The client's side of the login, by hand; returns the login reply frame."""
    client_nonce = os.urandom(32)
    send_frame(sock, {"type": "send", "address": "orch.auth", "replyAddress": "a1",
                      "body": {"op": "challenge", "clientNonce": _auth.b64(client_nonce)}})
    reply = recv_frame(sock)
    assert reply["type"] == "message" and reply["address"] == "a1", reply
    server_nonce = base64.b64decode(reply["body"]["serverNonce"])
    body = {"op": "login",
            "proof": _auth.b64(_auth.client_proof(key, server_nonce, client_nonce))}
    if session is not None:
        body["session"] = session
    send_frame(sock, {"type": "send", "address": "orch.auth", "replyAddress": "a2", "body": body})
    login = recv_frame(sock)
    if login["type"] == "message":
        assert _auth.matches(_auth.server_proof(key, client_nonce, server_nonce),
                             _auth.unb64(login["body"].get("serverProof"))), login
    return login


class DirectCallTest(ServerTestCase):
    """A worker with the default ORCH_DIRECT: calls from this process go to it directly."""

    TYPEID = "DirectUtility"

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.worker, cls.direct = start_worker(cls.server, cls.TYPEID)

    @classmethod
    def tearDownClass(cls):
        stop_worker(cls.worker)
        super().tearDownClass()

    def make(self, **kwargs):
        return self.m.create(self.TYPEID, **kwargs)

    def test_description_offers_the_worker(self):
        self.assertIsNotNone(self.direct)
        host = hosted_types(self.m)[self.TYPEID]["host"]
        self.make(name="direct-desc")
        self.addCleanup(self.m.delete, "direct-desc")
        desc = self.m._manager_op("lookup", name="direct-desc")
        self.assertEqual(desc["host"], host)
        self.assertEqual(desc["direct"], self.direct)
        # on loopback, as the worker's own connection to the server
        self.assertTrue(self.direct.startswith("127.0.0.1:"), self.direct)

    def test_call_goes_direct(self):
        u = self.make()
        self.assertEqual(u.capitalize("hello"), "Hello")
        self.assertEqual(u.echo({"a": [1, None, 2.5]}), {"a": [1, None, 2.5]})
        self.assertTrue(u.thread_name().startswith("orch-direct"), u.thread_name())
        # the method sees the caller's session, which the client sent with its direct login
        self.assertEqual(u.caller(), self.m.session)

    def test_client_with_direct_off_calls_through_the_server(self):
        with patched_env(ORCH_DIRECT="off"):
            m = self.server.manager()
        self.addCleanup(m.close)
        u = m.create(self.TYPEID)
        self.assertEqual(u.capitalize("hello"), "Hello")
        self.assertTrue(u.thread_name().startswith("orch-reader"), u.thread_name())
        self.assertEqual(u.caller(), m.session)  # the server sends the caller's session too
        self.assertEqual(m._routes, {})
        self.assert_values_kept_or_refused(u)

    def assert_values_kept_or_refused(self, u):
        self.assertEqual(u.echo(["a\ud800b", "\udc00"]), ["a\ud800b", "\udc00"])
        with self.assertRaisesRegex(ValueError, "keys 1 and '1' both become the JSON key"):
            u.colliding_keys()
        with self.assertRaisesRegex(ValueError, "both become the JSON key"):
            u.echo({True: 1, "true": 2})  # refused here, before anything is sent

    def test_values_kept_or_refused_direct(self):
        u = self.make()
        self.assert_values_kept_or_refused(u)
        self.assertTrue(u.thread_name().startswith("orch-direct"), u.thread_name())

    def test_exposure_errors(self):
        u = self.make()
        with self.assertRaises(orch.RemoteError) as cm:
            u._callmethod("_secret")
        self.assertEqual((cm.exception.code, cm.exception.name), (403, "Forbidden"))
        self.assertTrue(cm.exception.message.startswith("Forbidden: "), cm.exception.message)
        with self.assertRaises(orch.RemoteError) as cm:
            u._callmethod("no_such_method")
        self.assertEqual((cm.exception.code, cm.exception.name), (404, "NotFound"))
        self.assertTrue(u.thread_name().startswith("orch-direct"))

    def test_raised_errors_map_to_exceptions(self):
        u = self.make()
        self.assertTrue(u.thread_name().startswith("orch-direct"))
        assert_hosted_errors(self, u)
        # The messages too, as the worker's own err frames carry them.
        with self.assertRaises(ValueError) as cm:
            u.fail("value")
        self.assertEqual(cm.exception.message, "ValueError: boom")
        with self.assertRaises(KeyError) as cm:
            u.fail("key")
        self.assertEqual(cm.exception.args, ("boom",))
        self.assertEqual(cm.exception.message, "KeyError: 'boom'")

    def test_released_object_is_not_found(self):
        u = self.make()
        self.assertEqual(u.capitalize("x"), "X")
        route = u._route
        self.assertIsNotNone(route)
        u._release()

        def not_found():
            try:
                u.capitalize("x")
            except orch.RemoteError as e:
                return e
            return None
        e = wait_until(not_found, 30, "the worker to drop the released object")
        self.assertEqual((e.code, e.name), (404, "NotFound"))
        self.assertFalse(route.conn.closed)  # answered by the worker over the direct connection

    def test_blocking_call_does_not_stall_other_calls(self):
        u = self.make()
        self.assertTrue(u.thread_name().startswith("orch-direct"))
        assert_sleep_does_not_stall(self, u)
        self.assertEqual(len(self.m._routes), 1)  # all on the one direct connection

    def test_call_waiting_on_remote_queue_does_not_stall(self):
        try:
            q = self.m.create("Queue", name="direct-q")
        except orch.RemoteError as e:
            if e.code == 404:
                self.skipTest("server has no Queue")
            raise
        self.addCleanup(self.m.delete, "direct-q")
        u = self.make()
        got = []
        waiters = [threading.Thread(target=lambda: got.append(u.queue_get("direct-q")))
                   for _ in range(3)]
        for t in waiters:
            t.start()
        time.sleep(0.2)  # let the gets block in the worker
        self.assertEqual(u.capitalize("still here"), "Still here")
        self.assertTrue(all(t.is_alive() for t in waiters))
        for i in range(3):
            q.put(i)
        for t in waiters:
            t.join(30)
        self.assertEqual(sorted(got), [0, 1, 2])

    def test_many_threads_share_the_direct_connection(self):
        u = self.make()

        def work(i):
            for j in range(50):
                self.assertEqual(u.echo([i, j]), [i, j])
        run_in_threads(self, work, 8, 60)
        self.assertEqual(len(self.m._routes), 1)

    def test_close_closes_direct_connections(self):
        m = self.server.manager()
        u = m.create(self.TYPEID)
        u.capitalize("x")
        conn = u._route.conn
        self.assertFalse(conn.closed)
        m.close()
        self.assertTrue(conn.closed)
        with self.assertRaises(ConnectionError):
            u.capitalize("x")

    def test_forked_child_closing_the_manager_leaves_the_parent_working(self):
        # As a child leaving `with orch.Manager() as m:` does: the parent's connections (to the
        # server, and direct to the worker) are shared with the child, which must close only
        # its own copies and send nothing on them.
        m = self.server.manager()
        self.addCleanup(m.close)
        d = m.dict()
        d["k"] = 1
        u = self.make()
        self.assertTrue(u.thread_name().startswith("orch-direct"))
        pid = os.fork()
        if pid == 0:
            code = 1
            try:
                m.__exit__(None, None, None)
                code = 0
            finally:
                os._exit(code)  # never the test runner's cleanup in the child
        _, status = os.waitpid(pid, 0)
        self.assertEqual(os.waitstatus_to_exitcode(status) if hasattr(os, "waitstatus_to_exitcode")
                         else status >> 8, 0)
        self.assertEqual(d["k"], 1)
        self.assertTrue(u.thread_name().startswith("orch-direct"))
        self.assertEqual(u.echo(2), 2)

    def test_process_forked_in_a_direct_call_serves_its_calls_concurrently(self):
        # The worker forks during a direct call, when its direct-call watchdog is awake; the
        # child hosts a type of its own, whose blocking calls must not hold up the others.
        typeid = "ForkedChild%d" % os.getpid()
        child = self.make().fork_host(typeid)
        self.addCleanup(os.kill, child, signal.SIGKILL)
        wait_until(lambda: typeid in hosted_types(self.m), 30, "the forked child to host")
        c = self.m.create(typeid)
        self.assertTrue(c.thread_name().startswith("orch-direct"))
        assert_sleep_does_not_stall(self, c)

    def test_reconnected_manager_calls_direct_at_once(self):
        m = self.server.manager()
        self.addCleanup(m.close)
        u = self.make_with(m)
        # The server connection is lost (as a Ctrl-C in a call closes it) before the first call
        # on u: that call cannot go direct, which is not the worker's fault.
        m._conn.close()
        with self.assertRaises(ConnectionError) as cm:
            u.capitalize("x")
        self.assertNotIsInstance(cm.exception, orch.RemoteError)
        self.assertEqual(u._route._failures, 0)
        m.connect()
        u2 = self.make_with(m)
        self.assertIsNot(u2._route, u._route)
        self.assertTrue(u2.thread_name().startswith("orch-direct"), u2.thread_name())
        self.assertEqual(u2.caller(), m.session)  # the direct login says the new session
        with self.assertRaises(ConnectionError):
            u.capitalize("x")  # the old proxy stays with the old connection

    def test_close_from_another_thread_fails_direct_calls_as_others(self):
        m = self.server.manager()
        u = self.make_with(m)
        self.assertTrue(u.thread_name().startswith("orch-direct"))
        q = m.create("Queue")
        failures = {}

        def call(key, fn, *args):
            try:
                fn(*args)
            except BaseException as e:  # examined below
                failures[key] = e
        threads = [threading.Thread(target=call, args=("direct", u.sleep, 10)),
                   threading.Thread(target=call, args=("server", q.get))]
        for t in threads:
            t.start()
        time.sleep(0.3)  # both calls are in flight
        m.close()
        for t in threads:
            t.join(10)
        for key in ("direct", "server"):
            with self.subTest(call=key):
                error = failures.get(key)
                self.assertIs(type(error), ConnectionError, repr(error))
                self.assertEqual(str(error), "orch connection closed")

    def make_with(self, m):
        return m.create(self.TYPEID)

    # -- the worker's side, over raw sockets --

    def test_login_and_calls_on_a_raw_socket(self):
        u = self.make(name="direct-raw")
        self.addCleanup(self.m.delete, "direct-raw")
        host = hosted_types(self.m)[self.TYPEID]["host"]
        with raw_connect(self.direct) as s:
            send_frame(s, {"type": "ping"})
            self.assertEqual(recv_frame(s), {"type": "pong"})  # allowed before login
            reply = raw_login(s, self.server.authkey, session="caller-1")
            self.assertEqual(reply["type"], "message", reply)
            self.assertEqual(reply["body"]["session"], host)
            self.assertEqual(reply["body"]["protocol"], 1)
            self.assertTrue(reply["body"]["server"].startswith("orch-worker/"), reply)
            send_frame(s, {"type": "send", "address": u._address_, "replyAddress": "c1",
                           "body": {"method": "capitalize", "args": ["abc"]}})
            self.assertEqual(recv_frame(s), {"type": "message", "address": "c1",
                                             "body": {"result": "Abc"}})
            send_frame(s, {"type": "send", "address": u._address_, "replyAddress": "c2",
                           "body": {"method": "caller"}})
            self.assertEqual(recv_frame(s)["body"], {"result": "caller-1"})
            send_frame(s, {"type": "send", "address": u._address_, "replyAddress": "c3",
                           "body": {"method": "fail", "kwargs": {"kind": "key"}}})
            self.assertEqual(recv_frame(s), {
                "type": "err", "address": "c3", "failureCode": 500,
                "failureType": "RECIPIENT_FAILURE", "name": "KeyError",
                "message": "KeyError: 'boom'"})
            send_frame(s, {"type": "send", "address": "orch.obj.nonexistent",
                           "replyAddress": "c4", "body": {"method": "echo"}})
            err = recv_frame(s)
            self.assertEqual((err["type"], err["address"], err["failureCode"], err["name"]),
                             ("err", "c4", 404, "NotFound"))
            # not a call: 400, and the connection stays usable
            send_frame(s, {"type": "send", "address": "orch.manager", "replyAddress": "c5",
                           "body": {"op": "types"}})
            err = recv_frame(s)
            self.assertEqual((err["type"], err["address"], err["failureCode"]),
                             ("err", "c5", 400))
            # args that are not an array, kwargs not an object: 400, as the server's objects say
            for i, body in enumerate(({"method": "capitalize", "args": "ab"},
                                      {"method": "capitalize", "args": {"x": 1}},
                                      {"method": "capitalize", "args": ["ab"], "kwargs": [1]})):
                send_frame(s, {"type": "send", "address": u._address_, "replyAddress": f"a{i}",
                               "body": body})
                err = recv_frame(s)
                self.assertEqual((err["type"], err["address"], err["failureCode"], err["name"]),
                                 ("err", f"a{i}", 400, "BadRequest"), err)
            send_frame(s, {"type": "register", "address": "orch.events"})
            self.assertEqual(recv_frame(s)["failureCode"], 400)
            send_frame(s, b"[1, 2]")  # not a JSON object
            err = recv_frame(s)
            self.assertEqual((err["type"], err["failureCode"], err["name"]),
                             ("err", 400, "BadRequest"))
            send_frame(s, {"type": "send", "address": u._address_, "replyAddress": "c6",
                           "body": {"method": "echo", "args": [7]}})
            self.assertEqual(recv_frame(s)["body"], {"result": 7})
            # numbers the server refuses (PROTOCOL.md §1) are refused here too, not taken as inf
            for token, detail in (("1E+400", "number 1E+400 is out of range"),
                                  ("NaN", "NaN is not a JSON number")):
                send_frame(s, b'{"type":"send","address":"%s","replyAddress":"c7",'
                              b'"body":{"method":"echo","args":[%s]}}'
                           % (u._address_.encode(), token.encode()))
                err = recv_frame(s)
                self.assertEqual((err["address"], err["failureCode"], err["name"]),
                                 ("c7", 400, "BadRequest"))
                self.assertIn(detail, err["message"])

    def test_worker_proves_the_key_only_after_the_client(self):
        # A MAC before the client's proof would let anyone who connects guess the key offline.
        client_nonce = os.urandom(32)
        challenge = {"type": "send", "address": "orch.auth", "replyAddress": "a1",
                     "body": {"op": "challenge", "clientNonce": _auth.b64(client_nonce)}}
        with raw_connect(self.direct) as s:
            send_frame(s, challenge)
            reply = recv_frame(s)["body"]
            self.assertEqual(set(reply), {"serverNonce", "alg"})
            server_nonce = base64.b64decode(reply["serverNonce"])
            send_frame(s, {"type": "send", "address": "orch.auth", "replyAddress": "a2",
                           "body": {"op": "login", "proof": _auth.b64(
                               _auth.client_proof(b"wrong-key", server_nonce, client_nonce))}})
            err = recv_frame(s)
            self.assertEqual((err["type"], err["address"], err["failureCode"], err["name"]),
                             ("err", "a2", 401, "Unauthenticated"))
            self.assertNotIn("serverProof", err)
            assert_closed(self, s)
        with raw_connect(self.direct) as s:
            send_frame(s, challenge)
            server_nonce = base64.b64decode(recv_frame(s)["body"]["serverNonce"])
            send_frame(s, {"type": "send", "address": "orch.auth", "replyAddress": "a2",
                           "body": {"op": "login", "proof": _auth.b64(
                               _auth.client_proof(self.server.authkey, server_nonce,
                                                  client_nonce))}})
            login = recv_frame(s)["body"]
            self.assertEqual(base64.b64decode(login["serverProof"]),
                             _auth.server_proof(self.server.authkey, client_nonce, server_nonce))

    def test_client_with_wrong_key_falls_back_to_the_server(self):
        u = self.make()
        route = u._route
        # As if the worker held another key: the client's direct login fails.
        real = self.m._conn._authkey
        self.m._conn._authkey = b"wrong-key"
        try:
            self.assertIsNone(route.connection())
        finally:
            self.m._conn._authkey = real
        self.assertEqual(u.capitalize("fallback"), "Fallback")
        self.assertTrue(u.thread_name().startswith("orch-reader"))

    def test_failed_worker_is_retried_in_the_background(self):
        with patched_env(ORCH_DIRECT="on"):
            m = self.server.manager()
        self.addCleanup(m.close)
        u = m.create(self.TYPEID)
        route = u._route
        real = m._conn._authkey
        m._conn._authkey = b"wrong-key"
        try:
            self.assertIsNone(route.connection())  # the first attempt fails
        finally:
            m._conn._authkey = real
        self.assertGreater(route._retry_at, 0)
        self.assertTrue(u.thread_name().startswith("orch-reader"))  # not before the retry time
        route._retry_at = 0  # as if the wait were over
        # The retry runs on another thread: this call does not wait for it.
        self.assertTrue(u.thread_name().startswith("orch-reader"))
        wait_until(lambda: route.conn is not None, 30, "the background retry to connect")
        self.assertTrue(u.thread_name().startswith("orch-direct"), u.thread_name())

    def test_frames_before_login_get_401(self):
        with raw_connect(self.direct) as s:
            send_frame(s, {"type": "send", "address": "orch.obj.1", "replyAddress": "r1",
                           "body": {"method": "echo", "args": [1]}})
            err = recv_frame(s)
            self.assertEqual((err["type"], err["address"], err["failureCode"], err["name"]),
                             ("err", "r1", 401, "Unauthenticated"))
            send_frame(s, {"type": "register", "address": "orch.obj.1"})
            self.assertEqual(recv_frame(s)["failureCode"], 401)
            # not acted on, and the connection stays open: the login still works
            self.assertEqual(raw_login(s, self.server.authkey)["type"], "message")

    def test_login_without_challenge_is_refused(self):
        with raw_connect(self.direct) as s:
            send_frame(s, {"type": "send", "address": "orch.auth", "replyAddress": "a2",
                           "body": {"op": "login", "proof": _auth.b64(b"x" * 32)}})
            err = recv_frame(s)
            self.assertEqual((err["failureCode"], err["address"]), (401, "a2"))
            assert_closed(self, s)

    def test_bad_frame_length_gets_413_and_close(self):
        # Before login, anything longer than a login frame takes (64 KiB) is refused too.
        for length in (0, 64 * 1024 + 1, 16 * 1024 * 1024 + 1):
            with self.subTest(length=length), raw_connect(self.direct) as s:
                s.sendall(struct.pack(">I", length))
                err = recv_frame(s)
                self.assertEqual((err["type"], err["failureCode"], err["name"]),
                                 ("err", 413, "FrameTooLarge"))
                assert_closed(self, s)


def small_window(address: str) -> socket.socket:
    """A socket connected to ``address`` with a receive buffer of 4 KiB."""
    s = socket.socket(socket.AF_INET6 if address.startswith("[") else socket.AF_INET)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # before connecting: the window
    s.settimeout(30)
    s.connect(_auth.parse_address(address))
    return s


def assert_unread_client_is_closed(test: unittest.TestCase, u, s: socket.socket,
                                   key: bytes) -> None:
    """Over ``s`` (connected to ``u``'s worker), logs in and pipelines calls for 300 MB of
    answers, far past 32 MiB, reading none: the worker closes the connection without a thread
    per call, while ``u``'s own client (direct as well) gets its answers."""
    test.addCleanup(s.close)
    test.assertTrue(u.thread_name().startswith("orch-direct"))  # this client goes direct
    threads_before = u.threads()
    calls, size = 3000, 100_000
    frames = b"".join(
        struct.pack(">I", len(p)) + p for p in (
            json.dumps({"type": "send", "address": u._address_, "replyAddress": "t%d" % i,
                        "body": {"method": "text", "args": [size]}}).encode()
            for i in range(calls)))
    test.assertEqual(raw_login(s, key)["type"], "message")
    test.assertEqual(u.direct_peers(), 2)  # this one and u's client's

    def pipeline():
        try:
            s.sendall(frames)  # and never read
        except OSError:
            pass  # the worker closed the connection first
    sender = threading.Thread(target=pipeline, daemon=True)
    sender.start()
    most = threads_before
    deadline = time.monotonic() + 60
    while u.direct_peers() > 1:
        threads = u.threads()
        most = max(most, threads)
        test.assertLess(threads, threads_before + 20,
                        "the worker started a thread per call the client does not read")
        # The well-behaved client meanwhile gets its answers, directly.
        test.assertEqual(u.capitalize("still here"), "Still here")
        test.assertTrue(u.thread_name().startswith("orch-direct"))
        test.assertLess(time.monotonic(), deadline,
                        "the worker kept the connection open (%d threads at most)" % most)
        time.sleep(0.05)
    sender.join(30)
    # Closed as a slow consumer: what reaches the client then is the little on its way.
    received = 0
    try:
        while True:
            chunk = s.recv(1 << 20)
            if not chunk:
                break
            received += len(chunk)
    except socket.timeout:
        raise AssertionError("the worker kept the connection open")
    except OSError:  # reset (or a TLS stream cut short): closed all the same
        pass
    test.assertLess(received, calls * size // 4)
    test.assertEqual(u.capitalize("after"), "After")
    test.assertLess(u.threads(), threads_before + 20)


class DirectConnectionBoundsTest(ServerTestCase):
    """A direct connection is bounded as a connection to the server is (PROTOCOL.md §7, §8):
    calls in flight past the limit get 429, and a client that does not read its answers is
    closed once they pass the output limit, without costing the worker a thread per call."""

    TYPEID = "DirectBoundsUtility"

    def start(self, **env: str) -> str:
        worker, direct = start_worker(self.server, self.TYPEID, **env)
        self.addCleanup(stop_worker, worker)
        self.assertIsNotNone(direct)
        return direct

    def test_client_that_does_not_read_is_closed_and_threads_stay_bounded(self):
        direct = self.start()
        u = self.m.create(self.TYPEID)
        assert_unread_client_is_closed(self, u, small_window(direct), self.server.authkey)

    def test_calls_past_the_in_flight_limit_get_429(self):
        # The worker under test has a lower limit than the server's (below), so that it is
        # reached without thousands of threads, each blocked in a call.
        limit = 8
        direct = self.start(ORCH_TEST_DIRECT_MAX_IN_FLIGHT=str(limit))
        u = self.m.create(self.TYPEID)
        tmp = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, tmp, True)
        until = [os.path.join(tmp, "go%d" % i) for i in range(limit)]
        self.addCleanup(lambda: [Path(p).touch() for p in until])  # no sleep outlives the test
        with raw_connect(direct) as s:
            self.assertEqual(raw_login(s, self.server.authkey)["type"], "message")
            for i, path in enumerate(until):
                send_frame(s, {"type": "send", "address": u._address_, "replyAddress": "h%d" % i,
                               "body": {"method": "sleep", "args": [60, path]}})
            wait_until(lambda: all(os.path.exists(p + ".started") for p in until), 30,
                       "every blocking call to start")
            for i in range(5):
                send_frame(s, {"type": "send", "address": u._address_, "replyAddress": "x%d" % i,
                               "body": {"method": "capitalize", "args": ["abc"]}})
            for i in range(5):
                err = recv_frame(s)
                self.assertEqual((err["type"], err.get("address"), err.get("failureCode"),
                                  err.get("name")), ("err", "x%d" % i, 429, "TooMany"), err)
                self.assertIn("in flight", err["message"])
            send_frame(s, {"type": "ping"})  # not a call: answered all the same
            self.assertEqual(recv_frame(s), {"type": "pong"})
            # The limit is this connection's: another one's calls run.
            self.assertEqual(u.capitalize("other"), "Other")
            for p in until:
                Path(p).touch()
            answers = {f["address"]: f["body"] for f in (recv_frame(s) for _ in until)}
            self.assertEqual(answers, {"h%d" % i: {"result": 60} for i in range(limit)})
            send_frame(s, {"type": "send", "address": u._address_, "replyAddress": "c1",
                           "body": {"method": "capitalize", "args": ["abc"]}})
            self.assertEqual(recv_frame(s), {"type": "message", "address": "c1",
                                             "body": {"result": "Abc"}})
        self.assertEqual(orch.direct.MAX_IN_FLIGHT, 4096)  # by default, the server's limit


class WorkerWithDirectOffTest(ServerTestCase):
    """ORCH_DIRECT=off in the worker: it offers nothing and calls go through the server."""

    TYPEID = "DirectOffUtility"

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.worker, cls.direct = start_worker(cls.server, cls.TYPEID, ORCH_DIRECT="off")

    @classmethod
    def tearDownClass(cls):
        stop_worker(cls.worker)
        super().tearDownClass()

    def test_no_offer_and_calls_through_the_server(self):
        self.assertIsNone(self.direct)
        u = self.m.create(self.TYPEID, name="direct-off")
        self.addCleanup(self.m.delete, "direct-off")
        desc = self.m._manager_op("lookup", name="direct-off")
        self.assertIn("host", desc)
        self.assertNotIn("direct", desc)
        self.assertIsNone(u._route)
        self.assertEqual(u.capitalize("hello"), "Hello")
        self.assertTrue(u.thread_name().startswith("orch-reader"), u.thread_name())


class WorkerAdvertisesGivenAddressTest(ServerTestCase):
    """ORCH_DIRECT=HOST:PORT in the worker: it listens and advertises there."""

    def test_given_address(self):
        port = None
        for _ in range(3):
            with socket.socket() as probe:
                probe.bind(("127.0.0.1", 0))
                port = probe.getsockname()[1]
            try:
                worker, direct = start_worker(self.server, "DirectGiven",
                                              ORCH_DIRECT="127.0.0.1:%d" % port)
                break
            except AssertionError:  # port taken meanwhile: try another
                continue
        else:
            self.fail("could not start a worker on a given port")
        self.addCleanup(stop_worker, worker)
        self.assertEqual(direct, "127.0.0.1:%d" % port)
        u = self.m.create("DirectGiven")
        self.assertEqual(u._route.address, direct)
        self.assertTrue(u.thread_name().startswith("orch-direct"))


class WorkerKilledTest(ServerTestCase):
    """A worker killed mid-call: the direct call fails with HostGone, the next through the
    server with the server's 410."""

    def test_sigkill_mid_call(self):
        worker, direct = start_worker(self.server, "DirectKilled")
        self.addCleanup(stop_worker, worker)
        self.assertIsNotNone(direct)
        u = self.m.create("DirectKilled")
        self.assertTrue(u.thread_name().startswith("orch-direct"))
        outcome = []

        def call():
            start = time.monotonic()
            try:
                u.sleep(60)
                outcome.append(("returned", time.monotonic() - start))
            except BaseException as e:  # examined below
                outcome.append((e, time.monotonic() - start))
        caller = threading.Thread(target=call)
        caller.start()
        time.sleep(0.5)  # the call is running in the worker
        os.kill(worker.pid, signal.SIGKILL)
        caller.join(30)
        self.assertFalse(caller.is_alive(), "the call in flight hung")
        error, took = outcome[0]
        self.assertIsInstance(error, orch.RemoteError)
        self.assertEqual((error.code, error.name), (410, "HostGone"))
        self.assertLess(took, 30)
        # The next call cannot reconnect and goes through the server, which knows the host is
        # gone (once it has seen the disconnect).
        wait_until(lambda: "DirectKilled" not in hosted_types(self.m), 30,
                   "the server to drop the killed worker's type")
        with self.assertRaises(orch.RemoteError) as cm:
            u.capitalize("again")
        self.assertEqual((cm.exception.code, cm.exception.name), (410, "HostGone"))
        self.assertIsNone(u._route.conn)  # it tried to reconnect, and failed


    def test_sigkill_with_a_forked_child_alive(self):
        # A child forked by the worker must not keep the direct connection open after the
        # worker dies, or the call in flight would wait for the child.
        worker, _ = start_worker(self.server, "DirectForked")
        self.addCleanup(stop_worker, worker)
        u = self.m.create("DirectForked")
        child = u.fork_sleeper(60)
        self.addCleanup(lambda: os.kill(child, signal.SIGKILL))
        self.assertTrue(u.thread_name().startswith("orch-direct"))
        assert_killed_worker_fails_call_in_flight(self, u, worker)


def assert_killed_worker_fails_call_in_flight(test: unittest.TestCase, u, worker) -> None:
    """SIGKILLs ``worker`` while ``u.sleep(60)`` runs there: the call fails with 410 at once,
    not held open by anything the worker left behind (a forked child's copy of the socket)."""
    outcome = []
    caller = threading.Thread(target=lambda: outcome.append(_outcome(u.sleep, 60)))
    caller.start()
    time.sleep(0.5)
    os.kill(worker.pid, signal.SIGKILL)
    caller.join(30)
    test.assertFalse(caller.is_alive(), "the call in flight waited for the forked child")
    test.assertIsInstance(outcome[0], orch.RemoteError)
    test.assertEqual(outcome[0].code, 410)


def _outcome(fn, *args):
    try:
        return fn(*args)
    except BaseException as e:  # examined by the caller
        return e


class ServerKilledMidDirectCallTest(unittest.TestCase):
    """The server dies during a direct call: the worker's session ends, so it closes its direct
    connections; the call fails with HostGone (no hang) and later calls with ConnectionError."""

    def setUp(self):
        self.server = OrchServer()
        self.addCleanup(self.server.cleanup)
        self.server.start()
        self.worker, _ = start_worker(self.server, "UtilityClass")
        self.addCleanup(stop_worker, self.worker)

    def test_direct_call_fails_when_server_is_killed(self):
        m = self.server.manager()
        self.addCleanup(m.close)
        u = m.UtilityClass()
        self.assertTrue(u.thread_name().startswith("orch-direct"))
        wake = Path(tempfile.mkdtemp(prefix="orch-wake-")) / "wake"
        self.addCleanup(shutil.rmtree, wake.parent, True)
        call_later(self, 0, kill_once_started, self.server, wake)
        start = time.monotonic()
        with self.assertRaises(orch.RemoteError) as cm:
            u.sleep(60, str(wake))
        self.assertEqual((cm.exception.code, cm.exception.name), (410, "HostGone"))
        self.assertLess(time.monotonic() - start, 30)
        with self.assertRaises(ConnectionError):
            u.capitalize("again")
        # the worker notices too and exits
        self.assertEqual(self.worker.wait(30), 0)


class JavaHostedTypeTest(ServerTestCase):
    """``orch bench-worker host`` (the Java client) hosts UtilityClass; Python calls it, over
    the Java worker's own port."""

    TYPEID = "UtilityClass"

    def setUp(self):
        super().setUp()
        # Another test's worker may have hosted UtilityClass on the shared server: wait until
        # the server has seen it go.
        wait_until(lambda: self.TYPEID not in hosted_types(self.m), 30,
                   "UtilityClass to be free on the shared server")
        env = self.server.env()
        env["ORCH_AUTHKEY_FILE"] = str(self.server.keyfile)
        self.proc = subprocess.Popen([ORCH_BIN, "bench-worker", "host", "--address",
                                      self.server.address], env=env, stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                     text=True)
        self.addCleanup(self.stop_java_worker)
        lines = []
        while True:
            line = self.proc.stdout.readline()
            if not line:
                self.fail("the Java worker exited before 'ready': %r" % lines)
            if line.strip() == "ready":
                break
            lines.append(line)

    def stop_java_worker(self):
        self.proc.stdin.close()  # the worker's signal to stop
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(10)
        self.proc.stdout.close()
        wait_until(lambda: self.TYPEID not in hosted_types(self.m), 30,
                   "the server to drop the Java worker's type")

    def test_python_calls_java_hosted_type(self):
        u = self.m.create(self.TYPEID)
        self.assertEqual(u.capitalize("hello"), "Hello")
        self.assertEqual(u.echo({"k": [1, "two"]}), {"k": [1, "two"]})
        desc = self.m.objects()
        self.assertTrue(any(o["typeid"] == self.TYPEID and o["host"] != "server" for o in desc))
        # The Java worker offers direct calls, and these went over a connection to it.
        route = object.__getattribute__(u, "_route")
        self.assertIsNotNone(route, "the description names no direct address")
        self.assertIsNotNone(route.conn, "no direct connection to the Java worker was used")
        self.assertFalse(route.conn.closed)


if __name__ == "__main__":
    unittest.main()
