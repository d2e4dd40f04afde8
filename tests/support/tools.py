"""The linters the test extras install as binaries (hadolint, actionlint, shellcheck)."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest


def tool(name: str) -> str:
    """The binary installed in this virtualenv (or on PATH); fails when there is none."""
    beside_python = Path(sys.executable).parent / name
    if beside_python.is_file():
        return str(beside_python)
    found = shutil.which(name)
    if found is None:
        pytest.fail(f"{name} is not installed: pip install the test extras (make test does)")
    return found
