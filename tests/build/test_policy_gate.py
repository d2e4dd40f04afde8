"""The policy gate (`make policy`, part of `make lint`): a finding fails the gate unless its
resource justifies it with a reason, and the counts say what passed and what was accepted.

policy/web.json is a small template (an open port 80, a short-lived unencrypted log group);
policy/checkov-report.json and policy/guard-report.json are checkov 3.3.30's and cfn-guard
3.1.1's JSON reports on it, recorded with the commands tools/policy/checkers.py builds. The last
test runs both checkers for real from the virtual environments `make policy-tools` makes.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from tools.policy.__main__ import arguments, main
from tools.policy.checkers import Tools
from tools.policy.findings import checkov_report, guard_report
from tools.policy.gate import judge, passes, render
from tools.policy.guard_rules import applicable
from tools.policy.templates import (
    Justifications,
    Place,
    justifications,
    template_files,
    without_justifications,
)

HERE = Path(__file__).parent / "policy"
WEB = Place("dev", "web.json", "WebLogGroup")
GROUP = Place("dev", "web.json", "LoadBalancerSecurityGroup")
PORT_80 = "CKV_AWS_260"
LOG_KMS = "CKV_AWS_158"
RETENTION = "cloudwatch_log_group_retention_period_check"
LOG_ENCRYPTED = "cloudwatch_log_group_encrypted_check"


def template() -> dict[str, Any]:
    return json.loads((HERE / "web.json").read_text())


def with_metadata(resource: str, metadata: dict[str, Any]) -> dict[str, Any]:
    edited = template()
    edited["Resources"][resource]["Metadata"] = metadata
    return edited


def verdict(edited: dict[str, Any]) -> tuple[bool, list[str]]:
    """The gate's decision on the recorded reports, with edited's justifications."""
    found = justifications("dev", "web.json", edited)
    reports = [
        checkov_report((HERE / "checkov-report.json").read_text()),
        guard_report((HERE / "guard-report.json").read_text()),
    ]
    outcomes = [judge(report, found.accepted) for report in reports]
    return passes(outcomes, found), render(outcomes, found)


def test_reports_place_each_finding_on_its_environment_template_and_resource() -> None:
    checkov = checkov_report((HERE / "checkov-report.json").read_text())
    guard = guard_report((HERE / "guard-report.json").read_text())
    assert [(f.place, f.rule) for f in checkov.findings] == [(GROUP, PORT_80), (WEB, LOG_KMS)]
    assert [(f.place, f.rule) for f in guard.findings] == [(WEB, LOG_ENCRYPTED), (WEB, RETENTION)]
    assert guard.findings[1].title == (
        "[CT.CLOUDWATCH.PR.2] Require an Amazon CloudWatch log group to be retained for at "
        "least one year"
    )
    # checkov counts each (resource, check) that passed, cfn-guard each (template, rule)
    assert (checkov.passed, guard.passed) == (4, 2)


def test_an_unjustified_finding_fails_the_gate_with_one_line_naming_it() -> None:
    passed, lines = verdict(template())
    assert not passed
    assert (
        "checkov dev web.json LoadBalancerSecurityGroup CKV_AWS_260 "
        "Ensure no security groups allow ingress from 0.0.0.0:0 to port 80"
    ) in lines
    assert lines[-1].startswith("policy gate: failed: 4 unjustified finding(s)")


def test_findings_justified_on_their_resources_pass_and_are_listed_with_why() -> None:
    edited = template()
    edited["Resources"]["LoadBalancerSecurityGroup"]["Metadata"] = {
        "checkov": {"skip": [{"id": PORT_80, "comment": "only redirects to HTTPS"}]}
    }
    edited["Resources"]["WebLogGroup"]["Metadata"] = {
        "checkov": {"skip": [{"id": LOG_KMS, "comment": "logs hold no secrets"}]},
        "guard": {
            "SuppressedRules": [LOG_ENCRYPTED, RETENTION],
            "Reasons": {LOG_ENCRYPTED: "logs hold no secrets", RETENTION: "30 days suffice"},
        },
    }
    passed, lines = verdict(edited)
    assert passed, lines
    assert lines[-1] == "policy gate: passed"
    checkov_counts = next(line for line in lines if line.startswith("checkov: "))
    assert checkov_counts.endswith(" passed, 2 justified, 0 failed")
    assert (
        "  justified CKV_AWS_260 on web.json LoadBalancerSecurityGroup (dev): "
        "only redirects to HTTPS" in lines
    )
    assert f"  justified {RETENTION} on web.json WebLogGroup (dev): 30 days suffice" in lines


def test_one_justified_finding_leaves_the_others_failing_and_counts_both() -> None:
    edited = with_metadata(
        "LoadBalancerSecurityGroup",
        {"checkov": {"skip": [{"id": PORT_80, "comment": "only redirects to HTTPS"}]}},
    )
    passed, lines = verdict(edited)
    assert not passed
    assert [line for line in lines if line.startswith(("checkov: ", "guard: "))] == [
        "checkov: 4 passed, 1 justified, 1 failed",
        "guard: 2 passed, 0 justified, 2 failed",
    ]


@pytest.mark.parametrize(
    "skip",
    [{"id": PORT_80}, {"id": PORT_80, "comment": "  "}, {"comment": "why"}],
    ids=["no comment", "blank comment", "no id"],
)
def test_a_checkov_skip_that_does_not_say_why_is_refused(skip: dict[str, str]) -> None:
    passed, lines = verdict(
        with_metadata("LoadBalancerSecurityGroup", {"checkov": {"skip": [skip]}})
    )
    assert not passed
    refused = [line for line in lines if " refused: " in line]
    assert len(refused) == 1
    assert refused[0].startswith("checkov dev web.json LoadBalancerSecurityGroup refused: ")
    # a refused skip justifies nothing: the finding stays among the failures
    assert any(
        line.startswith("checkov dev web.json LoadBalancerSecurityGroup CKV_AWS_260")
        for line in lines
    )


def test_a_guard_suppression_without_a_reason_is_refused() -> None:
    found = justifications(
        "dev", "web.json", with_metadata("WebLogGroup", {"guard": {"SuppressedRules": [RETENTION]}})
    )
    assert found.accepted == ()
    assert [r.problem for r in found.refused] == [
        f"suppresses {RETENTION} without a reason (add Reasons: {{{RETENTION}: why}})"
    ]
    assert not passes([], found)


def test_a_justification_no_finding_needed_is_listed_as_unused_and_does_not_fail() -> None:
    edited = template()
    edited["Resources"]["LoadBalancerSecurityGroup"]["Metadata"] = {
        "checkov": {"skip": [{"id": "CKV_AWS_24", "comment": "port 22 is closed anyway"}]}
    }
    _, lines = verdict(edited)
    assert (
        "  unused CKV_AWS_24 on web.json LoadBalancerSecurityGroup (dev): "
        "port 22 is closed anyway" in lines
    )


def test_the_scanned_copy_loses_only_the_justifications() -> None:
    metadata = {
        "cfn-lint": {"config": {"ignore_checks": ["E3691"]}},
        "checkov": {"skip": [{"id": PORT_80, "comment": "redirect"}]},
        "guard": {"SuppressedRules": [RETENTION], "Reasons": {RETENTION: "why"}},
    }
    stripped = without_justifications(with_metadata("WebLogGroup", metadata))
    assert stripped["Resources"]["WebLogGroup"]["Metadata"] == {
        "cfn-lint": {"config": {"ignore_checks": ["E3691"]}}
    }
    only_ours = without_justifications(with_metadata("WebLogGroup", {"checkov": {"skip": []}}))
    assert "Metadata" not in only_ours["Resources"]["WebLogGroup"]


def test_guard_runs_only_the_rules_that_report_on_a_type_the_templates_hold(
    tmp_path: Path,
) -> None:
    for name, types in [
        ("ct-logs-pr-1", ["AWS::Logs::LogGroup"]),
        ("ct-s3-pr-1", ["AWS::S3::Bucket"]),
    ]:
        (tmp_path / "cfn-guard" / "svc").mkdir(parents=True, exist_ok=True)
        (tmp_path / "metadata" / "svc").mkdir(parents=True, exist_ok=True)
        (tmp_path / "cfn-guard" / "svc" / f"{name}.guard").write_text("rule r { }\n")
        (tmp_path / "metadata" / "svc" / f"{name}.metadata.json").write_text(
            json.dumps({"EvaluatedResourceTypes": types})
        )
    (tmp_path / "cfn-guard" / "svc" / "no-metadata.guard").write_text("rule r { }\n")
    chosen = applicable(tmp_path, {"AWS::Logs::LogGroup", "AWS::EC2::SecurityGroup"})
    assert [rule.name for rule in chosen] == ["ct-logs-pr-1.guard", "no-metadata.guard"]


def test_the_gate_scans_each_environments_templates_and_nothing_else(tmp_path: Path) -> None:
    for name in ["dev/cluster.json", "dev/bootstrap.json", "prod/cluster.json"]:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("{}")
    for name in ["dev/manifest.json", "dev/.x.json", ".plans/prod.json", ".staging-x/data.json"]:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("{}")
    assert [str(p.relative_to(tmp_path)) for p in template_files(tmp_path)] == [
        "dev/bootstrap.json",
        "dev/cluster.json",
        "prod/cluster.json",
    ]


def installed_tools() -> Tools:
    defaults = arguments([])
    tools = Tools(defaults.checkov, defaults.guard)
    if tools.missing():
        pytest.fail(f"{tools.missing()} missing: `make policy-tools` installs the checkers")
    return tools


def test_the_gate_runs_both_checkers_and_fails_on_what_is_not_justified(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    tools = installed_tools()
    build = tmp_path / "build"
    (build / "dev").mkdir(parents=True)
    shutil.copy(HERE / "web.json", build / "dev" / "bootstrap.json")
    (build / "dev" / "manifest.json").write_text("{}")
    edited = with_metadata(
        "LoadBalancerSecurityGroup",
        {"checkov": {"skip": [{"id": PORT_80, "comment": "only redirects to HTTPS"}]}},
    )
    (build / "dev" / "web.json").write_text(json.dumps(edited))

    status = main(
        ["--build", str(build), "--checkov", str(tools.checkov), "--guard", str(tools.guard)]
    )

    lines = capsys.readouterr().out.splitlines()
    assert status == 1, lines
    failed = [line for line in lines if line.startswith(("checkov dev", "guard dev"))]
    assert (
        "checkov dev bootstrap.json LoadBalancerSecurityGroup CKV_AWS_260 "
        "Ensure no security groups allow ingress from 0.0.0.0:0 to port 80" in failed
    )
    assert not any(
        line.startswith("checkov dev web.json LoadBalancerSecurityGroup") for line in failed
    )
    assert (
        f"guard dev web.json WebLogGroup {RETENTION} [CT.CLOUDWATCH.PR.2] Require an Amazon "
        "CloudWatch log group to be retained for at least one year" in failed
    )
    assert (
        "  justified CKV_AWS_260 on web.json LoadBalancerSecurityGroup (dev): "
        "only redirects to HTTPS" in lines
    )
    assert lines[-1] == "policy: 2 templates checked in " + lines[-1].split(" in ")[-1]


def test_the_gate_says_what_to_run_when_there_is_nothing_to_check(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--build", str(tmp_path)]) == 2
    assert capsys.readouterr().out == (
        f"policy: no templates in {tmp_path}/ENV/: run `make templates` first\n"
    )


def test_a_checker_that_fails_rather_than_finds_stops_the_gate_with_its_message(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "build" / "dev").mkdir(parents=True)
    shutil.copy(HERE / "web.json", tmp_path / "build" / "dev" / "web.json")
    checkov = tmp_path / "checkov"
    checkov.write_text("#!/bin/sh\necho 'checkov: broken install' >&2\nexit 3\n")
    checkov.chmod(0o755)
    guard = tmp_path / "guard"
    (guard / "rules" / "cfn-guard").mkdir(parents=True)
    (guard / "cfn-guard").write_text("#!/bin/sh\nexit 0\n")
    (guard / "cfn-guard").chmod(0o755)

    build = str(tmp_path / "build")
    status = main(["--build", build, "--checkov", str(checkov), "--guard", str(guard)])

    assert status == 2
    assert capsys.readouterr().out == "policy: checkov failed (exit 3): checkov: broken install\n"


def test_no_refusals_and_no_findings_pass() -> None:
    assert passes([], Justifications((), ()))
