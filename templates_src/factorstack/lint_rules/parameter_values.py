"""E9010: a value a stack passes to a nested stack's parameter fits CloudFormation's 4,096 bytes.

Child templates are shared by every environment, so the root passes each environment's values
(sizes, plain variables' values, ...) as nested-stack parameters; a parameter value is limited
to 4,096 bytes, which a value written literally into a template was not. cfn-lint's schema for
AWS::CloudFormation::Stack types the Parameters map but does not bound its values, so a long
plain variable would only fail when CloudFormation creates the nested stack.
"""

from __future__ import annotations

from typing import Any

from cfnlint.rules import CloudFormationLintRule, RuleMatch
from cfnlint.template import Template

MAX_PARAMETER_VALUE_BYTES = 4096


class NestedParameterValues(CloudFormationLintRule):
    """A literal nested-stack parameter value within 4,096 bytes."""

    id = "E9010"
    shortdesc = "Nested stack parameter values fit in 4,096 bytes"
    description = (
        "Each literal value in an AWS::CloudFormation::Stack's Parameters is at most "
        f"{MAX_PARAMETER_VALUE_BYTES} bytes (UTF-8), CloudFormation's limit for a parameter value."
    )
    source_url = (
        "https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/cloudformation-limits.html"
    )
    tags = ["resources", "cloudformation", "factorstack"]

    def __init__(self) -> None:
        super().__init__()
        self.resource_property_types = ["AWS::CloudFormation::Stack"]

    def match_resource_properties(
        self, properties: dict[str, Any], resourcetype: str, path: list[Any], cfn: Template
    ) -> list[RuleMatch]:
        passed = properties.get("Parameters")
        if not isinstance(passed, dict):
            return []
        matches = []
        for name, value in passed.items():
            if not isinstance(value, str):
                continue
            size = len(value.encode("utf-8"))
            if size > MAX_PARAMETER_VALUE_BYTES:
                matches.append(
                    RuleMatch(
                        [*path, "Parameters", name],
                        f"Parameter {name}: its value is {size} bytes, over CloudFormation's "
                        f"{MAX_PARAMETER_VALUE_BYTES} (shorten it, or read it from SSM or "
                        "Secrets Manager)",
                    )
                )
        return matches
