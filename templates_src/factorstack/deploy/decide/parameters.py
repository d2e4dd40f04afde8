"""The root stack's parameters: which value each gets in a change set.

A create-first parameter (the build's metadata names it) holds a value a resource must be
created with, such as a database without deletion protection so that a failed first create can
roll back; follow_up.py sets the build's value once the resource exists.

A pinned parameter (the build's PINNED_FROM_SSM metadata maps it to a public SSM parameter,
e.g. the NAT instances' image) gets the SSM parameter's value when the stack does not hold a
usable value yet or the user asks for the newest, and keeps its deployed value otherwise, so
an image AWS publishes later never replaces an instance by itself.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from factorstack.build.manifest import CREATE_FIRST_WITH, PINNED_FROM_SSM
from factorstack.deploy.decide.stacks import Stack
from factorstack.errors import UsageError

IMAGE_TAG = "ImageTag"
IMAGE_ID_PREFIX = "ami-"  # a pinned value that is not an image id was never pinned


def deployed_keys(stack: Stack | None) -> set[str]:
    """The parameters the deployed stack holds (none for a stack to create)."""
    return set(stack.parameters) if stack else set()


def create_first_values(template: dict[str, Any], stack: Stack | None) -> dict[str, str]:
    """Root parameters that this deploy sets to their create-time value, because the stack
    does not hold them yet (a first create, or the resource they protect is new)."""
    wanted = (template.get("Metadata") or {}).get(CREATE_FIRST_WITH) or {}
    deployed = deployed_keys(stack)
    return {key: str(value) for key, value in sorted(wanted.items()) if key not in deployed}


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
) -> list[dict[str, Any]]:
    """Root parameters: the given ImageTag, else each deployed value, else the template default.

    A create-first parameter gets its create-time value while the stack does not hold it, and
    the build's value (its Default) once it does. `pinned` (pinned_values) overrides the rest.
    """
    deployed = deployed_keys(stack)
    create_first = (template.get("Metadata") or {}).get(CREATE_FIRST_WITH) or {}
    first = create_first_values(template, stack)
    chosen: list[dict[str, Any]] = []
    for key, spec in sorted((template.get("Parameters") or {}).items()):
        if key == IMAGE_TAG and image_tag:
            chosen.append({"ParameterKey": key, "ParameterValue": image_tag})
        elif pinned and key in pinned:
            chosen.append({"ParameterKey": key, "ParameterValue": pinned[key]})
        elif key in first:
            chosen.append({"ParameterKey": key, "ParameterValue": first[key]})
        elif key in create_first and "Default" in (spec or {}):
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
