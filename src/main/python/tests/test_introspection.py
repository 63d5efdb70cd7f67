"""help() and inspect.signature() describe Manager's methods as written: register (bound to an
instance or a class) and the attribute sugar (m.Queue, m.dict…). No server needed."""
import inspect
import pydoc
import unittest

import orch


def doc(obj) -> str:
    return pydoc.plain(pydoc.render_doc(obj))


class RegisterTest(unittest.TestCase):
    PARAMS = ["typeid", "callable", "proxytype", "exposed", "method_to_typeid", "create_method"]

    def test_signature_and_doc_on_an_instance_and_on_the_class(self):
        class MyManager(orch.Manager):
            pass

        for register in (orch.Manager().register, orch.Manager.register, MyManager.register):
            with self.subTest(register=register):
                self.assertEqual(list(inspect.signature(register).parameters), self.PARAMS)
                self.assertEqual(register.__name__, "register")
                self.assertIn("Registers ``typeid``", register.__doc__)
                text = doc(register)
                self.assertIn("register(typeid", text)
                self.assertIn("Registers ``typeid``", text)
                self.assertNotIn("partial", text)

    def test_class_help_lists_register(self):
        text = doc(orch.Manager)
        self.assertRegex(text, r"\n \|  register\(typeid")
        self.assertNotIn("functools.partial", text)

    def test_still_registers_on_the_instance_or_the_class(self):
        class MyManager(orch.Manager):
            pass

        MyManager.register("OnClass", dict)
        m = MyManager()
        m.register("OnInstance", list)
        self.assertIn("OnClass", MyManager._registry)
        self.assertNotIn("OnClass", orch.Manager._registry)
        self.assertIn("OnInstance", m._types)
        self.assertNotIn("OnInstance", MyManager._registry)


class SugarTest(unittest.TestCase):
    def test_named_sugar_has_its_own_signature_and_doc(self):
        m = orch.Manager()
        for typeid in ("Queue", "Lock", "list"):
            with self.subTest(typeid=typeid):
                sugar = getattr(m, typeid)
                self.assertEqual(str(inspect.signature(sugar)), "(*args, name=None, **kwargs)")
                self.assertEqual(sugar.__name__, typeid)
                self.assertIn("A new shared %s" % typeid, sugar.__doc__)
                text = doc(sugar)
                self.assertIn("%s(*args, name=None, **kwargs)" % typeid, text)
                self.assertNotIn("partial", text)
                self.assertNotIn("typeid", str(inspect.signature(sugar)))

    def test_other_sugar_passes_every_keyword_on(self):
        sugar = orch.Manager().dict
        self.assertEqual(str(inspect.signature(sugar)), "(*args, **kwargs)")
        self.assertIn("every keyword argument goes to its constructor", doc(sugar))


if __name__ == "__main__":
    unittest.main()
