"""The code fingerprint an unchanged build relies on covers every file a build runs or
inlines, and changes with any of them or with the libraries' versions."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from factorstack.build import fingerprint
from tests.support.sample import copy_sample

BUILD_AND_LIST = """
import json, sys
from pathlib import Path
from factorstack.build import build
build(Path(sys.argv[1]), lint=False)
print(json.dumps({name: getattr(module, "__file__", None) for name, module in sys.modules.items()
                  if name.split(".")[0] in ("factorstack", "factorstack_lambda")}))
"""


def _named(path: str) -> str:
    """A module file's name as the fingerprint names it (`factorstack/x.py`)."""
    parts = Path(path).resolve().parts
    start = max(i for i, part in enumerate(parts) if part in fingerprint.PACKAGES)
    return "/".join(parts[start:])


def test_every_module_a_build_loads_is_in_the_fingerprint(tmp_path):
    root = copy_sample(tmp_path / "repo")
    done = subprocess.run(
        [sys.executable, "-c", BUILD_AND_LIST, str(root)],
        capture_output=True,
        text=True,
        check=True,
    )
    loaded = json.loads(done.stdout.splitlines()[-1])
    covered = set(fingerprint.source_files())
    missing = {name for name, file in loaded.items() if file and _named(file) not in covered}
    assert not missing
    assert "factorstack.stacks.root" in loaded  # it did render


def test_inlined_handlers_and_own_lint_rules_are_in_it_and_deploy_is_not():
    names = set(fingerprint.source_files())
    assert "factorstack_lambda/release_phase.py" in names  # read as text, never imported
    assert any(name.startswith("factorstack/lint_rules/") for name in names)
    assert not any(name.startswith(("factorstack/deploy/", "factorstack/cost/")) for name in names)
    assert "factorstack/cli.py" not in names


def test_a_changed_file_or_library_version_changes_it(tmp_path, monkeypatch):
    compute = fingerprint.code_fingerprint.__wrapped__  # the cached one is for one process
    source = tmp_path / "stack.py"
    source.write_text("A = 1\n")
    monkeypatch.setattr(fingerprint, "source_files", lambda: {"factorstack/stack.py": source})
    first = compute()
    assert compute() == first
    source.write_text("A = 2\n")
    second = compute()
    assert second != first
    monkeypatch.setattr(fingerprint, "_versions", lambda: "troposphere==0.0.1")
    assert compute() != second
