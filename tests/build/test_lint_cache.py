"""The build's lint cache: each distinct template is linted once per build and once per machine;
`make clean` does not forget what was clean; a new template, cfn-lint or rule set lints again;
a finding is never remembered as clean; a broken cache only costs time."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from factorstack import build as build_module
from factorstack.build import build
from factorstack.build.lint_cache import LintCache, cache_folder, lint_distinct
from factorstack.errors import BuildError
from factorstack.lint import LintFinding, lint_templates
from tests.support.lint_recorder import LintRecorder, own_lint_cache
from tests.support.sample import edit_yaml

REGION = "eu-west-1"


@pytest.fixture
def lint(monkeypatch: pytest.MonkeyPatch) -> LintRecorder:
    recorder = LintRecorder()
    monkeypatch.setattr(build_module, "lint_templates", recorder)
    return recorder


@pytest.fixture
def cache(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    return own_lint_cache(monkeypatch, tmp_path / "lint-cache")


def _make_clean(root: Path) -> None:
    shutil.rmtree(root / "build")


def _templates(root: Path) -> list[Path]:
    """Each environment's templates (build/ENV/*.json; not the shared store they link to)."""
    return [
        p
        for p in (root / "build").glob("*/*.json")
        if p.name != "manifest.json" and not p.parent.name.startswith(".")
    ]


def _distinct_texts(root: Path) -> int:
    return len({p.read_bytes() for p in _templates(root)})


def test_identical_templates_across_environments_are_linted_once(sample_root, lint, cache):
    report = build(sample_root)
    (call,) = lint.calls
    assert [p.name for p in call].count("bootstrap.json") == 1  # the same in all three
    assert len(call) == _distinct_texts(sample_root) == report.distinct_files
    assert len(call) < report.linted_files == len(_templates(sample_root))
    assert report.cfn_linted_files == len(call)


def test_the_cache_survives_make_clean_and_cfn_lint_is_not_called_again(sample_root, lint, cache):
    build(sample_root)
    _make_clean(sample_root)
    report = build(sample_root)
    assert len(lint.calls) == 1
    assert (report.linted_files, report.cfn_linted_files) == (len(_templates(sample_root)), 0)
    manifest = json.loads((sample_root / "build/prod/manifest.json").read_text())
    assert manifest["linted_by"] == build_module.linter_id()  # deployable: recorded as linted
    assert cache.is_dir() and not (sample_root / "build" / cache.name).exists()


def test_a_changed_value_lints_only_the_root_that_passes_it(sample_root, lint, cache):
    build(sample_root)
    _make_clean(sample_root)
    edit_yaml(
        sample_root / "environments/prod.yaml",
        lambda d: d["processes"].update(worker={"cpu": 2048, "memory": 4096}),
    )
    build(sample_root)  # the worker's template is the same text: only prod's root is new
    assert sorted(p.relative_to(p.parents[1]).as_posix() for p in lint.calls[-1]) == [
        "prod/root.json"
    ]


@pytest.mark.parametrize("changed", ["linter_id", "own_rules_id"])
def test_a_new_cfn_lint_or_rule_set_lints_everything_again(
    sample_root, lint, cache, monkeypatch, changed
):
    report = build(sample_root)
    _make_clean(sample_root)
    if changed == "linter_id":
        monkeypatch.setattr(build_module, "linter_id", lambda: "cfn-lint 99.0.0 + rules x")
    else:
        monkeypatch.setattr(build_module, "own_rules_id", lambda: "factorstack-rules 0123456789ab")
    assert build(sample_root).cfn_linted_files == report.distinct_files
    assert len(lint.calls) == 2


def test_a_finding_is_never_served_as_clean(sample_root, lint, cache):
    lint.flag = lambda path: path.name == "bootstrap.json"  # the same text in every environment
    for _ in range(2):
        with pytest.raises(BuildError) as raised:
            build(sample_root)
        flagged = [line for line in raised.value.lines if "E9999" in line]
        assert [line.split("/")[-2] for line in sorted(flagged)] == ["dev", "prod", "staging"]
    assert [p.name for p in lint.calls[1]].count("bootstrap.json") == 1  # linted again
    lint.flag = lambda path: False
    build(sample_root)  # the other templates were clean and are remembered; bootstrap is not
    assert [p.name for p in lint.calls[-1]] == ["bootstrap.json"]


def test_a_finding_no_template_owns_caches_nothing(sample_root, lint, cache):
    lint.findings = [LintFinding("elsewhere/child.json", 3, "E3043", "from a nested stack")]
    with pytest.raises(BuildError):
        build(sample_root)
    lint.findings = []
    report = build(sample_root)
    assert report.cfn_linted_files == report.distinct_files


@pytest.mark.parametrize(
    "damage",
    [b"", b"{not json", b"[]", b'{"format": "factorstack-lint-cache 1", "clean_in": "eu"}'],
)
def test_a_corrupt_cache_entry_is_ignored_and_replaced(sample_root, lint, cache, damage):
    report = build(sample_root)
    entries = list(cache.rglob("*.json"))
    assert len(entries) == report.distinct_files
    for entry in entries:
        entry.write_bytes(damage)
    _make_clean(sample_root)
    assert build(sample_root).cfn_linted_files == report.distinct_files  # no error, linted
    _make_clean(sample_root)
    assert build(sample_root).cfn_linted_files == 0  # and the entries are good again


def test_an_unwritable_cache_is_no_cache(sample_root, lint, monkeypatch, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    own_lint_cache(monkeypatch, blocker / "lint")
    build(sample_root)
    _make_clean(sample_root)
    build(sample_root)
    assert len(lint.calls) == 2


def test_cache_off_lints_every_build(sample_root, lint, monkeypatch, tmp_path):
    monkeypatch.setenv("FACTORSTACK_LINT_CACHE", "off")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    build(sample_root)
    _make_clean(sample_root)
    build(sample_root)
    assert len(lint.calls) == 2 and len(lint.calls[1]) == len(lint.calls[0])
    assert not (tmp_path / "xdg").exists()


def test_the_cache_lives_in_the_user_cache_folder(tmp_path):
    assert cache_folder({"XDG_CACHE_HOME": str(tmp_path)}) == tmp_path / "factorstack/lint"
    home_cache = Path.home() / ".cache/factorstack/lint"
    assert cache_folder({}) == home_cache
    assert cache_folder({"XDG_CACHE_HOME": "relative/path"}) == home_cache  # XDG: ignored
    assert cache_folder({"FACTORSTACK_LINT_CACHE": str(tmp_path / "c")}) == tmp_path / "c"
    assert cache_folder({"FACTORSTACK_LINT_CACHE": "OFF"}) is None


def test_clean_in_one_region_is_not_clean_in_another(tmp_path):
    template = tmp_path / "t.json"
    template.write_text('{"Resources": {}}\n')
    recorder = LintRecorder()
    cache = LintCache(tmp_path / "cache")
    lint_distinct([template], [REGION], "linter", recorder, cache)
    lint_distinct([template], [REGION], "linter", recorder, cache)
    assert len(recorder.calls) == 1
    lint_distinct([template], ["us-east-1"], "linter", recorder, cache)
    assert recorder.regions[-1] == ["us-east-1"]
    lint_distinct([template], [REGION, "us-east-1"], "linter", recorder, cache)
    assert len(recorder.calls) == 2  # clean in both by now


def _nested(folder: Path, child_parameters: dict[str, object]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    child = {"Parameters": child_parameters, "Resources": {"T": {"Type": "AWS::SNS::Topic"}}}
    (folder / "child.json").write_text(json.dumps(child, indent=2))
    parent = {
        "Resources": {
            "Child": {
                "Type": "AWS::CloudFormation::Stack",
                "DeletionPolicy": "Delete",
                "UpdateReplacePolicy": "Delete",
                "Properties": {"TemplateURL": "child.json", "Parameters": {"Size": "1"}},
            }
        }
    }
    (folder / "root.json").write_text(json.dumps(parent, indent=2))
    return folder / "root.json"


def test_a_parent_is_linted_again_when_its_nested_template_changes(tmp_path):
    """cfn-lint's E3043 reads a local nested template's Parameters: the parent's answer depends
    on the child's text, and so does its cache key (real cfn-lint here)."""
    cache = LintCache(tmp_path / "cache")

    def run(paths: list[Path], regions: list[str]) -> list[LintFinding]:
        return lint_templates(paths, regions)

    root = _nested(tmp_path / "t", {"Size": {"Type": "String"}})
    first = lint_distinct([root], [REGION], "linter", run, cache)
    assert (first.findings, first.linted) == ([], 1)
    _nested(tmp_path / "t", {"Size": {"Type": "String"}, "Extra": {"Type": "String"}})
    second = lint_distinct([root], [REGION], "linter", run, cache)
    assert [(f.file, f.rule) for f in second.findings] == [(str(root), "E3043")]


def test_cli_build_says_how_many_templates_were_known_clean(sample_root, lint, cache, capsys):
    from factorstack.cli import main

    assert main(["--root", str(sample_root), "build"]) == 0
    _make_clean(sample_root)
    assert main(["--root", str(sample_root), "build"]) == 0
    last = capsys.readouterr().out.strip().splitlines()[-1]
    count, distinct = len(_templates(sample_root)), _distinct_texts(sample_root)
    assert last == (
        f"cfn-lint: {count} templates clean ({distinct} distinct, "
        f"{distinct} known clean from the lint cache)"
    )
