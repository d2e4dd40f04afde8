"""Typed wiring between the root and its children.

A child declares an output with `ChildStack.give`, which returns a `Handle`; a child that needs the
value declares its parameter with `ChildStack.take(handle)`, named after the output. The root only
passes handles from one builder to the next, so every output and parameter name is spelled once,
where it is defined, and a wrong wire is an error while building instead of a failed deploy.

What an environment file chooses (sizes, counts, retention, Multi-AZ, a certificate...) reaches a
child as a `setting`: a parameter whose literal value only the root holds. A child's text then
depends on app.yaml alone, so every environment runs the same child templates (twelve-factor X)
and only root.json differs; a `flag` is a true/false setting with a condition of the same name
for the resources or values that exist only where it is on.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, TypeVar

from troposphere import (
    AWSHelperFn,
    Equals,
    GetAtt,
    Output,
    Parameter,
    Ref,
    Template,
    cloudformation,
)

from factorstack.model import LOG_RETENTION_DAYS
from factorstack.stacks.common import new_template

Outputs = TypeVar("Outputs")
ENVIRONMENT_NAME = "EnvironmentName"
LOG_RETENTION_PARAMETER = "LogRetentionDays"


def _literal(value: str | int | float | bool) -> str:
    """How the root passes a setting: nested-stack parameters are strings."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


@dataclass(frozen=True, eq=False)
class Handle:
    """A value the root can pass to a child's parameter: a child's output or a root parameter."""

    name: str
    in_root: AWSHelperFn | str  # how the root template reads it

    @classmethod
    def of_output(cls, stack: cloudformation.Stack, name: str) -> Handle:
        return cls(name, GetAtt(stack, f"Outputs.{name}"))

    @classmethod
    def of_root_parameter(cls, parameter: Parameter) -> Handle:
        return cls(parameter.title, Ref(parameter))

    @classmethod
    def literal(cls, name: str, value: str) -> Handle:
        """A value the root passes as it is: what stands in for an output that this environment's
        condition leaves out (reading that output would fail the root)."""
        return cls(name, value)

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

    def __init__(self, logical_id: str, file: str, description: str, environment: str = "") -> None:
        self.file = file
        self._environment = environment
        self.template = new_template(description)
        # TemplateURL is a local file, as `aws cloudformation package` wants. Deleting the child
        # deletes its resources under their own policies (the data tier's Snapshot/Retain still
        # hold), so the nested stack itself needs no Retain.
        self.resource = cloudformation.Stack(
            logical_id, TemplateURL=file, DeletionPolicy="Delete", UpdateReplacePolicy="Delete"
        )
        self._wires: dict[str, AWSHelperFn] = {}
        self._settings: dict[str, str] = {}  # parameter → the literal the root passes

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

    def setting(
        self, name: str, value: str | int | float | bool, description: str, **properties: object
    ) -> Parameter:
        """A parameter holding the environment's own value, passed by the root as a literal.
        Its type follows the value: Number for a number, "true"/"false" for a bool (use
        `flag` for those), String otherwise; the value must be the same wherever it is asked."""
        literal = _literal(value)
        existing = self.template.parameters.get(name)
        if existing is not None:
            if self._settings.get(name) != literal:
                raise ValueError(f"{self.file}: setting {name} given two values")
            return existing
        self._settings[name] = literal
        if isinstance(value, bool):
            properties = {"AllowedValues": ["true", "false"], **properties}
        numeric = isinstance(value, int | float) and not isinstance(value, bool)
        kind = "Number" if numeric else "String"
        return self.template.add_parameter(
            Parameter(name, Type=kind, Description=description, **properties)
        )

    def flag(self, name: str, value: bool, description: str) -> str:
        """A true/false setting and its condition (`name` + "On"); returns the condition's name
        for `Condition=` on a resource or `If(...)` on a value."""
        parameter = self.setting(name, value, description)
        condition = f"{name}On"
        if condition not in self.template.conditions:
            self.condition(condition, Equals(Ref(parameter), "true"))
        return condition

    def condition(self, name: str, expression: AWSHelperFn) -> str:
        """A named condition of this template (same name, same expression: declared once)."""
        if name not in self.template.conditions:
            self.template.add_condition(name, expression)
        return name

    def environment_name(self) -> Ref:
        """The environment's name as a parameter, for names that embed it: write
        `${EnvironmentName}` inside a Sub after calling this once."""
        if not self._environment:
            raise ValueError(f"{self.file}: ChildStack(..., environment=model.environment)")
        return Ref(
            self.setting(ENVIRONMENT_NAME, self._environment, "Environment name (names embed it).")
        )

    def log_retention(self, days: int, description: str) -> Ref:
        """The environment's log retention in days (`LogRetentionDays`), allowed only the
        values CloudWatch Logs accepts, so a wrong one fails at parameter validation."""
        return Ref(
            self.setting(
                LOG_RETENTION_PARAMETER,
                days,
                description,
                AllowedValues=[str(allowed) for allowed in LOG_RETENTION_DAYS],
            )
        )

    def give(
        self, name: str, value: object, description: str, *, condition: str | None = None
    ) -> Handle:
        """An output of this stack, and the handle by which the root passes it on; an output
        under a `condition` is absent where it is false, so the root must not read it there."""
        output = Output(name, Value=value, Description=description)
        if condition is not None:
            output.Condition = condition
        self.template.add_output(output)
        return Handle.of_output(self.resource, name)

    def built(self, outputs: Outputs) -> Built[Outputs]:
        if self._wires or self._settings:
            self.resource.Parameters = {**self._wires, **self._settings}
        return Built(self.file, self.template, self.resource, outputs)
