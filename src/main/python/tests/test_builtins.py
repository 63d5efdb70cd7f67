"""The built-in types through proxies, against a real server."""
import gc
import unittest

import orch
from tests.support import ServerTestCase, wait_until


class DictTest(ServerTestCase):
    def test_mapping_protocol(self):
        d = self.m.dict({"a": 1})
        d["k"] = [1, 2]
        self.assertEqual(d["k"], [1, 2])
        self.assertEqual(len(d), 2)
        self.assertIn("a", d)
        self.assertNotIn("zz", d)
        self.assertEqual(sorted(d), ["a", "k"])
        self.assertEqual(sorted(d.keys()), ["a", "k"])
        self.assertEqual(sorted(d.items()), [("a", 1), ("k", [1, 2])])
        self.assertEqual(d.get("zz", 5), 5)
        self.assertEqual(d.pop("a"), 1)
        del d["k"]
        self.assertEqual(len(d), 0)
        d.update({"x": None})
        self.assertEqual(d.copy(), {"x": None})

    def test_a_missing_key_error_pickles(self):
        import pickle
        with self.assertRaises(KeyError) as cm:
            self.m.dict()["missing"]
        back = pickle.loads(pickle.dumps(cm.exception))
        self.assertIsInstance(back, KeyError)
        self.assertIsInstance(back, orch.RemoteError)
        self.assertEqual((back.args, back.code), (("missing",), 500))

    def test_repr_and_str(self):
        d = self.m.dict()
        d["k"] = 1
        self.assertRegex(repr(d), r"^<DictProxy object, typeid 'dict' at 0x[0-9a-f]+>$")
        self.assertEqual(str(d), "{'k': 1}")

    def test_missing_key_raises_key_error(self):
        d = self.m.dict()
        with self.assertRaises(KeyError) as cm:
            d["nope"]
        self.assertEqual(cm.exception.args, ("nope",))
        self.assertIsInstance(cm.exception, orch.RemoteError)
        with self.assertRaises(KeyError):
            del d["nope"]

    def test_popitem_returns_a_tuple(self):
        d = self.m.dict({"a": 1})
        d["w"] = 4
        d[7] = None
        self.assertEqual(d.popitem(), (7, None))  # a tuple, as dict.popitem() and items() give
        item = d.popitem()
        self.assertIs(type(item), tuple)
        self.assertEqual(item, ("w", 4))
        self.assertEqual(d.copy(), {"a": 1})
        d.popitem()
        with self.assertRaises(KeyError):
            d.popitem()

    def test_keys_are_json_scalars(self):
        # The messages the README's "Differences" section quotes.
        d = self.m.dict()
        d[1], d[None], d[1.5] = "int", "none", "float"
        self.assertEqual(d.copy(), {1: "int", None: "none", 1.5: "float"})
        with self.assertRaises(TypeError) as cm:
            d[(1, 2)] = "x"  # a tuple travels as a JSON array
        self.assertEqual(str(cm.exception), "unhashable type: 'list'")
        with self.assertRaises(TypeError) as cm:
            self.m.dict({(1, 2): "x"})
        self.assertEqual(str(cm.exception),
                         "keys must be str, int, float, bool or None, not tuple")
        self.assertEqual(self.m.dict({1: "a"}).copy(), {"1": "a"})

    def test_true_is_one_as_in_python(self):
        d = self.m.dict()
        d[1] = "int"
        d[True] = "bool"
        d[0.0] = "zero"
        local = {1: "int", True: "bool", 0.0: "zero"}
        self.assertEqual(d.copy(), local)
        self.assertEqual(list(d.keys()), list(local.keys()))
        self.assertEqual(d[False], "zero")
        self.assertIn(True, d)
        l = self.m.list([1, 1.0, True, False, "1"])
        self.assertEqual((l.count(True), l.count(0), l.index(True)), (3, 1, 0))
        l.remove(True)
        self.assertEqual(l[:], [1.0, True, False, "1"])

    def test_non_exposed_method_is_attribute_error_locally(self):
        with self.assertRaises(AttributeError):
            self.m.dict().no_such_method()


class ListTest(ServerTestCase):
    def test_sequence_protocol(self):
        lst = self.m.list([3, 1])
        lst.append(2)
        lst.extend([5])
        self.assertEqual(len(lst), 4)
        self.assertEqual(lst[0], 3)
        self.assertEqual(lst[-1], 5)
        lst[0] = 0
        self.assertIn(0, lst)
        lst.sort()
        self.assertEqual(list(lst), [0, 1, 2, 5])  # index-by-index iteration
        self.assertEqual(lst.index(2), 2)
        self.assertEqual(lst.pop(), 5)
        self.assertRegex(repr(lst), r"^<ListProxy object, typeid 'list' at 0x")
        self.assertEqual(str(lst), "[0, 1, 2]")

    def test_slices(self):
        lst = self.m.list(list(range(6)))
        self.assertEqual(lst[1:3], [1, 2])
        self.assertEqual(lst[::2], [0, 2, 4])
        self.assertEqual(lst[:], [0, 1, 2, 3, 4, 5])
        lst[0:2] = ["a"]
        del lst[-2:]
        self.assertEqual(lst[:], ["a", 2, 3])
        # A slice through the generic _callmethod travels as the list's own slices do.
        self.assertEqual(lst._callmethod("__getitem__", (slice(1, 3),)), [2, 3])
        lst._callmethod("__setitem__", (slice(0, 1), ["b", "c"]))
        lst._callmethod("__delitem__", [slice(None, None, -3)])
        self.assertEqual(lst[:], ["c", 2])

    def test_errors(self):
        lst = self.m.list()
        with self.assertRaises(IndexError):
            lst[3]
        with self.assertRaises(IndexError):
            lst.pop()
        with self.assertRaises(ValueError):
            lst.remove(42)
        with self.assertRaises(TypeError):
            lst.append()  # missing argument binds as in Python
        lst.append("a")
        with self.assertRaises(TypeError):
            lst[0.0]  # an index must be an int, as in Python
        # A dict index is not a slice, though slices travel as objects: refused, list untouched.
        for index_op in (lambda: lst[{}], lambda: lst.__setitem__({}, [9]),
                         lambda: lst.__delitem__({"start": 0})):
            with self.assertRaisesRegex(TypeError, "list indices must be integers or slices, not dict"):
                index_op()
        self.assertEqual(lst[:], ["a"])


    def test_iadd_extends_in_place(self):
        lst = self.m.list([1])
        same = lst
        lst += [2, 3]
        self.assertIs(lst, same)  # in place, as multiprocessing's ListProxy: still the proxy
        lst += (4,)
        lst += (x for x in [5, 6])  # any iterable, as for a list
        lst += "ab"
        with self.server.manager() as other:  # the shared object changed, not a local copy
            self.assertEqual(other.lookup(id=lst._id)[:], [1, 2, 3, 4, 5, 6, "a", "b"])

    def test_add_and_mul_return_new_lists(self):
        lst = self.m.list([1, 2])
        for result, expected in ((lst + [3], [1, 2, 3]), (lst * 2, [1, 2, 1, 2]),
                                 (2 * lst, [1, 2, 1, 2]), (lst * 0, []), (lst + [], [1, 2])):
            self.assertIs(type(result), list)  # plain lists, as multiprocessing's ListProxy gives
            self.assertEqual(result, expected)
        self.assertEqual(lst[:], [1, 2])  # the shared list is unchanged
        for bad in (lambda: lst + (3,), lambda: lst + lst, lambda: lst * 2.0,
                    lambda: lst * "2", lambda: [0] * lst):
            with self.assertRaises(TypeError):  # as for a list
                bad()

    def test_imul_is_not_supported(self):
        lst = self.m.list([1, 2])
        same = lst
        with self.assertRaises(TypeError) as cm:
            lst *= 2
        self.assertIn("l *= n", str(cm.exception))
        self.assertIs(lst, same)  # not quietly rebound to the plain list that * makes
        self.assertEqual(lst[:], [1, 2])


class ValuesJsonCanCarryTest(ServerTestCase):
    """Values without a JSON type of their own but one obvious JSON form are sent in it."""

    def test_range_set_frozenset_and_mapping(self):
        import types
        self.assertEqual(self.m.list(range(5))[:], [0, 1, 2, 3, 4])
        lst = self.m.list()
        lst.append({3, 1, 2})
        lst.append(frozenset(["x"]))
        lst.extend(range(2))
        self.assertEqual(sorted(lst[0]), [1, 2, 3])
        self.assertEqual(lst[1:], [["x"], 0, 1])
        d = self.m.dict(types.MappingProxyType({"a": 1}))
        d["m"] = types.MappingProxyType({"b": (1, 2)})
        self.assertEqual(d.copy(), {"a": 1, "m": {"b": [1, 2]}})
        self.assertEqual(self.m.Value(range(2, 4)).value, [2, 3])

    def test_other_values_raise_type_error_and_send_nothing(self):
        lst = self.m.list()
        for bad in (b"bytes", object(), 1j):
            with self.assertRaises(TypeError) as cm:
                lst.append(bad)
            self.assertIn("is not JSON serializable", str(cm.exception))
        with self.assertRaises(TypeError):
            lst.append({(1, 2): "tuple key"})
        self.assertEqual(len(lst), 0)


class ValueAndNamespaceTest(ServerTestCase):
    def test_value(self):
        v = self.m.Value(5)
        self.assertEqual(v.get(), 5)
        v.set("x")
        self.assertEqual(v.value, "x")
        v.value = 7
        self.assertEqual(v.get(), 7)
        self.assertEqual(self.m.Value("i", 3).value, 3)  # SyncManager's typecode form
        self.assertEqual(self.m.Value("i", 4, lock=False).value, 4)  # and its lock argument
        self.assertEqual(self.m.Value("d", 1.5, True).value, 1.5)
        self.assertEqual(self.m.Value().get(), None)

    def test_floats_stay_floats(self):
        # JSON keeps 1.0 apart from 1, and so does the server: what goes in comes back as it was.
        v = self.m.Value(1.0)
        self.assertIs(type(v.get()), float)
        lst = self.m.list([2.0, 2, [3.0]])
        self.assertEqual([type(x) for x in lst[:]], [float, int, list])
        self.assertIs(type(lst[2][0]), float)
        self.assertEqual(lst.count(2), 2)  # 2 == 2.0, as in Python
        q = self.m.Queue()
        q.put(-0.0)
        self.assertEqual(repr(q.get()), "-0.0")

    def test_namespace(self):
        ns = self.m.Namespace(x=1)
        ns.y = "two"
        self.assertEqual((ns.x, ns.y), (1, "two"))
        del ns.x
        with self.assertRaises(AttributeError):
            ns.x
        self.assertEqual(ns._getvalue(), {"y": "two"})
        self.assertEqual(str(ns), "Namespace(y='two')")

    def test_name_is_an_entry_of_a_dict_or_namespace_as_in_python(self):
        before = {o["name"] for o in self.m.objects()}
        self.assertEqual(self.m.Namespace(name="w", n=1).name, "w")
        self.assertEqual(self.m.dict(name="bob", age=3).copy(), {"name": "bob", "age": 3})
        self.assertEqual({o["name"] for o in self.m.objects()}, before, "nothing was named")
        named = self.m.create("Namespace", name="ns-named", n=2)
        self.addCleanup(self.m.delete, "ns-named")
        self.assertEqual(self.m.lookup("ns-named").n, 2)
        self.assertEqual(named._name, "ns-named")


class ArrayTest(ServerTestCase):
    """SyncManager.Array: an array.array behind a proxy with len, indexing and slices."""

    def test_array_behaves_as_syncmanagers(self):
        import array
        a = self.m.Array("i", [1, 2, 3])
        ref = array.array("i", [1, 2, 3])
        self.assertEqual(len(a), len(ref))
        a[1] = 20
        ref[1] = 20
        self.assertEqual(a[-1], ref[-1])
        self.assertEqual(a[::-1], list(ref[::-1]))
        a[0:2] = [7]
        ref[0:2] = array.array("i", [7])
        self.assertEqual(a[:], list(ref))
        self.assertEqual(list(a), list(ref), "iteration through __getitem__, as Python's proxy")
        with self.assertRaises(IndexError):
            a[5]
        with self.assertRaises(TypeError):
            a[0] = 1.5
        with self.assertRaises(OverflowError):
            self.m.Array("b", [200])
        with self.assertRaises(ValueError):
            self.m.Array("z", [])
        self.assertAlmostEqual(self.m.Array("d", [1, 2.5], lock=False)[0], 1.0)
        named = self.m.Array("u", "hi", name="arr-named")
        self.addCleanup(self.m.delete, "arr-named")
        self.assertEqual(self.m.lookup("arr-named")[1], "i")
        self.assertEqual(named[0], "h")

    def test_str_is_pythons_array_repr(self):
        import array
        for code, items in (("i", [1, 2, 3]), ("d", [1.5, 2.0, 1e16, 0.1]), ("f", [0.1, 1.5]),
                            ("u", "ab"), ("u", "it's"), ("Q", [2 ** 64 - 1]), ("i", []), ("u", "")):
            with self.subTest(code=code, items=items):
                self.assertEqual(str(self.m.Array(code, items)), repr(array.array(code, items)))
        self.assertRegex(repr(self.m.Array("i", [])), r"^<AutoProxy\[Array\] object, typeid 'Array' at 0x[0-9a-f]+>$")


class ManagerOperationsTest(ServerTestCase):
    def test_base_manager_api_orch_lacks_says_so(self):
        for name in ("Pool",):
            with self.subTest(name=name):
                self.assertFalse(hasattr(self.m, name))
                with self.assertRaisesRegex(AttributeError, "orch.Manager has no %s" % name):
                    getattr(self.m, name)(4)
        for call, hint in ((self.m.get_server, "serve_forever"), (self.m.join, "serve_forever")):
            with self.assertRaisesRegex(NotImplementedError, hint):
                call()
        host, port = self.server.address.rsplit(":", 1)
        self.assertEqual(self.m.address, (host, int(port)))

    def test_named_objects_are_shared_and_deleted(self):
        d = self.m.create("dict", name="shared-d")
        d["k"] = 1
        with self.server.manager() as other:
            self.assertEqual(other.lookup("shared-d")["k"], 1)
            with self.assertRaises(orch.RemoteError) as cm:
                other.create("dict", name="shared-d")
            self.assertEqual((cm.exception.code, cm.exception.name), (409, "NameTaken"))
        self.m.delete("shared-d")
        with self.assertRaises(orch.RemoteError) as cm:
            self.m.lookup("shared-d")
        self.assertEqual(cm.exception.code, 404)

    def test_unknown_typeid_is_404(self):
        with self.assertRaises(orch.RemoteError) as cm:
            self.m.NoSuchType()
        self.assertEqual((cm.exception.code, cm.exception.name), (404, "NotFound"))

    def test_types_lists_builtins(self):
        typeids = {t["typeid"] for t in self.m.types()}
        self.assertLessEqual({"dict", "list", "Value", "Namespace"}, typeids)

    def test_status_counts_what_the_lists_hold(self):
        status = self.m.status()
        self.assertEqual(status["types"], len(self.m.types()))
        self.assertGreaterEqual(status["sessions"], 1)
        d = self.m.dict()
        self.addCleanup(d._release)
        self.assertEqual(self.m.status()["objects"], len(self.m.objects()))

    def test_anonymous_object_released_when_proxy_collected(self):
        d = self.m.dict()
        oid = d._id
        self.assertIn(oid, [o["id"] for o in self.m.objects()])
        del d
        gc.collect()
        # the release is queued by the finalizer and sent with the next request
        wait_until(lambda: oid not in [o["id"] for o in self.m.objects()], 10,
                   "the released dict to disappear")

    def test_many_proxies_collected_at_once_are_all_released(self):
        # More than the server's 4,096 requests in flight: one release each was refused past
        # that (the objects lived on) and so was the call that sent them.
        m = self.server.manager()
        self.addCleanup(m.close)
        proxies = [m.Event() for _ in range(5000)]
        ids = {p._id for p in proxies}
        del proxies
        gc.collect()
        self.assertEqual(m.status()["sessions"], self.m.status()["sessions"])  # the call that flushes them
        wait_until(lambda: not ids & {o["id"] for o in self.m.objects()}, 30,
                   "the 5,000 released objects to disappear")

    def test_anonymous_objects_released_when_manager_closes(self):
        other = self.server.manager()
        keep = other.list()
        oid = keep._id
        other.close()
        wait_until(lambda: oid not in [o["id"] for o in self.m.objects()], 10,
                   "the closed session's list to disappear")

    def test_use_after_close_is_connection_error(self):
        d = self.m.dict()
        self.m.close()
        with self.assertRaises(ConnectionError):
            d["k"] = 1

    def test_str_after_close_says_it_failed_instead_of_raising(self):
        d, ns = self.m.dict({"a": 1}), self.m.Namespace(x=1)
        self.assertEqual(str(d), "{'a': 1}")
        self.m.close()
        for proxy in (d, ns):
            self.assertRegex(str(proxy), r"^<\w+ object, typeid '\w+' at 0x[0-9a-f]+; '__str__\(\)' failed>$")


if __name__ == "__main__":
    unittest.main()
