"""The root stack's parameters: which value each gets in a change set.

A create-first parameter (the build's metadata names it) holds a value a resource must be
created with, such as a database without deletion protection so that a failed first create can
roll back; follow_up.py sets the build's value once the resource exists.
"""

from __future__ import annotations

from typing import Any

from factorstack.build.manifest import CREATE_FIRST_WITH
from factorstack.deploy.decide.stacks import Stack
from factorstack.errors import UsageError

IMAGE_TAG = "ImageTag"


def deployed_keys(stack: Stack | None) -> set[str]:
    """The parameters the deployed stack holds (none for a stack to create)."""
    return set(stack.parameters) if stack else set()


def create_first_values(template: dict[str, Any], stack: Stack | None) -> dict[str, str]:
    """Root parameters that this deploy sets to their create-time value, because the stack
    does not hold them yet (a first create, or the resource they protect is new)."""
    wanted = (template.get("Metadata") or {}).get(CREATE_FIRST_WITH) or {}
    deployed = deployed_keys(stack)
    return {key: str(value) for key, value in sorted(wanted.items()) if key not in deployed}


def stack_parameters(
    template: dict[str, Any], stack: Stack | None, image_tag: str | None
) -> list[dict[str, Any]]:
    """Root parameters: the given ImageTag, else each deployed value, else the template default.

    A create-first parameter gets its create-time value while the stack does not hold it, and
    the build's value (its Default) once it does.
    """
    deployed = deployed_keys(stack)
    create_first = (template.get("Metadata") or {}).get(CREATE_FIRST_WITH) or {}
    first = create_first_values(template, stack)
    chosen: list[dict[str, Any]] = []
    for key, spec in sorted((template.get("Parameters") or {}).items()):
        if key == IMAGE_TAG and image_tag:
            chosen.append({"ParameterKey": key, "ParameterValue": image_tag})
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
