"""What is deployed now: the nested stack tree and each stack's template, for the offline guard."""

from __future__ import annotations

import json
from functools import partial
from typing import Any

from factorstack.deploy.guard import DeployedStack, Finding, predict_tree
from factorstack.deploy.package import STACK_TYPE
from factorstack.deploy.session import aws_errors


def parse_template_body(body: Any) -> dict[str, Any]:
    """get_template's TemplateBody as a dict (botocore decodes JSON; YAML arrives as text)."""
    if isinstance(body, dict):
        return body
    text = str(body)
    try:
        data = json.loads(text)
    except ValueError:
        from cfnlint.decode.cfn_yaml import loads as yaml_loads

        data = yaml_loads(text)
    return data if isinstance(data, dict) else {}


def stack_resources(cloudformation: Any, stack: str) -> list[dict[str, Any]]:
    """Every resource summary of a stack, across pages."""
    found: list[dict[str, Any]] = []
    paginator = cloudformation.get_paginator("list_stack_resources")
    for page in paginator.paginate(StackName=stack):
        found.extend(page.get("StackResourceSummaries") or [])
    return found


def nested_tree(cloudformation: Any, stack_name: str) -> dict[str, str]:
    """Stack path ('' for the root, 'DataStack', 'A/B') → physical id of each deployed stack."""
    tree = {"": stack_name}
    pending = [""]
    with aws_errors(f"listing the resources of {stack_name}"):
        while pending:
            path = pending.pop()
            for summary in stack_resources(cloudformation, tree[path]):
                physical = summary.get("PhysicalResourceId")
                if summary.get("ResourceType") == STACK_TYPE and physical:
                    child = f"{path}/{summary['LogicalResourceId']}".lstrip("/")
                    tree[child] = physical
                    pending.append(child)
    return tree


def deployed_template(cloudformation: Any, stack: str) -> dict[str, Any]:
    """The template a stack runs now (the original, before transforms)."""
    with aws_errors(f"reading the deployed template of {stack}"):
        body = cloudformation.get_template(StackName=stack, TemplateStage="Original")
    return parse_template_body(body.get("TemplateBody", {}))


def deployed_parameters(cloudformation: Any, stack: str) -> dict[str, str]:
    """A stack's parameter values as it runs now (NoEcho ones read '****')."""
    with aws_errors(f"reading the parameters of {stack}"):
        stacks = cloudformation.describe_stacks(StackName=stack).get("Stacks") or []
    parameters = (stacks[0].get("Parameters") if stacks else None) or []
    return {p["ParameterKey"]: str(p.get("ParameterValue", "")) for p in parameters}


def offline_findings(
    cloudformation: Any, stack_name: str, new_templates: dict[str, dict[str, Any]]
) -> list[Finding]:
    """Predict removals and replacements of stateful resources in every deployed stack.

    `new_templates` maps stack paths ('' for the root) to the templates about to be deployed; a
    deployed stack with no new template is being removed with all its resources. A stack's
    parameters are read only if following a change needs them.
    """
    deployed: dict[str, DeployedStack] = {}
    for path, physical in sorted(nested_tree(cloudformation, stack_name).items()):
        deployed[path] = DeployedStack(
            template=deployed_template(cloudformation, physical),
            parameters=partial(deployed_parameters, cloudformation, physical),
        )
    return predict_tree(stack_name, deployed, new_templates)
