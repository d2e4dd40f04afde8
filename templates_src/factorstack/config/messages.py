"""Turning pydantic's validation errors into one line per problem: file, field, fix."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError
from pydantic_core import ErrorDetails

from factorstack.config.schema import kind_of

ENV_VALUE_FORMS = (
    "a plain string or number, {parameter: NAME}, {secret: NAME, key: KEY}, "
    "{database: host|port} or {cache: host|port}"
)
_UNION_MEMBER_TAGS = {
    "str",
    "int",
    "bool",
    "float",
    "ParameterRef",
    "SecretRef",
    "ServiceAttributeRef",
}


def field_path(loc: tuple[Any, ...]) -> str:
    """`('processes', 'web', 'memory')` → `processes.web.memory`."""
    return ".".join(str(part) for part in loc) or "(top level)"


def _strip_union_tags(loc: tuple[Any, ...]) -> tuple[Any, ...]:
    """Cut a location at the first union-member tag pydantic inserted."""
    for index, part in enumerate(loc):
        if part in _UNION_MEMBER_TAGS:
            return loc[:index]
    return loc


def _type_problem(kind: str, given: Any) -> str | None:
    """A value of the wrong type, with the way to write it; None for other problems."""
    if kind == "string_type" and isinstance(given, int | float) and not isinstance(given, bool):
        # YAML reads an unquoted account id or version as a number
        return f'{given!r} is a number here, not text (quote it: "{given}")'
    if kind in {"int_parsing", "int_type"}:
        return f"{given!r} is not a whole number (write it in digits, e.g. 2)"
    return None


def _value_problem(kind: str, given: Any, error: ErrorDetails) -> str | None:
    """A value outside what the field allows, with what it allows; None for other problems."""
    ctx = error.get("ctx") or {}
    if kind == "string_pattern_mismatch":
        return f"{given!r} is not valid (it must match {ctx.get('pattern')})"
    if kind == "literal_error":
        return f"{given!r} is not allowed (use {ctx.get('expected')})"
    if kind in {"greater_than_equal", "less_than_equal", "greater_than", "less_than"}:
        return f"{given!r} is out of range ({error['msg'].lower()})"
    if kind in {"string_too_long", "string_too_short", "too_short", "too_long"}:
        return f"{error['msg'].lower()} (shorten or extend it)"
    if kind == "value_error":
        return str(ctx.get("error", error["msg"]))
    return None


def _describe(error: ErrorDetails, shown_as: str) -> str:
    kind = error["type"]
    given = error.get("input")
    if kind == "extra_forbidden":
        schema = f"factorstack schema {kind_of(shown_as)}"
        return f"unknown key (remove it or fix its spelling; `{schema}` lists the keys)"
    if kind == "missing":
        return "required (add it)"
    known = _value_problem(kind, given, error) or _type_problem(kind, given)
    if known is not None:
        return known
    return f"{given!r}: {error['msg'][:1].lower()}{error['msg'][1:]}"


def describe_validation_errors(error: ValidationError, shown_as: str) -> list[str]:
    """One `FILE: FIELD: problem (fix)` line per distinct field, in pydantic's order."""
    lines: list[str] = []
    seen: set[str] = set()
    for item in error.errors():
        loc = tuple(item["loc"])
        stripped = _strip_union_tags(loc)
        if stripped != loc:
            path = field_path(stripped)
            message = f"not a valid value (use {ENV_VALUE_FORMS})"
            if isinstance(item.get("input"), float):  # `1.10` reads as 1.1: text must be quoted
                message = f"{item['input']!r} is a decimal number here (quote it, as written)"
        else:
            path = field_path(loc)
            message = _describe(item, shown_as)
        if path in seen:
            continue
        seen.add(path)
        lines.append(f"{shown_as}: {path}: {message}")
    return lines
