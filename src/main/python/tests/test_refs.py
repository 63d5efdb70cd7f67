"""Shared objects stored in shared objects (PROTOCOL.md §5, "References"), as with
multiprocessing's managers: ``d["x"] = m.list()``, ``q.put(m.dict())``, ``m.list([m.dict()])``.
A proxy goes as a reference, a reference read back is a proxy that owns the session reference
its answer gave, and the server keeps a referent alive while an object holds it."""
import gc
import multiprocessing
import os
import pickle
import unittest

import orch
from tests.support import OrchServer, ServerTestCase, patched_env, wait_until


def listing(m, oid):
    """The server's line for object ``oid`` in ``objects()``, or None once it is gone."""
    return next((o for o in m.objects() if o["id"] == oid), None)


def refs(m, oid):
    line = listing(m, oid)
    return None if line is None else line["refs"]


def put_new_dict(q, received, done):
    """A spawned child's work: a dict of its own made, put in a queue, and its proxy dropped
    (the child exits, its session with it); ``received``, a proxy read from another dict,
    shows that such a proxy pickles as any other."""
    d = q._manager.dict({"child": os.getpid()})
    q.put(d)
    received.append("from child")
    done.put(os.getpid())


class RefsTest(ServerTestCase):
    def settle(self, oid, expected, what):
        """Collects this process's garbage and waits until the server counts ``expected``
        references to ``oid`` (None: until it is destroyed). A collected proxy's release goes
        out with the next request, which each objects() call is."""
        def check():
            gc.collect()
            return refs(self.m, oid) == expected
        wait_until(check, 10, what)

    def test_a_list_in_a_dict_is_shared_kept_alive_and_freed(self):
        d = self.m.dict()
        d["x"] = self.m.list()
        d["x"].append(1)
        inner = d["x"]
        self.assertIsInstance(inner, orch.ListProxy)
        inner_id = inner._id
        with self.server.manager() as other:  # another connection, another session
            theirs = other.lookup(id=d._id)["x"]
            self.assertEqual(theirs[:], [1])
            self.assertEqual(theirs._id, inner_id)
        del inner, theirs
        # Nothing but the dict holds it now: the creating proxy and those read back are gone.
        self.settle(inner_id, 1, "only the dict's hold on the list")
        self.assertEqual(d["x"][:], [1])
        self.assertEqual(len(d["x"]), 1)
        del d["x"]
        self.settle(inner_id, None, "the list to be destroyed once nothing holds it")

    def test_a_dict_put_in_a_queue_by_a_child_is_a_working_proxy_here(self):
        q = self.m.Queue()
        box = self.m.dict()
        box["list"] = self.m.list()
        received = box["list"]  # a proxy read back, pickled into the child's arguments
        ctx = multiprocessing.get_context("spawn")
        done = self.m.Queue()
        p = ctx.Process(target=put_new_dict, args=(q, received, done))
        p.start()
        self.addCleanup(lambda: p.is_alive() and p.kill())
        p.join(60)
        self.assertEqual(p.exitcode, 0, "the child failed (see its stderr)")
        self.assertEqual(done.get(timeout=10), p.pid)
        self.assertEqual(received[:], ["from child"])
        # The child's session is gone; the queue held the dict meanwhile.
        got = q.get(timeout=10)
        self.assertIsInstance(got, orch.DictProxy)
        self.assertEqual(got["child"], p.pid)
        got["parent"] = os.getpid()
        self.assertEqual(got.copy(), {"child": p.pid, "parent": os.getpid()})
        self.settle(got._id, 1, "this process's proxy as the only reference")

    def test_a_list_made_of_new_dicts(self):
        lst = self.m.list([self.m.dict(), self.m.dict()])
        lst[0]["a"] = 1
        first, second = lst[:]
        self.assertIsInstance(first, orch.DictProxy)
        self.assertIsInstance(second, orch.DictProxy)
        self.assertNotEqual(first._id, second._id)
        self.assertEqual(first.copy(), {"a": 1})
        self.assertEqual(second.copy(), {})
        self.assertEqual([x._id for x in lst], [first._id, second._id])  # iteration's snapshot
        # Nested inside plain values too.
        lst.append({"deep": [first, {"k": second}]})
        deep = lst[2]["deep"]
        self.assertEqual((deep[0]._id, deep[1]["k"]._id), (first._id, second._id))

    def test_value_and_namespace_hold_proxies(self):
        v = self.m.Value(self.m.list([1]))
        self.assertEqual(v.value[:], [1])
        v.value = self.m.dict({"k": 2})
        self.assertEqual(v.get()["k"], 2)
        ns = self.m.Namespace(made=self.m.list([3]))
        ns.inner = self.m.dict({"k": 4})
        self.assertEqual(ns.inner["k"], 4)
        self.assertEqual(ns.made[:], [3])
        self.assertIn("DictProxy", str(ns))

    def test_the_same_proxy_twice_and_references_released(self):
        d = self.m.dict()
        inner = self.m.dict({"n": 1})
        d["a"] = inner
        d["b"] = inner
        self.settle(inner._id, 3, "two holds and this process's proxy")
        copy = d.copy()
        items = dict(d.items())
        for got in (copy, items):
            self.assertEqual({k: p._id for k, p in got.items()}, {"a": inner._id, "b": inner._id})
            self.assertEqual(got["a"]["n"], 1)
        # Each occurrence in an answer gave this session one reference: four more.
        self.settle(inner._id, 7, "a reference per proxy read back")
        del copy, items, got
        self.settle(inner._id, 3, "the references read back to be released")
        inner._release()
        self.settle(inner._id, 2, "the two holds alone")
        d["a"] = 0
        self.settle(inner._id, 1, "one hold left once overwritten")
        d.clear()
        self.settle(inner._id, None, "the dict to be destroyed once nothing holds it")

    def test_a_proxy_read_back_pickles(self):
        d = self.m.dict()
        d["l"] = self.m.list([5])
        again = pickle.loads(pickle.dumps(d["l"]))
        self.assertIsInstance(again, orch.ListProxy)
        self.assertEqual(again[:], [5])

    def test_a_proxy_of_another_name_for_the_same_server_goes(self):
        with orch.Manager("localhost:%d" % self.server.port, self.server.authkey) as other:
            theirs = other.list([1])
            d = self.m.dict()
            d["theirs"] = theirs
            self.assertEqual(d["theirs"][:], [1])

    def test_a_named_object_deleted_meanwhile_comes_back_unusable(self):
        name = "refs-named-%d" % os.getpid()
        d = self.m.dict()
        d["n"] = self.m.list(name=name)
        self.assertEqual(d["n"]._name, name)
        self.m.delete(name)
        gone = d["n"]
        self.assertIn("no longer exists", repr(gone))
        for use in (lambda: gone.append(1), lambda: gone[:], lambda: d.update(again=gone)):
            with self.assertRaises(orch.RemoteError) as cm:
                use()
            self.assertEqual((cm.exception.code, cm.exception.name), (404, "NotFound"))
            self.assertIn("no object '%s'" % gone._id, str(cm.exception))
        self.assertEqual(sorted(d.keys()), ["n"])

    def test_errors(self):
        d = self.m.dict()
        # A reference cannot be a dict key: the server refuses it as Python would.
        with self.assertRaises(TypeError) as cm:
            d[self.m.dict()] = 1
        self.assertEqual(cm.exception.code, 500)
        self.assertIn("unhashable", str(cm.exception))
        # A reference to no object fails the call, which changes nothing.
        with self.assertRaises(orch.RemoteError) as cm:
            d["stale"] = {"orch.ref": "nope"}
        self.assertNotIsInstance(cm.exception, KeyError)
        self.assertEqual((cm.exception.code, cm.exception.name), (404, "NotFound"))
        with self.assertRaises(orch.RemoteError) as cm:
            self.m.list([{"orch.ref": "nope"}])
        self.assertEqual(cm.exception.code, 404)
        # "orch.ref" is reserved.
        with self.assertRaises(orch.RemoteError) as cm:
            d["bad"] = {"orch.ref": 5}
        self.assertEqual(cm.exception.code, 400)
        self.assertEqual(len(d), 0)

    def test_a_proxy_of_another_server_is_refused(self):
        elsewhere = OrchServer()
        self.addCleanup(elsewhere.cleanup)
        with elsewhere.start().manager() as other:
            foreign = other.list()
            d = self.m.dict()
            with self.assertRaises(TypeError) as cm:
                d["x"] = foreign
            self.assertIn("one server", str(cm.exception))
            with self.assertRaises(TypeError):
                self.m.list([foreign])
            self.assertEqual(len(d), 0)


class Counter:
    def __init__(self, start=0):
        self.n = start

    def incr(self, by=1):
        self.n += by
        return self.n

    def store(self, value):
        self.value = value


class HostedRefsTest(ServerTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.typeid = "RefsCounter%d" % os.getpid()
        cls.host = cls.server.manager()
        cls.host.register(cls.typeid, Counter)
        cls.host.start_serving()

    @classmethod
    def tearDownClass(cls):
        cls.host.close()
        super().tearDownClass()

    def test_a_hosted_object_stored_in_a_dict_is_called_through_it(self):
        c = self.m.create(self.typeid, 10)
        d = self.m.dict()
        d["c"] = c
        again = d["c"]
        self.assertEqual(again._id, c._id)
        # The reference came as a lookup answer does, with the worker's fields: same route.
        self.assertTrue(again._hosted)
        self.assertEqual(again._route is None, c._route is None)
        self.assertEqual(again.incr(), 11)
        self.assertEqual(c.incr(), 12)
        del c, again
        # The dict keeps the hosted object alive too.
        self.assertEqual(d["c"].incr(5), 17)

    def test_a_proxy_is_no_argument_of_a_hosted_method_or_constructor(self):
        for direct in ("on", "off"):
            with patched_env(ORCH_DIRECT=direct):
                m = self.server.manager()
            self.addCleanup(m.close)
            c = m.create(self.typeid)
            self.assertEqual(c._route is not None, direct == "on")  # both routes are tried
            with self.assertRaises(TypeError) as cm:
                c.store(m.dict())
            self.assertIn("a type a worker hosts", str(cm.exception))
            with self.assertRaises(TypeError) as cm:
                m.create(self.typeid, m.list())
            self.assertIn("a type a worker hosts", str(cm.exception))
            self.assertEqual(c.incr(), 1)


if __name__ == "__main__":
    unittest.main()
