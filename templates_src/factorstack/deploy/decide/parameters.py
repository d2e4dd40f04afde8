"""The root stack's parameters: which value each gets in a change set.

A root parameter with a Default holds the environment's value (deletion protection, the cache's
node count and failover): every change set passes the build's value, so a changed environment
file reaches the stack. Two kinds of parameters get another value first and the build's value
in a follow-up change set (follow_up.py):
- create-first (the build's metadata names them): a value a resource must be created with, such
  as a database without deletion protection so that a failed first create can roll back;
- one step at a time (FAILOVER_AFTER_REPLICAS): a node count and a failover switch that
  ElastiCache refuses to change in one update; the deployed value of one is kept first.

A pinned parameter (the build's PINNED_FROM_SSM metadata maps it to a public SSM parameter,
e.g. the NAT instances' image) gets the SSM parameter's value when the stack does not hold a
usable value yet or the user asks for the newest, and keeps its deployed value otherwise, so
an image AWS publishes later never replaces an instance by itself.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import Any

from factorstack.build.manifest import (
    CREATE_FIRST_WITH,
    FAILOVER_AFTER_REPLICAS,
    PINNED_FROM_SSM,
)
from factorstack.deploy.decide.stacks import Stack
from factorstack.errors import UsageError

IMAGE_TAG = "ImageTag"
IMAGE_ID_PREFIX = "ami-"  # a pinned value that is not an image id was never pinned
ONE_NODE = "1"  # a replication group of one node: the primary, no replica to fail over to


def deployed_keys(stack: Stack | None) -> set[str]:
    """The parameters the deployed stack holds (none for a stack to create)."""
    return set(stack.parameters) if stack else set()


def create_first_values(template: dict[str, Any], stack: Stack | None) -> dict[str, str]:
    """Root parameters that this deploy sets to their create-time value, because the stack
    does not hold them yet (a first create, or the resource they protect is new)."""
    wanted = (template.get("Metadata") or {}).get(CREATE_FIRST_WITH) or {}
    deployed = deployed_keys(stack)
    return {key: str(value) for key, value in sorted(wanted.items()) if key not in deployed}


def _default(template: dict[str, Any], key: str) -> str | None:
    spec = (template.get("Parameters") or {}).get(key) or {}
    return None if "Default" not in spec else str(spec["Default"])


def one_step_values(template: dict[str, Any], stack: Stack | None) -> dict[str, str]:
    """Root parameters this deploy keeps at their deployed value, because the build changes
    them together with their partner in a way one update cannot apply: failover going on keeps
    it off while the stack has no replica yet; failover going off keeps the replicas when the
    build removes the last one. Judged from what the stack holds, so a follow-up that failed
    is finished by the next deploy in one update (the replica exists, or failover is off)."""
    pair = (template.get("Metadata") or {}).get(FAILOVER_AFTER_REPLICAS) or {}
    failover, nodes = pair.get("failover"), pair.get("nodes")
    held = dict(stack.parameters) if stack else {}
    if not failover or not nodes or failover not in held or nodes not in held:
        return {}  # a first create, or a stack from before: nothing to step from
    wanted_failover, wanted_nodes = _default(template, failover), _default(template, nodes)
    turning_on = held[failover] == "false" and wanted_failover == "true"
    if turning_on and held[nodes] == ONE_NODE:
        return {failover: "false"}
    turning_off = held[failover] == "true" and wanted_failover == "false"
    if turning_off and held[nodes] != ONE_NODE and wanted_nodes == ONE_NODE:
        return {nodes: held[nodes]}
    return {}


def needs_pair_from_children(template: dict[str, Any], stack: Stack | None) -> bool:
    """Whether the stack predates the root's failover pair: then only the literal its root
    passed the data stack tells what the cache has (pair_from_children)."""
    pair = (template.get("Metadata") or {}).get(FAILOVER_AFTER_REPLICAS) or {}
    held = stack.parameters if stack else {}
    return stack is not None and bool(pair) and not set(pair.values()) <= set(held)


def pair_from_children(
    template: dict[str, Any], stack: Stack, deployed_root: dict[str, Any]
) -> Stack:
    """The stack as one_step_values judges it, with the pair read from what the deployed root
    passed its children (a node count; failover was on exactly when there was a replica)."""
    pair = (template.get("Metadata") or {}).get(FAILOVER_AFTER_REPLICAS) or {}
    failover, nodes = str(pair.get("failover")), str(pair.get("nodes"))
    held = dict(stack.parameters)
    for resource in (deployed_root.get("Resources") or {}).values():
        passed = (resource.get("Properties") or {}).get("Parameters") or {}
        value = passed.get(nodes) if isinstance(passed, dict) else None
        if isinstance(value, str | int) and nodes not in held:
            held[nodes] = str(value)
    if nodes in held and failover not in held:
        held[failover] = "false" if held[nodes] == ONE_NODE else "true"
    return replace(stack, parameters=held)


def first_values(template: dict[str, Any], stack: Stack | None) -> dict[str, str]:
    """Every root parameter this change set passes another value than the build's: the
    create-first and the one-step-at-a-time ones; a follow-up sets the build's values."""
    return {**create_first_values(template, stack), **one_step_values(template, stack)}


def pinned_sources(template: dict[str, Any]) -> dict[str, str]:
    """{root parameter: the SSM parameter it is pinned from}, from the build's metadata."""
    pinned = (template.get("Metadata") or {}).get(PINNED_FROM_SSM) or {}
    return {str(key): str(name) for key, name in sorted(pinned.items())}


def pinned_values(
    template: dict[str, Any], stack: Stack | None, read: Callable[[str], str], newest: bool
) -> dict[str, str]:
    """The pinned parameters this deploy sets, read through `read` (SSM name -> value): all
    of them with `newest`, else those the stack does not hold as an image id (a first create,
    a new NAT, or a stack from before pinning, which held the SSM name itself)."""
    held = dict(stack.parameters) if stack else {}
    return {
        key: read(name)
        for key, name in pinned_sources(template).items()
        if newest or not held.get(key, "").startswith(IMAGE_ID_PREFIX)
    }


def stack_parameters(
    template: dict[str, Any],
    stack: Stack | None,
    image_tag: str | None,
    pinned: Mapping[str, str] | None = None,
    first: Mapping[str, str] | None = None,
) -> list[dict[str, Any]]:
    """Root parameters: the given ImageTag; a pinned value; a first value (first_values);
    else, for a parameter the stack holds, the build's value (its Default) of an environment
    setting or the deployed value (ImageTag without a tag, a pinned image); else nothing, and
    CloudFormation takes the Default.

    `pinned` (pinned_values) names the pinned parameters this deploy sets; `first` the first
    values when the caller worked them out (first_values of pair_from_children's stack).
    """
    deployed = deployed_keys(stack)
    pinned_keys = set(pinned_sources(template))
    first = first_values(template, stack) if first is None else first
    chosen: list[dict[str, Any]] = []
    for key, spec in sorted((template.get("Parameters") or {}).items()):
        if key == IMAGE_TAG and image_tag:
            chosen.append({"ParameterKey": key, "ParameterValue": image_tag})
        elif pinned and key in pinned:
            chosen.append({"ParameterKey": key, "ParameterValue": pinned[key]})
        elif key in first:
            chosen.append({"ParameterKey": key, "ParameterValue": first[key]})
        elif key in deployed and key not in pinned_keys and "Default" in (spec or {}):
            # The environment's setting: a changed environment file must reach the stack
            # (UsePreviousValue would keep, say, deletion protection on after it was turned off).
            chosen.append({"ParameterKey": key, "ParameterValue": str(spec["Default"])})
        elif key in deployed:
            chosen.append({"ParameterKey": key, "UsePreviousValue": True})
        elif "Default" not in (spec or {}):
            hint = " (pass --image-tag TAG)" if key == IMAGE_TAG else ""
            raise UsageError(f"root template parameter {key} has no value{hint}")
    return chosen


def effective_image_tag(
    template: dict[str, Any], stack: Stack | None, image_tag: str | None
) -> str | None:
    """The ImageTag the stack will run with: the given one, else the deployed, else the default."""
    if image_tag:
        return image_tag
    if stack and IMAGE_TAG in stack.parameters:
        return stack.parameters[IMAGE_TAG]
    default = ((template.get("Parameters") or {}).get(IMAGE_TAG) or {}).get("Default")
    return None if default is None else str(default)
