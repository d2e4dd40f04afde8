"""Teach moto 5.2.5 what factorstack's templates need from CloudFormation. Touches internals.

Gaps filled (each measured against moto 5.2.5; see ../shared/notes/local-aws.md):
- resource types moto's CloudFormation ignores (their Ref is None and a GetAtt fails the stack):
  registered as placeholder models that accept any properties, return a stable physical id and
  answer any attribute (among them the alarm topic's policy and email subscriptions and the WAF
  web ACL: SNS topics, KMS keys and S3 buckets moto does model);
- `Fn::GetAtt [NestedStack, Outputs.X]` crashed ('Stack' has no get_cfn_attribute);
- after execute_change_set a stack kept an empty template, so its Outputs were empty, its
  parameters stale and it had no LastUpdatedTime;
- RDS DBParameterGroup had no physical id, so `Ref` to it passed a Python object into the
  DBInstance, which crashed (DBSubnetGroup stays as it is: moto's DBInstance expects the object);
- ELBv2 `LoadBalancerFullName` / `TargetGroupFullName` (used by autoscaling metrics) were
  missing; they are derived from the ARN as AWS does;
- no-op detection compared the parameters sent with the parameters sent last time, so
  `UsePreviousValue` or an omitted default looked like a change.
- IAM service-linked roles were named from the principal's words ("AWSServiceRoleForecs") and
  a second create said EntityAlreadyExists; AWS uses each service's documented name and says
  InvalidInput "Service role name X has been taken in this account, ...".
- a Lambda-backed custom resource (the release phase) waited forever: moto runs Lambda only
  in Docker; it is a placeholder that succeeds at once on the local endpoint.
- the day-two commands (status, run): an ECS service created by CloudFormation lost its
  NetworkConfiguration, LaunchType and DeploymentConfiguration (describe_services showed no
  subnets, EC2 and no rollback alarms, so `run` had no network to start a task in); and
  `AWS::CloudWatch::Alarm` and `AWS::ApplicationAutoScaling::ScalableTarget` were not modelled,
  so DescribeAlarms and DescribeScalableTargets knew nothing of the stacks' alarms and bounds
  (they are now kept in moto's CloudWatch, in AWS's first state INSUFFICIENT_DATA, and in its
  Application Auto Scaling); RunTask crashed on a Fargate task definition whose container
  states no memory of its own (the task's memory sizes it);
- a root parameter of an SSM type (`AWS::SSM::Parameter::Value<...>`, the NAT instances' image)
  kept its resolved value (an AMI id) as its value, so `UsePreviousValue` looked that id up as
  a parameter name and the update crashed; AWS keeps the name and resolves it again. A value
  that names no parameter is now taken as already resolved.
- the account preflight: RDS DescribeDBEngineVersions and ElastiCache
  DescribeCacheEngineVersions raised NotImplementedError (now answered from a snapshot of what
  AWS offers), and Service Quotas knew only `vpc` quotas (now also EC2's Elastic IP quota, at
  AWS's default).
- an AWS::EC2::Instance whose subnet is given on its primary network interface (the NAT
  instance) was started in the default VPC: moto read only the instance's own SubnetId.
- a nested stack was deleted and created again (new name, new resources) on any change to it,
  and an ECS cluster without a ClusterName likewise on any update of its stack: after staging's
  deletion-protection follow-up the root named a new, empty cluster and `status` said "not
  found in ECS". AWS updates a nested stack in place and replaces a cluster only for a new
  ClusterName. Updating in place showed one more gap: a resource moto cannot update (the load
  balancer) came back as None, so a later GetAtt on it failed; it is now kept as it was.
- ECR PutImage into a repository that does not exist raised a bare exception (HTTP 500 with an
  HTML page); AWS answers RepositoryNotFoundException, which `local-images` turns into "run
  `factorstack bootstrap` first".
- an ECS task definition from a template was registered without its Cpu, NetworkMode,
  RequiresCompatibilities, RuntimePlatform, roles and the rest, and an update (a new size in an
  environment file) re-registered it from four properties only while its service stayed on the
  old, now INACTIVE revision. Any change is now a new revision with every property, the old one
  is deregistered and the services on it move to the new one, as on AWS. Keeping NetworkMode
  (`awsvpc`) showed one more gap: a VPC from a template lost EnableDnsHostnames, and RunTask in
  `awsvpc` mode crashed in a VPC without hostnames; both DNS attributes are now kept.
- a stack update created every added resource before modifying any, so a process added to a
  deployed app (its stack reads a new output of the cluster stack) failed, and asking a nested
  stack for an output it does not declare raised TypeError (an HTML error page). Adds and
  modifies now run in passes until each has what it reads, as CloudFormation orders them.

Everything here depends on moto's private structure, which is why moto is pinned exactly and
`teach()` refuses any other version.
"""

from __future__ import annotations

import copy
import hashlib
from typing import Any

import moto
from moto.cloudformation import models as cfn_models
from moto.cloudformation import parsing
from moto.cloudformation.exceptions import UnformattedGetAttTemplateException
from moto.core.common_models import CloudFormationModel
from moto.core.utils import utcnow
from moto.ec2.models import instances as ec2_instances
from moto.ec2.models import vpcs as ec2_vpcs
from moto.elbv2 import models as elbv2_models
from moto.rds import models as rds_models
from moto.utilities.utils import get_partition

MOTO_VERSION = "5.2.5"

# Types moto 5.2.5 does not model, and the service name used in their placeholder ARNs.
PLACEHOLDER_TYPES = {
    "AWS::SecretsManager::Secret": "secretsmanager",
    "AWS::SecretsManager::SecretTargetAttachment": "secretsmanager",
    "AWS::SecretsManager::RotationSchedule": "secretsmanager",
    "AWS::ElastiCache::SubnetGroup": "elasticache",
    "AWS::ElastiCache::CacheCluster": "elasticache",
    "AWS::ElastiCache::ReplicationGroup": "elasticache",
    "AWS::ElastiCache::ParameterGroup": "elasticache",
    "AWS::ApplicationAutoScaling::ScalableTarget": "application-autoscaling",
    "AWS::ApplicationAutoScaling::ScalingPolicy": "application-autoscaling",
    "AWS::S3::BucketPolicy": "s3",
    "AWS::EC2::SecurityGroupEgress": "ec2",
    "AWS::ECS::ClusterCapacityProviderAssociations": "ecs",
    "AWS::CloudWatch::Alarm": "cloudwatch",
    "AWS::ServiceDiscovery::PrivateDnsNamespace": "servicediscovery",
    "AWS::ServiceDiscovery::Service": "servicediscovery",
    "AWS::CertificateManager::Certificate": "acm",
    "AWS::WAFv2::WebACLAssociation": "wafv2",
    "AWS::WAFv2::WebACL": "wafv2",
    "AWS::SNS::Subscription": "sns",
    "AWS::SNS::TopicPolicy": "sns",
    "AWS::Scheduler::Schedule": "scheduler",
}

_taught = False


class Placeholder:
    """A resource moto does not model: remembers its properties, answers every attribute.

    A mixin: moto finds models among CloudFormationModel's *direct* subclasses, so each
    registered type is `type(..., (Placeholder, CloudFormationModel), ...)`.
    """

    resource_type = "AWS::Factorstack::Placeholder"
    service = "placeholder"

    def __init__(self, name: str, properties: dict[str, Any], account_id: str, region: str):
        self.name = name
        self.properties = properties
        self.account_id = account_id
        self.region = region

    @property
    def arn(self) -> str:
        kind = self.resource_type.split("::")[-1].lower()
        partition = get_partition(self.region)
        return f"arn:{partition}:{self.service}:{self.region}:{self.account_id}:{kind}:{self.name}"

    @property
    def physical_resource_id(self) -> str:
        # Secrets are referred to by ARN in CloudFormation; the rest by name.
        return self.arn if self.service == "secretsmanager" else self.name

    @staticmethod
    def cloudformation_name_type() -> str:
        return ""

    @classmethod
    def has_cfn_attr(cls, attr: str) -> bool:
        return True

    def mirror(self) -> None:
        """After a create or update: a type kept in another moto backend writes itself there."""

    @classmethod
    def unmirror(cls, name: str, properties: dict[str, Any], account_id: str, region: str) -> None:
        """After a delete: take it out of that backend again."""

    def get_cfn_attribute(self, attribute_name: str) -> Any:
        if attribute_name.endswith("Arn") or attribute_name == "Id":
            return self.arn
        if attribute_name.endswith("Port"):
            return str(self.properties.get("Port", 6379))
        if attribute_name.endswith("Address"):
            digest = hashlib.sha256(self.name.encode()).hexdigest()[:8]
            return f"{self.name.lower()}-{digest}.{self.service}.{self.region}.local"
        return f"{self.name}-{attribute_name}"

    @classmethod
    def create_from_cloudformation_json(
        cls,
        resource_name: str,
        cloudformation_json: dict[str, Any],
        account_id: str,
        region_name: str,
        **kwargs: Any,
    ) -> Placeholder:
        made = cls(
            resource_name, cloudformation_json.get("Properties") or {}, account_id, region_name
        )
        made.mirror()
        return made

    @classmethod
    def update_from_cloudformation_json(
        cls,
        original_resource: Placeholder,
        new_resource_name: str,
        cloudformation_json: dict[str, Any],
        account_id: str,
        region_name: str,
    ) -> Placeholder:
        original_resource.properties = cloudformation_json.get("Properties") or {}
        original_resource.mirror()
        return original_resource

    @classmethod
    def delete_from_cloudformation_json(
        cls,
        resource_name: str,
        cloudformation_json: dict[str, Any],
        account_id: str,
        region_name: str,
    ) -> None:
        properties = cloudformation_json.get("Properties") or {}
        cls.unmirror(resource_name, properties, account_id, region_name)

    def is_created(self) -> bool:
        return True


class AlarmInCloudWatch(Placeholder):
    """AWS::CloudWatch::Alarm, kept in moto's CloudWatch so DescribeAlarms lists it. Its metric
    math is not evaluated: it stays in AWS's first state, INSUFFICIENT_DATA."""

    def mirror(self) -> None:
        from moto.cloudwatch.models import cloudwatch_backends

        props = self.properties
        alarm = cloudwatch_backends[self.account_id][self.region].put_metric_alarm(
            name=self.name,
            namespace=str(props.get("Namespace", "")),
            metric_name=str(props.get("MetricName", "")),
            comparison_operator=str(props.get("ComparisonOperator", "")),
            evaluation_periods=int(props.get("EvaluationPeriods", 1)),
            period=int(props.get("Period", 60)),
            threshold=float(props.get("Threshold", 0)),
            statistic=str(props.get("Statistic", "")),
            description=str(props.get("AlarmDescription", "")),
            dimensions=[],
            alarm_actions=[],
        )
        alarm.state_value = "INSUFFICIENT_DATA"

    @classmethod
    def unmirror(cls, name: str, properties: dict[str, Any], account_id: str, region: str) -> None:
        from moto.cloudwatch.models import cloudwatch_backends

        cloudwatch_backends[account_id][region].delete_alarms([name])


class TargetInAutoScaling(Placeholder):
    """AWS::ApplicationAutoScaling::ScalableTarget, registered in moto's Application Auto
    Scaling so DescribeScalableTargets shows the bounds (its policies stay placeholders)."""

    def mirror(self) -> None:
        from moto.applicationautoscaling.models import applicationautoscaling_backends

        props = self.properties
        applicationautoscaling_backends[self.account_id][self.region].register_scalable_target(
            namespace=str(props["ServiceNamespace"]),
            r_id=str(props["ResourceId"]),
            dimension=str(props["ScalableDimension"]),
            min_capacity=int(props["MinCapacity"]),
            max_capacity=int(props["MaxCapacity"]),
            role_arn=str(props.get("RoleARN", "")),
            # moto annotates it `str` and reads None as "not given", as the API does
            suspended_state=props.get("SuspendedState"),  # type: ignore[arg-type]
        )

    @classmethod
    def unmirror(cls, name: str, properties: dict[str, Any], account_id: str, region: str) -> None:
        from moto.applicationautoscaling.models import applicationautoscaling_backends

        backend = applicationautoscaling_backends[account_id][region]
        namespace, r_id = properties["ServiceNamespace"], properties["ResourceId"]
        if backend.describe_scalable_targets(namespace, [r_id], properties["ScalableDimension"]):
            backend.deregister_scalable_target(namespace, r_id, properties["ScalableDimension"])


# Placeholders that keep their resource in another moto backend too (the rest keep nothing).
MIRRORED = {
    "AWS::CloudWatch::Alarm": AlarmInCloudWatch,
    "AWS::ApplicationAutoScaling::ScalableTarget": TargetInAutoScaling,
}


def _placeholder_class(resource_type: str, service: str) -> type:
    """One subclass per type, because moto maps each model class to one type."""
    name = "Placeholder" + resource_type.replace("::", "")
    return type(
        name,
        (MIRRORED.get(resource_type, Placeholder), CloudFormationModel),
        {
            "resource_type": resource_type,
            "service": service,
            "cloudformation_type": staticmethod(lambda: resource_type),
        },
    )


def _no_attribute(self: Any, attribute_name: str) -> Any:
    raise UnformattedGetAttTemplateException()


def _stack_attribute(self: Any, attribute_name: str) -> Any:
    """`Fn::GetAtt [NestedStack, Outputs.X]`: the nested stack's output value. An output the
    template does not declare is asked for by name only (moto's lookup of it raised TypeError,
    which the server answered with an HTML page)."""
    if attribute_name.startswith("Outputs."):
        name = attribute_name.split(".", 1)[1]
        if name in self.output_map.outputs:
            output = self.output_map.get(name)
            if output is not None:
                return output.value
    raise UnformattedGetAttTemplateException()


FULL_NAMES = {"LoadBalancerFullName": "loadbalancer/", "TargetGroupFullName": ""}


def _with_full_name(original: Any) -> Any:
    """Answer *FullName from the ARN (`app/NAME/ID`, `targetgroup/NAME/ID`), else defer."""

    def get_cfn_attribute(self: Any, attribute_name: str) -> Any:
        if attribute_name in FULL_NAMES:
            resource = str(self.arn).split(":", 5)[5]
            return resource.removeprefix(FULL_NAMES[attribute_name])
        return original(self, attribute_name)

    return get_cfn_attribute


def _name_as_physical_id(self: Any) -> str:
    return str(self.name)


def _same_parameters(self: Any, other_parameters: dict[str, Any]) -> bool:
    """Compare what was asked for with the values in use (defaults and previous values count)."""
    current = self.resource_map.resolved_parameters
    return all(str(current.get(key)) == str(value) for key, value in other_parameters.items())


def _refresh_after_execute(original: Any) -> Any:
    def execute_change_set(self: Any, change_set_name: str, stack_name: str | None = None) -> None:
        original(self, change_set_name, stack_name)
        change_set = self.describe_change_set(change_set_name)
        stack = self.stacks[change_set.stack_id]
        stack._parse_template()
        stack.description = stack.template_dict.get("Description")
        stack.parameters = dict(change_set.parameters or {})
        stack.output_map = stack._create_output_map()
        if change_set.change_set_type == "UPDATE":
            stack.last_updated_time = utcnow()

    return execute_change_set


# IAM service-linked roles (bootstrap creates these before its change set). moto 5.2.5 builds
# the name from the principal ("AWSServiceRoleForecs", "..._Ecs") and answers a second create
# with EntityAlreadyExists; these are the names AWS documents and the error AWS returns.
AWS_SERVICE_LINKED_ROLE_NAMES = {
    "ecs.amazonaws.com": "AWSServiceRoleForECS",
    "ecs.application-autoscaling.amazonaws.com": (
        "AWSServiceRoleForApplicationAutoScaling_ECSService"
    ),
    "elasticache.amazonaws.com": "AWSServiceRoleForElastiCache",
    "rds.amazonaws.com": "AWSServiceRoleForRDS",
    "elasticloadbalancing.amazonaws.com": "AWSServiceRoleForElasticLoadBalancing",
}


def _service_linked_role_as_aws(original: Any) -> Any:
    """Give the known services AWS's role name and AWS's 'has been taken' error."""
    from moto.iam.exceptions import InvalidInput

    def create_service_linked_role(
        self: Any, service_name: str, description: str, suffix: str
    ) -> Any:
        name = AWS_SERVICE_LINKED_ROLE_NAMES.get(service_name)
        if name is None or suffix:
            return original(self, service_name, description, suffix)
        if any(role.name == name for role in self.get_roles()):
            raise InvalidInput(
                f"Service role name {name} has been taken in this account, "
                "please try a different suffix."
            )
        role = original(self, service_name, description, suffix)
        role.name = name  # the ARN and GetRole follow the name
        return role

    return create_service_linked_role


def _teach_service_linked_roles() -> None:
    """Kept in its own function so this fix stays one block; moto.iam is imported only here."""
    from moto.iam import models as iam_models

    iam_backend = iam_models.IAMBackend
    iam_backend.create_service_linked_role = _service_linked_role_as_aws(  # type: ignore[method-assign]
        iam_backend.create_service_linked_role
    )


# The account preflight (deploy/preflight.py). Versions a region offers, as AWS listed them
# (2026-11) for the engines factorstack deploys, by parameter group family.
OFFERED_DB_ENGINE_VERSIONS = {
    "mysql": {
        "mysql8.0": [f"8.0.{minor}" for minor in range(39, 47)],
        "mysql8.4": [f"8.4.{minor}" for minor in range(3, 12)],
    },
}
OFFERED_CACHE_ENGINE_VERSIONS = {
    "redis": {"redis6.x": ["6.2"], "redis7": ["7.0", "7.1"]},
    "valkey": {"valkey7": ["7.2"], "valkey8": ["8.0", "8.1", "8.2"]},
}
# Service Quotas quotas moto lacks, at AWS's default value.
EXTRA_QUOTAS = {
    ("ec2", "L-0263D0A3"): {
        "ServiceCode": "ec2",
        "ServiceName": "Amazon Elastic Compute Cloud (Amazon EC2)",
        "QuotaCode": "L-0263D0A3",
        "QuotaName": "EC2-VPC Elastic IPs",
        "Value": 5.0,
        "Unit": "None",
        "Adjustable": True,
        "GlobalQuota": False,
    },
}


def _offered(
    offered: dict[str, dict[str, list[str]]], engine: str | None, version: str | None
) -> list[tuple[str, str, str]]:
    """(engine, version, family) rows, filtered as AWS filters Engine and EngineVersion."""
    return [
        (name, listed, family)
        for name, families in offered.items()
        for family, versions in families.items()
        for listed in versions
        if (not engine or name == engine)
        and (not version or listed == version or listed.startswith(version + "."))
    ]


def _describe_db_engine_versions(self: Any) -> Any:
    from moto.core.responses import ActionResult

    rows = _offered(
        OFFERED_DB_ENGINE_VERSIONS, self._get_param("Engine"), self._get_param("EngineVersion")
    )
    return ActionResult(
        {
            "DBEngineVersions": [
                {
                    "Engine": engine,
                    "EngineVersion": version,
                    "DBParameterGroupFamily": family,
                    "Status": "available",
                }
                for engine, version, family in rows
            ]
        }
    )


def _describe_cache_engine_versions(self: Any) -> Any:
    from moto.core.responses import ActionResult

    rows = _offered(
        OFFERED_CACHE_ENGINE_VERSIONS, self._get_param("Engine"), self._get_param("EngineVersion")
    )
    return ActionResult(
        {
            "CacheEngineVersions": [
                {"Engine": engine, "EngineVersion": version, "CacheParameterGroupFamily": family}
                for engine, version, family in rows
            ]
        }
    )


def _with_extra_quotas(original: Any) -> Any:
    def get_service_quota(self: Any, service_code: str, quota_code: str) -> dict[str, Any]:
        extra = EXTRA_QUOTAS.get((service_code, quota_code))
        return dict(extra) if extra else original(self, service_code, quota_code)

    return get_service_quota


def _teach_account_preflight() -> None:
    """Kept in its own function so this fix stays one block."""
    from moto.elasticache.responses import ElastiCacheResponse
    from moto.rds.responses import RDSResponse
    from moto.servicequotas.models import ServiceQuotasBackend

    RDSResponse.describe_db_engine_versions = _describe_db_engine_versions  # type: ignore[attr-defined]
    ElastiCacheResponse.describe_cache_engine_versions = _describe_cache_engine_versions  # type: ignore[attr-defined]
    ServiceQuotasBackend.get_service_quota = _with_extra_quotas(  # type: ignore[method-assign]
        ServiceQuotasBackend.get_service_quota
    )


# The day-two commands read a service's network (where `run` starts a task), launch type and
# rollback alarms (`status`); moto 5.2.5's CloudFormation dropped them when it created or
# updated an ECS service.
def _api_spelling(value: Any) -> Any:
    """CloudFormation's property names as the ECS API spells them (AwsvpcConfiguration →
    awsvpcConfiguration), at every depth."""
    if isinstance(value, dict):
        return {key[:1].lower() + key[1:]: _api_spelling(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_api_spelling(item) for item in value]
    return value


def _keep_service_properties(service: Any, properties: dict[str, Any]) -> Any:
    if properties.get("NetworkConfiguration"):
        service.network_configuration = _api_spelling(properties["NetworkConfiguration"])
    if properties.get("DeploymentConfiguration"):
        service.deployment_configuration = _api_spelling(properties["DeploymentConfiguration"])
    service.launch_type = properties.get("LaunchType") or service.launch_type
    for deployment in service.deployments:
        deployment["launchType"] = service.launch_type
        deployment["platformFamily"] = "EC2" if service.launch_type == "EC2" else "FARGATE"
        deployment["networkConfiguration"] = service.network_configuration or None
    return service


def _service_keeping_properties(original: Any) -> Any:
    """Wrap ECS Service's create/update from a template (moto passes these by keyword)."""

    def from_template(cls: Any, *args: Any, **kwargs: Any) -> Any:
        service = original(*args, **kwargs)
        template = kwargs.get("cloudformation_json") or args[1]
        return _keep_service_properties(service, template.get("Properties") or {})

    return classmethod(from_template)


CONTAINER_MEMORY_KEYS = ("memory", "memoryReservation", "Memory", "MemoryReservation")


def _task_sized_containers(original: Any) -> Any:
    """RunTask adds up the containers' memory, which a Fargate container may leave to its task:
    count such a container as 0 while moto adds up."""

    def calculate(task_definition: Any) -> Any:
        containers = task_definition.container_definitions
        unsized = [c for c in containers if not any(k in c for k in CONTAINER_MEMORY_KEYS)]
        for container in unsized:
            container["memory"] = 0
        try:
            return original(task_definition)
        finally:
            for container in unsized:
                del container["memory"]

    return staticmethod(calculate)


def _cluster_kept_without_name(original: Any) -> Any:
    """An un-named cluster keeps its generated name through an update, as AWS keeps it (only a
    new ClusterName replaces a cluster); moto drew a new name each time and re-created it."""

    def update(cls: Any, *args: Any, **kwargs: Any) -> Any:
        template = kwargs.get("cloudformation_json") or args[2]
        properties = template.get("Properties") or {}
        if "ClusterName" in properties:
            return original(*args, **kwargs)
        cluster = kwargs.get("original_resource") or args[0]
        if "ClusterSettings" in properties:
            cluster.settings = _api_spelling(properties["ClusterSettings"])
        if "CapacityProviders" in properties:
            cluster.capacity_providers = properties["CapacityProviders"]
        if "DefaultCapacityProviderStrategy" in properties:
            strategy = _api_spelling(properties["DefaultCapacityProviderStrategy"])
            cluster.default_capacity_provider_strategy = strategy
        return cluster

    return classmethod(update)


def _nested_stack_updated_in_place(
    cls: Any,
    original_resource: Any,
    new_resource_name: str,
    cloudformation_json: Any,
    account_id: str,
    region_name: str,
) -> Any:
    """A nested stack is updated where it is, as AWS does; moto deleted it and created a new one
    (new name, new resources), so its cluster lost the services other stacks had put in it."""
    properties = cloudformation_json["Properties"]
    body = cfn_models.get_stack_from_s3_url(
        properties["TemplateURL"], account_id=account_id, partition=get_partition(region_name)
    )
    original_resource.update(body, parameters=properties.get("Parameters") or {})
    return original_resource


UPDATE_PASSES = 5  # as moto's MAX_UPDATE_ATTEMPTS: each pass settles what the last one gave


def _update_in_dependency_order(self: Any, template: Any, parameters: Any = None) -> None:
    """A stack update that adds and modifies in the order the resources read each other, as
    CloudFormation does. moto 5.2.5 created every added resource before it modified any, so a
    new nested stack that reads a new output of a modified one (a process added to a deployed
    app reads its log group from the cluster stack) failed the update. Removal is moto's own."""
    actions = self.build_resource_diff(template, parameters)
    if actions["Remove"]:  # moto's removal pass: the deployed template less what goes
        kept = {k: v for k, v in self._resource_json_map.items() if k not in actions["Remove"]}
        _MOTO_UPDATE(self, {**self._template, "Resources": kept})
    self._template = template
    if parameters:
        self.input_parameters = parameters
    self.load_mapping()
    self.load_parameters()
    self.load_conditions()
    self._resource_json_map = template["Resources"]
    pending = [(name, _added) for name in actions["Add"]]
    pending += [(name, _modified) for name in actions["Modify"]]
    failures: list[Exception] = []
    for _ in range(UPDATE_PASSES):  # what fails reads what a later step gives: next pass
        outcomes = [(name, step, step(self, name)) for name, step in pending]
        pending = [(name, step) for name, step, error in outcomes if error is not None]
        failures = [error for _, _, error in outcomes if error is not None]
        if not failures:
            return
    raise failures[0]  # still failing after every pass: as moto did, the first of them


def _added(resources: Any, name: str) -> Exception | None:
    try:
        _ = resources[name]  # moto creates a resource on first read
    except Exception as error:
        resources._parsed_resources.pop(name, None)
        return error
    return None


def _modified(resources: Any, name: str) -> Exception | None:
    try:
        changed = parsing.parse_and_update_resource(
            name,
            resources._resource_json_map[name],
            resources,
            account_id=resources._account_id,
            region_name=resources._region_name,
        )
    except Exception as error:
        return error
    resources._parsed_resources[name] = changed
    return None


_MOTO_UPDATE = parsing.ResourceMap.update


def _kept_when_not_updatable(original: Any) -> Any:
    """A resource moto has no update for came back as None from an update, and a later
    `Fn::GetAtt` on it failed the stack; it is kept as it was (AWS updates it in place)."""

    def parse_and_update_resource(
        logical_id: str, resource_json: Any, resources_map: Any, **kwargs: Any
    ) -> Any:
        updated = original(logical_id, resource_json, resources_map, **kwargs)
        if updated is None:
            return resources_map._parsed_resources.get(logical_id)
        return updated

    return parse_and_update_resource


def _teach_ecs_services() -> None:
    """Kept in its own function so this fix stays one block."""
    from moto.ecs import models as ecs_models

    cluster = ecs_models.Cluster
    cluster.update_from_cloudformation_json = _cluster_kept_without_name(  # type: ignore[method-assign]
        cluster.update_from_cloudformation_json
    )
    service = ecs_models.Service
    for name in ("create_from_cloudformation_json", "update_from_cloudformation_json"):
        setattr(service, name, _service_keeping_properties(getattr(service, name)))
    backend = ecs_models.EC2ContainerServiceBackend
    backend._calculate_task_resource_requirements = _task_sized_containers(  # type: ignore[method-assign]
        backend._calculate_task_resource_requirements
    )


# An ECS task definition from a template. moto 5.2.5 registered it with its family, containers,
# volumes and memory only (no Cpu, NetworkMode, RequiresCompatibilities, RuntimePlatform, roles,
# EphemeralStorage, ...), and updated it only when the family, containers or volumes differed
# (compared in the API's spelling against the template's, so always), again with those four
# only; the service that Refs it stayed on the old revision, now INACTIVE.
TEMPLATE_PROPERTIES = "_factorstack_template_properties"  # kept on moto's TaskDefinition
# register_task_definition's keyword for each CloudFormation property (values in API spelling).
TASK_DEFINITION_KEYWORDS = {
    "ContainerDefinitions": "container_definitions",
    "Volumes": "volumes",
    "NetworkMode": "network_mode",
    "Tags": "tags",
    "PlacementConstraints": "placement_constraints",
    "RequiresCompatibilities": "requires_compatibilities",
    "Cpu": "cpu",
    "Memory": "memory",
    "TaskRoleArn": "task_role_arn",
    "ExecutionRoleArn": "execution_role_arn",
    "ProxyConfiguration": "proxy_configuration",
    "InferenceAccelerators": "inference_accelerators",
    "RuntimePlatform": "runtime_platform",
    "IpcMode": "ipc_mode",
    "PidMode": "pid_mode",
    "EphemeralStorage": "ephemeral_storage",
}


def _register_from_template(
    properties: dict[str, Any], family: str, account_id: str, region_name: str
) -> Any:
    """A new revision of `family` with every property of the template, which it keeps."""
    from moto.ecs.models import ecs_backends

    keywords = {
        keyword: _api_spelling(properties[name])
        for name, keyword in TASK_DEFINITION_KEYWORDS.items()
        if properties.get(name) is not None
    }
    for size in ("cpu", "memory"):  # strings in the API; a Number parameter may give an int
        if size in keywords:
            keywords[size] = str(keywords[size])
    keywords.setdefault("container_definitions", [])
    definition = ecs_backends[account_id][region_name].register_task_definition(
        family=family, **keywords
    )
    setattr(definition, TEMPLATE_PROPERTIES, copy.deepcopy(properties))  # as they were
    return definition


def _task_definition_created(
    cls: Any,
    /,
    resource_name: str,
    cloudformation_json: dict[str, Any],
    account_id: str,
    region_name: str,
    **kwargs: Any,
) -> Any:
    from moto.moto_api._internal import mock_random

    properties = cloudformation_json.get("Properties") or {}
    # moto's own name for a definition without Family
    family = properties.get("Family") or f"task-definition-{int(mock_random.random() * 10**6)}"
    return _register_from_template(properties, str(family), account_id, region_name)


def _task_definition_replaced(
    cls: Any,
    /,
    original_resource: Any,
    new_resource_name: str,
    cloudformation_json: dict[str, Any],
    account_id: str,
    region_name: str,
) -> Any:
    """Any property changed: a new revision (AWS replaces a task definition on any change), the
    old one INACTIVE, and every service on the old revision moved to the new one."""
    from moto.ecs.models import ecs_backends

    properties = cloudformation_json.get("Properties") or {}
    if properties == getattr(original_resource, TEMPLATE_PROPERTIES, None):
        return original_resource
    family = str(properties.get("Family") or original_resource.family)
    definition = _register_from_template(properties, family, account_id, region_name)
    backend = ecs_backends[account_id][region_name]
    backend.deregister_task_definition(original_resource.arn)
    # The service Refs the definition: updated before it, it took the old ARN; not updated at
    # all (only the definition's inputs changed), it kept it. AWS moves it to the new one.
    for service in backend.services.values():
        if service.task_definition == original_resource.arn:
            service.task_definition = definition.arn
        for deployment in service.deployments:
            if deployment.get("taskDefinition") == original_resource.arn:
                deployment["taskDefinition"] = definition.arn
    return definition


def _vpc_keeping_dns_attributes(original: Any) -> Any:
    """EnableDnsSupport / EnableDnsHostnames of a VPC from a template, which moto 5.2.5 dropped
    (hostnames stayed off): a task in `awsvpc` mode (every Fargate task definition, once its
    NetworkMode is kept) then crashed RunTask, whose network interface has no private DNS name
    in a VPC without hostnames."""

    def create(cls: Any, *args: Any, **kwargs: Any) -> Any:
        vpc = original(*args, **kwargs)
        template = kwargs.get("cloudformation_json") or args[1]
        properties = template.get("Properties") or {}
        for name, attribute in (
            ("EnableDnsSupport", "enable_dns_support"),
            ("EnableDnsHostnames", "enable_dns_hostnames"),
        ):
            if properties.get(name) is not None:
                setattr(vpc, attribute, str(properties[name]).lower() == "true")
        return vpc

    return classmethod(create)


def _teach_task_definition_updates() -> None:
    """AWS::ECS::TaskDefinition as CloudFormation does it: created with every property, and
    replaced by a new revision (the old deregistered, its services moved) when any property
    changes. Without it a new size in an environment file (cpu 256 → 512) never reached ECS.
    With it the definitions are `awsvpc`, whose tasks need the VPC's DNS attributes kept too."""
    from moto.ecs import models as ecs_models

    definition = ecs_models.TaskDefinition
    definition.create_from_cloudformation_json = classmethod(_task_definition_created)  # type: ignore[assignment]
    definition.update_from_cloudformation_json = classmethod(_task_definition_replaced)  # type: ignore[assignment]
    vpc = ec2_vpcs.VPC
    vpc.create_from_cloudformation_json = _vpc_keeping_dns_attributes(  # type: ignore[method-assign]
        vpc.create_from_cloudformation_json
    )


# An SSM-typed parameter (the NAT image): moto 5.2.5 keeps the resolved value as the parameter's
# value, so UsePreviousValue resolves an AMI id as if it were a parameter name.
def _resolved_once(original: Any) -> Any:
    from moto.ssm.models import ssm_backends

    def parse_ssm_parameter(self: Any, value: str, value_type: str) -> Any:
        store = ssm_backends[self._account_id][self._region_name]
        if store.get_parameter(value) is None:
            return value  # already resolved (a previous value), as AWS would have kept it
        return original(self, value, value_type)

    return parse_ssm_parameter


# An instance whose subnet is on its primary network interface (the NAT instance, which asks for
# a public address there): moto 5.2.5 reads only the instance's own SubnetId, so it started the
# instance in a default subnet of the default VPC. The interface's subnet is passed instead.
def _subnet_from_interface(original: Any) -> Any:
    def create(cls: Any, name: str, cfn: dict[str, Any], *args: Any, **kwargs: Any) -> Any:
        properties = cfn.get("Properties") or {}
        interfaces = properties.get("NetworkInterfaces") or []
        primary = [i for i in interfaces if str(i.get("DeviceIndex")) == "0"]
        if primary and "SubnetId" not in properties and primary[0].get("SubnetId"):
            cfn = {**cfn, "Properties": {**properties, "SubnetId": primary[0]["SubnetId"]}}
        return original.__func__(cls, name, cfn, *args, **kwargs)

    return classmethod(create)


# Custom resources backed by a Lambda: moto invokes the function in Docker (absent here) and the
# stack would wait for the answer forever. Locally they are placeholders that succeed at once:
# the release phase is recorded as done without running a task.
LAMBDA_BACKED_CUSTOM_TYPES = {"Custom::ReleasePhase": "cloudformation"}


def _custom_without_lambda(original: Any) -> Any:
    placeholders = {
        resource_type: _placeholder_class(resource_type, service)
        for resource_type, service in LAMBDA_BACKED_CUSTOM_TYPES.items()
    }

    def resource_class_from_type(resource_type: str) -> Any:
        return placeholders.get(resource_type) or original(resource_type)

    return resource_class_from_type


def _teach_ecr_missing_repository() -> None:
    """PutImage into a repository that is not there: AWS's error, not a server error."""
    from moto.ecr.exceptions import RepositoryNotFoundException
    from moto.ecr.models import ECRBackend

    original = ECRBackend.put_image

    def put_image(self: Any, repository_name: str, *args: Any, **kwargs: Any) -> Any:
        if repository_name not in self.repositories:
            raise RepositoryNotFoundException(repository_name, self.account_id)
        return original(self, repository_name, *args, **kwargs)

    ECRBackend.put_image = put_image  # type: ignore[method-assign]


def teach() -> None:
    """Apply every gap fix once; refuse to guess on a moto version they were not measured on."""
    global _taught
    if _taught:
        return
    if moto.__version__ != MOTO_VERSION:
        raise RuntimeError(
            f"factorstack.deploy.local needs moto=={MOTO_VERSION}, found {moto.__version__}"
        )
    known = parsing.get_model_map()
    for resource_type, service in PLACEHOLDER_TYPES.items():
        if resource_type not in known:
            _placeholder_class(resource_type, service)
    for cached in (parsing.get_model_list, parsing.get_model_map, parsing.get_name_type_map):
        cached.cache_clear()
    cfn_models.Stack.get_cfn_attribute = _stack_attribute  # type: ignore[attr-defined]
    cfn_models.Stack.update_from_cloudformation_json = classmethod(  # type: ignore[assignment]
        _nested_stack_updated_in_place
    )
    parsing.parse_and_update_resource = _kept_when_not_updatable(parsing.parse_and_update_resource)
    for balancer in (elbv2_models.FakeLoadBalancer, elbv2_models.FakeTargetGroup):
        original = getattr(balancer, "get_cfn_attribute", None)
        balancer.get_cfn_attribute = _with_full_name(original or _no_attribute)  # type: ignore[method-assign, union-attr]
    if "physical_resource_id" not in vars(rds_models.DBParameterGroup):
        rds_models.DBParameterGroup.physical_resource_id = property(_name_as_physical_id)  # type: ignore[attr-defined]
    cfn_models.Stack.has_parameters = _same_parameters  # type: ignore[method-assign]
    backend = cfn_models.CloudFormationBackend
    backend.execute_change_set = _refresh_after_execute(backend.execute_change_set)  # type: ignore[method-assign]
    _teach_service_linked_roles()
    _teach_account_preflight()
    _teach_ecs_services()
    _teach_task_definition_updates()
    parsing.ResourceMap.update = _update_in_dependency_order  # type: ignore[method-assign]
    parsing.ResourceMap.parse_ssm_parameter = _resolved_once(  # type: ignore[method-assign]
        parsing.ResourceMap.parse_ssm_parameter
    )
    parsing.resource_class_from_type = _custom_without_lambda(parsing.resource_class_from_type)
    instance = ec2_instances.Instance
    instance.create_from_cloudformation_json = _subnet_from_interface(  # type: ignore[method-assign]
        instance.create_from_cloudformation_json
    )
    _teach_ecr_missing_repository()
    _taught = True
