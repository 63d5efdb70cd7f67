"""A worker process hosting ``UtilityClass`` for the tests: ``python -m tests.hosted_worker ADDR
[TYPEID]`` (TYPEID defaults to ``UtilityClass``).

The authkey comes from the environment (``ORCH_AUTHKEY_FILE``), as for any orch client;
``ORCH_TEST_TLS_CA`` (a PEM file) connects to the server with TLS, verified with it;
``ORCH_TEST_DIRECT_MAX_IN_FLIGHT`` lowers the direct port's limit of calls in flight per
connection (``orch.direct.MAX_IN_FLIGHT``), so a test reaches it without thousands of threads.
Prints ``ready`` once the type is hosted, then ``direct HOST:PORT`` (or ``direct none``),
followed by `` tls`` when the direct port speaks TLS.
"""
import os
import sys
import threading
import time

import orch


class BadStr(Exception):
    """An exception whose str() itself raises."""

    def __str__(self):
        raise AttributeError("BadStr has no message")


def failure(kind):
    """The exception ``fail(kind)`` raises: ``value``, ``key``, ``runtime`` (message "boom"),
    ``badstr`` (str() raises), ``surrogate`` (a lone surrogate, not encodable as UTF-8),
    ``huge:N`` (a ValueError of N characters), ``caused`` (raised from an OSError) or
    ``context`` (raised while handling a KeyError)."""
    if kind == "badstr":
        return BadStr()
    if kind == "surrogate":
        return ValueError("file \udcff not found")
    if kind.startswith("huge:"):
        return ValueError("x" * int(kind[5:]))
    if kind == "caused":
        e = ValueError("save failed")
        e.__cause__ = OSError("disk full")  # as ``raise e from OSError(...)`` sets it
        return e
    if kind == "context":
        try:
            {}["k"]
        except KeyError as k:
            e = RuntimeError("lookup failed")
            e.__context__ = k  # as raising e in the except block sets it
            return e
    return {"value": ValueError, "key": KeyError, "runtime": RuntimeError}[kind]("boom")


class Utility:
    def __init__(self, fail=None):
        if fail is not None:
            raise failure(fail)

    def capitalize(self, name):
        return name.capitalize()

    def echo(self, payload):
        return payload

    def deepen(self, payload, levels):
        """``payload`` inside ``levels`` more lists: an answer deeper than its call."""
        for _ in range(levels):
            payload = [payload]
        return payload

    def sleep(self, seconds, until=None):
        """Blocks this call for ``seconds``; given a path ``until``, first creates
        ``until + ".started"``, and ends as soon as ``until`` exists (the caller's "enough")."""
        if until is None:
            time.sleep(seconds)
            return seconds
        open(until + ".started", "w").close()
        deadline = time.monotonic() + seconds
        while not os.path.exists(until) and time.monotonic() < deadline:
            time.sleep(0.01)
        return seconds

    def remote_get(self, name, key):
        """Reads a named dict through this worker's own connection (a nested remote call)."""
        return manager.lookup(name)[key]

    def store_in(self, shared, key, value):
        """``shared[key] = value`` on a shared object the caller passed (a proxy here), and
        the thread that did it: a reference in the arguments is a proxy in this process."""
        shared[key] = value
        return [type(shared).__name__, threading.current_thread().name]

    def queue_get(self, name):
        """Blocks on a named remote Queue until another client puts an item."""
        return manager.lookup(name).get()

    def fail(self, kind, delay=0):
        """Raises ``failure(kind)``, after ``delay`` seconds."""
        time.sleep(delay)
        raise failure(kind)

    def colliding_keys(self):
        return {1: "a", "1": "b"}  # one JSON key, "1": refused rather than sent as {"1":"b"}

    def not_json(self):
        return b"bytes"  # not JSON (a set would be: the client sends it as an array)

    def text(self, length):
        """A string of ``length`` characters: a large answer from a small call."""
        return "x" * length

    def threads(self):
        """The threads alive in this worker process now."""
        return threading.active_count()

    def direct_peers(self):
        """The direct connections open to this worker now."""
        return manager._host._listener.peers

    def thread_name(self):
        """The name of the thread running this call (orch-direct-… for a direct call)."""
        return threading.current_thread().name

    def fork_sleeper(self, seconds):
        """Forks a child that sleeps (holding copies of whatever descriptors it keeps)."""
        pid = os.fork()
        if pid == 0:
            time.sleep(seconds)
            os._exit(0)
        return pid

    def fork_host(self, typeid):
        """Forks a child that hosts ``typeid`` (this class) with a Manager of its own, until
        killed; returns its pid. Called directly, it forks while this worker's direct-call
        machinery is busy with the call."""
        pid = os.fork()
        if pid == 0:
            try:
                child = orch.Manager(sys.argv[1], name="test-worker-child")
                child.register(typeid, Utility)
                child.serve_forever()
            finally:
                os._exit(0)
        return pid

    def caller(self):
        """The calling client's session, as the worker sees it."""
        return orch.caller_session()


class WorkerManager(orch.Manager):
    pass


manager = None  # the worker's manager, for methods that call other objects

if __name__ == "__main__":
    if os.environ.get("ORCH_TEST_DIRECT_MAX_IN_FLIGHT"):
        import orch.direct
        orch.direct.MAX_IN_FLIGHT = int(os.environ["ORCH_TEST_DIRECT_MAX_IN_FLIGHT"])
    WorkerManager.register(sys.argv[2] if len(sys.argv) > 2 else "UtilityClass", Utility)
    manager = WorkerManager(sys.argv[1], name="test-worker",
                            tls_ca=os.environ.get("ORCH_TEST_TLS_CA") or None)
    manager.start_serving()
    print("ready", flush=True)
    print("direct", manager._host.direct_address or "none",
          *(["tls"] if manager._host.direct_tls else []), flush=True)
    try:
        manager.serve_forever()
    except ConnectionError:
        sys.exit(0)
