"""E9009: a Fargate Spot service pinned to a platform version too old for its task.

FARGATE_SPOT places Linux X86_64 tasks on platform version 1.3.0 or later and Linux ARM64 tasks
on 1.4.0 or later (ECS API reference, CapacityProviderStrategyItem). A service pinned below
that is never given a Spot task. factorstack's services leave PlatformVersion unset (LATEST),
so this guards a template edited by hand; cfn-lint's schema types PlatformVersion as a string.
"""

from __future__ import annotations

from typing import Any

from cfnlint.rules import CloudFormationLintRule, RuleMatch
from cfnlint.template import Template

from factorstack.lint_rules.values import Path, branches, items

SPOT = "FARGATE_SPOT"
LATEST = "LATEST"
ARM64 = "ARM64"
OLDEST = {"X86_64": (1, 3, 0), ARM64: (1, 4, 0)}  # the first Linux version Spot takes


def version(text: Any) -> tuple[int, ...] | None:
    """`1.3.0` → (1, 3, 0); None for LATEST, a Ref, or anything else not a pinned version."""
    if not isinstance(text, str) or text == LATEST:
        return None
    try:
        return tuple(int(part) for part in text.split("."))
    except ValueError:
        return None


def uses_spot(strategy: Any, path: Path) -> bool:
    """Whether any branch of the strategy names FARGATE_SPOT."""
    for chosen, chosen_path in branches(strategy, path):
        for item, _ in items(chosen, chosen_path):
            if isinstance(item, dict) and item.get("CapacityProvider") == SPOT:
                return True
    return False


def task_architecture(properties: dict[str, Any], cfn: Template) -> str | None:
    """The literal CpuArchitecture of the task definition the service Refs (x86 when unset),
    or None when it is not known before a deploy."""
    reference = properties.get("TaskDefinition")
    if not (isinstance(reference, dict) and isinstance(reference.get("Ref"), str)):
        return None
    task = (cfn.template.get("Resources") or {}).get(reference["Ref"]) or {}
    platform = (task.get("Properties") or {}).get("RuntimePlatform") or {}
    arch = platform.get("CpuArchitecture", "X86_64") if isinstance(platform, dict) else None
    return arch if isinstance(arch, str) and arch in OLDEST else None


class SpotPlatformVersion(CloudFormationLintRule):
    """A Fargate Spot service's pinned platform version must take its task's architecture."""

    id = "E9009"
    shortdesc = "Fargate Spot needs platform 1.3.0 (X86_64) or 1.4.0 (ARM64) or later"
    description = (
        "An AWS::ECS::Service whose CapacityProviderStrategy names FARGATE_SPOT and whose "
        "PlatformVersion is pinned (not LATEST) must pin 1.3.0 or later for an X86_64 task and "
        "1.4.0 or later for an ARM64 task; otherwise Fargate Spot never places its tasks."
    )
    source_url = (
        "https://docs.aws.amazon.com/AmazonECS/latest/APIReference/"
        "API_CapacityProviderStrategyItem.html"
    )
    tags = ["resources", "ecs", "fargate", "spot", "factorstack"]

    def __init__(self) -> None:
        super().__init__()
        self.resource_property_types = ["AWS::ECS::Service"]

    def match_resource_properties(
        self, properties: dict[str, Any], resourcetype: str, path: Path, cfn: Template
    ) -> list[RuleMatch]:
        strategy_path = [*path, "CapacityProviderStrategy"]
        if not uses_spot(properties.get("CapacityProviderStrategy"), strategy_path):
            return []
        arch = task_architecture(properties, cfn) or "X86_64"  # unknown: only the certain floor
        oldest = OLDEST[arch]
        matches: list[RuleMatch] = []
        version_path = [*path, "PlatformVersion"]
        for value, value_path in branches(properties.get("PlatformVersion"), version_path):
            pinned = version(value)
            if pinned is not None and pinned < oldest:
                need = ".".join(str(part) for part in oldest)
                matches.append(
                    RuleMatch(
                        value_path,
                        f"PlatformVersion {value} is older than {need}, the first that "
                        f"Fargate Spot runs {arch} Linux tasks on; use {need} or later, or "
                        "LATEST (leave it unset)",
                    )
                )
        return matches
