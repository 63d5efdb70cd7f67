"""Starts a real ``orch server`` for a test module and connects to it.

The binary comes from ``$ORCH_BIN`` (default ``target/orch`` under the repository root). Each
server gets a free port (bind to port 0, close, pass it; retried on collision), a temporary
``ORCH_HOME`` holding its authkey file, and is stopped with terminate-then-kill.
"""
from __future__ import annotations

import atexit
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
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator, List, Optional, Tuple, TypeVar

import orch

PY_ROOT = Path(__file__).resolve().parents[1]          # src/main/python
REPO_ROOT = PY_ROOT.parents[2]
ORCH_BIN = os.environ.get("ORCH_BIN") or str(REPO_ROOT / "target" / "orch")


def jvm_launcher() -> bool:
    """Whether ORCH_BIN is the JVM launcher script, which reads ``ORCH_JAVA_OPTS`` (a native
    executable, built with ``-Dnative``, takes no JVM options)."""
    try:
        with open(ORCH_BIN, "rb") as f:
            return f.read(2) == b"#!"
    except OSError:
        return False
#: JVM start can be slow on a loaded machine.
STARTUP_SECONDS = float(os.environ.get("ORCH_TEST_STARTUP_SECONDS", "90"))
T = TypeVar("T")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]



def self_signed_cert(directory: Path, name: str, san: str = "IP:127.0.0.1") -> Tuple[str, str]:
    """Makes ``NAME-cert.pem`` and ``NAME-key.pem`` in ``directory`` with openssl (callers skip
    when it is missing): a self-signed certificate whose subjectAltName is ``san``."""
    cert, key = directory / (name + "-cert.pem"), directory / (name + "-key.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                    "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=" + san,
                    "-keyout", str(key), "-out", str(cert)], check=True, capture_output=True)
    return str(cert), str(key)


@contextmanager
def patched_env(**values: Optional[str]) -> Iterator[None]:
    """Sets (or, for None, removes) environment variables for the block, then restores them."""
    old = {k: os.environ.get(k) for k in values}
    try:
        for k, v in values.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
        yield
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v

def run_in_threads(test: unittest.TestCase, work: Callable[[int], None], count: int,
                   timeout: float = 120) -> None:
    """Runs ``work(i)`` for each ``i`` in ``range(count)``, each on its own thread, and fails
    ``test`` with whatever any of them raised (an assertion in a thread would otherwise go
    unseen)."""
    errors: List[BaseException] = []

    def run(i: int) -> None:
        try:
            work(i)
        except BaseException as e:  # noqa: B902 - reported below
            errors.append(e)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout)
    test.assertEqual(errors, [])
    test.assertFalse([t for t in threads if t.is_alive()], "threads still running")


def wait_until(predicate: Callable[[], Optional[T]], timeout: float, what: str,
               interval: float = 0.05) -> T:
    """Polls ``predicate`` until it returns something truthy; fails after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(interval)


class OrchServer:
    """One ``orch server`` process in a private ORCH_HOME."""

    def __init__(self, authkey: bytes = b"test-secret-key", extra_args: tuple = (),
                 tls_ca: Optional[str] = None) -> None:
        self.authkey = authkey
        self.extra_args = tuple(extra_args)
        self.tls_ca = tls_ca
        self.home = Path(tempfile.mkdtemp(prefix="orch-pytest-"))
        self.keyfile = self.home / "authkey"
        self.keyfile.write_bytes(authkey + b"\n")
        self.keyfile.chmod(0o600)
        self.port = 0
        self.proc: Optional[subprocess.Popen] = None

    @property
    def address(self) -> str:
        return "127.0.0.1:%d" % self.port

    def env(self) -> dict:
        env = dict(os.environ)
        env["ORCH_HOME"] = str(self.home)
        env.pop("ORCH_AUTHKEY", None)
        env.pop("ORCH_AUTHKEY_FILE", None)
        env.pop("ORCH_ADDRESS", None)
        env["PYTHONPATH"] = os.pathsep.join(
            [str(PY_ROOT)] + [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p])
        return env

    def start(self) -> "OrchServer":
        if not os.access(ORCH_BIN, os.X_OK):
            raise unittest.SkipTest(f"no orch binary at {ORCH_BIN} (build with ./mvnw package "
                                    "-DskipTests or set ORCH_BIN)")
        last = ""
        for _attempt in range(3):
            self.port = free_port()
            log = open(self.home / ("server-%d.log" % self.port), "wb")
            self.proc = subprocess.Popen(
                [ORCH_BIN, "server", "--listen", self.address, "--authkey-file",
                 str(self.keyfile), *self.extra_args], env=self.env(), stdout=log, stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL, start_new_session=True)
            log.close()
            if self._wait_ready():
                return self
            last = (self.home / ("server-%d.log" % self.port)).read_text(errors="replace")
            self.stop()  # exited early (port taken?) or never answered: try another port
        raise AssertionError(f"orch server did not start; last output:\n{last[-4000:]}")

    def _wait_ready(self) -> bool:
        deadline = time.monotonic() + STARTUP_SECONDS
        while time.monotonic() < deadline:
            if self.proc is None or self.proc.poll() is not None:
                return False
            try:
                self.manager(connect_timeout=2).close()
                return True
            except (OSError, orch.OrchError):
                time.sleep(0.1)
        return False

    def manager(self, **kwargs) -> orch.Manager:
        """A connected Manager with the right key."""
        kwargs.setdefault("authkey", self.authkey)
        if self.tls_ca:
            kwargs.setdefault("tls_ca", self.tls_ca)
        return orch.Manager(("127.0.0.1", self.port), **kwargs).connect()

    def kill(self) -> None:
        """SIGKILL, as a crash would."""
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)

    def stop(self) -> None:
        proc, self.proc = self.proc, None
        if proc is None:
            return
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                pass
        if proc.poll() is None:
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            proc.wait(10)

    def cleanup(self) -> None:
        self.stop()
        shutil.rmtree(self.home, ignore_errors=True)

    def cli(self, *args: str, timeout: float = 60,
            extra_env: Optional[dict] = None) -> subprocess.CompletedProcess:
        """Runs an ``orch`` client command against this server."""
        # Server-only options (extra_args) are not client options: they stay off the command line.
        env = self.env()
        env.update(extra_env or {})
        return subprocess.run([ORCH_BIN, *args, "--address", self.address, "--authkey-file",
                               str(self.keyfile)], env=env, capture_output=True,
                              text=True, timeout=timeout)

    def python(self, *args: str) -> List[str]:
        return [sys.executable, *args]


_SHARED: Optional[OrchServer] = None


def shared_server() -> OrchServer:
    """The server shared by all ServerTestCase classes, started on first use, stopped at exit."""
    global _SHARED
    if _SHARED is None:
        server = OrchServer()
        try:
            server.start()
        except BaseException:
            server.cleanup()
            raise
        atexit.register(server.cleanup)
        _SHARED = server
    return _SHARED


class ServerTestCase(unittest.TestCase):
    """Shares one server per test class; ``self.m`` is a fresh connected Manager per test."""

    server: OrchServer

    @classmethod
    def setUpClass(cls) -> None:
        # One server for every test class of the run: starting a JVM per class would dominate
        # the suite's time. Tests that stop or kill their server start an OrchServer of their own.
        cls.server = shared_server()

    @classmethod
    def tearDownClass(cls) -> None:
        pass

    def setUp(self) -> None:
        self.m = self.server.manager()
        self.addCleanup(self.m.close)

    def create_or_skip(self, typeid: str, *args, **kwargs):
        """Creates ``typeid``, skipping the test when the server does not know it (404)."""
        try:
            return self.m.create(typeid, *args, **kwargs)
        except orch.RemoteError as e:
            if e.code == 404:
                self.skipTest(f"server does not know typeid {typeid!r} yet ({e.message})")
            raise


def assert_hosted_errors(test: unittest.TestCase, u) -> None:
    """What a hosted ``Utility`` (tests/hosted_worker.py) raises reaches the caller as the same
    Python exception, whichever route the call took."""
    with test.assertRaises(ValueError) as cm:
        u.fail("value")
    test.assertEqual((cm.exception.code, cm.exception.name), (500, "ValueError"))
    with test.assertRaises(KeyError):
        u.fail("key")
    with test.assertRaises(RuntimeError):
        u.fail("runtime")
    with test.assertRaises(TypeError):
        u.not_json()
    with test.assertRaises(TypeError):
        u.capitalize()  # wrong arity, raised in the worker


def assert_sleep_does_not_stall(test: unittest.TestCase, u, seconds: float = 30) -> None:
    """While ``u.sleep(seconds, until=FILE)`` runs in its worker, 20 ``u.capitalize`` calls on the
    same connection are answered: a method that blocks holds up nobody else's calls. Then FILE
    is created, which ends the sleep: ``seconds`` only bounds a sleep nobody ends, so a slow
    machine cannot see it end before the 20 calls are answered."""
    wake = Path(tempfile.mkdtemp(prefix="orch-wake-")) / "wake"
    sleeper = threading.Thread(target=u.sleep, args=(seconds, str(wake)))

    def end_sleep() -> None:  # also when an assertion below failed: no sleep outlives the test
        wake.touch()
        sleeper.join(seconds + 30)
        shutil.rmtree(wake.parent, True)

    test.addCleanup(end_sleep)
    sleeper.start()
    # The sleep reaches the worker first.
    wait_until(lambda: Path(str(wake) + ".started").exists(), seconds, "the sleep to start in its worker",
               interval=0.01)
    for i in range(20):
        test.assertEqual(u.capitalize("x%d" % i), "X%d" % i)
    test.assertTrue(sleeper.is_alive(), "calls waited for the sleeping method")
    wake.touch()
    sleeper.join(seconds + 30)
    test.assertFalse(sleeper.is_alive(), "the sleep did not end once told to")


def call_later(test: unittest.TestCase, seconds: float, fn: Callable[..., object], *args) -> threading.Timer:
    """Calls ``fn(*args)`` on a timer thread after ``seconds``; the test's cleanup waits for that
    call to end first. A call on a manager can be answered after the test has seen its effect:
    if the test's cleanup closed the manager first, the late call would fail on its thread."""
    timer = threading.Timer(seconds, fn, args)
    timer.start()
    test.addCleanup(timer.join, 30)
    return timer


def kill_once_started(server: OrchServer, wake: Path, timeout: float = 30) -> None:
    """SIGKILLs ``server`` once a ``u.sleep(…, str(wake))`` call has started in its worker (see
    tests/hosted_worker.py): the kill lands mid-call, with no fixed delay to guess. Kills it
    anyway after ``timeout``, so the call it waits for cannot hang the test."""
    started = Path(str(wake) + ".started")
    deadline = time.monotonic() + timeout
    while not started.exists() and time.monotonic() < deadline:
        time.sleep(0.01)
    server.kill()
