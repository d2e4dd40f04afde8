"""E9006: on Fargate, the containers' memory must fit in the task's.

A container's `Memory` is its hard limit (the container is killed beyond it) and may not exceed
the task's `Memory`. ECS counts each container's `MemoryReservation`, or its `Memory` when it
has none, against the task's memory, and refuses a task definition whose containers reserve more
(RegisterTaskDefinition, at deploy time). A container's `Memory` must also be above its own
`MemoryReservation`. cfn-lint's schema types each value alone and compares none of them.
"""

from __future__ import annotations

from typing import Any

from cfnlint.rules import CloudFormationLintRule, RuleMatch
from cfnlint.template import Template

from factorstack.lint_rules.fargate_stop_window import is_fargate
from factorstack.lint_rules.values import Path, items, literal_int


def _name(container: dict[str, Any]) -> str:
    name = container.get("Name")
    return name if isinstance(name, str) else "?"


def _own_limits(container: dict[str, Any], task: int, path: Path) -> list[RuleMatch]:
    """The container's hard limit within the task's memory and above its own reservation."""
    name = _name(container)
    memory = literal_int(container.get("Memory"))
    reservation = literal_int(container.get("MemoryReservation"))
    matches = []
    if memory is not None and memory > task:
        matches.append(
            RuleMatch(
                [*path, "Memory"],
                f"Container {name!r}: Memory {memory} MiB is more than the task's {task} MiB",
            )
        )
    if memory is not None and reservation is not None and reservation >= memory:
        matches.append(
            RuleMatch(
                [*path, "MemoryReservation"],
                f"Container {name!r}: MemoryReservation {reservation} MiB must be below its "
                f"Memory {memory} MiB",
            )
        )
    return matches


def reserved(container: dict[str, Any]) -> int:
    """What ECS counts against the task: MemoryReservation, else Memory (0: neither known)."""
    for key in ("MemoryReservation", "Memory"):
        value = literal_int(container.get(key))
        if value is not None:
            return value
    return 0


class ContainerMemory(CloudFormationLintRule):
    """Containers' Memory and reservations within the Fargate task's Memory."""

    id = "E9006"
    shortdesc = "Fargate containers' memory fits in the task's"
    description = (
        "For an AWS::ECS::TaskDefinition that requires FARGATE with a literal task Memory: each "
        "container's Memory is at most the task's, above the container's MemoryReservation, and "
        "the containers' MemoryReservation (else Memory) add up to at most the task's Memory. "
        "ECS refuses the task definition otherwise."
    )
    source_url = (
        "https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_ContainerDefinition.html"
    )
    tags = ["resources", "ecs", "fargate", "factorstack"]

    def __init__(self) -> None:
        super().__init__()
        self.resource_property_types = ["AWS::ECS::TaskDefinition"]

    def match_resource_properties(
        self, properties: dict[str, Any], resourcetype: str, path: Path, cfn: Template
    ) -> list[RuleMatch]:
        task = literal_int(properties.get("Memory"))
        if not is_fargate(properties) or task is None:
            return []
        matches: list[RuleMatch] = []
        total = 0
        containers_path = [*path, "ContainerDefinitions"]
        for container, container_path in items(
            properties.get("ContainerDefinitions"), containers_path
        ):
            if isinstance(container, dict):
                matches.extend(_own_limits(container, task, container_path))
                total += reserved(container)
        if total > task:
            matches.append(
                RuleMatch(
                    containers_path,
                    f"The containers reserve {total} MiB (MemoryReservation, else Memory), more "
                    f"than the task's {task} MiB; lower a container's MemoryReservation",
                )
            )
        return matches
