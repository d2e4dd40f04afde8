"""The Control Tower Guard rules worth running on these templates.

Each rule's metadata file names the resource types it reports on, and every rule passes as SKIP
a template without those types; leaving such rules out changes no verdict and makes the
cfn-guard run several times faster (it parses every rule for every file).
"""

from __future__ import annotations

import json
from pathlib import Path

RULES = "cfn-guard"
METADATA = "metadata"


def resource_types(scan: Path) -> set[str]:
    """Every resource type in the staged templates."""
    types: set[str] = set()
    for path in scan.glob("*/*.json"):
        resources = json.loads(path.read_text()).get("Resources", {})
        types.update(str(r.get("Type")) for r in resources.values() if isinstance(r, dict))
    return types


def reported_types(rule: Path, rules: Path) -> set[str]:
    """rules/metadata/SERVICE/NAME.metadata.json's EvaluatedResourceTypes; none when absent."""
    metadata = rules / METADATA / rule.parent.name / f"{rule.stem}.metadata.json"
    if not metadata.is_file():
        return set()
    return set(json.loads(metadata.read_text()).get("EvaluatedResourceTypes", []))


def applicable(rules: Path, types: set[str]) -> list[Path]:
    """Rule files that report on a type present, plus any whose types are unknown."""
    chosen = []
    for rule in sorted((rules / RULES).rglob("*.guard")):
        reported = reported_types(rule, rules)
        if not reported or reported & types:
            chosen.append(rule)
    return chosen
