"""Typed wiring between the root and its children.

A child declares an output with `ChildStack.give`, which returns a `Handle`; a child that needs the
value declares its parameter with `ChildStack.take(handle)`, named after the output. The root only
passes handles from one builder to the next, so every output and parameter name is spelled once,
where it is defined, and a wrong wire is an error while building instead of a failed deploy.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, TypeVar

from troposphere import AWSHelperFn, GetAtt, Output, Parameter, Ref, Template, cloudformation

from factorstack.stacks.common import new_template

Outputs = TypeVar("Outputs")


@dataclass(frozen=True, eq=False)
class Handle:
    """A value the root can pass to a child's parameter: a child's output or a root parameter."""

    name: str
    in_root: AWSHelperFn  # how the root template reads it

    @classmethod
    def of_output(cls, stack: cloudformation.Stack, name: str) -> Handle:
        return cls(name, GetAtt(stack, f"Outputs.{name}"))

    @classmethod
    def of_root_parameter(cls, parameter: Parameter) -> Handle:
        return cls(parameter.title, Ref(parameter))

    def prefixed(self, prefix: str) -> str:
        """`WebServiceName` for web's `ServiceName`: the name of one of many, passed on."""
        return f"{prefix}{self.name}"


@dataclass(frozen=True, eq=False)
class Built(Generic[Outputs]):
    """A child ready for the root: its template file, its nested-stack resource with its
    parameters already wired, and its outputs as handles."""

    file: str
    template: Template
    resource: cloudformation.Stack
    outputs: Outputs


class ChildStack:
    """A nested stack while its builder fills it: the template and the wires into it."""

    def __init__(self, logical_id: str, file: str, description: str) -> None:
        self.file = file
        self.template = new_template(description)
        # TemplateURL is a local file, as `aws cloudformation package` wants. Deleting the child
        # deletes its resources under their own policies (the data tier's Snapshot/Retain still
        # hold), so the nested stack itself needs no Retain.
        self.resource = cloudformation.Stack(
            logical_id, TemplateURL=file, DeletionPolicy="Delete", UpdateReplacePolicy="Delete"
        )
        self._wires: dict[str, AWSHelperFn] = {}

    def take(
        self,
        source: Handle,
        description: str,
        kind: str = "String",
        *,
        name: str | None = None,
        **properties: object,
    ) -> Parameter:
        """A parameter fed by `source`, named after it unless this stack's contract names it
        otherwise (one log group among many is this process's `LogGroupName`)."""
        title = name or source.name
        existing = self.template.parameters.get(title)
        if existing is not None:
            if self._wires[title] is not source.in_root:
                raise ValueError(f"{self.file}: parameter {title} wired from two sources")
            return existing
        self._wires[title] = source.in_root
        return self.template.add_parameter(
            Parameter(title, Type=kind, Description=description, **properties)
        )

    def give(self, name: str, value: object, description: str) -> Handle:
        """An output of this stack, and the handle by which the root passes it on."""
        self.template.add_output(Output(name, Value=value, Description=description))
        return Handle.of_output(self.resource, name)

    def built(self, outputs: Outputs) -> Built[Outputs]:
        if self._wires:
            self.resource.Parameters = dict(self._wires)
        return Built(self.file, self.template, self.resource, outputs)
