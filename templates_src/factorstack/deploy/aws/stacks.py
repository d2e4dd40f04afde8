"""CloudFormation stacks: describing, deleting, and reading what is deployed (the nested tree
and each stack's template, for the offline guard).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from factorstack.deploy.aws.session import Clients, aws_errors, error_code, error_message
from factorstack.deploy.decide.stacks import STACK_TYPE, Stack

if TYPE_CHECKING:
    from mypy_boto3_cloudformation.type_defs import StackTypeDef


def timestamp(value: datetime | str | None) -> str | None:
    """An API timestamp as ISO text (plan.json compares these as strings)."""
    if value is None:
        return None
    return value.isoformat() if isinstance(value, datetime) else str(value)


def stack_from_api(raw: StackTypeDef) -> Stack:
    """A Stack from one describe_stacks entry."""
    return Stack(
        name=raw["StackName"],
        stack_id=raw.get("StackId", ""),
        status=raw["StackStatus"],
        last_updated=timestamp(raw.get("LastUpdatedTime")),
        parameters={
            p.get("ParameterKey", ""): str(p.get("ParameterValue", ""))
            for p in raw.get("Parameters") or []
        },
        outputs={
            o.get("OutputKey", ""): str(o.get("OutputValue", "")) for o in raw.get("Outputs") or []
        },
        tags={t["Key"]: t["Value"] for t in raw.get("Tags") or []},
        created=timestamp(raw.get("CreationTime")),
    )


def parse_template_body(body: Any) -> dict[str, Any]:
    """get_template's TemplateBody as a dict (botocore decodes JSON; YAML arrives as text)."""
    if isinstance(body, Mapping):
        return dict(body)
    text = str(body)
    try:
        data = json.loads(text)
    except ValueError:
        from cfnlint.decode.cfn_yaml import loads as yaml_loads

        data = yaml_loads(text)
    return data if isinstance(data, dict) else {}


class StackCalls:
    """The gateway's calls about stacks."""

    clients: Clients

    def describe_stack(self, name: str, doing: str = "") -> Stack | None:
        """The stack (by name or id), or None when it does not exist.

        `doing` says what the caller reads it for, in the error line of a failed call.
        """
        with aws_errors(doing or f"describing stack {name}"):
            try:
                stacks = self.clients.cloudformation.describe_stacks(StackName=name)["Stacks"]
            except ClientError as error:
                missing = "does not exist" in error_message(error)
                if error_code(error) == "ValidationError" and missing:
                    return None
                raise
        return stack_from_api(stacks[0]) if stacks else None

    def delete_stack(self, name: str) -> None:
        with aws_errors(f"deleting stack {name}"):
            self.clients.cloudformation.delete_stack(StackName=name)

    def nested_stacks(self, stack_name: str) -> dict[str, str]:
        """Stack path ('' for the root, 'DataStack', 'A/B') → physical id of each deployed stack."""
        tree = {"": stack_name}
        pending = [""]
        paginator = self.clients.cloudformation.get_paginator("list_stack_resources")
        with aws_errors(f"listing the resources of {stack_name}"):
            while pending:
                path = pending.pop()
                for page in paginator.paginate(StackName=tree[path]):
                    for summary in page.get("StackResourceSummaries") or []:
                        physical = summary.get("PhysicalResourceId")
                        if summary.get("ResourceType") == STACK_TYPE and physical:
                            child = f"{path}/{summary['LogicalResourceId']}".lstrip("/")
                            tree[child] = physical
                            pending.append(child)
        return tree

    def deployed_template(self, stack: str) -> dict[str, Any]:
        """The template a stack runs now (the original, before transforms)."""
        with aws_errors(f"reading the deployed template of {stack}"):
            body = self.clients.cloudformation.get_template(
                StackName=stack, TemplateStage="Original"
            )
        return parse_template_body(body.get("TemplateBody", {}))

    def deployed_parameters(self, stack: str) -> dict[str, str]:
        """A stack's parameter values as it runs now (NoEcho ones read '****')."""
        found = self.describe_stack(stack, doing=f"reading the parameters of {stack}")
        return dict(found.parameters) if found else {}
