"""E9012: ECS refuses a changed capacity provider strategy unless the update forces a new
deployment; a strategy chosen by a condition changes with a parameter, so its service must
force one with a nonce that follows that parameter. factorstack's services pass."""

from __future__ import annotations

import json
from typing import Any

import pytest

from factorstack.lint import LintFinding, lint_templates
from tests.support.sample import REPO
from tests.support.templates import raw_templates_of

REGION = "eu-west-1"
SPOT = [{"CapacityProvider": "FARGATE_SPOT", "Weight": 1}]
REGULAR = [{"CapacityProvider": "FARGATE", "Weight": 1}]
CHOSEN = {"Fn::If": ["SpotOn", SPOT, REGULAR]}
NONCE = {"Fn::Sub": "spot-${Spot}"}
REFUSED = (
    "CapacityProviderStrategy is chosen by a condition, and ECS refuses a changed strategy "
    "unless the update forces a new deployment: set ForceNewDeployment with "
    "EnableForceNewDeployment true and a ForceNewDeploymentNonce that follows the parameter "
    "behind the condition (e.g. Fn::Sub over it)"
)


def _template(strategy: Any, forced: dict[str, Any] | None) -> dict[str, Any]:
    service: dict[str, Any] = {
        "Cluster": "example",
        "TaskDefinition": "arn:aws:ecs:eu-west-1:111111111111:task-definition/web:1",
        "CapacityProviderStrategy": strategy,
        "NetworkConfiguration": {
            "AwsvpcConfiguration": {"Subnets": ["subnet-12345678"], "AssignPublicIp": "DISABLED"}
        },
    }
    if forced is not None:
        service["ForceNewDeployment"] = forced
    return {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Parameters": {"Spot": {"Type": "String", "AllowedValues": ["true", "false"]}},
        "Conditions": {"SpotOn": {"Fn::Equals": [{"Ref": "Spot"}, "true"]}},
        "Resources": {"Service": {"Type": "AWS::ECS::Service", "Properties": service}},
    }


CASES: dict[str, tuple[dict[str, Any], list[str]]] = {
    "chosen_without_force": (_template(CHOSEN, None), [REFUSED]),
    "chosen_with_a_literal_nonce": (
        _template(CHOSEN, {"EnableForceNewDeployment": True, "ForceNewDeploymentNonce": "x"}),
        [REFUSED],
    ),
    "chosen_with_force_off": (
        _template(CHOSEN, {"EnableForceNewDeployment": False, "ForceNewDeploymentNonce": NONCE}),
        [REFUSED],
    ),
    "chosen_with_a_following_nonce": (
        _template(CHOSEN, {"EnableForceNewDeployment": True, "ForceNewDeploymentNonce": NONCE}),
        [],
    ),
    "fixed_strategy": (_template(REGULAR, None), []),
}


@pytest.fixture(scope="module")
def findings(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[str]]:
    folder = tmp_path_factory.mktemp("forced-strategy")
    paths = {name: folder / f"{name}.json" for name in CASES}
    for name, (template, _) in CASES.items():
        paths[name].write_text(json.dumps(template, indent=2))
    found: list[LintFinding] = lint_templates(list(paths.values()), [REGION])
    return {
        name: [f.message for f in found if f.file == str(path) and f.rule == "E9012"]
        for name, path in paths.items()
    }


@pytest.mark.parametrize("name", list(CASES))
def test_forced_strategy_change_findings(findings: dict[str, list[str]], name: str) -> None:
    assert findings[name] == CASES[name][1]


def test_every_process_stack_of_the_sample_forces_its_strategy_change() -> None:
    """The rendered services carry what the rule asks (make lint checks them too)."""
    templates = raw_templates_of(REPO, "staging")
    for process in ("web", "worker", "scheduler"):
        resources = templates[f"process-{process}.json"]["Resources"]
        service = resources[f"{process.capitalize()}Service"]["Properties"]
        assert "Fn::If" in service["CapacityProviderStrategy"]
        forced = service["ForceNewDeployment"]
        assert forced["EnableForceNewDeployment"] is True
        assert "${Spot}" in forced["ForceNewDeploymentNonce"]["Fn::Sub"]
