"""Values at and past the protocol's limits (PROTOCOL.md §1): nesting depth and numbers.

A value that is too deep or out of range fails its own call with an error, never the connection,
and never a hosting worker.
"""
import json
import os
import signal
import sys
import time
import traceback
import unittest
from unittest import mock

import orch
from orch import _framing
from tests.support import ServerTestCase
from tests.test_direct import (raw_connect, raw_login, recv_frame, send_frame, start_worker,
                               stop_worker)


def nested(depth: int, inner=None):
    value = [] if inner is None else inner
    for _ in range(depth - 1):
        value = [value]
    return value


def depth_of(value) -> int:
    d = 0
    while isinstance(value, list):
        d += 1
        value = value[0] if value else None
    return d


class NestingTest(ServerTestCase):
    def test_values_nest_up_to_the_limit(self):
        lst = self.m.list()
        deepest = _framing.MAX_DEPTH - 4  # frame{ body{ args[ value
        lst.append(nested(deepest))
        self.assertEqual(depth_of(lst[0]), deepest)

    def test_deeper_value_fails_its_call_and_the_connection_goes_on(self):
        lst = self.m.list()
        with self.assertRaises(orch.RemoteError) as caught:
            lst.append(nested(_framing.MAX_DEPTH))
        self.assertEqual(caught.exception.code, 400)
        self.assertIn("nests deeper than %d" % _framing.MAX_DEPTH, str(caught.exception))
        lst.append(1)
        self.assertEqual(lst[:], [1])

    def test_too_deep_to_encode_here_says_so(self):
        lst = self.m.list()
        # Python up to 3.12 cannot encode it (RecursionError, reported as ValueError); 3.13's
        # encoder can, and then the server refuses it. Either way the call fails and says why.
        with self.assertRaises((ValueError, orch.RemoteError)) as caught:
            lst.append(nested(5000))
        self.assertRegex(str(caught.exception), "nests too deeply|nests deeper than 256")
        x: list = []
        x.append(x)
        with self.assertRaises(ValueError):
            lst.append(x)
        self.assertEqual(len(lst), 0)

    def test_reply_too_deep_for_the_callers_stack_fails_that_call_only(self):
        d = self.m.dict()
        d["v"] = nested(200)

        def at_depth(n):
            return at_depth(n - 1) if n > 0 else d["v"]

        # Leave the reply too little room to be decoded on this thread (Python 3.11: the decoder
        # shares the 1,000 levels; 3.12+ gives C code its own limit, so the call may succeed).
        room = sys.getrecursionlimit() - len(_stack()) - 80
        try:
            value = at_depth(room)
        except orch.RemoteError as e:
            self.assertEqual(e.code, 502)
            self.assertIn("could not be read", str(e))
        else:
            self.assertGreaterEqual(sys.version_info, (3, 12), "3.11 cannot decode it there")
            self.assertEqual(depth_of(value), 200)
        self.assertEqual(depth_of(d["v"]), 200)  # the connection is still there


def _stack():
    return traceback.extract_stack()


class FrameSizeTest(ServerTestCase):
    def test_request_over_the_servers_limit_fails_alone(self):
        # The server would close the connection on such a frame, failing every call on it; the
        # login reply's maxFrame lets the client refuse it instead.
        v = self.m.Value("before")
        other = self.m.Value(1)
        with self.assertRaises(orch.RemoteError) as caught:
            v.set("x" * (16 * 1024 * 1024 + 1))
        self.assertEqual((caught.exception.code, caught.exception.name), (413, "FrameTooLarge"))
        self.assertIn("at most 16777216", str(caught.exception))
        self.assertEqual((v.get(), other.get()), ("before", 1))
        v.set("x" * (1024 * 1024))  # large, within the limit
        self.assertEqual(len(v.get()), 1024 * 1024)


class RawFrameTest(ServerTestCase):
    """What only a client of its own could send: the server refuses it and goes on."""

    def test_number_beyond_a_double_is_refused_not_made_a_string(self):
        # Python reads 1e400 as inf and will not send that; any other client can send the text.
        with raw_connect(self.server.address) as sock:
            self.assertEqual(raw_login(sock, self.server.authkey)["type"], "message")
            send_frame(sock, b'{"type":"send","address":"orch.manager","replyAddress":"r1",'
                             b'"body":{"op":"create","typeid":"Value","args":[1e400]}}')
            err = recv_frame(sock)
            self.assertEqual((err["type"], err["address"], err["failureCode"]), ("err", "r1", 400))
            self.assertIn("1e400 is out of range", err["message"])
            send_frame(sock, {"type": "ping"})
            self.assertEqual(recv_frame(sock), {"type": "pong"})  # still served
        self.assertEqual(self.m.Value(1e308).get(), 1e308)

    def test_overlong_utf8_is_refused_not_decoded(self):
        # C0 AF is an overlong "/": Jackson alone would decode it, so "a/b" had two spellings.
        with raw_connect(self.server.address) as sock:
            raw_login(sock, self.server.authkey)
            send_frame(sock, b'{"type":"send","address":"orch.manager","replyAddress":"r2",'
                             b'"body":{"op":"create","typeid":"Value","args":["a\xc0\xafb"]}}')
            err = recv_frame(sock)
            self.assertEqual((err["address"], err["failureCode"]), ("r2", 400))
            self.assertIn("not valid UTF-8", err["message"])
            send_frame(sock, {"type": "ping"})
            self.assertEqual(recv_frame(sock), {"type": "pong"})
        self.assertEqual(self.m.Value(1e-400).get(), 0.0)  # underflow is 0, as in Python


class HostedDeepAnswerTest(ServerTestCase):
    """A worker's answer the server cannot take fails the call with 502, and the worker goes on."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.worker, _ = start_worker(cls.server, "DeepAnswerUtility")
        cls.addClassCleanup(stop_worker, cls.worker)

    def test_too_deep_answer_through_the_server_is_502(self):
        with mock.patch.dict(os.environ, {"ORCH_DIRECT": "off"}):
            m = self.server.manager()
        self.addCleanup(m.close)
        u = m.create("DeepAnswerUtility")
        self.assertEqual(depth_of(u.deepen(nested(200), 50)), 250)
        with self.assertRaises(orch.RemoteError) as caught:
            u.deepen(nested(200), 100)  # fine going in; the answer nests deeper than allowed
        self.assertEqual(caught.exception.code, 502)
        self.assertIn("nests deeper", str(caught.exception))
        self.assertEqual(u.capitalize("still here"), "Still here")

    def test_too_deep_answer_on_a_direct_connection(self):
        m = self.server.manager()
        self.addCleanup(m.close)
        u = m.create("DeepAnswerUtility", name="deep-answer")
        self.addCleanup(m.delete, "deep-answer")
        # Python takes what it can decode, also past the server's limit.
        self.assertEqual(depth_of(u.deepen(nested(200), 100)), 300)
        # Java keeps to the limit: that call fails with 502, one line, and nothing else does.
        r = self.server.cli("call", "deep-answer", "deepen", json.dumps(nested(200)), "100",
                            extra_env={"ORCH_DIRECT": "on"})
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn("could not be read", r.stderr)
        self.assertIn("502", r.stderr)
        self.assertEqual(len(r.stderr.strip().splitlines()), 1, r.stderr)


class HostGoneTest(ServerTestCase):
    """Calls on a killed worker's objects answer 410 from the moment the server sees it go, never
    404: in between the worker's registrations going and the 410 tombstones going up, a call
    found no consumer at all (PROTOCOL.md §7)."""

    def test_calls_right_after_a_worker_dies_get_410_not_404(self):
        with mock.patch.dict(os.environ, {"ORCH_DIRECT": "off"}):
            m = self.server.manager()
        self.addCleanup(m.close)
        for _ in range(15):  # the window was short: 404 in about one run of three with 8
            worker, _direct = start_worker(self.server, "DyingUtility")
            try:
                u = m.create("DyingUtility")
                self.assertEqual(u.capitalize("a"), "A")
                worker.send_signal(signal.SIGKILL)
                worker.wait(10)
                deadline = time.monotonic() + 10
                while True:  # calls as fast as they go, through the moment the server notices
                    try:
                        u.capitalize("a")
                    except orch.RemoteError as e:
                        self.assertEqual((e.code, e.name), (410, "HostGone"), str(e))
                        break
                    self.assertLess(time.monotonic(), deadline, "calls still answered")
                del u  # released
            finally:
                stop_worker(worker)


if __name__ == "__main__":
    unittest.main()
