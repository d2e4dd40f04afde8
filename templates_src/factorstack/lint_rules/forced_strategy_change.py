"""E9012: a service whose capacity provider strategy a parameter chooses must force a deployment
when it changes.

ECS refuses an UpdateService that changes a capacity provider strategy (or moves a service from
a launch type to one) unless it forces a new deployment ("you must force a new deployment");
CloudFormation passes that refusal on and rolls the update back. A strategy under an Fn::If
changes whenever the parameter behind the condition does, while the template text stays the
same, so the service must carry ForceNewDeployment with EnableForceNewDeployment true and a
nonce that follows the parameter (not a literal, which never changes).
"""

from __future__ import annotations

from typing import Any

from cfnlint.rules import CloudFormationLintRule, RuleMatch
from cfnlint.template import Template

from factorstack.lint_rules.values import Path


class ForcedStrategyChange(CloudFormationLintRule):
    """A chosen capacity provider strategy needs a forced deployment that follows the choice."""

    id = "E9012"
    shortdesc = "A capacity provider strategy chosen by a condition needs ForceNewDeployment"
    description = (
        "An AWS::ECS::Service whose CapacityProviderStrategy is an Fn::If must set "
        "ForceNewDeployment with EnableForceNewDeployment true and a ForceNewDeploymentNonce "
        "that changes with the choice (not a literal): ECS refuses a changed strategy unless "
        "the update forces a new deployment."
    )
    source_url = (
        "https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/"
        "aws-properties-ecs-service-forcenewdeployment.html"
    )
    tags = ["resources", "ecs", "capacity-providers", "factorstack"]

    def __init__(self) -> None:
        super().__init__()
        self.resource_property_types = ["AWS::ECS::Service"]

    def match_resource_properties(
        self, properties: dict[str, Any], resourcetype: str, path: Path, cfn: Template
    ) -> list[RuleMatch]:
        strategy = properties.get("CapacityProviderStrategy")
        if not (isinstance(strategy, dict) and "Fn::If" in strategy):
            return []
        forced = properties.get("ForceNewDeployment")
        forced = forced if isinstance(forced, dict) else {}
        nonce = forced.get("ForceNewDeploymentNonce")
        if forced.get("EnableForceNewDeployment") is True and isinstance(nonce, dict):
            return []
        return [
            RuleMatch(
                [*path, "ForceNewDeployment"],
                "CapacityProviderStrategy is chosen by a condition, and ECS refuses a changed "
                "strategy unless the update forces a new deployment: set ForceNewDeployment "
                "with EnableForceNewDeployment true and a ForceNewDeploymentNonce that follows "
                "the parameter behind the condition (e.g. Fn::Sub over it)",
            )
        ]
