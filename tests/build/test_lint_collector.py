"""The lint runs with CPython's cycle collector at a higher threshold (measured by `make bench`),
in the process and in the workers `--lint-jobs` forks, and leaves the interpreter's threshold as
it was, whatever cfn-lint does."""

from __future__ import annotations

import gc
from pathlib import Path

import pytest

from factorstack import lint
from factorstack.lint import LINT_GC_THRESHOLD, LintFinding, lint_templates


def _threshold_seen(paths: list[Path], regions: list[str], own_rules: bool) -> list[LintFinding]:
    """Stands in for cfn-lint: reports the threshold it ran under, as a finding per call."""
    return [LintFinding(str(paths[0]), 1, "GC", str(gc.get_threshold()[0]))]


def _templates(tmp_path: Path) -> list[Path]:
    paths = [tmp_path / "a.json", tmp_path / "b.json"]
    for path in paths:
        path.write_text("{}")
    return paths


@pytest.mark.parametrize("jobs", [1, 2])
def test_the_lint_runs_with_fewer_collections(tmp_path, monkeypatch, jobs):
    monkeypatch.setattr(lint, "_lint_in_one_call", _threshold_seen)
    before = gc.get_threshold()
    findings = lint_templates(_templates(tmp_path), ["eu-west-1"], jobs=jobs)
    assert len(findings) == jobs  # one call, or one per worker
    assert {f.message for f in findings} == {str(LINT_GC_THRESHOLD)}
    assert before[0] < LINT_GC_THRESHOLD
    assert gc.get_threshold() == before


def test_the_threshold_comes_back_when_the_lint_fails(tmp_path, monkeypatch):
    def broken(paths: list[Path], regions: list[str], own_rules: bool) -> list[LintFinding]:
        raise RuntimeError("cfn-lint failed")

    monkeypatch.setattr(lint, "_lint_in_one_call", broken)
    before = gc.get_threshold()
    with pytest.raises(RuntimeError):
        lint_templates(_templates(tmp_path), ["eu-west-1"])
    assert gc.get_threshold() == before
