"""Replacements CloudFormation cannot carry out: a resource whose name the template fixes.

CloudFormation replaces a resource by creating the new one before deleting the old; with a
fixed name (an ECS service's ServiceName, a log group's LogGroupName) the create fails because
the name is taken, and the whole update rolls back after minutes. So a change set that replaces
such a resource is refused at plan time, naming the resource, its name property and why.

NAME_PROPERTIES lists, per type, the property CloudFormation's reference calls its name ("If you
specify a name, you cannot perform updates that require replacement of this resource"). An ECS
service switching between `LaunchType` and a capacity provider strategy is the case in point:
CloudFormation's reference now updates both in place, and this refusal stands guard should a
change set say otherwise.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from factorstack.deploy.decide.review import Row

REPLACING = {"True", "Conditional"}
NAME_PROPERTIES = {
    "AWS::ECS::Service": "ServiceName",
    "AWS::ECS::Cluster": "ClusterName",
    "AWS::Logs::LogGroup": "LogGroupName",
    "AWS::EC2::SecurityGroup": "GroupName",
    "AWS::RDS::DBInstance": "DBInstanceIdentifier",
    "AWS::ElastiCache::ReplicationGroup": "ReplicationGroupId",
    "AWS::SecretsManager::Secret": "Name",
    "AWS::S3::Bucket": "BucketName",
    "AWS::IAM::Role": "RoleName",
    "AWS::SNS::Topic": "TopicName",
    "AWS::CloudWatch::Alarm": "AlarmName",
    "AWS::ElasticLoadBalancingV2::LoadBalancer": "Name",
    "AWS::ElasticLoadBalancingV2::TargetGroup": "Name",
    "AWS::Lambda::Function": "FunctionName",
}


def stack_path(shown: str, stack_name: str) -> str:
    """A review row's stack (`example-dev/DataStack`) as a path in the tree (`DataStack`)."""
    return "" if shown == stack_name else shown.removeprefix(f"{stack_name}/")


def fixed_name(row: Row, template: Mapping[str, Any]) -> str | None:
    """The name property the new template sets on the row's resource, if any."""
    name = NAME_PROPERTIES.get(row.resource_type)
    resources = template.get("Resources") or {}
    body = resources.get(row.logical_id)
    properties = body.get("Properties") if isinstance(body, Mapping) else None
    if name is None or not isinstance(properties, Mapping) or name not in properties:
        return None
    return name


def named_replacements(
    rows: Iterable[Row], templates: Mapping[str, Mapping[str, Any]], stack_name: str
) -> list[str]:
    """One line per resource the change set replaces although its template fixes its name;
    `templates` are the new ones by stack path ('' the root), as the offline guard reads them."""
    lines = []
    for row in rows:
        if row.action != "Modify" or row.replacement not in REPLACING:
            continue
        name = fixed_name(row, templates.get(stack_path(row.stack, stack_name)) or {})
        if name is None:
            continue
        cause = f" (because {', '.join(row.causes)} changed)" if row.causes else ""
        lines.append(
            f"{row.stack}: {row.logical_id} ({row.resource_type}) would be replaced{cause}, "
            f"but its {name} is fixed and CloudFormation cannot replace a resource with a "
            "fixed name: the update would fail and roll back (revert that change, or remove "
            "the resource in one plan and add it back in the next)"
        )
    return lines
