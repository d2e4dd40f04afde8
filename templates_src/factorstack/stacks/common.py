"""Small helpers every stack module shares: templates, retention and partition-safe ARNs.

Parameters and outputs between stacks are declared through `wiring`.
"""

from __future__ import annotations

from collections.abc import Mapping

from troposphere import AWSObject, Ref, Select, Split, Sub, Template, ec2

CHILD_TEMPLATE_FORMAT_VERSION = "2010-09-09"


def new_template(description: str) -> Template:
    template = Template(Description=description)
    template.set_version(CHILD_TEMPLATE_FORMAT_VERSION)
    return template


def retain(resource: AWSObject, policy: str = "Retain") -> AWSObject:
    """Keep a stateful resource's data when it is replaced or removed from the stack.

    "Retain" keeps it, except when the operation that created it rolls back: a named log
    group or secret left behind by a failed first deploy would block every later one.
    "Snapshot" snapshots it first (databases, caches).
    """
    resource.DeletionPolicy = "RetainExceptOnCreate" if policy == "Retain" else policy
    resource.UpdateReplacePolicy = policy
    return resource


def arn(
    service: str,
    resource: str,
    *,
    regional: bool = True,
    account: bool = True,
    **variables: object,
) -> Sub:
    """An exact ARN in this stack's partition, region and account (never `arn:aws:` spelled);
    `variables` fill `${NAME}`s of the resource part, e.g. a unique_name's suffix."""
    region = "${AWS::Region}" if regional else ""
    owner = "${AWS::AccountId}" if account else ""
    return Sub(f"arn:${{AWS::Partition}}:{service}:{region}:{owner}:{resource}", **variables)


STACK_SUFFIX = "StackSuffix"


def stack_suffix() -> Select:
    """The first 8 hex digits of this stack's id: different for every create of a stack."""
    return Select(0, Split("-", Select(2, Split("/", Ref("AWS::StackId")))))


def unique_name(prefix: str) -> Sub:
    """`PREFIX` + this stack's suffix, for retained resources that need a readable name.

    A retained resource outlives a deleted stack; with a fixed name the next create of the
    same environment would fail with "already exists".
    """
    return Sub(f"{prefix}${{{STACK_SUFFIX}}}", **{STACK_SUFFIX: stack_suffix()})


# Root template Metadata key: root parameters whose first create uses another value than the
# environment's (the parameter's Default), e.g. deletion protection that would block the
# rollback of a failed first create. Deploy creates with these values, then updates to the
# Defaults in a follow-up change set.
CREATE_FIRST_WITH = "FactorstackCreateFirstWith"

# Root template Metadata key: {"failover": P, "nodes": Q}, two root parameters of a replicated
# service that one update must not change together. ElastiCache turns automatic failover on only
# when a replica already exists, and removes the last replica only once failover is off, so
# deploy changes the node count first when failover goes on, failover first when it goes off,
# and the other in a follow-up change set.
FAILOVER_AFTER_REPLICAS = "FactorstackFailoverAfterReplicas"


HTTPS_PORT = 443
ANYWHERE = "0.0.0.0/0"


def https_out_to_anywhere(description: str) -> ec2.SecurityGroupRule:
    """The one way out a group gets when it needs the internet or AWS APIs: HTTPS. Inline egress
    replaces the default allow-all, so nothing else leaves."""
    return ec2.SecurityGroupRule(
        IpProtocol="tcp",
        FromPort=HTTPS_PORT,
        ToPort=HTTPS_PORT,
        CidrIp=ANYWHERE,
        Description=description,
    )


def match_nothing_egress(description: str) -> ec2.SecurityGroupRule:
    """An inline egress rule that matches no traffic (ICMP type 252, code 86, to
    255.255.255.255). Any inline egress replaces a group's default allow-all, so a group with
    only this rule sends nothing out; security groups are stateful, so replies still flow."""
    return ec2.SecurityGroupRule(
        IpProtocol="icmp",
        FromPort=252,
        ToPort=86,
        CidrIp="255.255.255.255/32",
        Description=description,
    )


def justify(
    resource: AWSObject,
    *,
    checkov: Mapping[str, str] | None = None,
    guard: Mapping[str, str] | None = None,
) -> AWSObject:
    """Accept a policy checker's finding on this resource, saying why (`make policy` refuses
    one without a reason). checkov: {CKV_ID: why} as `checkov.skip` entries; guard: {RULE: why}
    as `guard.SuppressedRules`, the why kept beside it in `guard.Reasons` (Guard has no comment
    field). Merges with Metadata the resource already has (e.g. cfn-lint's)."""
    metadata = dict(getattr(resource, "Metadata", None) or {})
    if checkov:
        skips = {entry["id"]: entry for entry in metadata.get("checkov", {}).get("skip", [])}
        skips.update({rule: {"id": rule, "comment": why} for rule, why in _reasons(checkov)})
        metadata["checkov"] = {**metadata.get("checkov", {}), "skip": list(skips.values())}
    if guard:
        old = metadata.get("guard", {})
        rules = list(old.get("SuppressedRules", []))
        rules += [rule for rule in guard if rule not in rules]
        reasons = {**old.get("Reasons", {}), **dict(_reasons(guard))}
        metadata["guard"] = {**old, "SuppressedRules": rules, "Reasons": reasons}
    resource.Metadata = metadata
    return resource


def _reasons(justifications: Mapping[str, str]) -> list[tuple[str, str]]:
    """(rule, why) pairs; a justification that does not say why is a bug in the stack module."""
    for rule, why in justifications.items():
        if not why.strip():
            raise ValueError(f"justify {rule}: say why the finding is acceptable")
    return [(rule, why.strip()) for rule, why in justifications.items()]
