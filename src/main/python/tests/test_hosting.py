"""Types hosted by a Python worker, called from Python (this and another process) and Java."""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
import unittest
from pathlib import Path

import orch
from tests.support import (PY_ROOT, OrchServer, ServerTestCase, assert_hosted_errors,
                           assert_sleep_does_not_stall, call_later, kill_once_started, patched_env,
                           run_in_threads, wait_until)


def start_worker(server: OrchServer) -> subprocess.Popen:
    env = server.env()
    env["ORCH_AUTHKEY_FILE"] = str(server.keyfile)
    proc = subprocess.Popen([sys.executable, "-m", "tests.hosted_worker", server.address],
                            cwd=str(PY_ROOT), env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    line = proc.stdout.readline()
    if line.strip() != "ready":
        proc.kill()
        raise AssertionError("worker did not start: " + line + proc.stdout.read())
    return proc


def stop_worker(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(10)
    proc.stdout.close()


class HostedTypeTest(ServerTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        try:
            cls.worker = start_worker(cls.server)
        except BaseException:
            cls.server.cleanup()
            raise

    @classmethod
    def tearDownClass(cls):
        stop_worker(cls.worker)
        super().tearDownClass()

    def test_call_from_this_process(self):
        u = self.m.UtilityClass()
        self.assertEqual(u.capitalize("hello"), "Hello")
        self.assertEqual(u.echo({"a": [1, None]}), {"a": [1, None]})
        self.assertRegex(repr(u), r"^<AutoProxy\[UtilityClass\] object, typeid 'UtilityClass' at 0x")
        hosts = {t["typeid"]: t for t in self.m.types()}
        self.assertNotEqual(hosts["UtilityClass"]["host"], "server")
        self.assertIn("capitalize", hosts["UtilityClass"]["exposed"])

    def test_hosted_errors_map_to_exceptions(self):
        assert_hosted_errors(self, self.m.UtilityClass())

    def test_call_from_another_python_process(self):
        code = textwrap.dedent(f"""
            import orch
            m = orch.Manager({self.server.address!r}).connect()
            u = m.UtilityClass()
            print(u.capitalize("from child"))
        """)
        env = self.server.env()
        env["ORCH_AUTHKEY_FILE"] = str(self.server.keyfile)
        out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                             text=True, timeout=60)
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertEqual(out.stdout.strip(), "From child")

    def test_call_from_java_cli(self):
        new = self.server.cli("new", "UtilityClass", "u-java")
        self.assertEqual(new.returncode, 0, new.stderr)
        call = self.server.cli("call", "u-java", "capitalize", json.dumps("hello"))
        self.assertEqual(call.returncode, 0, call.stderr)
        self.assertEqual(call.stdout.strip(), '"Hello"')
        # and the named object is visible to Python too
        self.assertEqual(self.m.lookup("u-java").capitalize("x"), "X")
        # One-shot commands go through the server; with ORCH_DIRECT the Java client calls this
        # Python worker's own port.
        via_server = self.server.cli("call", "u-java", "thread_name")
        self.assertEqual(via_server.returncode, 0, via_server.stderr)
        self.assertNotIn("orch-direct-", via_server.stdout)
        direct = self.server.cli("call", "u-java", "thread_name", extra_env={"ORCH_DIRECT": "on"})
        self.assertEqual(direct.returncode, 0, direct.stderr)
        self.assertTrue(direct.stdout.strip().startswith('"orch-direct-'), direct.stdout)

    def test_concurrent_threads_share_one_manager(self):
        u = self.m.UtilityClass()
        d = self.m.dict()

        def work(i):
            for j in range(50):
                self.assertEqual(u.echo([i, j]), [i, j])
                d[f"{i}-{j}"] = j
        run_in_threads(self, work, 8, 60)
        self.assertEqual(len(d), 400)

    def test_slow_methods_run_concurrently(self):
        u = self.m.UtilityClass()
        start = time.monotonic()
        threads = [threading.Thread(target=u.sleep, args=(0.5,)) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        self.assertLess(time.monotonic() - start, 1.9)

    # Hosted methods run on the worker's reader thread once it has handed reading on. These
    # check that nothing a method does can stall the worker's other calls or deadlock it.

    def test_sleeping_method_does_not_stall_other_calls(self):
        assert_sleep_does_not_stall(self, self.m.UtilityClass())

    def test_method_calling_another_remote_object(self):
        d = self.m.create("dict", name="nested-d")
        self.addCleanup(self.m.delete, "nested-d")
        d["k"] = [1, 2]
        u = self.m.UtilityClass()
        self.assertEqual(u.remote_get("nested-d", "k"), [1, 2])
        # many at once, from several threads: every one needs the worker to keep reading
        results = []

        def work(_i):
            for _ in range(20):
                results.append(u.remote_get("nested-d", "k"))
        run_in_threads(self, work, 4, 60)
        self.assertEqual(results, [[1, 2]] * 80)

    def test_method_waiting_on_remote_queue(self):
        try:
            q = self.m.create("Queue", name="nested-q")
        except orch.RemoteError as e:
            if e.code == 404:
                self.skipTest("server has no Queue")
            raise
        self.addCleanup(self.m.delete, "nested-q")
        u = self.m.UtilityClass()
        got = []
        waiters = [threading.Thread(target=lambda: got.append(u.queue_get("nested-q")))
                   for _ in range(3)]
        for t in waiters:
            t.start()
        time.sleep(0.2)  # let the gets block in the worker
        self.assertEqual(u.capitalize("still here"), "Still here")
        for i in range(3):
            q.put(i)
        for t in waiters:
            t.join(30)
        self.assertEqual(sorted(got), [0, 1, 2])


class InProcessHostingTest(ServerTestCase):
    def test_register_on_instance_and_start_serving(self):
        class Counter:
            def __init__(self, start=0):
                self.n = start

            def incr(self, by=1):
                self.n += by
                return self.n

        host = self.server.manager()
        self.addCleanup(host.close)
        host.register("Counter", Counter)
        host.start_serving()
        c = self.m.Counter(10)
        self.assertEqual(c.incr(), 11)
        self.assertEqual(c.incr(by=5), 16)
        host.close()
        # The server handles the disconnect asynchronously; wait until it has.
        wait_until(lambda: "Counter" not in {t["typeid"] for t in self.m.types()}, 10,
                   "the server to drop the Counter type")
        with self.assertRaises(orch.RemoteError) as cm:
            c.incr()
        self.assertEqual((cm.exception.code, cm.exception.name), (410, "HostGone"))

    def test_name_keyword_goes_to_a_hosted_constructor_as_in_python(self):
        class Person:
            def __init__(self, name, age=0):
                self.who = (name, age)

            def get(self):
                return list(self.who)

        host = self.server.manager()
        self.addCleanup(host.close)
        host.register("PersonKw", Person)
        host.start_serving()
        before = {o["name"] for o in self.m.objects()}
        self.assertEqual(self.m.PersonKw(name="Ann").get(), ["Ann", 0])
        self.assertEqual(self.m.PersonKw(name="Ann", age=3).get(), ["Ann", 3])  # no NameTaken
        self.assertEqual({o["name"] for o in self.m.objects()}, before, "nothing was named")
        named = self.m.create("PersonKw", "Bob", name="person-bob")
        self.addCleanup(self.m.delete, "person-bob")
        self.assertEqual(self.m.lookup("person-bob").get(), ["Bob", 0])
        self.assertEqual(named._name, "person-bob")
        # The server's fixed-signature built-ins still take name= for the object's name.
        q = self.m.Queue(name="sugar-named-queue")
        self.addCleanup(self.m.delete, "sugar-named-queue")
        self.assertEqual(q._name, "sugar-named-queue")

    def test_register_after_close_then_start_again(self):
        host = self.server.manager()
        self.addCleanup(host.close)
        host.register("ThingFirst", Thing)
        host.start()
        host.close()
        host.register("ThingSecond", Thing)  # recorded for the next start, as before one
        host.start()
        self.assertEqual(self.m.ThingFirst(1).get(), 1)
        self.assertEqual(self.m.ThingSecond(2).get(), 2)

    def test_builtin_proxytypes_bring_their_exposed_methods(self):
        # BaseManager's common pattern: host a plain dict or list behind the built-in proxies.
        shared_dict, shared_list = {"a": 1}, [1, 2, 3]
        host = self.server.manager()
        self.addCleanup(host.close)
        host.register("get_dict", lambda: shared_dict, proxytype=orch.DictProxy)
        host.register("get_list", lambda: shared_list, proxytype=orch.ListProxy)
        host.start_serving()
        client = self.server.manager()  # as with BaseManager, the client names the proxy types
        self.addCleanup(client.close)
        client.register("get_dict", proxytype=orch.DictProxy)
        client.register("get_list", proxytype=orch.ListProxy)
        d, lst = client.get_dict(), client.get_list()
        self.assertIsInstance(d, orch.DictProxy)
        d["b"] = 2
        self.assertEqual((d["a"], len(d), "b" in d), (1, 2, True))
        self.assertEqual(sorted(d.keys()), ["a", "b"])  # a dict view travels as a list
        self.assertEqual(sorted(d.items()), [("a", 1), ("b", 2)])
        self.assertEqual(d.copy(), {"a": 1, "b": 2})
        self.assertEqual(shared_dict, {"a": 1, "b": 2}, "the calls ran on the hosted dict")
        # Keys that are not strings keep their type in a copy, as a shared dict's do.
        d[2] = "two"
        d[None] = "none"
        self.assertEqual(d.copy(), {"a": 1, "b": 2, 2: "two", None: "none"})
        lst.append(4)
        self.assertEqual((lst[1:3], lst[-1], len(lst)), ([2, 3], 4, 4))  # slices reach the list
        lst[0:2] = ["x"]
        del lst[::2]
        self.assertEqual(shared_list, [3])

    def test_slices_reach_a_hosted_sequence(self):
        class Seq:
            def __init__(self):
                self.d = [10, 20, 30, 40]

            def __getitem__(self, i):
                if isinstance(i, dict):
                    return "dict %s" % sorted(i)
                return self.d[i]

            def __setitem__(self, i, value):
                self.d[i] = value

            def __delitem__(self, i):
                del self.d[i]

            def __len__(self):
                return len(self.d)

        host = self.server.manager()
        self.addCleanup(host.close)
        host.register("SliceSeq", Seq, exposed=("__getitem__", "__setitem__", "__delitem__",
                                                "__len__"))
        host.start_serving()
        seq = self.m.SliceSeq()
        self.assertEqual((seq[1:3], seq[::-1], seq[-1]), ([20, 30], [40, 30, 20, 10], 40))
        self.assertEqual(seq._callmethod("__getitem__", (slice(None, 2),)), [10, 20])
        seq[0:2] = [1]
        del seq[::2]
        self.assertEqual(seq[:], [30])
        # A mapping index other than a slice's shape reaches the object as it is; one of that
        # shape would be read as a slice, so the client refuses it.
        self.assertEqual(seq[{"start": 1, "k": 2}], "dict ['k', 'start']")
        for ambiguous in ({}, {"start": 1}):
            with self.assertRaisesRegex(TypeError, "would reach the object as a slice"):
                seq[ambiguous]
        self.assertEqual(seq[:], [30])

    def test_a_factory_without_exposed_exposes_each_objects_own_methods(self):
        # The tutorial's register('get_my_string', callable=lambda: my_string), as is: like
        # BaseManager's AutoProxy, the proxy has the public methods of what the callable made.
        host = self.server.manager()
        self.addCleanup(host.close)
        host.register("get_my_string", callable=lambda: "educative")
        host.register("echo", callable=lambda value: value)
        host.start_serving()
        proxy = self.m.get_my_string()
        # str() is the string's repr, quotes and all, as multiprocessing's proxy gives it.
        self.assertEqual((proxy.isdigit(), proxy.capitalize(), str(proxy)),
                         (False, "Educative", "'educative'"))
        self.assertIn("upper", proxy._exposed_)
        self.assertEqual(self.m.echo([3, 1]).count(1), 1)  # a list's methods for a list
        with self.assertRaises(AttributeError):
            self.m.echo(5).count  # an int has no count
        with self.assertRaises(orch.RemoteError) as cm:  # nor does its host take the call
            self.m.echo(5)._callmethod("count", (1,))
        self.assertEqual(cm.exception.code, 404)
        self.m.create("get_my_string", name="s-cli")
        self.addCleanup(self.m.delete, "s-cli")
        for env in ({"ORCH_DIRECT": "on"}, {}):  # the worker checks, and the server too
            call = self.server.cli("call", "s-cli", "upper", extra_env=env)
            self.assertEqual((call.returncode, call.stdout.strip()), (0, '"EDUCATIVE"'), call.stderr)
            refused = self.server.cli("call", "s-cli", "append", "x", extra_env=env)
            self.assertNotEqual(refused.returncode, 0)
            self.assertIn("append", refused.stderr)


class Thing:
    def __init__(self, start=0):
        self.n = start

    def get(self):
        return self.n

    def big(self, size):
        return "x" * size

    def hidden(self):
        return "hidden"


class ThingProxy(orch.BaseProxy):
    """A hand-written proxy as a BaseManager program has one: ``_exposed_`` and methods."""

    _exposed_ = ("get", "big")

    def get(self):
        return self._callmethod("get")


class RegisterLikeBaseManagerTest(ServerTestCase):
    """register() takes BaseManager's arguments, in its order, or refuses them clearly."""

    def hosting_manager(self, manager_class=orch.Manager):
        host = manager_class(self.m.address, authkey=self.server.authkey)
        self.addCleanup(host.close)
        return host

    def test_positional_proxytype_and_its_exposed(self):
        class M(orch.Manager):
            pass
        M.register("ThingP", Thing, ThingProxy)  # BaseManager: typeid, callable, proxytype
        self.hosting_manager(M).start()
        self.assertIn({"typeid": "ThingP", "exposed": ["get", "big", "__repr__", "__str__"]},
                      [{k: t[k] for k in ("typeid", "exposed")} for t in self.m.types()])
        caller = M(self.m.address, authkey=self.server.authkey).connect()
        self.addCleanup(caller.close)
        t = caller.ThingP(7)
        self.assertIsInstance(t, ThingProxy)
        self.assertEqual(t.get(), 7)
        with self.assertRaises(AttributeError):
            t.hidden()  # not in ThingProxy._exposed_

    def test_keywords_and_earlier_positional_exposed(self):
        host = self.hosting_manager()
        host.register("ThingK", callable=Thing, proxytype=None, exposed=["get"],
                      method_to_typeid=None, create_method=False)
        host.register("ThingL", Thing, ["get"])  # orch's earlier order: exposed third
        host.start()
        self.assertEqual(self.m.ThingK(1).get(), 1)
        self.assertEqual(self.m.ThingL(2).get(), 2)
        self.assertEqual(self.m.ThingL(2)._exposed_, ("get", "__repr__", "__str__"))

    def test_unsupported_or_wrong_arguments_fail_at_register(self):
        import multiprocessing.managers
        with self.assertRaisesRegex(NotImplementedError, "method_to_typeid"):
            self.m.register("T", Thing, method_to_typeid={"get": "T"})
        with self.assertRaisesRegex(TypeError, "exposed must be a list of method names"):
            self.m.register("T", Thing, exposed="get")  # would expose 'g', 'e', 't'
        with self.assertRaisesRegex(TypeError, "exposed must be a list"):
            self.m.register("T", Thing, exposed=[1])
        with self.assertRaisesRegex(TypeError, "subclass of orch.BaseProxy"):
            self.m.register("T", Thing, multiprocessing.managers.BaseProxy)
        with self.assertRaisesRegex(TypeError, "callable must be"):
            self.m.register("T", "Thing", exposed=["get"])
        with self.assertRaisesRegex(TypeError, "typeid must be"):
            self.m.register(5, Thing)

    def test_class_registration_after_the_instance_is_made(self):
        class M(orch.Manager):
            pass
        host = self.hosting_manager(M)
        M.register("ThingLate", Thing)  # as with BaseManager, start() sees it
        host.start()
        self.assertEqual(self.m.ThingLate(3).get(), 3)


class TypeidHostedElsewhereTest(ServerTestCase):
    def test_start_fails_then_retries_on_the_same_host(self):
        first = self.server.manager()
        self.addCleanup(first.close)
        first.register("ThingTaken", Thing)
        first.start()
        second = self.server.manager()
        self.addCleanup(second.close)
        second.register("ThingMine", Thing)
        second.register("ThingTaken", Thing)
        with self.assertRaises(orch.RemoteError) as cm:
            second.start()
        self.assertEqual((cm.exception.code, cm.exception.name), (409, "NameTaken"))
        early = self.m.ThingMine(1)  # announced before the failure: hosted by `second`
        self.assertEqual(early.get(), 1)
        first.close()
        wait_until(lambda: "ThingTaken" not in {t["typeid"] for t in self.m.types()}, 10,
                   "the server to drop the first host's type")
        second.start()
        self.assertEqual(self.m.ThingTaken(2).get(), 2)
        late = self.m.ThingMine(3)
        self.assertEqual((early.get(), late.get()), (1, 3))
        # One host, one direct port: the retry did not start a second listener.
        self.assertEqual(early._route.address, late._route.address)


class Shown:
    def __init__(self, text):
        self.text = text

    def get(self):
        return self.text

    def __repr__(self):
        return "Shown(%r)" % self.text

    def __str__(self):
        return self.text


class StrOfHostedProxyTest(ServerTestCase):
    """str() of a hosted object's proxy is the object's repr(), as multiprocessing's BaseProxy
    gives it (its server answers __repr__ and __str__ for any object): by either route, and
    whatever the registration exposes."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.host = cls.server.manager()
        cls.host.register("ShownAll", Shown)
        cls.host.register("ShownOne", Shown, exposed=["get"])
        cls.host.register("ShownText", callable=lambda: "educative")
        cls.host.start()

    @classmethod
    def tearDownClass(cls):
        cls.host.close()
        super().tearDownClass()

    def callers(self):
        with patched_env(ORCH_DIRECT="off"):
            through_server = self.server.manager()
        self.addCleanup(through_server.close)
        return {"direct": self.m, "through the server": through_server}

    def test_str_is_the_referents_repr(self):
        for route, m in self.callers().items():
            with self.subTest(route=route):
                for typeid in ("ShownAll", "ShownOne"):
                    p = m.create(typeid, "hi")
                    self.assertEqual(p._route is not None, route == "direct")
                    self.assertEqual(str(p), "Shown('hi')")
                    self.assertEqual(p._callmethod("__str__"), "hi")
                    self.assertRegex(repr(p), r"^<AutoProxy\[%s\] object" % typeid)
                self.assertEqual(str(m.ShownText()), "'educative'")
                # Only those two: other private methods stay refused.
                with self.assertRaises(orch.RemoteError) as cm:
                    m.ShownOne("x")._callmethod("__init__", ("y",))
                self.assertEqual(cm.exception.code, 403)

    def test_other_clients_may_call_repr(self):
        self.m.create("ShownOne", "cli", name="shown-cli")
        self.addCleanup(self.m.delete, "shown-cli")
        call = self.server.cli("call", "shown-cli", "__repr__")
        self.assertEqual((call.returncode, call.stdout.strip()), (0, '"Shown(\'cli\')"'),
                         call.stderr)

    def test_server_types_keep_their_str(self):
        self.assertEqual(str(self.m.dict(a=1)), "{'a': 1}")
        self.assertEqual(str(self.m.list([1])), "[1]")
        self.assertEqual(str(self.m.Namespace(a=1)), "Namespace(a=1)")
        self.assertEqual(str(self.m.Value("i", 5)), "5")  # multiprocessing: "Value('i', 5)"
        # The sync types answer __repr__ with their state (multiprocessing: "<queue.Queue
        # object at 0x…>"); the proxy's own repr stays for repr().
        q = self.m.Queue()
        self.assertEqual(str(q), "<Queue object: qsize=0 maxsize=0>")
        self.assertRegex(repr(q), r"^<AutoProxy\[Queue\] object, typeid 'Queue' at 0x")


class MathsClass:
    def add(self, x, y):
        return x + y


class WithBlockTest(ServerTestCase):
    """``with MyManager() as m`` hosts the registered types, as BaseManager.__enter__ starts
    the server that serves them (the custom-manager example of multiprocessing's docs)."""

    def manager_class(self, typeid):
        class MyManager(orch.Manager):
            pass
        MyManager.register(typeid, MathsClass)
        return MyManager

    def new(self, manager_class):
        return manager_class(self.m.address, authkey=self.server.authkey)

    def hosted(self):
        return {t["typeid"] for t in self.m.types()}

    def test_the_docs_example(self):
        MyManager = self.manager_class("MathsWith")
        with self.new(MyManager) as manager:
            self.assertEqual(manager.MathsWith().add(4, 3), 7)
            self.assertIn("MathsWith", self.hosted())
            self.assertEqual(self.m.MathsWith().add(1, 2), 3)  # other clients reach it too
        self.assertIsNone(manager._conn)
        wait_until(lambda: "MathsWith" not in self.hosted(), 10, "the type to go with the block")

    def test_without_callables_it_only_connects(self):
        m = orch.Manager(self.m.address, authkey=self.server.authkey)
        m.register("MathsDeclared")  # a client's declaration: nothing to host
        with m:
            self.assertIsNone(m._host)
            self.assertEqual(m.list([1])[:], [1])

    def test_a_failed_start_closes_and_raises(self):
        MyManager = self.manager_class("MathsTwice")
        first = self.new(MyManager).start()
        self.addCleanup(first.close)
        second = self.new(MyManager)
        with self.assertRaises(orch.RemoteError) as cm:
            with second:
                self.fail("the block must not run")
        self.assertEqual(cm.exception.code, 409)
        self.assertIsNone(second._conn)

    def test_a_registered_type_not_hosted_gets_a_hint(self):
        MyManager = self.manager_class("MathsNobodyHosts")
        m = self.new(MyManager).connect()
        self.addCleanup(m.close)
        with self.assertRaises(orch.RemoteError) as cm:
            m.MathsNobodyHosts()
        self.assertEqual(cm.exception.code, 404)
        self.assertIn("unknown typeid 'MathsNobodyHosts'", str(cm.exception))
        self.assertIn("this Manager registered it but does not host it; call start()",
                      str(cm.exception))
        # Registered without a callable (a client's declaration), or never: no hint.
        for declared in (True, False):
            other = orch.Manager(self.m.address, authkey=self.server.authkey)
            if declared:
                other.register("MathsNobodyHosts")
            with other:
                with self.assertRaises(orch.RemoteError) as cm:
                    other.MathsNobodyHosts()
                self.assertEqual(cm.exception.code, 404)
                self.assertNotIn("registered it", str(cm.exception))


class OversizedResultTest(unittest.TestCase):
    """A result larger than the server takes fails that call; the worker keeps hosting."""

    @classmethod
    def setUpClass(cls):
        cls.server = OrchServer(extra_args=("--max-frame", "65536"))
        try:
            cls.server.start()
        except BaseException:
            cls.server.cleanup()
            raise
        cls.host = cls.server.manager()
        cls.host.register("ThingBig", Thing)
        cls.host.start()

    @classmethod
    def tearDownClass(cls):
        cls.host.close()
        cls.server.cleanup()

    def check(self, caller):
        self.addCleanup(caller.close)
        t = caller.ThingBig(5)
        self.assertEqual(len(t.big(60000)), 60000)
        with self.assertRaisesRegex(ValueError, "takes frames of at most 65536") as cm:
            t.big(70000)
        self.assertEqual((cm.exception.code, cm.exception.name), (500, "ValueError"))
        # The worker's session survived: the same object and new ones still answer.
        self.assertEqual(t.get(), 5)
        self.assertEqual(caller.ThingBig(6).get(), 6)
        self.assertFalse(self.host._conn.closed)

    def test_through_the_server(self):
        with patched_env(ORCH_DIRECT="off"):
            caller = self.server.manager()
        self.check(caller)

    def test_direct(self):
        caller = self.server.manager()
        self.check(caller)
        self.assertIsNotNone(caller.ThingBig()._route)


class ServerKilledTest(unittest.TestCase):
    """A call waiting in a hosted method fails with ConnectionError when the server dies.

    The client calls through the server (ORCH_DIRECT=off): a direct call in flight fails with
    HostGone instead, as the worker's session ends (test_direct.ServerKilledMidDirectCallTest).
    """

    def setUp(self):
        self.server = OrchServer()
        self.addCleanup(self.server.cleanup)
        self.server.start()
        self.worker = start_worker(self.server)
        self.addCleanup(stop_worker, self.worker)

    def test_pending_call_fails_when_server_is_killed(self):
        saved = os.environ.get("ORCH_DIRECT")
        os.environ["ORCH_DIRECT"] = "off"
        try:
            m = self.server.manager()
        finally:
            if saved is None:
                del os.environ["ORCH_DIRECT"]
            else:
                os.environ["ORCH_DIRECT"] = saved
        self.addCleanup(m.close)
        u = m.UtilityClass()
        wake = Path(tempfile.mkdtemp(prefix="orch-wake-")) / "wake"
        self.addCleanup(shutil.rmtree, wake.parent, True)
        call_later(self, 0, kill_once_started, self.server, wake)
        start = time.monotonic()
        with self.assertRaises(ConnectionError):
            u.sleep(60, str(wake))
        self.assertLess(time.monotonic() - start, 30)
        with self.assertRaises(ConnectionError):
            u.capitalize("again")
        # the worker notices too and exits
        self.assertEqual(self.worker.wait(30), 0)


if __name__ == "__main__":
    unittest.main()
