"""Responses shaped like AWS's documented ones, for what only real CloudFormation produces.

Stubber validates each against the botocore output shape, so a wrong field name fails a test.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import boto3

REGION = "eu-west-1"
ACCOUNT = "123456789012"
UUID = "0a1b2c3d-1111-2222-3333-444455556666"
T0 = datetime(2026, 11, 26, 12, 0, 0, tzinfo=UTC)


def client(service: str, region: str = REGION) -> Any:
    """A real botocore client with dummy keys; Stubber answers instead of AWS."""
    return boto3.client(
        service,
        region_name=region,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        endpoint_url=f"https://{service}.{region}.amazonaws.com",
    )


def stack_arn(name: str) -> str:
    return f"arn:aws:cloudformation:{REGION}:{ACCOUNT}:stack/{name}/{UUID}"


def change_set_arn(name: str, suffix: str = "aaaa") -> str:
    return f"arn:aws:cloudformation:{REGION}:{ACCOUNT}:changeSet/{name}/{suffix}-{UUID[5:]}"


def stack(name: str, status: str, **extra: Any) -> dict[str, Any]:
    return {
        "Stacks": [
            {
                "StackId": stack_arn(name),
                "StackName": name,
                "CreationTime": T0,
                "StackStatus": status,
                **extra,
            }
        ]
    }


def resource_change(
    logical_id: str,
    resource_type: str,
    action: str,
    replacement: str | None = None,
    details: list[dict[str, Any]] | None = None,
    nested: str | None = None,
) -> dict[str, Any]:
    change: dict[str, Any] = {
        "Action": action,
        "LogicalResourceId": logical_id,
        "PhysicalResourceId": f"{logical_id.lower()}-physical",
        "ResourceType": resource_type,
        "Scope": ["Properties"] if details else [],
        "Details": details or [],
    }
    if replacement is not None:
        change["Replacement"] = replacement
    if nested:
        change["ChangeSetId"] = nested
    return {"Type": "Resource", "ResourceChange": change}


def detail(name: str, recreation: str, evaluation: str = "Static") -> dict[str, Any]:
    return {
        "Target": {"Attribute": "Properties", "Name": name, "RequiresRecreation": recreation},
        "Evaluation": evaluation,
        "ChangeSource": "DirectModification",
    }


def change_set(
    name: str,
    stack_name: str,
    changes: list[dict[str, Any]],
    cs_id: str | None = None,
    status: str = "CREATE_COMPLETE",
    reason: str | None = None,
    execution: str = "AVAILABLE",
    parent: str | None = None,
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "ChangeSetName": name,
        "ChangeSetId": cs_id or change_set_arn(name),
        "StackId": stack_arn(stack_name),
        "StackName": stack_name,
        "CreationTime": T0,
        "ExecutionStatus": execution,
        "Status": status,
        "Changes": changes,
        "IncludeNestedStacks": True,
    }
    if reason:
        body["StatusReason"] = reason
    if parent:
        body["ParentChangeSetId"] = parent
        body["RootChangeSetId"] = parent
    return body


def event(
    stack_name: str,
    logical_id: str,
    resource_type: str,
    status: str,
    seconds: int,
    reason: str = "",
    physical: str = "",
) -> dict[str, Any]:
    data: dict[str, Any] = {
        "StackId": stack_arn(stack_name),
        "EventId": f"{stack_name}-{logical_id}-{status}-{seconds}",
        "StackName": stack_name,
        "LogicalResourceId": logical_id,
        "PhysicalResourceId": physical or f"{logical_id}-physical",
        "ResourceType": resource_type,
        "Timestamp": T0 + timedelta(seconds=seconds),
        "ResourceStatus": status,
    }
    if reason:
        data["ResourceStatusReason"] = reason
    return data


def client_error(code: str, message: str, status: int = 400) -> dict[str, Any]:
    """kwargs for Stubber.add_client_error."""
    return {"service_error_code": code, "service_message": message, "http_status_code": status}


# The account preflight's answers (shapes from each service's API reference).


def ssm_arn(name: str) -> str:
    return f"arn:aws:ssm:{REGION}:{ACCOUNT}:parameter/{name.lstrip('/')}"


def secret_arn(name: str) -> str:
    return f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:{name}-AbCdEf"


def get_parameters(found: list[str], invalid: list[str]) -> dict[str, Any]:
    """GetParameters: names that exist (with a value), and the requested ones that do not
    (AWS leaves InvalidParameters out when there are none)."""
    body: dict[str, Any] = {
        "Parameters": [
            {
                "Name": name,
                "Type": "SecureString",
                "Value": "AQICAHh-encrypted-blob",
                "Version": 1,
                "LastModifiedDate": T0,
                "ARN": ssm_arn(name),
                "DataType": "text",
            }
            for name in found
        ],
    }
    if invalid:
        body["InvalidParameters"] = invalid
    return body


def describe_secret(name: str, deleted: bool = False, kms_key: str | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {
        "ARN": secret_arn(name),
        "Name": name,
        "LastChangedDate": T0,
        "VersionIdsToStages": {UUID: ["AWSCURRENT"]},
        "CreatedDate": T0,
    }
    if deleted:
        body["DeletedDate"] = T0 + timedelta(days=1)
    if kms_key:
        body["KmsKeyId"] = kms_key
    return body


def secret_value(name: str, secret_string: str) -> dict[str, Any]:
    return {
        "ARN": secret_arn(name),
        "Name": name,
        "VersionId": UUID,
        "SecretString": secret_string,
        "VersionStages": ["AWSCURRENT"],
        "CreatedDate": T0,
    }


def certificate_arn(region: str = REGION, account: str = ACCOUNT) -> str:
    return f"arn:aws:acm:{region}:{account}:certificate/{UUID}"


def certificate(
    arn: str, status: str, domain: str = "example.com", alternatives: list[str] | None = None
) -> dict[str, Any]:
    return {
        "Certificate": {
            "CertificateArn": arn,
            "DomainName": domain,
            "SubjectAlternativeNames": alternatives or [domain],
            "Status": status,
            "Type": "AMAZON_ISSUED",
            "KeyAlgorithm": "RSA_2048",
            "CreatedAt": T0,
            "InUseBy": [],
        }
    }


def db_engine_versions(engine: str, *versions: str) -> dict[str, Any]:
    return {
        "DBEngineVersions": [
            {
                "Engine": engine,
                "EngineVersion": version,
                "DBParameterGroupFamily": engine + ".".join(version.split(".")[:2]),
                "DBEngineDescription": "MySQL Community Edition",
                "DBEngineVersionDescription": f"MySQL {version}",
                "Status": "available",
            }
            for version in versions
        ]
    }


def cache_engine_versions(engine: str, *versions: str) -> dict[str, Any]:
    return {
        "CacheEngineVersions": [
            {
                "Engine": engine,
                "EngineVersion": version,
                "CacheParameterGroupFamily": engine + version.split(".")[0],
                "CacheEngineDescription": engine.capitalize(),
                "CacheEngineVersionDescription": f"{engine.capitalize()} {version}",
            }
            for version in versions
        ]
    }


def service_quota(service: str, code: str, name: str, value: float) -> dict[str, Any]:
    return {
        "Quota": {
            "ServiceCode": service,
            "ServiceName": service.upper(),
            "QuotaArn": f"arn:aws:servicequotas:{REGION}:{ACCOUNT}:{service}/{code}",
            "QuotaCode": code,
            "QuotaName": name,
            "Value": value,
            "Unit": "None",
            "Adjustable": True,
            "GlobalQuota": False,
        }
    }


def vpcs(count: int) -> dict[str, Any]:
    return {
        "Vpcs": [
            {
                "VpcId": f"vpc-{index:017x}",
                "CidrBlock": f"10.{index}.0.0/16",
                "State": "available",
                "OwnerId": ACCOUNT,
                "IsDefault": index == 0,
            }
            for index in range(count)
        ]
    }


def addresses(count: int) -> dict[str, Any]:
    return {
        "Addresses": [
            {
                "PublicIp": f"203.0.113.{index + 1}",
                "AllocationId": f"eipalloc-{index:017x}",
                "Domain": "vpc",
            }
            for index in range(count)
        ]
    }


# The day-two commands' answers (shapes from the ECS, CloudWatch Logs, CloudWatch and
# Application Auto Scaling API references).

CLUSTER = "example-dev-ClusterStack-1AB2-Cluster-3CD4"


def cluster_arn(cluster: str = CLUSTER) -> str:
    return f"arn:aws:ecs:{REGION}:{ACCOUNT}:cluster/{cluster}"


def task_definition_arn(family: str, revision: int = 7) -> str:
    return f"arn:aws:ecs:{REGION}:{ACCOUNT}:task-definition/{family}:{revision}"


def task_arn(task_id: str, cluster: str = CLUSTER) -> str:
    return f"arn:aws:ecs:{REGION}:{ACCOUNT}:task/{cluster}/{task_id}"


def ecs_service(
    name: str,
    task_definition: str,
    counts: tuple[int, int, int] = (2, 2, 0),
    rollout: str = "COMPLETED",
    alarms: list[str] | None = None,
    subnets: list[str] | None = None,
) -> dict[str, Any]:
    """One DescribeServices entry: (desired, running, pending), a PRIMARY deployment in
    `rollout` and an ACTIVE one it replaces, the awsvpc network, the rollback alarms."""
    desired, running, pending = counts
    network = {
        "awsvpcConfiguration": {
            "subnets": subnets or ["subnet-0a1", "subnet-0b2"],
            "securityGroups": ["sg-0tasks"],
            "assignPublicIp": "DISABLED",
        }
    }
    deployment = {
        "taskDefinition": task_definition,
        "desiredCount": desired,
        "pendingCount": pending,
        "runningCount": running,
        "createdAt": T0,
        "updatedAt": T0,
        "launchType": "FARGATE",
        "networkConfiguration": network,
    }
    return {
        "serviceArn": f"arn:aws:ecs:{REGION}:{ACCOUNT}:service/{CLUSTER}/{name}",
        "serviceName": name,
        "clusterArn": cluster_arn(),
        "status": "ACTIVE",
        "desiredCount": desired,
        "runningCount": running,
        "pendingCount": pending,
        "launchType": "FARGATE",
        "taskDefinition": task_definition,
        "deploymentConfiguration": {
            "deploymentCircuitBreaker": {"enable": True, "rollback": True},
            "maximumPercent": 200,
            "minimumHealthyPercent": 100,
            "alarms": {"alarmNames": alarms or [], "enable": bool(alarms), "rollback": True},
        },
        "deployments": [
            {
                **deployment,
                "id": "ecs-svc/1111",
                "status": "PRIMARY",
                "rolloutState": rollout,
                "rolloutStateReason": f"ECS deployment ecs-svc/1111 {rollout.lower()}.",
            },
            {**deployment, "id": "ecs-svc/0000", "status": "ACTIVE", "rolloutState": "COMPLETED"},
        ],
        "networkConfiguration": network,
        "schedulingStrategy": "REPLICA",
        "createdAt": T0,
    }


def ecs_task_definition(family: str, container: str, image: str, group: str) -> dict[str, Any]:
    """DescribeTaskDefinition of a Fargate task definition with one awslogs container."""
    return {
        "taskDefinition": {
            "taskDefinitionArn": task_definition_arn(family),
            "family": family,
            "revision": 7,
            "networkMode": "awsvpc",
            "requiresCompatibilities": ["FARGATE"],
            "cpu": "256",
            "memory": "512",
            "status": "ACTIVE",
            "containerDefinitions": [
                {
                    "name": container,
                    "image": image,
                    "essential": True,
                    "environment": [{"name": "LOG_CHANNEL", "value": "stderr"}],
                    "secrets": [
                        {"name": "DB_PASSWORD", "valueFrom": secret_arn("db") + ":password::"}
                    ],
                    "logConfiguration": {
                        "logDriver": "awslogs",
                        "options": {
                            "awslogs-group": group,
                            "awslogs-region": REGION,
                            "awslogs-stream-prefix": container,
                        },
                    },
                }
            ],
        }
    }


def ecs_task(
    task_id: str,
    family: str,
    container: str,
    status: str,
    exit_code: int | None = None,
    stopped_reason: str | None = None,
    container_reason: str | None = None,
) -> dict[str, Any]:
    """One task of RunTask or DescribeTasks."""
    ran: dict[str, Any] = {
        "containerArn": f"arn:aws:ecs:{REGION}:{ACCOUNT}:container/{CLUSTER}/{task_id}/c1",
        "taskArn": task_arn(task_id),
        "name": container,
        "lastStatus": status,
    }
    if exit_code is not None:
        ran["exitCode"] = exit_code
    if container_reason:
        ran["reason"] = container_reason
    task: dict[str, Any] = {
        "taskArn": task_arn(task_id),
        "clusterArn": cluster_arn(),
        "taskDefinitionArn": task_definition_arn(family),
        "lastStatus": status,
        "desiredStatus": "STOPPED" if status == "STOPPED" else "RUNNING",
        "launchType": "FARGATE",
        "startedBy": "factorstack-run",
        "group": f"family:{family}",
        "containers": [ran],
        "createdAt": T0,
    }
    if stopped_reason:
        task["stoppedReason"] = stopped_reason
        task["stopCode"] = "EssentialContainerExited"
    return task


def filtered_events(group: str, *events: tuple[int, str, str]) -> list[dict[str, Any]]:
    """FilterLogEvents' events: (seconds after T0, stream, message) each."""
    return [
        {
            "logStreamName": stream,
            "timestamp": int(T0.timestamp() * 1000) + seconds * 1000,
            "message": message,
            "ingestionTime": int(T0.timestamp() * 1000) + seconds * 1000 + 500,
            "eventId": f"{group}-{stream}-{seconds}".replace("/", ""),
        }
        for seconds, stream, message in events
    ]


def metric_alarm(name: str, state: str, reason: str = "Threshold Crossed") -> dict[str, Any]:
    return {
        "AlarmName": name,
        "AlarmArn": f"arn:aws:cloudwatch:{REGION}:{ACCOUNT}:alarm:{name}",
        "StateValue": state,
        "StateReason": reason,
        "StateUpdatedTimestamp": T0,
        "ComparisonOperator": "GreaterThanOrEqualToThreshold",
        "EvaluationPeriods": 3,
        "Threshold": 1.0,
        "ActionsEnabled": True,
    }


def scalable_target(cluster: str, service: str, low: int, high: int) -> dict[str, Any]:
    return {
        "ServiceNamespace": "ecs",
        "ResourceId": f"service/{cluster}/{service}",
        "ScalableDimension": "ecs:service:DesiredCount",
        "MinCapacity": low,
        "MaxCapacity": high,
        "RoleARN": f"arn:aws:iam::{ACCOUNT}:role/aws-service-role/ecs.application-autoscaling"
        ".amazonaws.com/AWSServiceRoleForApplicationAutoScaling_ECSService",
        "CreationTime": T0,
    }
