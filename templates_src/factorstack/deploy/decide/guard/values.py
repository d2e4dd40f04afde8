"""Reading template values: what a value refers to (Ref, Fn::GetAtt, Fn::Sub) and, where
literals and parameters decide it, the string CloudFormation passes on.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

SUB_NAME = re.compile(r"\$\{([^!}][^}]*)\}")


def references(value: Any) -> list[tuple[str, str | None]]:
    """Every (name, attribute) a template value names through Ref, Fn::GetAtt and Fn::Sub."""
    found: list[tuple[str, str | None]] = []
    if isinstance(value, list):
        for item in value:
            found += references(item)
    elif isinstance(value, dict):
        if len(value) == 1 and "Ref" in value and isinstance(value["Ref"], str):
            return [(value["Ref"], None)]
        if len(value) == 1 and "Fn::GetAtt" in value:
            return [_get_att(value["Fn::GetAtt"])]
        if len(value) == 1 and "Fn::Sub" in value:
            return _sub_references(value["Fn::Sub"])
        for item in value.values():
            found += references(item)
    return found


def _get_att(target: Any) -> tuple[str, str | None]:
    if isinstance(target, str):
        name, _, attribute = target.partition(".")
        return name, attribute or None
    if not isinstance(target, list) or not target:
        return "", None
    return str(target[0]), str(target[1]) if len(target) > 1 else None


def _sub_references(sub: Any) -> list[tuple[str, str | None]]:
    """${Name} and ${Name.Attribute} of a Fn::Sub string, minus its own variables."""
    parts = sub if isinstance(sub, list) else [sub]
    text = parts[0] if parts and isinstance(parts[0], str) else ""
    variables = parts[1] if len(parts) > 1 and isinstance(parts[1], dict) else {}
    found: list[tuple[str, str | None]] = []
    for name in SUB_NAME.findall(text):
        if name not in variables:
            base, _, attribute = name.partition(".")
            found.append((base, attribute or None))
    return found + references(list(variables.values()))


def mentions(value: Any, text: str) -> bool:
    """True when any string inside a template value contains `text`."""
    if isinstance(value, str):
        return text in value
    if isinstance(value, dict):
        return any(mentions(item, text) for item in value.values())
    if isinstance(value, list):
        return any(mentions(item, text) for item in value)
    return False


def concrete(value: Any, parameter: Callable[[str], str | None]) -> str | None:
    """A value as the string CloudFormation passes on, when literals and parameters decide it."""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, str | int | float):
        return str(value)
    if isinstance(value, dict) and len(value) == 1 and isinstance(value.get("Ref"), str):
        return None if value["Ref"].startswith("AWS::") else parameter(value["Ref"])
    join = value.get("Fn::Join") if isinstance(value, dict) and len(value) == 1 else None
    if isinstance(join, list) and len(join) == 2 and isinstance(join[0], str):
        items = join[1] if isinstance(join[1], list) else []
        parts = [concrete(item, parameter) for item in items]
        if items and None not in parts:
            return join[0].join(p for p in parts if p is not None)
    return None


def split_path(path: str) -> tuple[str, str]:
    """'A/B' → ('A', 'B'); 'DataStack' → ('', 'DataStack')."""
    parent, _, logical_id = path.rpartition("/")
    return parent, logical_id


def child_path(path: str, logical_id: str) -> str:
    return f"{path}/{logical_id}".lstrip("/")


def section(template: dict[str, Any] | None, name: str) -> dict[str, Any]:
    section = (template or {}).get(name)
    return section if isinstance(section, dict) else {}


def properties_of(resource: Any) -> dict[str, Any]:
    properties = resource.get("Properties") if isinstance(resource, dict) else None
    return properties if isinstance(properties, dict) else {}


def type_of(resource: Any) -> str:
    return str(resource.get("Type", "")) if isinstance(resource, dict) else ""


def unknown(_name: str) -> str | None:
    return None
