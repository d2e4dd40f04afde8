"""Offline prediction within one stack: a create-only property (from the resource schemas
shipped with cfn-lint) whose text changes means replacement; a stateful resource missing from
the new template means removal.
"""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any

from factorstack.deploy.decide.guard.verdict import STATEFUL_TYPES, Finding

SCHEMA_REGION = "us-east-1"


MISSING = object()


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


def lookup(properties: Any, path: tuple[str, ...]) -> Any:
    value = properties
    for part in path:
        if part == "*" or not isinstance(value, dict) or part not in value:
            return MISSING if part != "*" else value
        value = value[part]
    return value


def canonical(value: Any) -> str:
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
                if canonical(lookup(old_props, path)) != canonical(lookup(new_props, path))
            ]
            if changed:
                finding.reasons.append(
                    f"replaced (offline: create-only {', '.join(changed)} changed)"
                )
        if finding.reasons:
            found.append(finding)
    return found
