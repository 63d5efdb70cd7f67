"""Shared objects stored in shared objects (PROTOCOL.md §5, "References"), as with
multiprocessing's managers: ``d["x"] = m.list()``, ``q.put(m.dict())``, ``m.list([m.dict()])``.
A proxy goes as a reference, a reference read back is a proxy that owns the session reference
its answer gave, and the server keeps a referent alive while an object holds it."""
import gc
import multiprocessing
import os
import pickle
import threading
import unittest

import orch
from tests.support import OrchServer, ServerTestCase, patched_env, run_in_threads, wait_until


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


class User:
    """A hosted type whose methods take shared objects (PROTOCOL.md §7: a reference in the
    arguments is a proxy here)."""

    def fill(self, shared, key, value):
        shared[key] = value
        return type(shared).__name__

    def put(self, q, item):
        q.put(item)

    def same(self, first, others, named=None):
        """Whether every proxy given for one object is one proxy (one lookup per call)."""
        return all(p is first for p in [others[0], others[1]["k"], named])

    def incr(self, counter):
        """Calls a hosted object (maybe of this very worker) handed as an argument."""
        return counter.incr()

    def give(self, shared):
        return {"back": [shared]}

    def shaped(self):
        """Plain data shaped like references (a caller could not send it: see PROTOCOL.md §5)."""
        return {"orch.ref": "nope", "more": ["x" * 1000, {"orch.ref": 5}]}

    def thread(self):
        return threading.current_thread().name


class Holder:
    """Keeps a queue it was built with and uses it in later calls."""

    def __init__(self, q, tag=None):
        self.q = q
        self.tag = tag

    def put(self, item):
        self.q.put(item)

    def take(self):
        return self.q.get(timeout=10)


class HostedArgumentsTest(ServerTestCase):
    """Proxies as arguments of a Python-hosted type's methods and constructor, by both routes:
    the worker gets a proxy of each object, made with a lookup by id of its own."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.user = "RefsUser%d" % os.getpid()
        cls.holder = "RefsHolder%d" % os.getpid()
        cls.counter = "RefsArgCounter%d" % os.getpid()
        cls.host = cls.server.manager()
        cls.host.register(cls.user, User)
        cls.host.register(cls.holder, Holder)
        cls.host.register(cls.counter, Counter)
        cls.host.start_serving()

    @classmethod
    def tearDownClass(cls):
        cls.host.close()
        super().tearDownClass()

    def managers(self):
        """A Manager that calls the worker directly, and one whose calls go through the server."""
        for direct in ("on", "off"):
            with patched_env(ORCH_DIRECT=direct):
                m = self.server.manager()
            self.addCleanup(m.close)
            u = m.create(self.user)
            self.assertEqual(u._route is not None, direct == "on")  # both routes are tried
            with self.subTest(direct=direct):
                yield m, u

    def settle(self, m, oid, expected, what):
        def check():
            gc.collect()  # this process hosts the worker too: its proxies go with its garbage
            return refs(m, oid) == expected
        wait_until(check, 10, what)

    def test_a_method_writes_to_a_dict_and_a_queue_it_is_given(self):
        for m, u in self.managers():
            d = m.dict()
            self.assertEqual(u.fill(d, "x", [1, "one"]), "DictProxy")
            self.assertEqual(d["x"], [1, "one"])
            self.assertEqual(u.fill(shared=d, key="y", value=2), "DictProxy")  # as keywords
            self.assertEqual(d.copy(), {"x": [1, "one"], "y": 2})
            q = m.Queue()
            u.put(q, {"job": 1})
            self.assertEqual(q.get(timeout=10), {"job": 1})
            # The worker's reference went with its proxy once the call was over.
            self.settle(m, d._id, 1, "this process's proxy as the dict's only reference")
            self.settle(m, q._id, 1, "this process's proxy as the queue's only reference")

    def test_one_lookup_for_many_references_to_one_object(self):
        for m, u in self.managers():
            d = m.create("dict", name="refs-same-%s-%d" % (u._route is not None, os.getpid()))
            self.addCleanup(m.delete, d._name)
            lst = m.list()
            self.assertTrue(u.same(lst, [lst, {"k": lst}], named=lst))
            self.assertFalse(u.same(lst, [lst, {"k": lst}], named=d))
            # A reference read back from a shared object goes back as it came.
            d["l"] = lst
            self.assertTrue(u.same(d["l"], [lst, {"k": lst}], named=lst))

    def test_a_hosted_object_as_an_argument_even_of_its_own_worker(self):
        c = self.m.create(self.counter, 40)
        for m, u in self.managers():
            # The worker's proxy of its own object calls through the server, which hands the
            # call back to this worker while the first one waits: neither route stalls.
            before = c.incr()
            self.assertEqual(u.incr(c), before + 1)
        run_in_threads(self, lambda i: [u.incr(c) for _ in range(10)], 4)
        self.assertEqual(c.incr(), 40 + 2 * 2 + 4 * 10 + 1)

    def test_concurrent_calls_with_references(self):
        for m, u in self.managers():
            d = m.dict()

            def work(i):
                for n in range(15):
                    u.fill(d, "%d-%d" % (i, n), n)
            run_in_threads(self, work, 4)
            self.assertEqual(len(d), 60)

    def test_a_constructor_keeps_the_object_alive_until_it_goes(self):
        for m, u in self.managers():
            q = m.Queue()
            qid = q._id
            h = m.create(self.holder, q, tag=[q])
            self.assertEqual(h._route is not None, u._route is not None)
            del q
            # The caller's proxy is gone; the worker's reference keeps the queue.
            self.settle(m, qid, 1, "the worker's reference as the queue's only one")
            h.put("later")
            self.assertEqual(h.take(), "later")
            h.put("seen here")
            self.assertEqual(m.lookup(id=qid).get(timeout=10), "seen here")
            # The holder released: the worker forgets it, its proxy goes, and with it the queue.
            del h
            self.settle(m, qid, None, "the queue to be destroyed once the holder is gone")

    def test_a_stale_or_malformed_reference_fails_the_call(self):
        for m, u in self.managers():
            d = m.dict()
            for call in (lambda: u.fill({"orch.ref": "nope"}, "k", 1),
                         lambda: u.fill(d, "k", [{"deep": {"orch.ref": "nope"}}]),
                         lambda: m.create(self.holder, {"orch.ref": "nope"})):
                with self.assertRaises(orch.RemoteError) as cm:
                    call()
                self.assertEqual((cm.exception.code, cm.exception.name), (404, "NotFound"))
                self.assertIn("no object 'nope'", str(cm.exception))
            self.assertEqual(len(d), 0)  # the method never ran
            name = "refs-deleted-%s-%d" % (u._route is not None, os.getpid())
            gone = m.list(name=name)
            m.delete(name)
            with self.assertRaises(orch.RemoteError) as cm:
                u.put(gone, 1)
            self.assertEqual(cm.exception.code, 404)
            self.assertIn("no object '%s'" % gone._id, str(cm.exception))
            with self.assertRaises(orch.RemoteError) as cm:
                u.fill({"orch.ref": 5}, "k", 1)
            self.assertEqual((cm.exception.code, cm.exception.name), (400, "BadRequest"))
            self.assertIn("reserved", str(cm.exception))

    def test_a_proxy_of_another_server_is_refused(self):
        elsewhere = OrchServer()
        self.addCleanup(elsewhere.cleanup)
        with elsewhere.start().manager() as other:
            foreign = other.dict()
            for m, u in self.managers():
                with self.assertRaises(TypeError) as cm:
                    u.fill(foreign, "k", 1)
                self.assertIn("one server", str(cm.exception))
                with self.assertRaises(TypeError) as cm:
                    m.create(self.holder, foreign)
                self.assertIn("one server", str(cm.exception))
                self.assertEqual(u.fill({"plain": True}, "k", 1), "dict")  # the worker is fine
            self.assertEqual(len(foreign), 0)

    def test_a_method_returning_a_proxy_is_refused(self):
        for m, u in self.managers():
            d = m.dict()
            with self.assertRaises(TypeError) as cm:
                u.give(d)
            self.assertEqual(cm.exception.code, 500)
            self.assertIn("returning a shared object from a hosted method is not supported",
                          str(cm.exception))
            self.assertIn("%s.give()" % self.user, str(cm.exception))
            self.assertEqual(u.fill(d, "still", "works"), "DictProxy")

    def test_a_result_shaped_like_a_reference_is_plain_data(self):
        # A worker's answer holds no reference (PROTOCOL.md §7): its caller takes the result as
        # it is, by either route, and looks nothing up (the direct route's answers are not even
        # searched for one).
        for m, u in self.managers():
            self.assertEqual(u.shaped(), User().shaped())

    def test_a_worker_process_takes_references_by_both_routes(self):
        from tests.test_direct import start_worker, stop_worker
        typeid = "RefsUtility%d" % os.getpid()
        worker, offered = start_worker(self.server, typeid)
        self.addCleanup(stop_worker, worker)
        self.assertIsNotNone(offered)
        for direct in ("on", "off"):
            with patched_env(ORCH_DIRECT=direct):
                m = self.server.manager()
            self.addCleanup(m.close)
            u = m.create(typeid)
            d = m.dict()
            kind, thread = u.store_in(d, "k", direct)
            self.assertEqual(kind, "DictProxy")
            # Direct calls run on the worker's direct threads, routed ones on its readers.
            self.assertTrue(thread.startswith("orch-direct-" if direct == "on" else "orch-reader-"),
                            thread)
            self.assertEqual(d["k"], direct)
            wait_until(lambda: refs(m, d._id) == 1, 10, "the worker process to release its proxy")


if __name__ == "__main__":
    unittest.main()
