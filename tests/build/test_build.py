"""What `factorstack build` promises: the full set per environment, byte-stable output, no
rewrite or re-lint when nothing changed, and a failed build that leaves build/ alone."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from factorstack import build as build_module
from factorstack import limits
from factorstack.build import build
from factorstack.cli import main
from factorstack.config import config_sha256
from factorstack.errors import BuildError
from factorstack.lint import LintFinding
from tests.support.lint_recorder import LintRecorder
from tests.support.sample import copy_sample, edit_yaml

EXPECTED_FILES = {
    "root.json",
    "network.json",
    "cluster.json",
    "data.json",
    "process-web.json",
    "process-worker.json",
    "process-scheduler.json",
    "autoscaling.json",
    "release-phase.json",
    "rotation.json",
    "alerts.json",
    "bootstrap.json",
    "manifest.json",
}
# Only where the environment file asks for interface endpoints (the sample's prod).
ENDPOINTS_IN = {"prod"}
ENVS = ("dev", "staging", "prod")
PER_ENV = len(EXPECTED_FILES) - 1  # dev's templates: all but the manifest
ALL_TEMPLATES = 3 * PER_ENV + len(ENDPOINTS_IN)  # prod adds endpoints.json


@pytest.fixture
def lint(monkeypatch) -> LintRecorder:
    recorder = LintRecorder()
    monkeypatch.setattr(build_module, "lint_templates", recorder)
    return recorder


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def test_build_writes_every_environment_with_root_children_and_manifest(sample_root, lint):
    build(sample_root)
    for env in ENVS:
        folder = sample_root / "build" / env
        expected = EXPECTED_FILES | ({"endpoints.json"} if env in ENDPOINTS_IN else set())
        assert {p.name for p in folder.iterdir()} == expected
        manifest = json.loads((folder / "manifest.json").read_text())
        assert manifest["stack_name"] == f"example-{env}"
        assert manifest["processes"] == ["web", "worker", "scheduler"]
        assert manifest["config_sha256"] == config_sha256(sample_root, env)
        assert set(manifest["templates"]) == expected - {"manifest.json"}
    assert len(lint.calls) == 1  # one lint call for every template of every environment...
    texts = {p.read_bytes() for p in (sample_root / "build").glob("*/*.json")}
    texts -= {(sample_root / f"build/{env}/manifest.json").read_bytes() for env in ENVS}
    assert len(lint.calls[0]) == len(texts) < ALL_TEMPLATES  # ...each distinct text once


def test_two_builds_are_byte_identical(tmp_path, lint):
    first = copy_sample(tmp_path / "one")
    second = copy_sample(tmp_path / "two")
    build(first)
    build(second)
    assert _snapshot(first / "build") == _snapshot(second / "build")


def test_unchanged_rebuild_neither_rewrites_nor_lints(sample_root, lint):
    build(sample_root)
    stamps = {p: p.stat().st_mtime_ns for p in (sample_root / "build").rglob("*.json")}
    report = build(sample_root)
    assert report.linted_files == 0
    assert len(lint.calls) == 1
    assert {p: p.stat().st_mtime_ns for p in (sample_root / "build").rglob("*.json")} == stamps


def test_a_change_relints_only_the_changed_templates_and_root(sample_root, lint):
    build(sample_root)
    edit_yaml(
        sample_root / "environments/prod.yaml",
        lambda d: d["processes"].update(worker={"cpu": 2048, "memory": 4096}),
    )
    report = build(sample_root)
    linted = lint.calls[-1]
    # A size is a value the root passes: the shared process template did not change.
    assert sorted(p.name for p in linted) == ["root.json"]
    assert {p.parent.name for p in linted} == {"prod"}
    assert [e.name for e in report.environments if e.changed] == ["prod"]
    root = json.loads((sample_root / "build/prod/root.json").read_text())
    passed = root["Resources"]["WorkerStack"]["Properties"]["Parameters"]
    assert (passed["Cpu"], passed["Memory"]) == ("2048", "4096")


def test_a_comment_in_the_config_only_refreshes_the_manifest_hash(sample_root, lint):
    build(sample_root)
    env_file = sample_root / "environments/dev.yaml"
    env_file.write_text(env_file.read_text() + "# a comment\n")
    report = build(sample_root)
    assert report.linted_files == 0
    manifest = json.loads((sample_root / "build/dev/manifest.json").read_text())
    assert manifest["config_sha256"] == config_sha256(sample_root, "dev")


def test_a_template_edited_by_hand_is_rebuilt(sample_root, lint):
    build(sample_root)
    (sample_root / "build/dev/data.json").write_text("{}")
    build(sample_root)
    assert json.loads((sample_root / "build/dev/data.json").read_text())["Resources"]


def test_lint_findings_fail_the_build_and_leave_build_untouched(sample_root, lint, capsys):
    build(sample_root)
    before = _snapshot(sample_root / "build")
    edit_yaml(sample_root / "environments/dev.yaml", lambda d: d.update(log_retention_days=14))
    lint.findings = [LintFinding("somewhere/data.json", 12, "E3001", "bad thing")]
    with pytest.raises(BuildError) as raised:
        build(sample_root)
    assert raised.value.lines[0] == "somewhere/data.json:12 E3001 bad thing"
    after = _snapshot(sample_root / "build")
    assert {k: v for k, v in after.items() if not k.startswith("rejected/")} == before
    assert "rejected/dev/cluster.json" in after


def test_over_a_cloudformation_limit_is_an_error_and_nothing_is_written(
    sample_root, lint, monkeypatch
):
    monkeypatch.setitem(limits._SECTION_LIMITS, "Resources", 10)
    with pytest.raises(BuildError) as raised:
        build(sample_root)
    assert any(
        "network.json: Resources" in line and "over the limit" in line
        for line in raised.value.lines
    )
    assert not (sample_root / "build").exists()
    assert lint.calls == []


def test_limit_check_warns_above_80_percent_and_errs_above_the_limit():
    body = {"Resources": {f"R{i}": {} for i in range(401)}, "Outputs": {}}
    (warning,) = limits.check_template("t.json", body, 100)
    assert not warning.over
    assert str(warning) == "t.json: Resources: 401 of 500 (above 80% of the limit)"
    body["Resources"] = {f"R{i}": {} for i in range(501)}
    (error,) = limits.check_template("t.json", body, 100)
    assert error.over
    (size,) = limits.check_template("t.json", {}, 1_000_001)
    assert size.what == "size in bytes" and size.over
    assert limits.check_template("t.json", {"Resources": {"A": {}}}, 100) == []


def test_cli_build_reports_each_environment(sample_root, lint, capsys):
    assert main(["--root", str(sample_root), "build", "dev"]) == 0
    out = capsys.readouterr().out
    assert f"build/dev: {PER_ENV} templates" in out
    assert not (sample_root / "build/prod").exists()


def test_cli_lint_checks_exactly_the_templates_of_each_manifest(sample_root, lint, monkeypatch):
    from factorstack import lint as lint_module

    build(sample_root)
    (sample_root / "build/dev/plan.json").write_text("{}")
    (sample_root / "build/dev/changeset.md").write_text("")
    monkeypatch.setattr(lint_module, "lint_templates", lint)
    assert main(["--root", str(sample_root), "lint"]) == 0
    linted = {p.relative_to(sample_root / "build").as_posix() for p in lint.calls[-1]}
    assert len(linted) == ALL_TEMPLATES  # bootstrap.json included
    assert {"dev/bootstrap.json", "prod/bootstrap.json", "staging/bootstrap.json"} <= linted
    assert not {name for name in linted if name.endswith(("plan.json", "changeset.md"))}


def test_a_build_without_lint_is_linted_by_the_next_build(sample_root, lint, capsys):
    assert main(["--root", str(sample_root), "build", "dev", "--no-lint"]) == 0
    assert "cfn-lint: skipped" in capsys.readouterr().out
    assert lint.calls == []
    manifest = json.loads((sample_root / "build/dev/manifest.json").read_text())
    assert manifest["linted_by"] is None
    report = build(sample_root, ["dev"])  # same templates, but never linted: all of them now
    assert report.linted_files == PER_ENV
    manifest = json.loads((sample_root / "build/dev/manifest.json").read_text())
    assert manifest["linted_by"] == build_module.linter_id()


def test_another_cfn_lint_version_lints_everything_again(sample_root, lint, monkeypatch):
    build(sample_root, ["dev"])
    monkeypatch.setattr(build_module, "linter_id", lambda: "cfn-lint 99.0.0")
    assert build(sample_root, ["dev"]).linted_files == PER_ENV
    assert build(sample_root, ["dev"]).linted_files == 0


def test_cli_lint_names_a_template_the_manifest_lists_but_is_gone(sample_root, lint, capsys):
    build(sample_root)
    (sample_root / "build/dev/data.json").unlink()
    assert main(["--root", str(sample_root), "lint"]) == 2
    assert (
        capsys.readouterr()
        .err.strip()
        .endswith("build/dev/data.json: listed in the manifest but missing (run `make templates`)")
    )


def test_limits_catch_inline_lambda_code_and_custom_resource_waits_over_aws_caps():
    """Lambda takes at most 4,096 bytes of inline code; CloudFormation waits at most an hour
    for a custom resource: over either is an error, near it a warning."""
    from factorstack.limits import check_template

    body = {
        "Resources": {
            "Runner": {
                "Type": "AWS::Lambda::Function",
                "Properties": {"Code": {"ZipFile": "x" * 4097}},
            },
            "Phase": {"Type": "Custom::ReleasePhase", "Properties": {"ServiceTimeout": 3000}},
            "Fine": {"Type": "Custom::Other", "Properties": {"ServiceTimeout": 600}},
        }
    }
    findings = {f.what: f for f in check_template("release-phase.json", body, 10_000)}
    assert set(findings) == {"Runner inline code in bytes", "Phase ServiceTimeout in seconds"}
    assert findings["Runner inline code in bytes"].over
    assert not findings["Phase ServiceTimeout in seconds"].over  # a warning: above 80 %
