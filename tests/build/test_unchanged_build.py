"""An unchanged `factorstack build` answers from the manifests, without loading the config
models or rendering; every change that could alter build/ (an input, a file on disk, the code,
the linter, the set of environments) still gets a real build."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from factorstack import build as build_module
from factorstack import limits
from factorstack.cli import main
from factorstack.release_record import Release, ReleasedImage, write_release
from factorstack.stacks import root as root_stacks
from tests.support.lint_recorder import LintRecorder
from tests.support.sample import edit_yaml

ENVS = ("dev", "prod", "staging")


class RenderSpy:
    """Counts environments rendered, rendering them for real."""

    def __init__(self) -> None:
        self.rendered: list[str] = []
        self.real = build_module.render_environment

    def __call__(self, loaded, renderer=None):
        self.rendered.append(loaded.model.environment)
        return self.real(loaded, renderer)


@pytest.fixture
def lint(monkeypatch) -> LintRecorder:
    recorder = LintRecorder()
    monkeypatch.setattr(build_module, "lint_templates", recorder)
    return recorder


@pytest.fixture
def built(sample_root: Path, lint, capsys) -> Path:
    """The sample app built once, in full."""
    assert main(["build", "--root", str(sample_root)]) == 0
    capsys.readouterr()
    return sample_root


@pytest.fixture
def spy(monkeypatch) -> RenderSpy:
    recorder = RenderSpy()
    monkeypatch.setattr(build_module, "render_environment", recorder)
    return recorder


def _no_rendering(monkeypatch) -> None:
    def refuse(model):
        raise AssertionError("rendered although nothing changed")

    monkeypatch.setattr(root_stacks, "build_stack_set", refuse)
    monkeypatch.setattr(build_module, "load_environments", refuse)


def _snapshot(folder: Path) -> dict[str, tuple[bytes, int]]:
    return {
        str(p.relative_to(folder)): (p.read_bytes(), p.stat().st_mtime_ns)
        for p in folder.rglob("*")
        if p.is_file()
    }


def test_an_untouched_tree_is_reported_unchanged_without_rendering(built, monkeypatch, capsys):
    before = _snapshot(built / "build")
    _no_rendering(monkeypatch)
    assert main(["build", "--root", str(built)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines == [
        "build/dev: 12 templates, 144 resources, unchanged",
        "build/prod: 13 templates, 152 resources, unchanged",
        "build/staging: 12 templates, 145 resources, unchanged",
    ]
    assert _snapshot(built / "build") == before


def test_the_summary_is_the_one_a_full_build_prints(built, spy, capsys, monkeypatch):
    monkeypatch.setattr(build_module, "unchanged", lambda root, only, lint: None)
    main(["build", "--root", str(built)])
    full = capsys.readouterr().out
    assert spy.rendered == list(ENVS)
    monkeypatch.undo()
    _no_rendering(monkeypatch)
    main(["build", "--root", str(built)])
    assert capsys.readouterr().out == full


def test_named_environments_and_no_lint_are_answered_too(built, monkeypatch, capsys):
    _no_rendering(monkeypatch)
    assert main(["build", "--root", str(built), "prod"]) == 0
    assert capsys.readouterr().out == "build/prod: 13 templates, 152 resources, unchanged\n"
    assert main(["build", "--root", str(built), "--no-lint", "dev"]) == 0
    assert capsys.readouterr().out.splitlines() == [
        "build/dev: 12 templates, 144 resources, unchanged",
        "cfn-lint: skipped (--no-lint); the next build with lint checks every template",
    ]


def test_limit_warnings_are_printed_again(sample_root, lint, monkeypatch, capsys):
    monkeypatch.setitem(limits._SECTION_LIMITS, "Resources", 50)  # network.json's 47: over 80 %
    main(["build", "--root", str(sample_root)])
    warned = capsys.readouterr().err
    assert "warning: dev/network.json: Resources: 47 of 50" in warned
    _no_rendering(monkeypatch)
    main(["build", "--root", str(sample_root)])
    assert capsys.readouterr().err == warned


def _write_release(root: Path) -> None:
    digests = {p: "sha256:" + str(i) * 64 for i, p in enumerate(["web", "worker", "scheduler"])}
    images = tuple(
        ReleasedImage(p, f"example/{p}", d, f"1.dkr.ecr.eu-west-1.amazonaws.com/example/{p}@{d}")
        for p, d in digests.items()
    )
    write_release(root, Release("dev", "abc1234", images))


def _append(path: Path, text: str) -> None:
    path.write_text(path.read_text() + text)


CHANGES = {
    "app.yaml": lambda root: _append(root / "app.yaml", "# a comment\n"),
    "environment file": lambda root: _append(root / "environments/dev.yaml", "# a comment\n"),
    "release record": _write_release,
    "template on disk": lambda root: (root / "build/dev/root.json").write_text("{}"),
    "shared template on disk": lambda root: (root / "build/dev/data.json").write_text("{}"),
    "template removed": lambda root: (root / "build/dev/alerts.json").unlink(),
    "stray file in build/ENV": lambda root: (root / "build/dev/notes.txt").write_text("hi"),
    "manifest unreadable": lambda root: (root / "build/dev/manifest.json").write_text("{"),
    "manifest missing": lambda root: (root / "build/dev/manifest.json").unlink(),
    "a new environment": lambda root: (root / "environments/qa.yaml").write_bytes(
        (root / "environments/dev.yaml").read_bytes()
    ),
}


@pytest.mark.parametrize("change", sorted(CHANGES))
def test_a_change_gets_a_real_build(built, spy, change):
    CHANGES[change](built)
    assert main(["build", "--root", str(built)]) == 0
    assert set(ENVS) <= set(spy.rendered)
    manifest = json.loads((built / "build/dev/manifest.json").read_text())
    for name, digest in manifest["templates"].items():
        assert build_module.sha256((built / "build/dev" / name).read_bytes()) == digest


def test_other_code_gets_a_real_build(built, spy, monkeypatch):
    monkeypatch.setattr(build_module, "code_fingerprint", lambda: "other code")
    main(["build", "--root", str(built)])
    assert spy.rendered == list(ENVS)
    manifest = json.loads((built / "build/dev/manifest.json").read_text())
    assert manifest["code_fingerprint"] == "other code"  # recorded: the next build is quick
    main(["build", "--root", str(built)])
    assert spy.rendered == list(ENVS)


def test_another_linter_gets_a_real_build_and_a_lint(built, spy, lint, monkeypatch):
    monkeypatch.setattr(build_module, "linter_id", lambda: "cfn-lint 99.0.0")
    main(["build", "--root", str(built)])
    assert spy.rendered == list(ENVS)
    assert len(lint.calls) == 2


def test_a_build_without_lint_is_linted_by_the_next_build(sample_root, lint, spy, capsys):
    assert main(["build", "--root", str(sample_root), "--no-lint"]) == 0
    assert lint.calls == []
    assert main(["build", "--root", str(sample_root)]) == 0
    assert len(lint.calls) == 1
    assert spy.rendered == list(ENVS) * 2
    main(["build", "--root", str(sample_root)])  # now linted: answered from the manifests
    assert spy.rendered == list(ENVS) * 2


def test_a_broken_file_after_a_good_build_is_still_a_one_line_error(built, capsys):
    edit_yaml(built / "environments/dev.yaml", lambda d: d.update(log_retention_days="often"))
    assert main(["build", "--root", str(built)]) == 2
    (line,) = capsys.readouterr().err.splitlines()
    assert line.startswith("environments/dev.yaml: log_retention_days: 'often' is not allowed")


def test_a_promotion_source_that_went_away_is_still_refused(built, capsys):
    (built / "environments/staging.yaml").unlink()
    assert main(["build", "--root", str(built), "prod"]) == 2
    assert "environments/prod.yaml: promotes_from: no environment 'staging'" in (
        capsys.readouterr().err
    )


def test_a_release_record_left_in_build_is_still_refused(built, capsys):
    """factorstack 0.1 kept it in build/ENV: it would vanish with the next real build."""
    (built / "build/dev/release.json").write_text("{}")
    assert main(["build", "--root", str(built)]) == 2
    assert "build/dev/release.json: release records now live in releases/" in (
        capsys.readouterr().err
    )


def test_an_unknown_environment_is_still_a_usage_error(built, capsys):
    assert main(["build", "--root", str(built), "nope"]) == 2
    assert "environments/nope.yaml: no such environment" in capsys.readouterr().err


def test_an_unchanged_build_imports_neither_models_nor_troposphere(built):
    """In a fresh interpreter, as `factorstack build` runs: what answered was the manifests."""
    script = (
        "import sys; from factorstack.cli import main; code = main(sys.argv[1:]); "
        "print(sorted(m for m in ('factorstack.config.models', 'pydantic', 'troposphere', "
        "'factorstack.stacks.root') if m in sys.modules)); sys.exit(code)"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, "build", "--root", str(built)],
        capture_output=True,
        text=True,
        check=True,
    )
    assert done.stdout.splitlines()[-1] == "[]"
    assert "build/dev: 12 templates, 144 resources, unchanged" in done.stdout


def test_equal_values_of_other_types_are_rendered_apart():
    """The renderer reuses bytes only for an identical body: True, 1, 1.0 and "1" differ."""
    renderer = build_module.Renderer()
    rendered = [renderer({"Value": value}) for value in (True, 1, 1.0, "1", True)]
    assert rendered == [build_module.render({"Value": v}) for v in (True, 1, 1.0, "1", True)]
    assert len(set(rendered)) == 4
