"""E9008: an EC2 instance that must signal CloudFormation says so in its user data.

With a `CreationPolicy` ResourceSignal, CloudFormation waits for the instance's signals until
the timeout and then fails the create (or the update that replaced it) - and anything that
refers to the instance waits as long. cfn-lint does not relate the policy to the user data, so
an instance whose script never runs `cfn-signal` for its own logical id would only show itself
after the timeout. The check reads the user data's literal text (inside Fn::Base64 / Fn::Sub /
Fn::Join); user data it cannot read is left alone.
"""

from __future__ import annotations

from typing import Any

from cfnlint.rules import CloudFormationLintRule, RuleMatch
from cfnlint.template import Template


def _text(value: Any) -> str:
    """Every literal string in a user data value, joined: enough to look for a command."""
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        return " ".join(_text(item) for item in value)
    if isinstance(value, dict):
        return " ".join(_text(item) for key, item in value.items() if key != "Ref")
    return ""


def _waits_for_signal(resource: dict[str, Any]) -> bool:
    policy = resource.get("CreationPolicy")
    return isinstance(policy, dict) and isinstance(policy.get("ResourceSignal"), dict)


class InstanceSignal(CloudFormationLintRule):
    """An instance with a ResourceSignal creation policy runs cfn-signal for itself."""

    id = "E9008"
    shortdesc = "An instance that waits for a signal must send it"
    description = (
        "An AWS::EC2::Instance with CreationPolicy.ResourceSignal must have UserData that runs "
        "cfn-signal with --resource (or -r) set to the instance's own logical id."
    )
    source_url = (
        "https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/cfn-signal.html"
    )
    tags = ["resources", "ec2", "factorstack"]

    def match(self, cfn: Template) -> list[RuleMatch]:
        matches: list[RuleMatch] = []
        for name, resource in (cfn.template.get("Resources") or {}).items():
            if not isinstance(resource, dict) or resource.get("Type") != "AWS::EC2::Instance":
                continue
            if not _waits_for_signal(resource):
                continue
            user_data = (resource.get("Properties") or {}).get("UserData")
            if user_data is None:
                matches.append(self._finding(name, "has no UserData to send it"))
                continue
            text = _text(user_data)
            words = text.split()
            signals_itself = any(
                words[i] in ("--resource", "-r") and words[i + 1] == name
                for i in range(len(words) - 1)
            )
            if "cfn-signal" not in text or not signals_itself:
                matches.append(self._finding(name, f"its UserData never signals {name}"))
        return matches

    @staticmethod
    def _finding(name: str, why: str) -> RuleMatch:
        return RuleMatch(
            ["Resources", name, "CreationPolicy"],
            f"{name}: waits for a cfn-signal (CreationPolicy.ResourceSignal) but {why}",
        )
