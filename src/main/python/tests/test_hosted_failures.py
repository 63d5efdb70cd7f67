"""A hosted method or constructor that fails in a way hard to report: its exception's str()
raises, its message holds a lone surrogate (not UTF-8), or it is larger than the server's
``--max-frame``. Each such call fails alone, by either route, and the worker goes on serving
(as CPython's managers do), rather than the caller hanging or the worker's session ending.
"""
import json
import subprocess
import sys
import threading
import unittest

import orch
from orch import _framing, hosting
from tests.support import PY_ROOT, OrchServer, patched_env

#: The server's --max-frame here: small, so an error larger than it is quick to make.
MAX_FRAME = 1024 * 1024
TYPEID = "FailingUtility"


def call_within(test: unittest.TestCase, fn, *args, seconds: float = 10):
    """``fn(*args)``'s result or exception; fails ``test`` if it has neither in ``seconds``."""
    outcome = []

    def run():
        try:
            outcome.append(fn(*args))
        except BaseException as e:  # examined by the caller
            outcome.append(e)
    t = threading.Thread(target=run, daemon=True)
    t.start()
    t.join(seconds)
    if not outcome:
        test.fail("%s%r got no answer in %s s" % (getattr(fn, "__name__", fn), args, seconds))
    return outcome[0]


class HostedFailureTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = OrchServer(extra_args=("--max-frame", str(MAX_FRAME)))
        cls.addClassCleanup(cls.server.cleanup)
        cls.server.start()
        env = cls.server.env()
        env["ORCH_AUTHKEY_FILE"] = str(cls.server.keyfile)
        env.pop("ORCH_DIRECT", None)
        # The worker's log (tracebacks of large errors) goes to a file: a pipe nobody reads
        # would fill and block it.
        cls.worker_log = open(cls.server.home / "worker.log", "w+")
        cls.addClassCleanup(cls.worker_log.close)
        cls.worker = subprocess.Popen(
            [sys.executable, "-m", "tests.hosted_worker", cls.server.address, TYPEID],
            cwd=str(PY_ROOT), env=env, stdout=subprocess.PIPE, stderr=cls.worker_log, text=True)
        cls.addClassCleanup(cls.stop_worker)
        if cls.worker.stdout.readline().strip() != "ready":
            raise AssertionError("worker did not start: " + cls.log())
        direct = cls.worker.stdout.readline().split()
        if len(direct) < 2 or direct[1] == "none":
            raise AssertionError("worker offers no direct calls: %r" % direct)

    @classmethod
    def stop_worker(cls):
        cls.worker.kill()
        cls.worker.wait(10)
        cls.worker.stdout.close()

    @classmethod
    def log(cls) -> str:
        cls.worker_log.flush()
        return (cls.server.home / "worker.log").read_text(errors="replace")[-3000:]

    def manager(self, route: str) -> orch.Manager:
        with patched_env(ORCH_DIRECT="off" if route == "server" else None):
            m = self.server.manager()
        self.addCleanup(m.close)
        return m

    def make(self, m: orch.Manager, route: str):
        u = m.create(TYPEID)
        self.assertEqual(u.thread_name().split("-")[1], "direct" if route == "direct" else "reader")
        return u

    def assert_still_serving(self, m: orch.Manager, u, route: str) -> None:
        self.assertIsNone(self.worker.poll(), "the worker exited: " + self.log())
        self.assertEqual(call_within(self, u.capitalize, "still"), "Still")
        other = self.make(m, route)  # the worker still hosts the type, and builds new objects
        self.assertEqual(call_within(self, other.echo, 1), 1)

    def test_unreportable_method_errors_fail_that_call_alone(self):
        for route in ("direct", "server"):
            m = self.manager(route)
            u = self.make(m, route)
            for kind, delay in (("badstr", 0), ("badstr", 0.05), ("surrogate", 0),
                                ("surrogate", 0.05)):
                with self.subTest(route=route, kind=kind, delay=delay):
                    # A delay past the reader's 5 ms hand-off: the failure is answered by a
                    # thread that no longer reads, which must answer all the same.
                    error = call_within(self, u.fail, kind, delay)
                    self.assertIsInstance(error, orch.RemoteError, repr(error))
                    self.assertEqual(error.code, 500, str(error))
                    if kind == "badstr":
                        self.assertEqual(error.name, "BadStr")
                    else:
                        self.assertIsInstance(error, ValueError)
                        self.assertIn(r"file \udcff not found", error.message)
                    self.assert_still_serving(m, u, route)

    def test_the_causes_of_a_failure_reach_the_caller_by_either_route(self):
        for route in ("direct", "server"):
            m = self.manager(route)
            u = self.make(m, route)
            with self.subTest(route=route):
                caused = call_within(self, u.fail, "caused")
                self.assertIsInstance(caused, ValueError, repr(caused))
                self.assertEqual(caused.message, "ValueError: save failed; caused by OSError: disk full")
                context = call_within(self, u.fail, "context")
                self.assertEqual(context.message,
                                 "RuntimeError: lookup failed; while handling KeyError: 'k'")

    def test_unreportable_constructor_errors_fail_that_create_alone(self):
        m = self.manager("server")
        u = self.make(m, "server")
        for kind in ("badstr", "surrogate", "huge:%d" % (2 * MAX_FRAME)):
            with self.subTest(kind=kind):
                error = call_within(self, m.create, TYPEID, kind)
                self.assertIsInstance(error, orch.RemoteError, repr(error))
                self.assertEqual(error.code, 500, str(error))
                self.assertLess(len(error.message), MAX_FRAME)
                self.assert_still_serving(m, u, "server")

    def test_error_larger_than_a_frame_is_cut_the_same_by_either_route(self):
        messages = {}
        for route in ("direct", "server"):
            with self.subTest(route=route):
                m = self.manager(route)
                u = self.make(m, route)
                error = call_within(self, u.fail, "huge:%d" % (2 * MAX_FRAME))
                self.assertIsInstance(error, ValueError, repr(error))
                self.assertLess(len(error.message.encode()), MAX_FRAME)
                self.assertGreater(len(error.message), MAX_FRAME // 2)  # cut, not dropped
                self.assertTrue(error.message.startswith("ValueError: xxxx"), error.message[:80])
                self.assertIn("cut to fit", error.message[-300:])
                messages[route] = error.message
                self.assert_still_serving(m, u, route)
        self.assertEqual(messages["direct"], messages["server"])


class FailureBodyTest(unittest.TestCase):
    """hosting.failure_body on its own: always an answer that encodes, and fits the frame."""

    def test_any_exception_gives_an_answer_that_encodes(self):
        from tests.hosted_worker import BadStr

        class BadRepr(BadStr):
            def __repr__(self):
                raise RuntimeError("no repr either")

        for exc in (BadStr(), BadRepr(), ValueError("a \udcff b"), KeyError("\ud800"),
                    orch.RemoteError(418, "Teapot\udcff", "Teapot\udcff: \udcff")):
            with self.subTest(exc=type(exc).__name__):
                body = hosting.failure_body(exc, MAX_FRAME)
                json.dumps(body, ensure_ascii=False).encode("utf-8")  # raises if not
                self.assertEqual(set(body["error"]), {"code", "name", "message"})
        self.assertEqual(hosting.failure_body(BadRepr())["error"]["message"],
                         "<exception str() failed>")
        self.assertEqual(hosting.failure_body(ValueError("a \udcff b"))["error"]["message"],
                         "a \\udcff b")

    def test_long_messages_are_cut_to_the_frame_whatever_their_characters(self):
        limit = 64 * 1024
        for char in ("x", "\u00e9", "\n", "\x01", "\U0001f600"):
            with self.subTest(char=repr(char)):
                body = hosting.failure_body(ValueError(char * limit), limit)
                size = len(_framing.encode_json(body))
                self.assertLess(size, limit - 1024)
                self.assertGreater(size, limit - 8192)  # cut no more than needed
                self.assertIn("cut to fit", body["error"]["message"])
        short = hosting.failure_body(ValueError("x" * 1000), limit)
        self.assertEqual(short["error"]["message"], "x" * 1000)


if __name__ == "__main__":
    unittest.main()
