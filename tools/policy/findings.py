"""Findings and passes out of the checkers' JSON reports (checkov's and cfn-guard's).

Both checkers scan scan/ENV/TEMPLATE copies; a finding is placed by environment, template and
resource logical id, which is how a justification on the resource names it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any

from tools.policy.templates import CHECKOV, GUARD, Place

NO_RESOURCE = "-"
CONTROL = re.compile(r"\[(CT\.[A-Z0-9.]+)\]:\s*([^\n]+)")
RESOURCE_PATH = re.compile(r"^/Resources/([^/\[]+)")


class ReportError(Exception):
    """A checker's output the gate cannot read: the checker failed, not the templates."""


@dataclass(frozen=True, order=True)
class Finding:
    checker: str
    place: Place
    rule: str
    title: str


@dataclass(frozen=True)
class Report:
    """One checker's findings and how many checks passed (checkov: per resource and check;
    guard: per template and rule, as cfn-guard reports passes)."""

    checker: str
    findings: tuple[Finding, ...]
    passed: int


def place_of(file_path: str, resource: str) -> Place:
    """ENV/TEMPLATE (the last two parts of a scanned file's path) and a logical id."""
    parts = PurePosixPath(file_path.replace("\\", "/")).parts
    if len(parts) < 2:
        raise ReportError(f"a finding in {file_path!r}, outside any environment's folder")
    return Place(parts[-2], parts[-1], resource)


def checkov_report(output: str) -> Report:
    """checkov `-o json --compact`: one object (or one per framework) with `results`."""
    try:
        loaded = json.loads(output)
    except json.JSONDecodeError as error:
        raise ReportError(f"checkov printed no JSON report ({error})") from None
    reports = loaded if isinstance(loaded, list) else [loaded]
    findings: list[Finding] = []
    passed = 0
    for report in reports:
        results = report.get("results", {})
        if results.get("parsing_errors"):
            raise ReportError(f"checkov could not parse {results['parsing_errors']}")
        passed += len(results.get("passed_checks", []))
        findings.extend(checkov_finding(check) for check in results.get("failed_checks", []))
    return Report(CHECKOV, tuple(sorted(set(findings))), passed)


def checkov_finding(check: dict[str, Any]) -> Finding:
    """`resource` is `TYPE.LOGICALID`; the type's `::` never holds a dot."""
    logical_id = str(check["resource"]).rsplit(".", 1)[-1]
    place = place_of(check["file_path"], logical_id)
    return Finding(CHECKOV, place, check["check_id"], check["check_name"])


def json_stream(output: str) -> Iterator[dict[str, Any]]:
    """cfn-guard `-o json` prints one JSON object per (data file, rules file), concatenated."""
    decoder = json.JSONDecoder()
    index = 0
    while True:
        while index < len(output) and output[index].isspace():
            index += 1
        if index == len(output):
            return
        try:
            value, index = decoder.raw_decode(output, index)
        except json.JSONDecodeError as error:
            raise ReportError(f"cfn-guard printed no JSON report ({error})") from None
        yield value


def walk(value: object, key: str) -> Iterator[str]:
    """Every string stored under `key` at any depth of a cfn-guard result."""
    if isinstance(value, dict):
        for name, inner in value.items():
            if name == key and isinstance(inner, str):
                yield inner
            else:
                yield from walk(inner, key)
    elif isinstance(value, list):
        for inner in value:
            yield from walk(inner, key)


def guard_title(rule: dict[str, Any]) -> str:
    """`[CT.X.PR.N] title` from the rule's own message, else the rule name."""
    for message in walk(rule, "custom_message"):
        found = CONTROL.search(message)
        if found:
            return f"[{found.group(1)}] {found.group(2).strip()}"
    return str(rule.get("name", "?"))


def guard_findings(file_path: str, not_compliant: dict[str, Any]) -> list[Finding]:
    """One finding per resource the failed rule traversed to (its `path`s)."""
    rule = not_compliant.get("Rule", {})
    name = str(rule.get("name", "?"))
    resources = sorted(
        {found.group(1) for path in walk(rule, "path") if (found := RESOURCE_PATH.match(path))}
    )
    title = guard_title(rule)
    return [
        Finding(GUARD, place_of(file_path, resource), name, title)
        for resource in resources or [NO_RESOURCE]
    ]


def guard_report(output: str) -> Report:
    findings: list[Finding] = []
    passed = 0
    for result in json_stream(output):
        passed += len(result.get("compliant", []))
        for not_compliant in result.get("not_compliant", []):
            findings.extend(guard_findings(result["name"], not_compliant))
    return Report(GUARD, tuple(sorted(set(findings))), passed)
