"""The templates to scan and the justifications their resources carry.

Justifications are read here, then removed from the copies the checkers scan: checkov would
honour its own skips, but the Control Tower Guard rules ignore `SuppressedRules`, so the gate
applies both itself and can tell a justified finding from one that never fired.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from factorstack.build.resolve import resolve_set

CHECKOV = "checkov"
GUARD = "guard"
BUILD_FILES_THAT_ARE_NOT_TEMPLATES = frozenset({"manifest.json"})


@dataclass(frozen=True, order=True)
class Place:
    """One resource of one built template: build/ENVIRONMENT/TEMPLATE, logical id RESOURCE."""

    environment: str
    template: str
    resource: str

    def __str__(self) -> str:
        return f"{self.environment} {self.template} {self.resource}"


@dataclass(frozen=True, order=True)
class Justification:
    """A resource's word that one rule's finding on it is accepted, and why."""

    checker: str
    place: Place
    rule: str
    reason: str


@dataclass(frozen=True, order=True)
class Refusal:
    """A justification the gate does not accept: it must name a rule and say why."""

    checker: str
    place: Place
    problem: str


@dataclass(frozen=True)
class Justifications:
    accepted: tuple[Justification, ...]
    refused: tuple[Refusal, ...]


def template_files(build: Path) -> list[Path]:
    """Every template of every environment: build/ENV/*.json, bootstrap.json included; not
    the manifest, nor hidden entries (a build's staging folder, saved plans in build/.plans)."""
    return sorted(
        path
        for path in build.glob("*/*.json")
        if path.name not in BUILD_FILES_THAT_ARE_NOT_TEMPLATES
        and not path.name.startswith(".")
        and not path.parent.name.startswith(".")
    )


def mapping(value: object) -> dict[str, Any]:
    """value when it is a JSON object, else nothing (a malformed entry justifies nothing)."""
    return value if isinstance(value, dict) else {}


def checkov_skips(place: Place, metadata: dict[str, Any]) -> Justifications:
    """`Metadata.checkov.skip: [{id, comment}]`; a skip without a comment is refused."""
    entries = mapping(metadata.get(CHECKOV)).get("skip", [])
    accepted: list[Justification] = []
    refused: list[Refusal] = []
    for entry in entries if isinstance(entries, list) else [entries]:
        rule = entry.get("id") if isinstance(entry, dict) else None
        comment = entry.get("comment") if isinstance(entry, dict) else None
        if not isinstance(rule, str) or not rule.strip():
            refused.append(Refusal(CHECKOV, place, f"a skip without an id: {entry!r}"))
        elif not isinstance(comment, str) or not comment.strip():
            problem = f'skips {rule} without a comment (add "comment": why it is acceptable)'
            refused.append(Refusal(CHECKOV, place, problem))
        else:
            accepted.append(Justification(CHECKOV, place, rule, comment.strip()))
    return Justifications(tuple(accepted), tuple(refused))


def guard_suppressions(place: Place, metadata: dict[str, Any]) -> Justifications:
    """`Metadata.guard.SuppressedRules: [RULE]` with the why in `Metadata.guard.Reasons`."""
    guard = mapping(metadata.get(GUARD))
    rules = guard.get("SuppressedRules", [])
    reasons = guard.get("Reasons", {})
    accepted: list[Justification] = []
    refused: list[Refusal] = []
    for rule in rules if isinstance(rules, list) else [rules]:
        reason = reasons.get(rule) if isinstance(reasons, dict) else None
        if not isinstance(reason, str) or not reason.strip():
            problem = f"suppresses {rule} without a reason (add Reasons: {{{rule}: why}})"
            refused.append(Refusal(GUARD, place, problem))
        else:
            accepted.append(Justification(GUARD, place, str(rule), reason.strip()))
    return Justifications(tuple(accepted), tuple(refused))


def justifications(environment: str, name: str, template: dict[str, Any]) -> Justifications:
    """Every justification in one template, each checked for a reason."""
    accepted: list[Justification] = []
    refused: list[Refusal] = []
    for logical_id, resource in template.get("Resources", {}).items():
        metadata = resource.get("Metadata") if isinstance(resource, dict) else None
        if not isinstance(metadata, dict):
            continue
        place = Place(environment, name, logical_id)
        for found in (checkov_skips(place, metadata), guard_suppressions(place, metadata)):
            accepted.extend(found.accepted)
            refused.extend(found.refused)
    return Justifications(tuple(accepted), tuple(refused))


def without_justifications(template: dict[str, Any]) -> dict[str, Any]:
    """A copy whose resources carry no checkov or guard Metadata, for the checkers to scan."""
    stripped: dict[str, Any] = json.loads(json.dumps(template))
    for resource in stripped.get("Resources", {}).values():
        metadata = resource.get("Metadata") if isinstance(resource, dict) else None
        if not isinstance(metadata, dict):
            continue
        metadata.pop(CHECKOV, None)
        metadata.pop(GUARD, None)
        if not metadata:
            del resource["Metadata"]
    return stripped


def environment_views(build: Path) -> dict[tuple[str, str], dict[str, Any]]:
    """(environment, file) → the template as that environment deploys it: child templates are
    shared by every environment, so each is read with the values its root passes (parameters
    filled in, conditions decided) and the checkers judge what would really run there."""
    by_environment: dict[str, dict[str, dict[str, Any]]] = {}
    for path in template_files(build):
        by_environment.setdefault(path.parent.name, {})[path.name] = json.loads(path.read_text())
    return {
        (environment, name): template
        for environment, templates in sorted(by_environment.items())
        for name, template in resolve_set(templates).items()
    }


def stage(build: Path, scan: Path) -> Justifications:
    """Copy every template, as its environment reads it, to scan/ENV/NAME without
    justifications; return what they held."""
    accepted: list[Justification] = []
    refused: list[Refusal] = []
    for (environment, name), template in environment_views(build).items():
        found = justifications(environment, name, template)
        accepted.extend(found.accepted)
        refused.extend(found.refused)
        copy = scan / environment / name
        copy.parent.mkdir(parents=True, exist_ok=True)
        copy.write_text(json.dumps(without_justifications(template), indent=1))
    return Justifications(tuple(accepted), tuple(refused))
