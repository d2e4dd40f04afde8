"""cfn-lint (informational rules and factorstack's own E9xxx rules included) finds nothing in
what we generate, and does find a real mistake, so a clean result means something."""

from __future__ import annotations

import json
from pathlib import Path

from bench.app_generator import write_generated_app
from factorstack.build import build
from factorstack.lint import lint_templates


def _templates(root: Path) -> list[Path]:
    """build/ENV/*.json of every environment (not the shared store they link to)."""
    return sorted(
        p
        for p in (root / "build").glob("*/*.json")
        if p.name != "manifest.json" and not p.parent.name.startswith(".")
    )


def test_sample_app_is_lint_clean_in_every_environment(sample_root: Path):
    report = build(sample_root)  # lints for real; raises BuildError on any finding
    # 12 per environment (bootstrap.json included), and prod's interface endpoints
    assert report.linted_files == 37
    assert len(_templates(sample_root)) == 37


def test_generated_app_with_many_process_types_is_clean_and_inside_limits(tmp_path: Path):
    root = write_generated_app(tmp_path / "big", 20)
    report = build(root, ["prod"])
    (prod,) = report.environments
    # 20 processes + root, network, cluster, data, autoscaling, release phase, rotation, alerts,
    # interface endpoints (the generated prod asks for them), bootstrap.json (20 repositories,
    # sent inline, no warning)
    assert "endpoints.json" in prod.files
    assert len(prod.files) == 20 + 10
    assert prod.warnings == []
    assert max(prod.resources.values()) < 500 * 0.8
    assert report.linted_files == 30


def test_lint_reports_file_line_rule_and_message(tmp_path: Path):
    broken = tmp_path / "broken.json"
    broken.write_text(
        json.dumps(
            {
                "AWSTemplateFormatVersion": "2010-09-09",
                "Resources": {"Topic": {"Type": "AWS::SNS::Topic", "Properties": {"Nope": 1}}},
            },
            indent=2,
        )
    )
    findings = lint_templates([broken], ["eu-west-1"])
    assert [(f.rule, f.line) for f in findings] == [("E3002", 7)]
    assert str(findings[0]).startswith(f"{broken}:7 E3002 ")


def test_lint_in_two_processes_finds_exactly_what_one_call_finds(tmp_path: Path):
    templates = []
    for index in range(3):
        path = tmp_path / f"t{index}.json"
        resources = {"Topic": {"Type": "AWS::SNS::Topic", "Properties": {"Nope": index}}}
        path.write_text(json.dumps({"Resources": resources}, indent=2))
        templates.append(path)
    one_call = lint_templates(templates, ["eu-west-1"])
    assert {f.file for f in one_call} == {str(p) for p in templates}
    assert lint_templates(templates, ["eu-west-1"], jobs=2) == one_call
