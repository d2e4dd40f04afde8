"""Upgrading a deployed environment to shared child templates (issue 11) must not replace or
remove anything stateful: the offline guard, given the templates an environment was deployed
with before children were shared (tests/golden-before-sharing/, copies of the goldens of that
time) and today's build, finds nothing. A value that moved into a parameter resolves to the
same value, so a log group's name, a group's description or a database setting is no change."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from factorstack.deploy.decide import guard
from factorstack.deploy.decide.guard import DeployedStack
from tests.support.templates import raw_templates_of

REPO = Path(__file__).resolve().parents[2]
BEFORE = REPO / "tests/golden-before-sharing"
STACK = "AWS::CloudFormation::Stack"


def _by_path(files: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    root = files["root.json"]
    tree = {"": root}
    for logical_id, resource in root["Resources"].items():
        if resource["Type"] == STACK:
            tree[logical_id] = files[resource["Properties"]["TemplateURL"]]
    return tree


def _deployed_values(tree: dict[str, dict[str, Any]]) -> dict[str, dict[str, str]]:
    """What describe_stacks would say: root parameters at their defaults (ImageTag v1), and
    each child's parameter the value the root passed (a stand-in id for an output)."""
    root = tree[""]
    values = {
        "": {n: str(s.get("Default", "v1")) for n, s in (root.get("Parameters") or {}).items()}
    }
    for path in tree:
        if path:
            passed = root["Resources"][path]["Properties"].get("Parameters") or {}
            values[path] = {
                name: value if isinstance(value, str) else f"deployed-{path}-{name}"
                for name, value in passed.items()
            }
    return values


@pytest.mark.parametrize("environment", ["dev", "prod"])
def test_upgrading_to_shared_children_replaces_and_removes_nothing(environment: str) -> None:
    before = {p.name: json.loads(p.read_text()) for p in (BEFORE / environment).glob("*.json")}
    old = _by_path(before)
    values = _deployed_values(old)
    deployed = {
        path: DeployedStack(template, parameters=lambda p=path: values[p])
        for path, template in old.items()
    }
    new = _by_path(raw_templates_of(REPO, environment))
    assert guard.predict_tree(f"example-{environment}", deployed, new) == []
