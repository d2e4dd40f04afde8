"""E9011: an AWS::EC2::Route names exactly one target (CloudFormation's AWS::EC2::Route
reference). The shared network.json picks NatGatewayId or InstanceId by condition; the build's
lint refuses a route that would have two targets, or none, in any scenario."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from factorstack.lint import LintFinding, lint_templates

REGION = "eu-west-1"
NO_VALUE = {"Ref": "AWS::NoValue"}
BY_INSTANCE = {
    "NatGatewayId": {"Fn::If": ["ByInstance", NO_VALUE, "nat-0123456789abcdef0"]},
    "InstanceId": {"Fn::If": ["ByInstance", "i-0123456789abcdef0", NO_VALUE]},
}
BOTH_WITH_GATEWAYS = {
    "NatGatewayId": {"Fn::If": ["ByInstance", NO_VALUE, "nat-0123456789abcdef0"]},
    "InstanceId": "i-0123456789abcdef0",
}
NONE_WITH_INSTANCES = {
    "NatGatewayId": {"Fn::If": ["ByInstance", NO_VALUE, "nat-0123456789abcdef0"]}
}
CASES: dict[str, tuple[dict[str, Any], list[str]]] = {
    "one_literal_target": ({"GatewayId": "igw-0123456789abcdef0"}, []),
    "two_literal_targets": (
        {"GatewayId": "igw-0123456789abcdef0", "NatGatewayId": "nat-0123456789abcdef0"},
        ["a route needs exactly one target; this one has GatewayId, NatGatewayId"],
    ),
    "gateway_or_instance_by_condition": (BY_INSTANCE, []),
    "both_where_nat_is_by_gateway": (
        BOTH_WITH_GATEWAYS,
        [
            "a route needs exactly one target when ByInstance is false; "
            "this one has InstanceId, NatGatewayId"
        ],
    ),
    "none_where_nat_is_by_instance": (
        NONE_WITH_INSTANCES,
        ["a route needs exactly one target when ByInstance is true; this one has none"],
    ),
}


def _template(targets: dict[str, Any]) -> dict[str, Any]:
    return {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Parameters": {"Instances": {"Type": "String", "AllowedValues": ["true", "false"]}},
        "Conditions": {"ByInstance": {"Fn::Equals": [{"Ref": "Instances"}, "true"]}},
        "Resources": {
            "Vpc": {"Type": "AWS::EC2::VPC", "Properties": {"CidrBlock": "10.0.0.0/16"}},
            "Table": {"Type": "AWS::EC2::RouteTable", "Properties": {"VpcId": {"Ref": "Vpc"}}},
            "DefaultRoute": {
                "Type": "AWS::EC2::Route",
                "Properties": {
                    "RouteTableId": {"Ref": "Table"},
                    "DestinationCidrBlock": "0.0.0.0/0",
                    **targets,
                },
            },
        },
    }


@pytest.fixture(scope="module")
def findings(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[str]]:
    folder = tmp_path_factory.mktemp("route-target")
    paths: dict[str, Path] = {}
    for name, (targets, _) in CASES.items():
        paths[name] = folder / f"{name}.json"
        paths[name].write_text(json.dumps(_template(targets), indent=2))
    found: list[LintFinding] = lint_templates(list(paths.values()), [REGION])
    return {
        name: [f.message for f in found if f.file == str(path) and f.rule == "E9011"]
        for name, path in paths.items()
    }


@pytest.mark.parametrize("name", list(CASES))
def test_route_target_findings(findings: dict[str, list[str]], name: str) -> None:
    assert findings[name] == CASES[name][1]
