"""A real moto server on 127.0.0.1 (started once), reset before every test; dummy credentials."""

from __future__ import annotations

import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from factorstack.deploy.local.server import LocalAws
from tests.support.fixture_build import REGION, FixtureProject


@pytest.fixture(scope="session")
def moto_server() -> Iterator[LocalAws]:
    server = LocalAws(port=0)  # a free port
    yield server
    server.stop()


@pytest.fixture
def local_aws(moto_server: LocalAws, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> LocalAws:
    """Point boto3 at the server, with nothing from the developer's own AWS config."""
    request = urllib.request.Request(f"{moto_server.url}/moto-api/reset", method="POST")
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 200
    for key, value in moto_server.environment(REGION).items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-aws-credentials"))
    for key in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "GITHUB_STEP_SUMMARY", "IMAGE_TAG"):
        monkeypatch.delenv(key, raising=False)
    return moto_server


@pytest.fixture
def project(tmp_path: Path) -> FixtureProject:
    built = FixtureProject(tmp_path / "repo")
    built.write()
    return built


@pytest.fixture
def lint_assumed_clean(monkeypatch: pytest.MonkeyPatch) -> None:
    """Builds record a lint without running cfn-lint (tests/build proves the sample is clean);
    deploy refuses a build that was never linted."""
    from factorstack import build

    monkeypatch.setattr(build, "lint_templates", lambda paths, regions, jobs=1: [])


@pytest.fixture
def deployed_sample(
    local_aws: LocalAws, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, lint_assumed_clean: None
) -> Path:
    """The REAL sample app deployed as README's local walkthrough does it (seed, placeholder
    images, release v1, build, plan, apply); the repo root."""
    from factorstack.build import build
    from factorstack.cli import main
    from factorstack.deploy.apply import run_apply
    from factorstack.deploy.bootstrap import run_bootstrap
    from factorstack.deploy.plan import run_plan
    from tests.support.fixture_build import ACCOUNT, dev_context
    from tests.support.sample import copy_sample, edit_yaml

    monkeypatch.setenv("PATH", "/nonexistent")  # no docker: local-images stands in for it
    root = copy_sample(tmp_path / "sample")
    edit_yaml(root / "environments/dev.yaml", lambda d: d.update(account=ACCOUNT, region=REGION))
    build(root, ["dev"])
    run_bootstrap(dev_context(root))
    for argv in (["local-seed", "dev"], ["local-images", "dev", "--tag", "v1"]):
        assert main([*argv, "--root", str(root)]) == 0
    assert main(["release", "dev", "--root", str(root), "--no-build", "--tag", "v1"]) == 0
    build(root, ["dev"])
    assert run_plan(dev_context(root), []).changed
    assert run_apply(dev_context(root)).status == "CREATE_COMPLETE"
    return root
