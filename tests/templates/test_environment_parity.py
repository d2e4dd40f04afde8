"""Dev/prod parity: environments share the templates; only what an environment file says differs."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any

import pytest

from tests.support.sample import edit_yaml
from tests.support.templates import raw_templates_of, templates_of

POLICY_METADATA = re.compile(r"/Metadata/(checkov|guard)(/|$)")
# Where root.json hands each child its environment's values (nested-stack parameters).
PASSED_VALUES = re.compile(r"^root\.json/Resources/\w+/Properties/Parameters/")


def differences(left: Any, right: Any, path: str = "") -> set[str]:
    """JSON paths whose values differ between two documents."""
    if isinstance(left, dict) and isinstance(right, dict):
        found: set[str] = set()
        for key in set(left) | set(right):
            found |= differences(left.get(key), right.get(key), f"{path}/{key}")
        return found
    if isinstance(left, list) and isinstance(right, list) and len(left) == len(right):
        found = set()
        for index, (a, b) in enumerate(zip(left, right, strict=True)):
            found |= differences(a, b, f"{path}/{index}")
        return found
    return set() if left == right else {path}


def _changed_paths(root: Path, change) -> set[str]:
    before = templates_of(root, "dev")
    edit_yaml(root / "environments/dev.yaml", change)
    after = templates_of(root, "dev")
    assert set(before) == set(after)
    changed = {f"{name}{p}" for name in before for p in differences(before[name], after[name])}
    # The policy justifications follow the values on purpose (test_policy_justifications.py);
    # root.json passes the new value (test_a_value_change_rewrites_only_the_root).
    return {p for p in changed if not POLICY_METADATA.search(p) and not PASSED_VALUES.search(p)}


def test_an_environment_with_the_same_values_gets_the_same_templates(sample_root: Path):
    shutil.copy(sample_root / "environments/dev.yaml", sample_root / "environments/qa.yaml")
    dev, qa = raw_templates_of(sample_root, "dev"), raw_templates_of(sample_root, "qa")
    assert {name: qa[name] for name in qa if name != "root.json"} == {
        name: dev[name] for name in dev if name != "root.json"
    }  # every child the same text; the root differs only by the environment's name
    assert json.dumps(qa["root.json"], sort_keys=True).replace(
        '"EnvironmentName": "qa"', '"EnvironmentName": "dev"'
    ).replace("example qa:", "example dev:") == json.dumps(dev["root.json"], sort_keys=True)


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            lambda d: d["database"].update(multi_az=True),
            {"data.json/Resources/Database/Properties/MultiAZ"},
        ),
        (
            lambda d: d["processes"]["worker"].update(cpu=512, memory=2048),
            {
                "process-worker.json/Resources/WorkerTaskDefinition/Properties/Cpu",
                "process-worker.json/Resources/WorkerTaskDefinition/Properties/Memory",
                "process-worker.json/Resources/WorkerTaskDefinition/Properties/"
                "ContainerDefinitions/0/Memory",
            },
        ),
        (
            lambda d: d["processes"]["web"].update(max_tasks=7),
            {"autoscaling.json/Resources/WebScalableTarget/Properties/MaxCapacity"},
        ),
        (
            lambda d: d.update(log_retention_days=90),
            {
                f"{file}/Resources/{group}/Properties/RetentionInDays"
                for file, group in [
                    ("cluster.json", "WebLogGroup"),
                    ("cluster.json", "WorkerLogGroup"),
                    ("cluster.json", "SchedulerLogGroup"),
                    ("network.json", "FlowLogsLogGroup"),
                    ("release-phase.json", "ReleaseRunnerLogGroup"),
                    ("rotation.json", "RotatorLogGroup"),
                    ("rotation.json", "MasterRotatorLogGroup"),
                ]
            },
        ),
        (
            lambda d: d["environment"].update(LOG_LEVEL="error"),
            {
                f"process-{p}.json/Resources/{p.capitalize()}TaskDefinition/Properties/"
                "ContainerDefinitions/0/Environment/5/Value"
                for p in ("web", "worker", "scheduler")
            }
            | {
                "release-phase.json/Resources/ReleaseTaskDefinition/Properties/"
                "ContainerDefinitions/1/Environment/5/Value"  # after the database user step
            },
        ),
    ],
    ids=["multi-az", "worker-size", "web-max", "log-retention", "plain-variable"],
)
def test_one_value_changes_only_its_own_place(sample_root: Path, change, expected):
    assert _changed_paths(sample_root, change) == expected


def test_a_certificate_changes_only_the_edge(sample_root: Path):
    changed = _changed_paths(
        sample_root,
        lambda d: d.update(
            certificate_arn="arn:aws:acm:eu-west-1:111111111111:certificate/abc-123",
            domain_name="dev.example.com",
        ),
    )
    assert {p.split("/")[0] for p in changed} == {"cluster.json"}


def test_a_value_change_rewrites_only_the_root(sample_root: Path):
    """The children are the same text whatever the environment file says; the new value
    travels in root.json, as the parameter of the child that uses it."""
    before = raw_templates_of(sample_root, "dev")
    edit_yaml(sample_root / "environments/dev.yaml", lambda d: d["database"].update(multi_az=True))
    after = raw_templates_of(sample_root, "dev")
    assert [name for name in before if before[name] != after[name]] == ["root.json"]
    passed = after["root.json"]["Resources"]["DataStack"]["Properties"]["Parameters"]
    assert passed["DatabaseMultiAZ"] == "true"
