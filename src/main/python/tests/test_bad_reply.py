"""A hosting worker that answers a call with a malformed body: the caller gets 502 ``BadReply``,
never the body as a result.

On the direct path (PROTOCOL.md §7) the client reads the worker's frames itself, so a fake worker
on a raw socket answers there. Through the server, the server may pass such a body on or (newer
servers) answer 502 itself: either way the caller sees 502 ``BadReply``.
"""
import os
import socket
import threading
import unittest
from unittest import mock

import orch
from orch import _auth, _framing
from tests.support import ServerTestCase

#: What the fake worker answers, by the call's first argument.
BAD_BODIES = {
    "number": 5,
    "null": None,
    "array": [1],
    "string-error": {"error": "oops"},
    "error-object": {"error": {"code": 500, "name": "ValueError", "message": "x"}},
    "empty": {},
    "bad-proxy": {"proxy": 3},
}
GOOD_BODIES = {"result-null": {"result": None}, "result": {"result": 7}}
#: Codes of the err frames the fake worker answers with, by "err-..." first argument.
ERR_CODES = {"err-418": 418, "err-599": 599, "err-401": 401, "err-413": 413, "err-600": 600,
             "err-str": "404", "err-float": 400.9, "err-bool": True}


class FakeWorker:
    """Listens on 127.0.0.1, logs clients in as a worker (session ``session``) would, and answers
    every call on its one connection with a ``message`` whose body is picked by ``args[0]``."""

    def __init__(self, key: bytes, session: str) -> None:
        self.key, self.session = key, session
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(4)
        self.address = "127.0.0.1:%d" % self.sock.getsockname()[1]
        self.conns = []
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.conns.append(conn)
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        handshake = _auth.ServerHandshake(self.key)
        decoder = _framing.FrameDecoder()
        try:
            while True:
                data = conn.recv(65536)
                if not data:
                    return
                for frame in decoder.feed(data):
                    reply_to = frame.get("replyAddress")
                    body = frame.get("body") or {}
                    if frame.get("address") == "orch.auth":
                        if body.get("op") == "challenge":
                            answer, _ = handshake.challenge(body)
                        else:
                            proved, error = handshake.login(body)
                            assert error is None, "wrong key"
                            answer = {"session": self.session, "protocol": 1,
                                      "server": "orch-worker/fake", **proved}
                    else:
                        which = (body.get("args") or [""])[0]
                        if which in ERR_CODES:
                            conn.sendall(_framing.encode({
                                "type": "err", "address": reply_to, "failureCode": ERR_CODES[which],
                                "failureType": "RECIPIENT_FAILURE", "name": "Teapot",
                                "message": "Teapot: short and stout"}))
                            continue
                        if which == "huge-number":  # out of a double's range: not encodable here
                            payload = (b'{"type":"message","address":"%s","body":{"result":1e400}}'
                                       % reply_to.encode())
                            conn.sendall(len(payload).to_bytes(4, "big") + payload)
                            continue
                        answer = {**BAD_BODIES, **GOOD_BODIES}[which]
                    conn.sendall(_framing.encode({"type": "message", "address": reply_to,
                                                  "body": answer}))
        except OSError:
            return

    def close(self) -> None:
        try:
            socket.socket.shutdown(self.sock, socket.SHUT_RDWR)
        except OSError:
            pass
        self.sock.close()
        for c in self.conns:
            try:
                c.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            c.close()
        self.thread.join(5)


class DirectBadReplyTest(ServerTestCase):
    def setUp(self):
        super().setUp()
        self.worker = FakeWorker(self.server.authkey, "fake-worker-session")
        self.addCleanup(self.worker.close)
        # The description a server gives for an object this worker hosts and offers directly.
        self.proxy = self.m._make_proxy({
            "id": "fake1", "typeid": "Fake", "name": "fake", "address": "orch.obj.fake1",
            "exposed": ["answer"], "host": "fake-worker-session",
            "direct": self.worker.address}, owned=False)

    def test_malformed_bodies_raise_502_bad_reply(self):
        self.assertEqual(self.proxy.answer("result"), 7)
        self.assertEqual(len(self.worker.conns), 1, "the call did not go direct")
        for which in BAD_BODIES:
            with self.subTest(which):
                with self.assertRaises(orch.RemoteError) as cm:
                    self.proxy.answer(which)
                e = cm.exception
                self.assertEqual((e.code, e.name), (502, "BadReply"))
                self.assertTrue(e.message.startswith("BadReply: the reply to answer() was "),
                                e.message)
        with self.assertRaises(orch.RemoteError) as cm:
            self.proxy.answer("string-error")
        self.assertIn("without 'result'", cm.exception.message)
        self.assertIn("'error'", cm.exception.message)
        with self.assertRaises(orch.RemoteError) as cm:
            self.proxy.answer("number")
        self.assertIn("a JSON number, not an object", cm.exception.message)
        # A valid reply still works on the same connection afterwards; null is a result.
        self.assertIsNone(self.proxy.answer("result-null"))
        self.assertEqual(len(self.worker.conns), 1)

    def test_a_workers_err_frames_are_checked_as_the_server_checks_them(self):
        # PROTOCOL.md §7: a method's failure code is an integer 400-599, not 401 or 413.
        for which, code in ERR_CODES.items():
            with self.subTest(which):
                with self.assertRaises(orch.RemoteError) as cm:
                    self.proxy.answer(which)
                e = cm.exception
                if which in ("err-418", "err-599"):
                    self.assertEqual((e.code, e.name), (code, "Teapot"))
                else:
                    self.assertEqual((e.code, e.name), (502, "BadReply"), e.message)
                    self.assertIn("not a method's failure", e.message)
        self.assertEqual(len(self.worker.conns), 1, "the calls went direct")


    def test_a_number_beyond_a_double_is_a_bad_reply_as_through_the_server(self):
        with self.assertRaises(orch.RemoteError) as cm:
            self.proxy.answer("huge-number")
        self.assertEqual((cm.exception.code, cm.exception.name), (502, "BadReply"))
        self.assertIn("number 1e400 is out of range", cm.exception.message)
        self.assertEqual(self.proxy.answer("result"), 7)  # the connection is still usable


class Bad:
    def answer(self, which):
        return which


class ServerRoutedBadReplyTest(ServerTestCase):
    def test_malformed_body_through_the_server_is_502(self):
        with mock.patch.dict(os.environ, {"ORCH_DIRECT": "off"}):
            worker = self.server.manager()
            self.addCleanup(worker.close)
            worker.register("BadReplyType", Bad)
            worker.start_serving()
        host = worker._host
        real = host.execute

        def execute(address, body, session):  # answers with the body named by the argument
            which = body["args"][0]
            if which in BAD_BODIES:
                return _framing.encode_json(BAD_BODIES[which])
            return real(address, body, session)

        host.execute = execute
        u = self.m.BadReplyType()
        self.assertIsNone(u._route)  # no direct offer: the call goes through the server
        self.assertEqual(u.answer("fine"), "fine")
        for which in ("number", "string-error", "empty"):
            with self.subTest(which):
                with self.assertRaises(orch.RemoteError) as cm:
                    u.answer(which)
                self.assertEqual((cm.exception.code, cm.exception.name), (502, "BadReply"))


if __name__ == "__main__":
    unittest.main()
