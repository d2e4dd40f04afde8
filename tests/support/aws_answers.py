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


def describe_secret(name: str, deleted: bool = False) -> dict[str, Any]:
    body: dict[str, Any] = {
        "ARN": secret_arn(name),
        "Name": name,
        "LastChangedDate": T0,
        "VersionIdsToStages": {UUID: ["AWSCURRENT"]},
        "CreatedDate": T0,
    }
    if deleted:
        body["DeletedDate"] = T0 + timedelta(days=1)
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
