"""E9007: S3 lifecycle day counts are positive integers.

S3 refuses a lifecycle rule whose `ExpirationInDays` or `NoncurrentVersionExpiration.
NoncurrentDays` is 0 or less (NoncurrentDays "must be a non-zero positive integer", S3 API
reference); cfn-lint's schema for AWS::S3::Bucket sets no minimum, so the stack would fail only
when S3 answers. Relevant to factorstack because the access-log bucket's days are computed
(retention minus the noncurrent day).
"""

from __future__ import annotations

from typing import Any

from cfnlint.rules import CloudFormationLintRule, RuleMatch
from cfnlint.template import Template

DAY_FIELDS = (
    ("ExpirationInDays",),
    ("NoncurrentVersionExpiration", "NoncurrentDays"),
)


def _value(rule: dict[str, Any], path: tuple[str, ...]) -> Any:
    value: Any = rule
    for key in path:
        value = value.get(key) if isinstance(value, dict) else None
    return value


def _not_positive(value: Any) -> bool:
    """Only literal numbers are judged; a Ref or Fn::... is left to S3."""
    if isinstance(value, bool) or not isinstance(value, int | str):
        return False
    try:
        return int(value) < 1
    except ValueError:
        return False


class LifecycleDays(CloudFormationLintRule):
    """ExpirationInDays and NoncurrentDays at least 1."""

    id = "E9007"
    shortdesc = "S3 lifecycle day counts must be at least 1"
    description = (
        "AWS::S3::Bucket LifecycleConfiguration rules: ExpirationInDays and "
        "NoncurrentVersionExpiration.NoncurrentDays must be positive integers."
    )
    source_url = (
        "https://docs.aws.amazon.com/AmazonS3/latest/API/API_NoncurrentVersionExpiration.html"
    )
    tags = ["resources", "s3", "factorstack"]

    def match(self, cfn: Template) -> list[RuleMatch]:
        matches: list[RuleMatch] = []
        for name, resource in (cfn.template.get("Resources") or {}).items():
            if not isinstance(resource, dict) or resource.get("Type") != "AWS::S3::Bucket":
                continue
            lifecycle = (resource.get("Properties") or {}).get("LifecycleConfiguration") or {}
            rules = lifecycle.get("Rules") if isinstance(lifecycle, dict) else None
            for index, rule in enumerate(rules if isinstance(rules, list) else []):
                matches += self._rule(name, index, rule)
        return matches

    def _rule(self, bucket: str, index: int, rule: Any) -> list[RuleMatch]:
        base = ["Resources", bucket, "Properties", "LifecycleConfiguration", "Rules", index]
        return [
            RuleMatch(
                [*base, *path],
                f"{bucket}: lifecycle rule {index + 1} {'.'.join(path)} must be at least 1 "
                f"(S3 refuses {_value(rule, path)})",
            )
            for path in DAY_FIELDS
            if isinstance(rule, dict) and _not_positive(_value(rule, path))
        ]
