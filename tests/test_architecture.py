"""The layers of README's "Architecture" section, as import-linter checks them (.importlinter).

`make lint` runs lint-imports; these tests run it too, so a back edge fails `make test` as well,
and they prove each contract would catch the kind of back edge it was written for.
"""

from __future__ import annotations

import configparser
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import factorstack
from tests.support.sample import REPO

CONFIG = REPO / ".importlinter"
PACKAGE = Path(factorstack.__file__).parent
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")

# One module per contract, each an edge this project once had or must never grow.
PROBES = {
    "stacks/_probe_upward.py": "import factorstack.build\n",  # stacks reaching up to build
    "deploy/_probe_renders.py": "from factorstack.stacks import bootstrap\n",  # deploy renders
    "config/_probe_aws.py": "import boto3\n",  # AWS called from below deploy
    "deploy/decide/_probe_gateway.py": "from factorstack.deploy.aws import gateway\n",  # impure
    "deploy/present/_probe_boto3.py": "import boto3\n",  # AWS called around the gateway
    "_probe_unplaced.py": "",  # a new top-level module that no layer names
}


def lint_imports(cwd: Path, pythonpath: Path | None = None) -> subprocess.CompletedProcess[str]:
    """lint-imports on .importlinter, without its cache; the report is in stdout."""
    env = {**os.environ, "COLUMNS": "200"}  # one report line per finding
    if pythonpath is not None:
        env["PYTHONPATH"] = str(pythonpath)
    return subprocess.run(
        [str(LINT_IMPORTS), "--config", str(CONFIG), "--no-cache", "--no-logo"],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )


def contract_names() -> list[str]:
    config = configparser.ConfigParser()
    config.read(CONFIG, encoding="utf-8")
    return [config[s]["name"] for s in config.sections() if s.startswith("importlinter:contract:")]


def test_the_import_contracts_are_kept(tmp_path: Path) -> None:
    result = lint_imports(tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"Contracts: {len(contract_names())} kept, 0 broken." in result.stdout


def test_each_contract_catches_the_back_edge_it_is_for(tmp_path: Path) -> None:
    source = tmp_path / "src"
    shutil.copytree(PACKAGE, source / "factorstack", ignore=shutil.ignore_patterns("__pycache__"))
    for relative, text in PROBES.items():
        (source / "factorstack" / relative).write_text(text)
    result = lint_imports(tmp_path, pythonpath=source)
    report = result.stdout
    assert result.returncode == 1, report + result.stderr
    assert f"Contracts: 0 kept, {len(contract_names())} broken." in report
    assert "factorstack.stacks._probe_upward -> factorstack.build" in report  # layers, acyclic
    assert "factorstack.deploy._probe_renders -> factorstack.stacks.bootstrap" in report
    assert "factorstack.config._probe_aws -> boto3" in report
    assert "factorstack.deploy.decide._probe_gateway -> factorstack.deploy.aws.gateway" in report
    assert "factorstack.deploy.present._probe_boto3 -> boto3" in report
    assert "- factorstack._probe_unplaced" in report  # listed as not placed in any layer


def _architecture_section() -> str:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    found = re.search(r"^## Architecture\n(.*?)^## ", readme, re.DOTALL | re.MULTILINE)
    assert found, "README.md has no Architecture section"
    return found.group(1)


def test_the_readme_architecture_section_names_every_module_and_contract() -> None:
    section = _architecture_section()
    children = sorted(
        f"{path.name}/" if path.is_dir() else path.name
        for path in PACKAGE.iterdir()
        if path.name not in {"__init__.py", "__pycache__"}
    )
    missing = [name for name in children if name not in section]
    assert not missing, f"README's Architecture section does not describe {missing}"
    for name in contract_names():
        assert name in " ".join(section.split()), f"README does not name the contract {name!r}"
