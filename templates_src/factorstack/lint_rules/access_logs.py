"""E9004: a load balancer's access logs can only go to a bucket ELB can write.

ELB access logs support SSE-S3 only: a bucket whose default encryption is SSE-KMS gets no logs.
ELB tests its write access when access logging is turned on, so the load balancer must wait for
the bucket's policy; and the prefix must not contain `AWSLogs` (ELB adds that part itself).
cfn-lint sees the attributes as free-form key/value pairs and checks none of this.
"""

from __future__ import annotations

from typing import Any

from cfnlint.rules import CloudFormationLintRule, RuleMatch
from cfnlint.template import Template

KMS_ALGORITHMS = {"aws:kms", "aws:kms:dsse"}


def _attributes(properties: dict[str, Any]) -> dict[str, Any]:
    pairs = properties.get("LoadBalancerAttributes")
    if not isinstance(pairs, list):
        return {}
    return {p["Key"]: p.get("Value") for p in pairs if isinstance(p, dict) and "Key" in p}


def _kms_encrypted(bucket: dict[str, Any]) -> bool:
    encryption = (bucket.get("Properties") or {}).get("BucketEncryption") or {}
    rules = encryption.get("ServerSideEncryptionConfiguration") or []
    return any(
        isinstance(rule, dict)
        and (rule.get("ServerSideEncryptionByDefault") or {}).get("SSEAlgorithm") in KMS_ALGORITHMS
        for rule in rules
    )


def _policies_of(resources: dict[str, Any], bucket: str) -> set[str]:
    return {
        name
        for name, resource in resources.items()
        if isinstance(resource, dict)
        and resource.get("Type") == "AWS::S3::BucketPolicy"
        and (resource.get("Properties") or {}).get("Bucket") == {"Ref": bucket}
    }


def _depends_on(resource: dict[str, Any]) -> set[str]:
    value = resource.get("DependsOn") or []
    return {value} if isinstance(value, str) else set(value)


class AccessLogBucket(CloudFormationLintRule):
    """Access logs to an SSE-S3 bucket whose policy exists first, under a valid prefix."""

    id = "E9004"
    shortdesc = "Load balancer access logs need an SSE-S3 bucket whose policy exists first"
    description = (
        "For an AWS::ElasticLoadBalancingV2::LoadBalancer with access_logs.s3.enabled: the "
        "bucket (when it is in the template) must not default to SSE-KMS, the load balancer "
        "must DependsOn the bucket's AWS::S3::BucketPolicy, and access_logs.s3.prefix must not "
        "contain AWSLogs."
    )
    source_url = (
        "https://docs.aws.amazon.com/elasticloadbalancing/latest/application/"
        "enable-access-logging.html"
    )
    tags = ["resources", "elasticloadbalancingv2", "s3", "factorstack"]

    def match(self, cfn: Template) -> list[RuleMatch]:
        resources = cfn.template.get("Resources") or {}
        matches: list[RuleMatch] = []
        for name, resource in resources.items():
            if not isinstance(resource, dict):
                continue
            if resource.get("Type") != "AWS::ElasticLoadBalancingV2::LoadBalancer":
                continue
            matches += self._balancer(resources, name, resource)
        return matches

    def _balancer(
        self, resources: dict[str, Any], name: str, resource: dict[str, Any]
    ) -> list[RuleMatch]:
        attributes = _attributes(resource.get("Properties") or {})
        if attributes.get("access_logs.s3.enabled") not in ("true", True):
            return []
        path = ["Resources", name, "Properties", "LoadBalancerAttributes"]
        matches = []
        prefix = attributes.get("access_logs.s3.prefix")
        if isinstance(prefix, str) and "AWSLogs" in prefix:
            matches.append(RuleMatch(path, f"{name}: the access log prefix contains AWSLogs"))
        target = attributes.get("access_logs.s3.bucket")
        bucket = target.get("Ref") if isinstance(target, dict) else None
        if bucket not in resources:
            return matches
        if _kms_encrypted(resources[bucket]):
            matches.append(
                RuleMatch(path, f"{name}: access logs support SSE-S3 only, {bucket} uses SSE-KMS")
            )
        if not _policies_of(resources, bucket) & _depends_on(resource):
            matches.append(
                RuleMatch(
                    ["Resources", name],
                    f"{name}: must DependsOn the bucket policy of {bucket} (ELB tests its "
                    "write access when access logging is turned on)",
                )
            )
        return matches
