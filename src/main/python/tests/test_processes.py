"""Proxies handed to other processes as with multiprocessing: inherited through fork, pickled
into a spawned child's arguments or into a Pool's tasks. Each receiving process calls through
a connection of its own, whose session holds its own references (and locks)."""
import multiprocessing
import os
import pickle
import signal
import unittest

import orch
from tests.support import ServerTestCase, patched_env, wait_until


def fill(q, d, lock, name):
    """A child's work: every kind of call on the inherited or unpickled proxies."""
    with lock:
        q.put(("child", os.getpid()))
        d["child"] = os.getpid()
    q.put(len(d))
    named = q._manager.lookup(name)  # a Manager operation on the child's own connection
    named.append("from child")


def hold_lock(lock, q):
    lock.acquire()
    q.put("locked")
    signal.pause()


def square(args):
    q, i = args
    q.put(i * i)
    return os.getpid()


def refs(m, oid):
    return next((o["refs"] for o in m.objects() if o["id"] == oid), None)


class ChildProcessTest(ServerTestCase):
    def run_child(self, method, *args, target=fill):
        p = multiprocessing.get_context(method).Process(target=target, args=args)
        p.start()
        self.addCleanup(lambda: p.is_alive() and p.kill())
        p.join(60)
        self.assertEqual(p.exitcode, 0, "the %s child failed (see its stderr)" % method)
        return p

    def check_child(self, method):
        q, d, lock = self.m.Queue(), self.m.dict(), self.m.Lock()
        name = "proc-list-%s-%d" % (method, os.getpid())
        named = self.m.list(name=name)
        self.addCleanup(self.m.delete, name)
        p = self.run_child(method, q, d, lock, name)
        self.assertEqual(q.get(timeout=10), ["child", p.pid])
        self.assertEqual(q.get(timeout=10), 1)
        self.assertEqual(d["child"], p.pid)
        self.assertEqual(named[:], ["from child"])
        # The child's references went with its connection; the parent's are untouched.
        wait_until(lambda: refs(self.m, q._id) == 1, 30, "the child's reference to go")
        self.assertEqual(refs(self.m, d._id), 1)
        self.assertTrue(lock.acquire(timeout=5), "the child left the lock held")

    def test_fork_child_calls_through_a_connection_of_its_own(self):
        self.check_child("fork")

    def test_spawn_child_gets_the_key_with_its_arguments(self):
        # No key in the environment the child starts with: only the pickled arguments carry it.
        with patched_env(ORCH_HOME=os.path.join(self.server.home, "no-such-dir"),
                         ORCH_AUTHKEY=None, ORCH_AUTHKEY_FILE=None):
            self.check_child("spawn")

    def test_forkserver_child(self):
        with patched_env(ORCH_HOME=os.path.join(self.server.home, "no-such-dir"),
                         ORCH_AUTHKEY=None, ORCH_AUTHKEY_FILE=None):
            self.check_child("forkserver")

    def test_lock_of_a_killed_child_goes_to_the_next_waiter(self):
        lock, q = self.m.Lock(), self.m.Queue()
        p = multiprocessing.get_context("fork").Process(target=hold_lock, args=(lock, q))
        p.start()
        self.addCleanup(lambda: p.is_alive() and p.kill())
        self.assertEqual(q.get(timeout=30), "locked")
        self.assertFalse(lock.acquire(timeout=0.2))
        os.kill(p.pid, signal.SIGKILL)  # no release, no goodbye: the server frees it
        self.assertTrue(lock.acquire(timeout=30))
        p.join(10)

    def test_pool_workers_rebuild_proxies_from_tasks_with_the_environment_key(self):
        q = self.m.Queue()
        # A task is not a child's start: its proxies carry no key, and the workers use the one
        # their environment names, as multiprocessing's proxies use the process's authkey.
        with patched_env(ORCH_AUTHKEY_FILE=str(self.server.keyfile), ORCH_AUTHKEY=None):
            with multiprocessing.get_context("spawn").Pool(2) as pool:
                pids = pool.map(square, [(q, i) for i in range(6)])
        self.assertNotIn(os.getpid(), pids)
        self.assertEqual(sorted(q.get(timeout=10) for _ in range(6)), [0, 1, 4, 9, 16, 25])

    def test_pool_task_whose_proxy_cannot_log_in_fails_instead_of_hanging(self):
        q = self.m.Queue()
        # The workers' environment names a wrong key: the task's proxy cannot be rebuilt there.
        # multiprocessing's Pool would lose the task (unpickling it fails) and wait for ever.
        with patched_env(ORCH_AUTHKEY="not-the-key", ORCH_AUTHKEY_FILE=None):
            with multiprocessing.get_context("spawn").Pool(1) as pool:
                result = pool.map_async(square, [(q, 3)])
                with self.assertRaises(orch.AuthenticationError):
                    result.get(timeout=60)
        self.assertEqual(q.qsize(), 0)


class PickleTest(ServerTestCase):
    def test_pickle_outside_a_spawn_carries_no_key(self):
        q = self.m.Queue()
        data = pickle.dumps(q)
        self.assertNotIn(self.server.authkey, data)
        again = pickle.loads(data)
        # Rebuilt in the process that has a connected Manager for that server: it is reused.
        self.assertIs(again._manager, self.m)
        self.assertEqual(type(again), type(q))
        again.put("via the copy")
        self.assertEqual(q.get(timeout=5), "via the copy")
        self.assertEqual(refs(self.m, q._id), 2)  # the copy holds a reference of its own
        again._release()
        self.assertEqual(refs(self.m, q._id), 1)

    def test_named_object_rebuilt_without_a_reference(self):
        name = "pickled-dict-%d" % os.getpid()
        d = self.m.create("dict", name=name)
        self.addCleanup(self.m.delete, name)
        d["k"] = 1
        again = pickle.loads(pickle.dumps(d))
        self.assertEqual(again._name, name)
        self.assertEqual(again["k"], 1)
        self.assertEqual(str(again), "{'k': 1}")

    def test_copy_is_a_proxy_and_deepcopy_the_value(self):
        import copy
        d = self.m.dict({"a": [1, 2]})
        shallow = copy.copy(d)
        self.assertEqual(shallow._id, d._id)
        shallow["b"] = 3
        deep = copy.deepcopy(d)
        self.assertEqual(deep, {"a": [1, 2], "b": 3})
        self.assertIs(type(deep), dict)

    def test_released_object_cannot_be_rebuilt(self):
        v = self.m.Value(1)
        data = pickle.dumps(v)
        v._release()
        # Unpickling gives a stand-in, so that a Pool task still runs; its first use raises.
        again = pickle.loads(data)
        self.assertIn("not rebuilt here: RemoteError", repr(again))
        for use in (lambda: again.value, lambda: again.get(), lambda: str(again._typeid)):
            with self.assertRaises(orch.RemoteError) as cm:
                use()
            self.assertEqual(cm.exception.code, 404)
        # Pickled again it is the proxy it stood for: where the object exists it is rebuilt.
        self.assertIs(type(pickle.loads(pickle.dumps(again))), type(again))


if __name__ == "__main__":
    unittest.main()
