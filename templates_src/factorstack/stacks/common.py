"""Small helpers every stack module shares: parameters, outputs and AWS-partition-safe ARNs."""

from __future__ import annotations

from troposphere import AWSObject, Output, Parameter, Sub, Template

CHILD_TEMPLATE_FORMAT_VERSION = "2010-09-09"


def new_template(description: str) -> Template:
    template = Template(Description=description)
    template.set_version(CHILD_TEMPLATE_FORMAT_VERSION)
    return template


def add_parameter(
    template: Template, name: str, description: str, kind: str = "String"
) -> Parameter:
    return template.add_parameter(Parameter(name, Type=kind, Description=description))


def add_output(template: Template, name: str, value: object, description: str) -> Output:
    return template.add_output(Output(name, Value=value, Description=description))


def retain(resource: AWSObject, policy: str = "Retain") -> AWSObject:
    """Keep a stateful resource's data when it is replaced or removed from the stack.

    "Retain" keeps it, except when the operation that created it rolls back: a named log
    group or secret left behind by a failed first deploy would block every later one.
    "Snapshot" snapshots it first (databases, caches).
    """
    resource.DeletionPolicy = "RetainExceptOnCreate" if policy == "Retain" else policy
    resource.UpdateReplacePolicy = policy
    return resource


def arn(service: str, resource: str, *, regional: bool = True, account: bool = True) -> Sub:
    """An exact ARN in this stack's partition, region and account (never `arn:aws:` spelled)."""
    region = "${AWS::Region}" if regional else ""
    owner = "${AWS::AccountId}" if account else ""
    return Sub(f"arn:${{AWS::Partition}}:{service}:{region}:{owner}:{resource}")
