"""E9006: a Fargate task definition whose containers' memory does not fit in the task's is
refused by ECS at deploy time; the build's lint says so first, and stays quiet on the release
task's split (a small step with a hard limit, the command reserving the rest)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from factorstack.lint import LintFinding, lint_templates

REGION = "eu-west-1"


def _task(*containers: dict[str, Any], memory: str = "512") -> dict[str, Any]:
    definitions = [
        {"Name": f"c{index}", "Image": "nginx", "Essential": index == 0} | container
        for index, container in enumerate(containers)
    ]
    return {
        "Type": "AWS::ECS::TaskDefinition",
        "Properties": {
            "RequiresCompatibilities": ["FARGATE"],
            "NetworkMode": "awsvpc",
            "Cpu": "256",
            "Memory": memory,
            "ContainerDefinitions": definitions,
        },
    }


TEMPLATES = {
    "over_task": {"Task": _task({"Memory": 1024})},
    "reservation_not_below": {"Task": _task({"Memory": 256, "MemoryReservation": 256})},
    "reserved_too_much": {"Task": _task({"Memory": 512}, {"Memory": 128})},
    "release_split": {
        "Task": _task({"Memory": 512, "MemoryReservation": 384}, {"Memory": 128}),
    },
    "one_container_whole_task": {"Task": _task({"Memory": 2048}, memory="2048")},
}


@pytest.fixture(scope="module")
def findings(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[tuple[str, str]]]:
    folder = tmp_path_factory.mktemp("container-memory")
    paths: dict[str, Path] = {}
    for name, resources in TEMPLATES.items():
        paths[name] = folder / f"{name}.json"
        body = {"AWSTemplateFormatVersion": "2010-09-09", "Resources": resources}
        paths[name].write_text(json.dumps(body, indent=2))
    found: list[LintFinding] = lint_templates(list(paths.values()), [REGION])
    return {
        name: [(f.rule, f.message) for f in found if f.file == str(path) and f.rule == "E9006"]
        for name, path in paths.items()
    }


def test_a_container_limit_above_the_tasks_memory_is_flagged(findings) -> None:
    assert sorted(findings["over_task"]) == [
        ("E9006", "Container 'c0': Memory 1024 MiB is more than the task's 512 MiB"),
        (
            "E9006",
            "The containers reserve 1024 MiB (MemoryReservation, else Memory), more than the "
            "task's 512 MiB; lower a container's MemoryReservation",
        ),
    ]


def test_a_reservation_not_below_the_limit_is_flagged(findings) -> None:
    assert findings["reservation_not_below"] == [
        ("E9006", "Container 'c0': MemoryReservation 256 MiB must be below its Memory 256 MiB")
    ]


def test_containers_reserving_more_than_the_task_are_flagged(findings) -> None:
    assert findings["reserved_too_much"] == [
        (
            "E9006",
            "The containers reserve 640 MiB (MemoryReservation, else Memory), more than the "
            "task's 512 MiB; lower a container's MemoryReservation",
        )
    ]


def test_the_release_split_and_a_whole_task_container_pass(findings) -> None:
    assert findings["release_split"] == []
    assert findings["one_container_whole_task"] == []
