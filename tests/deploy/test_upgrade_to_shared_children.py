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
from tests.support.sample import edit_yaml
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


def _deployed(old: dict[str, dict[str, Any]]) -> dict[str, DeployedStack]:
    values = _deployed_values(old)
    return {
        path: DeployedStack(template, parameters=lambda p=path: values[p])
        for path, template in old.items()
    }


def _before(environment: str) -> dict[str, dict[str, Any]]:
    return _by_path(
        {p.name: json.loads(p.read_text()) for p in (BEFORE / environment).glob("*.json")}
    )


@pytest.mark.parametrize("environment", ["dev", "prod"])
def test_upgrading_to_shared_children_replaces_and_removes_nothing(
    environment: str, sample_root: Path
) -> None:
    # dev was deployed with its alarm topic then; the sample's dev has since turned it off
    # (notify.topic: false), a change of configuration, not of the upgrade (see below)
    edit_yaml(sample_root / f"environments/{environment}.yaml", _with_topic)
    new = _by_path(raw_templates_of(sample_root, environment))
    assert guard.predict_tree(f"example-{environment}", _deployed(_before(environment)), new) == []


def _with_topic(env: dict[str, Any]) -> None:
    env.setdefault("notify", {})["topic"] = True


def test_turning_the_alarm_topic_off_is_refused_until_its_key_is_named(sample_root: Path) -> None:
    """A KMS key is stateful to the guard; this one only encrypts alarm messages in flight, but
    the guard does not guess: the plan names it and `--allow-replace AlarmTopicKey` lets it go.
    The topic, its policy and the alarms' actions are not stateful and go without a word."""
    edit_yaml(sample_root / "environments/dev.yaml", _with_topic)
    old = _by_path(raw_templates_of(sample_root, "dev"))
    found = guard.predict_tree(
        "example-dev", _deployed(old), _by_path(raw_templates_of(REPO, "dev"))
    )
    assert [(f.stack, f.logical_id, f.reasons) for f in found] == [
        (
            "example-dev/AlertsStack",
            "AlarmTopicKey",
            ["removed (offline: not in the new template)"],
        )
    ]
