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


def client(service: str) -> Any:
    """A real botocore client with dummy keys; Stubber answers instead of AWS."""
    return boto3.client(
        service,
        region_name=REGION,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        endpoint_url=f"https://{service}.{REGION}.amazonaws.com",
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
