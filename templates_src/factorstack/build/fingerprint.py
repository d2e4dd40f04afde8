"""Which code rendered a build: a hash of factorstack's own files that shape templates, the
Lambda handlers inlined into them, and the libraries and Python that ran it.

A build is skipped only when its inputs and this fingerprint are both unchanged, so everything
that can change a template, a limit warning or whether a config is accepted must be in it. It
leaves out only what runs after the build (cli, deploy, cost): tests/build/test_fingerprint.py
proves that every factorstack module a build loads is covered.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.util
import sys
from importlib import metadata
from pathlib import Path

import factorstack

# Our packages: factorstack_lambda's files are read as text and inlined into templates.
PACKAGES = ("factorstack", "factorstack_lambda")
# Folders and files of factorstack that a build never imports (deploy reads build/, cost reads
# templates, the cli prints): a change to them cannot change build/.
AFTER_THE_BUILD = ("cli.py", "deploy/", "cost/")
# Libraries whose version can change a rendered template or a config's validation.
LIBRARIES = ("troposphere", "awacs", "pydantic", "pydantic-core", "PyYAML")


def _package_folder(package: str) -> Path:
    """Where a package's files are, without importing it."""
    if package == "factorstack":
        return Path(factorstack.__file__).parent
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError(f"{package}: not installed")
    return Path(next(iter(spec.submodule_search_locations)))


def source_files() -> dict[str, Path]:
    """Every file in the fingerprint, by its name inside our packages (`factorstack/x.py`)."""
    files: dict[str, Path] = {}
    for package in PACKAGES:
        folder = _package_folder(package)
        for path in folder.rglob("*"):
            relative = path.relative_to(folder).as_posix()
            if "__pycache__" in path.parts or not path.is_file():
                continue
            if package == "factorstack" and relative.startswith(AFTER_THE_BUILD):
                continue
            files[f"{package}/{relative}"] = path
    return dict(sorted(files.items()))


def _versions() -> str:
    installed = []
    for library in LIBRARIES:
        try:
            installed.append(f"{library}=={metadata.version(library)}")
        except metadata.PackageNotFoundError:
            installed.append(f"{library} absent")
    return f"python {sys.version}; " + "; ".join(installed)


@functools.cache
def code_fingerprint() -> str:
    """sha256 of the files, their names, and the versions that rendered a build. Once per
    process: the code that runs does not change while it runs."""
    digest = hashlib.sha256(_versions().encode() + b"\0")
    for name, path in source_files().items():
        data = path.read_bytes()
        digest.update(f"{name}\0{len(data)}\0".encode() + data)
    return digest.hexdigest()
