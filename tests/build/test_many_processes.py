"""An app with 100 process types builds: its bootstrap.json (one ECR repository per process) is
over the 51,200 bytes CloudFormation takes inline, so the build also renders the bucket-only
bootstrap-bucket.json a first bootstrap creates the stack from, and checks each file against
the limit of the way it is sent.

A real cfn-lint of all 100 x 3 templates takes minutes on a 2-core machine (measured: 331
templates, 327 distinct, ~150 s of CPU), so here the whole app is built without lint (limits
and rendering only) and the two bootstrap templates this size brings are linted for real; the
20-process test in test_lint_clean.py lints a whole many-process environment.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from bench.app_generator import write_generated_app
from factorstack import build as build_module
from factorstack import limits
from factorstack.build import build
from factorstack.build.manifest import BOOTSTRAP_BUCKET_FILE, BOOTSTRAP_FILE, load_build
from factorstack.errors import BuildError
from factorstack.lint import lint_templates
from factorstack.stacks.bootstrap import create_bucket_template, repository_logical_id
from tests.support.lint_recorder import LintRecorder

PROCESSES = 100
ENVS = ("dev", "staging", "prod")


@pytest.fixture(scope="module")
def big_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = write_generated_app(tmp_path_factory.mktemp("big") / "app", PROCESSES)
    build(root, lint=False)
    return root


def test_a_hundred_process_app_builds_every_environment_inside_the_limits(big_root: Path):
    report = build(big_root, lint=False)  # unchanged: renders and checks again, writes nothing
    assert [env.warnings for env in report.environments] == [[], [], []]  # all under 80 %
    for env in report.environments:
        assert max(env.resources.values()) < limits.MAX_RESOURCES * limits.WARN_FRACTION
    for environment in ENVS:
        built = load_build(big_root, environment)
        assert len(built.processes) == PROCESSES
        assert {BOOTSTRAP_FILE, BOOTSTRAP_BUCKET_FILE} <= set(built.templates)  # both listed
        full = built.bootstrap_template().read_bytes()
        alone = built.bootstrap_bucket_template().read_bytes()
        assert limits.MAX_TEMPLATE_BYTES_INLINE < len(full) <= limits.MAX_TEMPLATE_BYTES_S3
        assert limits.fits_inline(len(alone))
        resources = json.loads(full)["Resources"]
        assert {repository_logical_id(p) for p in built.processes} <= set(resources)
        for logical_id, resource in json.loads(alone)["Resources"].items():
            assert resources[logical_id] == resource  # the same bucket in both steps


def test_the_hundred_process_bootstrap_templates_are_lint_clean(big_root: Path):
    folder = big_root / "build" / "dev"
    templates = [folder / BOOTSTRAP_FILE, folder / BOOTSTRAP_BUCKET_FILE]
    assert lint_templates(templates, ["eu-west-1"]) == []


def test_a_bootstrap_small_enough_to_send_inline_gets_no_bucket_only_template(sample_root: Path):
    build(sample_root, ["dev"], lint=False)
    assert BOOTSTRAP_BUCKET_FILE not in load_build(sample_root, "dev").templates
    assert not (sample_root / "build" / "dev" / BOOTSTRAP_BUCKET_FILE).exists()


def test_the_bucket_only_template_is_linted_with_the_others(
    sample_root: Path, monkeypatch: pytest.MonkeyPatch
):
    build(sample_root, ["dev"], lint=False)
    full = load_build(sample_root, "dev").bootstrap_template().stat().st_size
    monkeypatch.setattr(limits, "MAX_TEMPLATE_BYTES_INLINE", full - 1)  # now one byte over
    recorder = LintRecorder()
    monkeypatch.setattr(build_module, "lint_templates", recorder)
    build(sample_root, ["dev"])
    assert BOOTSTRAP_BUCKET_FILE in load_build(sample_root, "dev").templates
    assert BOOTSTRAP_BUCKET_FILE in [path.name for path in recorder.calls[0]]


def test_a_bucket_only_template_over_the_inline_limit_fails_the_build(
    sample_root: Path, monkeypatch: pytest.MonkeyPatch
):
    app = yaml.safe_load((sample_root / "app.yaml").read_text())["app"]
    size = len(build_module.render(create_bucket_template(app).to_dict()))
    monkeypatch.setattr(limits, "MAX_TEMPLATE_BYTES_INLINE", 1000)
    with pytest.raises(BuildError) as failed:
        build(sample_root, ["dev"], lint=False)
    assert failed.value.lines == [
        f"dev/{BOOTSTRAP_BUCKET_FILE}: size in bytes: {size} of 1000 (over the limit)"
    ]
    assert not (sample_root / "build").exists()
