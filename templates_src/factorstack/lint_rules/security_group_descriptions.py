"""E9001: security group rule descriptions in EC2's character set and length.

EC2 accepts a rule description of up to 255 characters from a small set; anything else (an
apostrophe, an accent) fails the create with "Invalid rule description", after the stack has
already spent minutes creating everything before it. cfn-lint's schemas check GroupDescription
when it is a literal but have no pattern at all for rule descriptions.
"""

from __future__ import annotations

import re
from typing import Any

from cfnlint.rules import CloudFormationLintRule, RuleMatch
from cfnlint.template import Template

from factorstack.lint_rules.values import (
    KnownText,
    Path,
    branches,
    items,
    known_text,
    strings,
    sub_variables,
)

MAX_LENGTH = 255
# EC2 API reference: IpRange and Ipv6Range descriptions allow `&`; UserIdGroupPair and
# PrefixListId descriptions (a rule naming a security group or a prefix list) do not.
CIDR_CHARACTERS = "._-:/()#,@[]+=&;{}!$*"
REFERENCE_CHARACTERS = "._-:/()#,@[]+=;{}!$*"
GROUP_DESCRIPTION_CHARACTERS = CIDR_CHARACTERS  # CreateSecurityGroup's GroupDescription
CIDR_KEYS = ("CidrIp", "CidrIpv6")

INLINE_RULES = {"SecurityGroupIngress": "ingress", "SecurityGroupEgress": "egress"}
STANDALONE_RULES = {
    "AWS::EC2::SecurityGroupIngress": "ingress",
    "AWS::EC2::SecurityGroupEgress": "egress",
}


def _pattern(extra: str) -> re.Pattern[str]:
    return re.compile(f"[^a-zA-Z0-9 {re.escape(extra)}]")


PATTERNS = {extra: _pattern(extra) for extra in (CIDR_CHARACTERS, REFERENCE_CHARACTERS)}


def _characters_for(rule: dict[str, Any]) -> str:
    """A CIDR rule is an IpRange to EC2; one naming a group or prefix list is stricter."""
    return CIDR_CHARACTERS if any(key in rule for key in CIDR_KEYS) else REFERENCE_CHARACTERS


def _only_pseudo_parameters(value: Any) -> bool:
    """An Fn::Sub of pseudo parameters only: cfn-lint resolves it itself (W1031)."""
    names = sub_variables(value)
    return bool(names) and all(name.startswith("AWS::") for name in names)


def problems(text: KnownText, allowed: str) -> list[str]:
    """Why EC2 would refuse this description; empty when it would not."""
    found: list[str] = []
    bad = sorted(
        {char for fragment in text.fragments for char in PATTERNS[allowed].findall(fragment)}
    )
    if bad:
        shown = " ".join(repr(char) for char in bad)
        why = " (no '&' in a rule naming a security group or prefix list)" if "&" in bad else ""
        found.append(
            f"has characters EC2 refuses ({shown}){why}; allowed are a-z, A-Z, 0-9, space "
            f"and {allowed}"
        )
    if text.min_length > MAX_LENGTH:
        at_least = "" if text.exact else "at least "
        found.append(f"is {at_least}{text.min_length} characters long; EC2's limit is {MAX_LENGTH}")
    return found


class SecurityGroupRuleDescriptions(CloudFormationLintRule):
    """Rule descriptions EC2 would refuse at create time."""

    id = "E9001"
    shortdesc = "Security group (rule) descriptions use only what EC2 accepts"
    description = (
        "Security group rule descriptions (inline SecurityGroupIngress/SecurityGroupEgress and "
        "AWS::EC2::SecurityGroupIngress/Egress) may hold up to 255 characters: a-z, A-Z, 0-9, "
        "space and ._-:/()#,@[]+=;{}!$* (and & for CIDR rules). Anything else fails the create "
        "with 'Invalid rule description'. Literal text only, including the literal parts of "
        "Fn::Sub and Fn::Join; GroupDescription is checked here only when it is not a literal "
        "(cfn-lint's schema checks literals)."
    )
    source_url = "https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_IpRange.html"
    tags = ["resources", "ec2", "security-group", "factorstack"]

    def __init__(self) -> None:
        super().__init__()
        self.resource_property_types = ["AWS::EC2::SecurityGroup", *STANDALONE_RULES]

    def _rule_matches(self, rule: Any, path: Path, kind: str) -> list[RuleMatch]:
        if not isinstance(rule, dict) or "Description" not in rule:
            return []
        allowed = _characters_for(rule)
        matches = []
        for text, text_path in strings(rule["Description"], [*path, "Description"]):
            for problem in problems(text, allowed):
                matches.append(
                    RuleMatch(
                        text_path,
                        f"Security group {kind} rule description {text.preview()} {problem}",
                    )
                )
        return matches

    def match_resource_properties(
        self, properties: dict[str, Any], resourcetype: str, path: Path, cfn: Template
    ) -> list[RuleMatch]:
        if resourcetype in STANDALONE_RULES:
            return self._rule_matches(properties, path, STANDALONE_RULES[resourcetype])
        matches: list[RuleMatch] = []
        for key, kind in INLINE_RULES.items():
            for rule, rule_path in items(properties.get(key), [*path, key]):
                matches.extend(self._rule_matches(rule, rule_path, kind))
        # A literal GroupDescription (or literal Fn::If branch) is cfn-lint's own E3031/E3033.
        for value, value_path in branches(
            properties.get("GroupDescription"), [*path, "GroupDescription"]
        ):
            text = known_text(value)
            if text is None or text.exact or _only_pseudo_parameters(value):
                continue
            for problem in problems(text, GROUP_DESCRIPTION_CHARACTERS):
                matches.append(
                    RuleMatch(value_path, f"GroupDescription {text.preview()} {problem}")
                )
        return matches
