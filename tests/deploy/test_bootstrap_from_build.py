"""`factorstack bootstrap` deploys the bootstrap.json the build rendered and linted; it refuses a
build that is stale or was made before the build wrote that file, before any AWS call."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from rich.console import Console

from factorstack.build import build
from factorstack.build.manifest import BOOTSTRAP_FILE, AwsTarget, load_build
from factorstack.deploy.aws.gateway import Gateway
from factorstack.deploy.bootstrap import run_bootstrap
from factorstack.deploy.context import Context
from factorstack.errors import NotReady
from factorstack.stacks.bootstrap import repository_logical_id
from tests.support.fixture_build import FixtureProject


def no_aws(target: AwsTarget) -> Gateway:
    raise AssertionError(f"bootstrap reached AWS ({target}) with a build it should refuse")


def context(root: Path) -> Context:
    return Context(root=root, environment="dev", console=Console(record=True), gateway_for=no_aws)


def test_a_build_older_than_the_config_is_refused_before_aws(tmp_path: Path) -> None:
    project = FixtureProject(tmp_path / "repo")
    project.write()
    (project.root / "app.yaml").write_text("app: example\n# changed\n")
    with pytest.raises(NotReady, match=r"build is older than app.yaml, .*run `make templates`"):
        run_bootstrap(context(project.root))


def test_a_build_without_bootstrap_json_is_refused_before_aws(tmp_path: Path) -> None:
    project = FixtureProject(tmp_path / "repo")
    del project.templates[BOOTSTRAP_FILE]
    project.write()
    with pytest.raises(NotReady) as refused:
        run_bootstrap(context(project.root))
    assert refused.value.lines == [
        f"{project.folder / 'manifest.json'}: `templates` does not list bootstrap.json "
        "(run `make templates`)"
    ]


def test_the_build_writes_one_repository_per_process_into_every_environment(
    sample_root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from factorstack import build as build_module

    monkeypatch.setattr(build_module, "lint_templates", lambda paths, regions, jobs=1: [])
    build(sample_root)
    bodies = set()
    for environment in ("dev", "staging", "prod"):
        built = load_build(sample_root, environment)
        text = built.bootstrap_template().read_text()
        resources = json.loads(text)["Resources"]
        assert {repository_logical_id(p) for p in built.processes} <= set(resources)
        bodies.add(text)
    assert len(bodies) == 1  # it depends only on the app's name and processes
