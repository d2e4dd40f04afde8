"""E9011: a route names exactly one target in every combination of its template's conditions.

An AWS::EC2::Route takes a destination plus the id of exactly one target (a gateway, a NAT
gateway, an instance, ...): CloudFormation's AWS::EC2::Route reference. troposphere checks that
only for literal properties, and cfn-lint's schema does not relate the target properties. The
shared network.json gives each private route both a NatGatewayId and an InstanceId, each an
Fn::If that leaves one out (NAT by gateway or by instance); this rule plays out every condition
scenario and refuses one with no target or two.
"""

from __future__ import annotations

from typing import Any

from cfnlint.rules import CloudFormationLintRule, RuleMatch
from cfnlint.template import Template

from factorstack.lint_rules.values import Path

ROUTE = "AWS::EC2::Route"
TARGETS = (
    "CarrierGatewayId",
    "CoreNetworkArn",
    "EgressOnlyInternetGatewayId",
    "GatewayId",
    "InstanceId",
    "LocalGatewayId",
    "NatGatewayId",
    "NetworkInterfaceId",
    "TransitGatewayId",
    "VpcEndpointId",
    "VpcPeeringConnectionId",
)
ALWAYS = "RouteTableId"  # required: keeps a scenario's object non-empty, so none is dropped


def _shown(scenario: dict[str, bool] | None) -> str:
    if not scenario:
        return ""
    return " when " + ", ".join(f"{name} is {str(on).lower()}" for name, on in scenario.items())


class RouteTarget(CloudFormationLintRule):
    """A route has exactly one target, whatever its template's conditions decide."""

    id = "E9011"
    shortdesc = "A route names exactly one target"
    description = (
        "An AWS::EC2::Route must name exactly one target (GatewayId, NatGatewayId, InstanceId, "
        "...) in every scenario of the conditions its properties use."
    )
    source_url = (
        "https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/"
        "aws-resource-ec2-route.html"
    )
    tags = ["resources", "ec2", "route", "conditions", "factorstack"]

    def __init__(self) -> None:
        super().__init__()
        self.resource_property_types = [ROUTE]

    def match_resource_properties(
        self, properties: dict[str, Any], resourcetype: str, path: Path, cfn: Template
    ) -> list[RuleMatch]:
        matches: list[RuleMatch] = []
        names = [ALWAYS, *TARGETS]
        for outcome in cfn.get_object_without_conditions(properties, names):
            chosen = outcome.get("Object") or {}
            targets = sorted(name for name in TARGETS if chosen.get(name) is not None)
            if len(targets) == 1:
                continue
            named = ", ".join(targets) if targets else "none"
            matches.append(
                RuleMatch(
                    path,
                    f"a route needs exactly one target{_shown(outcome.get('Scenario'))}; "
                    f"this one has {named}",
                )
            )
        return matches
