"""A minimal PEP 517 build backend for the orch client, using only the standard library.

Why: the package must install offline, and setuptools older than 70.1 cannot build a wheel
without the separate ``wheel`` package. With this backend ``requires = []``, so
``pip install src/main/python`` needs nothing from an index, with or without build isolation.
It builds pure-Python wheels (and sdists) of the ``orch`` package, and editable wheels (PEP 660,
``pip install -e``) that import it from this source tree, nothing more.
"""
import base64
import hashlib
import io
import os
import tarfile
import zipfile

NAME = "orch"
VERSION = "0.1.0"
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TAG = "py3-none-any"

METADATA = f"""Metadata-Version: 2.1
Name: {NAME}
Version: {VERSION}
Summary: Python client of orch, a shared-object manager in the spirit of multiprocessing.managers
License: Apache-2.0
Requires-Python: >=3.9
Description-Content-Type: text/markdown

"""


def _metadata() -> str:
    with open(os.path.join(ROOT, "README.md"), encoding="utf-8") as f:
        return METADATA + f.read()


def _package_files():
    pkg = os.path.join(ROOT, NAME)
    for name in sorted(os.listdir(pkg)):
        # py.typed: the PEP 561 marker, so type checkers read the package's annotations.
        if name.endswith(".py") or name == "py.typed":
            yield f"{NAME}/{name}", os.path.join(pkg, name)


def _record_line(path: str, data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{path},sha256={digest},{len(data)}"


def get_requires_for_build_wheel(config_settings=None):
    return []


def get_requires_for_build_sdist(config_settings=None):
    return []


def _dist_info_files():
    dist_info = f"{NAME}-{VERSION}.dist-info"
    wheel = f"Wheel-Version: 1.0\nGenerator: orch_build\nRoot-Is-Purelib: true\nTag: {TAG}\n"
    return dist_info, {f"{dist_info}/METADATA": _metadata().encode(),
                       f"{dist_info}/WHEEL": wheel.encode()}


def prepare_metadata_for_build_wheel(metadata_directory, config_settings=None):
    dist_info, files = _dist_info_files()
    for path, data in files.items():
        target = os.path.join(metadata_directory, path)
        os.makedirs(os.path.dirname(target), exist_ok=True)
        with open(target, "wb") as f:
            f.write(data)
    return dist_info


def _write_wheel(wheel_directory, files):
    """Writes a wheel holding ``files`` (archive name -> bytes) and the dist-info; returns its
    file name."""
    filename = f"{NAME}-{VERSION}-{TAG}.whl"
    dist_info, meta = _dist_info_files()
    records = []
    with zipfile.ZipFile(os.path.join(wheel_directory, filename), "w",
                         zipfile.ZIP_DEFLATED) as zf:
        for arcname, data in list(files.items()) + list(meta.items()):
            zf.writestr(arcname, data)
            records.append(_record_line(arcname, data))
        records.append(f"{dist_info}/RECORD,,")
        zf.writestr(f"{dist_info}/RECORD", "\n".join(records) + "\n")
    return filename


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    files = {}
    for arcname, path in _package_files():
        with open(path, "rb") as f:
            files[arcname] = f.read()
    return _write_wheel(wheel_directory, files)


def build_sdist(sdist_directory, config_settings=None):
    base = f"{NAME}-{VERSION}"
    filename = base + ".tar.gz"
    with tarfile.open(os.path.join(sdist_directory, filename), "w:gz") as tf:
        for rel in ["pyproject.toml", "README.md", "_build/orch_build.py"]:
            tf.add(os.path.join(ROOT, rel), f"{base}/{rel}")
        for arcname, path in _package_files():
            tf.add(path, f"{base}/{arcname}")
        info = tarfile.TarInfo(f"{base}/PKG-INFO")
        data = _metadata().encode()
        info.size = len(data)
        tf.addfile(info, io.BytesIO(data))
    return filename


# -- editable installs (PEP 660): pip install -e src/main/python --------------------------------

FINDER = f"__editable___{NAME}_finder"

# Not a .pth line naming the source directory: that would put everything beside the package on
# sys.path too, and its 'tests' package would shadow any other. The finder maps the one name.
FINDER_SOURCE = '''"""Imports orch from its source tree: an editable install (pip install -e)."""
import sys
from importlib.machinery import PathFinder

SOURCE = %r


class OrchSourceFinder:
    """Finds the top-level package orch in SOURCE; its submodules follow from its __path__."""

    @classmethod
    def find_spec(cls, fullname, path=None, target=None):
        if fullname != %r:
            return None
        return PathFinder.find_spec(fullname, [SOURCE])


def install():
    if not any(getattr(f, "__name__", None) == "OrchSourceFinder" for f in sys.meta_path):
        sys.meta_path.append(OrchSourceFinder)
'''


def get_requires_for_build_editable(config_settings=None):
    return []


def prepare_metadata_for_build_editable(metadata_directory, config_settings=None):
    return prepare_metadata_for_build_wheel(metadata_directory, config_settings)


def build_editable(wheel_directory, config_settings=None, metadata_directory=None):
    """A wheel whose .pth file makes ``import orch`` load the package from this source tree,
    so edits take effect without reinstalling."""
    return _write_wheel(wheel_directory, {
        f"__editable__.{NAME}-{VERSION}.pth":
            f"import {FINDER}; {FINDER}.install()\n".encode(),
        f"{FINDER}.py": (FINDER_SOURCE % (ROOT, NAME)).encode(),
    })
