"""The data-loss guard: refuse to remove or replace a stateful resource unless allowed by name.

Two sources of evidence, merged per resource:
- the change sets (Action Remove, or Replacement True/Conditional with its causing properties);
- an offline prediction comparing each deployed template with the new one: a change to one of a
  stateful resource's `createOnlyProperties` (from the resource schemas shipped with cfn-lint)
  means replacement, and a stateful resource missing from the new template means removal. This
  protects data even where a change set says nothing (and against a local endpoint).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from factorstack.deploy.review import Row
from factorstack.errors import GuardRefusal

STATEFUL_TYPES = frozenset(
    {
        "AWS::RDS::DBInstance",
        "AWS::RDS::DBCluster",
        "AWS::ElastiCache::ReplicationGroup",
        "AWS::ElastiCache::CacheCluster",
        "AWS::SecretsManager::Secret",
        "AWS::Logs::LogGroup",
        "AWS::S3::Bucket",
        "AWS::KMS::Key",
        "AWS::EFS::FileSystem",
        "AWS::DynamoDB::Table",
    }
)
SCHEMA_REGION = "us-east-1"
MISSING = object()


@dataclass
class Finding:
    """A stateful resource that would lose its data, and every reason we know of."""

    stack: str
    logical_id: str
    resource_type: str
    reasons: list[str] = field(default_factory=list)

    def line(self) -> str:
        return f"{self.stack}: {self.logical_id} ({self.resource_type}): " + "; ".join(self.reasons)


def findings_from_rows(rows: Iterable[Row]) -> list[Finding]:
    """Stateful resources that a change set removes or (possibly) replaces."""
    found: list[Finding] = []
    for row in rows:
        if row.resource_type not in STATEFUL_TYPES:
            continue
        if row.action == "Remove":
            found.append(Finding(row.stack, row.logical_id, row.resource_type, ["removed"]))
        elif row.replacement in {"True", "Conditional"}:
            cause = f" by {', '.join(row.causes)}" if row.causes else ""
            reason = f"replaced (Replacement {row.replacement}){cause}"
            found.append(Finding(row.stack, row.logical_id, row.resource_type, [reason]))
    return found


@lru_cache(maxsize=64)
def create_only_properties(resource_type: str) -> tuple[tuple[str, ...], ...]:
    """The createOnlyProperties of a type as property paths, from cfn-lint's schemas."""
    from cfnlint.schema import PROVIDER_SCHEMA_MANAGER, ResourceNotFoundError

    try:
        schema = PROVIDER_SCHEMA_MANAGER.get_resource_schema(SCHEMA_REGION, resource_type).schema
    except ResourceNotFoundError:  # an unknown type has no schema to predict from
        return ()
    paths = []
    for pointer in schema.get("createOnlyProperties", []):
        parts = tuple(p for p in pointer.split("/") if p)
        if parts and parts[0] == "properties":
            paths.append(parts[1:])
    return tuple(paths)


def _lookup(properties: Any, path: tuple[str, ...]) -> Any:
    value = properties
    for part in path:
        if part == "*" or not isinstance(value, dict) or part not in value:
            return MISSING if part != "*" else value
        value = value[part]
    return value


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=str)


def predict(stack_path: str, deployed: dict[str, Any], new: dict[str, Any] | None) -> list[Finding]:
    """Offline: stateful resources of a deployed template that the new one removes or replaces."""
    old_resources = deployed.get("Resources") or {}
    new_resources = (new or {}).get("Resources") or {}
    found: list[Finding] = []
    for logical_id, old in sorted(old_resources.items()):
        resource_type = old.get("Type", "") if isinstance(old, dict) else ""
        if resource_type not in STATEFUL_TYPES:
            continue
        finding = Finding(stack_path, logical_id, resource_type)
        fresh = new_resources.get(logical_id)
        if not isinstance(fresh, dict):
            finding.reasons.append("removed (offline: not in the new template)")
        elif fresh.get("Type") != resource_type:
            finding.reasons.append(f"replaced (offline: type changes to {fresh.get('Type')})")
        else:
            old_props = old.get("Properties") or {}
            new_props = fresh.get("Properties") or {}
            changed = [
                "/".join(path)
                for path in create_only_properties(resource_type)
                if _canonical(_lookup(old_props, path)) != _canonical(_lookup(new_props, path))
            ]
            if changed:
                finding.reasons.append(
                    f"replaced (offline: create-only {', '.join(changed)} changed)"
                )
        if finding.reasons:
            found.append(finding)
    return found


def merge(*groups: Iterable[Finding]) -> list[Finding]:
    """One finding per resource, with the reasons from every source."""
    merged: dict[tuple[str, str], Finding] = {}
    for group in groups:
        for finding in group:
            key = (finding.stack, finding.logical_id)
            if key not in merged:
                merged[key] = Finding(finding.stack, finding.logical_id, finding.resource_type)
            for reason in finding.reasons:
                if reason not in merged[key].reasons:
                    merged[key].reasons.append(reason)
    return list(merged.values())


@dataclass(frozen=True)
class Verdict:
    """The findings split once into those --allow-replace names and those it does not."""

    findings: list[Finding]  # all of them, in the order found
    allowed: list[Finding]
    blocked: list[Finding]

    def allowed_lines(self) -> list[str]:
        return [f"allowed by --allow-replace: {f.line()}" for f in self.allowed]


def judge(findings: Iterable[Finding], allowed: Iterable[str]) -> Verdict:
    """Which findings --allow-replace lets through and which block the change set."""
    allow = set(allowed)
    found = list(findings)
    return Verdict(
        findings=found,
        allowed=[f for f in found if f.logical_id in allow],
        blocked=[f for f in found if f.logical_id not in allow],
    )


def enforce(verdict: Verdict, echo: Callable[[str], None]) -> list[str]:
    """Refuse (exit 3) when a finding is blocked; return the lines of the allowed ones."""
    lines = verdict.allowed_lines()
    for line in lines:
        echo(line)
    if verdict.blocked:
        ids = " ".join(
            f"--allow-replace {i}" for i in sorted({f.logical_id for f in verdict.blocked})
        )
        raise GuardRefusal(
            "data-loss guard: this change would remove or replace stateful resources:",
            *(f"  {f.line()}" for f in verdict.blocked),
            f"if the data may go, plan again with {ids}",
        )
    return lines
