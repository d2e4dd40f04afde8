"""The follow-up update after a change set that could not set every value at once: what it
sets, and the only changes it may make.

A database is created without deletion protection, so that a failed first create can roll
back (ROLLBACK_COMPLETE) instead of getting stuck on a delete that protection refuses
(ROLLBACK_FAILED); a cache gets its replica before its failover is turned on, and loses its
last replica only after failover is off. Once the change set succeeded, the follow-up sets the
rest: the same root template, the same parameters, except the values the plan recorded.
"""

from __future__ import annotations

from typing import Any

from factorstack.build.manifest import FAILOVER_AFTER_REPLICAS
from factorstack.deploy.decide.review import Row

FOLLOW_UP_SUFFIX = "-follow-up"
# A follow-up changes a parameter of the root, which reaches a nested stack and one property.
FOLLOW_UP_ACTIONS = frozenset({"Modify"})


def follow_up_values(template: dict[str, Any], first: dict[str, str]) -> dict[str, str]:
    """What a follow-up update sets the create-first parameters to: the build's values."""
    parameters = template.get("Parameters") or {}
    return {
        key: str(parameters[key]["Default"])
        for key, value in first.items()
        if str(parameters.get(key, {}).get("Default", value)) != value
    }


def follow_up_lines(values: dict[str, str], template: dict[str, Any]) -> list[str]:
    """What plan tells the reviewer about the follow-up it records, with the reason."""
    pair = (template.get("Metadata") or {}).get(FAILOVER_AFTER_REPLICAS) or {}
    reasons = {
        pair.get("failover"): "ElastiCache turns failover on only once a replica exists",
        pair.get("nodes"): "ElastiCache removes the last replica only once failover is off",
    }
    return [
        f"after this change set, a follow-up update sets {key} to {value} ("
        + reasons.get(key, "created without it so that a failed create can roll back")
        + ")"
        for key, value in values.items()
    ]


def follow_up_parameters(parameter_keys: list[str], values: dict[str, str]) -> list[dict[str, Any]]:
    """Every parameter the plan passed, kept, except the follow-up values."""
    return [
        {"ParameterKey": key, "ParameterValue": values[key]}
        if key in values
        else {"ParameterKey": key, "UsePreviousValue": True}
        for key in parameter_keys
    ]


def unexpected_rows(rows: list[Row]) -> list[Row]:
    """Rows a follow-up must not contain: anything but an in-place modification."""
    return [
        row
        for row in rows
        if row.action not in FOLLOW_UP_ACTIONS or row.replacement in {"True", "Conditional"}
    ]
