"""`pip install src/main/python` (also `-e`) works offline (README, issue 5): the in-tree backend
needs nothing from an index, the installed package is complete (its py.typed marker too), and
the source tree is left clean."""
import os
import subprocess
import sys
import tarfile
import tempfile
import unittest
import zipfile
from pathlib import Path
from typing import List

from tests.support import PY_ROOT


def _pip_available() -> bool:
    return subprocess.run([sys.executable, "-m", "pip", "--version"],
                          capture_output=True).returncode == 0


@unittest.skipUnless(_pip_available(), "pip is not installed for this interpreter")
class PackagingTest(unittest.TestCase):
    def setUp(self) -> None:
        self.tmp = tempfile.TemporaryDirectory()
        self.addCleanup(self.tmp.cleanup)
        self.before = self.tree()

    def tree(self):
        return sorted(str(p.relative_to(PY_ROOT)) for p in PY_ROOT.rglob("*")
                      if "__pycache__" not in p.parts)

    def pip(self, *args: str, source: Path = PY_ROOT, editable: bool = False) -> None:
        # --no-index: any download would fail, as on a machine without a network.
        env = dict(os.environ, PIP_NO_INDEX="1", PIP_DISABLE_PIP_VERSION_CHECK="1")
        proc = subprocess.run([sys.executable, "-m", "pip", *args, "--no-index",
                               *(["-e"] if editable else []), str(source)],
                              env=env, capture_output=True, text=True, timeout=300)
        self.assertEqual(proc.returncode, 0, proc.stdout + proc.stderr)

    def run_python(self, code: str, site_dir: Path) -> List[str]:
        """Runs ``code`` elsewhere than the tree, without PYTHONPATH, with ``site_dir`` taken
        as a site directory (its .pth files run, as in site-packages); returns its output's
        words."""
        env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
        code = "import site; site.addsitedir(%r)\n%s" % (str(site_dir), code)
        proc = subprocess.run([sys.executable, "-c", code], cwd=self.tmp.name, env=env,
                              capture_output=True, text=True, timeout=60)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        return proc.stdout.split()

    def package_files(self) -> List[str]:
        """What the package is made of: its modules and the py.typed marker (PEP 561)."""
        return sorted(p.name for p in (PY_ROOT / "orch").iterdir()
                      if p.suffix == ".py" or p.name == "py.typed")

    def test_install_offline_gives_the_whole_package(self):
        target = Path(self.tmp.name, "site")
        self.pip("install", "--no-deps", "--target", str(target))
        self.assertIn("py.typed", self.package_files())
        self.assertEqual(sorted(p.name for p in (target / "orch").iterdir()
                                if p.name != "__pycache__"), self.package_files())
        # Imported from the install, not from the tree: run elsewhere, with only the target.
        env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
        env["PYTHONPATH"] = str(target)
        proc = subprocess.run([sys.executable, "-c",
                               "import orch; print(orch.__file__); print(orch.Manager.__name__)"],
                              cwd=self.tmp.name, env=env, capture_output=True, text=True, timeout=60)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertEqual(proc.stdout.split(), [str(target / "orch" / "__init__.py"), "Manager"])
        self.assertEqual(self.tree(), self.before, "the build must not write into the source tree")

    def test_wheel_is_pure_python_with_metadata(self):
        out = Path(self.tmp.name, "wheels")
        self.pip("wheel", "--no-deps", "-w", str(out))
        wheels = list(out.glob("orch-*-py3-none-any.whl"))
        self.assertEqual(len(wheels), 1, list(out.iterdir()))
        with zipfile.ZipFile(wheels[0]) as zf:
            names = zf.namelist()
            metadata = zf.read(next(n for n in names if n.endswith(".dist-info/METADATA"))).decode()
        self.assertIn("orch/connection.py", names)
        self.assertEqual(sorted(n[5:] for n in names if n.startswith("orch/")),
                         self.package_files())
        self.assertTrue(any(n.endswith(".dist-info/RECORD") for n in names), names)
        self.assertIn("Requires-Python: >=3.9", metadata)
        self.assertNotIn("Requires-Dist", metadata, "the client depends on nothing")

    def test_sdist_holds_the_whole_package_and_builds_the_same_wheel(self):
        sys.path.insert(0, str(PY_ROOT / "_build"))
        self.addCleanup(sys.path.remove, str(PY_ROOT / "_build"))
        import orch_build
        dist = Path(self.tmp.name, "dist")
        dist.mkdir()
        sdist = dist / orch_build.build_sdist(str(dist))
        with tarfile.open(sdist) as tf:
            # The "data" filter where Python has it (3.12+ warns without one).
            tf.extractall(self.tmp.name, **({"filter": "data"} if hasattr(tarfile, "data_filter")
                                            else {}))
            names = tf.getnames()
        base = "orch-%s/orch/" % orch_build.VERSION
        self.assertEqual(sorted(n[len(base):] for n in names if n.startswith(base)),
                         self.package_files())
        out = Path(self.tmp.name, "wheels")
        self.pip("wheel", "--no-deps", "-w", str(out),
                 source=Path(self.tmp.name, "orch-%s" % orch_build.VERSION))
        with zipfile.ZipFile(next(out.glob("orch-*.whl"))) as zf:
            self.assertIn("orch/py.typed", zf.namelist())

    def test_editable_install_imports_the_source_tree(self):
        target = Path(self.tmp.name, "site")
        self.pip("install", "--no-deps", "--target", str(target), editable=True)
        self.assertFalse((target / "orch").exists(), "an editable install copies nothing")
        out = self.run_python("import importlib.util, orch, orch.connection\n"
                              "print(orch.__file__, orch.connection.__file__)\n"
                              "spec = importlib.util.find_spec('tests')\n"
                              "print(spec.origin if spec else None)", site_dir=target)
        self.assertEqual(out[:2], [str(PY_ROOT / "orch" / "__init__.py"),
                                   str(PY_ROOT / "orch" / "connection.py")])
        # Only the package is importable from the tree, not its tests or examples.
        self.assertFalse(out[2].startswith(str(PY_ROOT)), out[2])
        self.assertEqual(self.tree(), self.before, "the build must not write into the source tree")


if __name__ == "__main__":
    unittest.main()
