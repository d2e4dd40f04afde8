"""E9009: Fargate Spot places X86_64 Linux tasks from platform version 1.3.0 and ARM64 ones from
1.4.0 (ECS API reference, CapacityProviderStrategyItem); a Spot service pinned below that is
refused by the build's lint, and LATEST (unset, as factorstack renders) passes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from factorstack.lint import LintFinding, lint_templates

REGION = "eu-west-1"
SPOT_ONLY = [{"CapacityProvider": "FARGATE_SPOT", "Weight": 1}]
REGULAR = [{"CapacityProvider": "FARGATE", "Weight": 1}]


def _resources(arch: str, version: str | None, strategy: Any = SPOT_ONLY) -> dict[str, Any]:
    service: dict[str, Any] = {
        "Cluster": "example",
        "TaskDefinition": {"Ref": "Task"},
        "DesiredCount": 1,
        "CapacityProviderStrategy": strategy,
        "NetworkConfiguration": {
            "AwsvpcConfiguration": {"Subnets": ["subnet-12345678"], "AssignPublicIp": "DISABLED"}
        },
    }
    if version is not None:
        service["PlatformVersion"] = version
    return {
        "Task": {
            "Type": "AWS::ECS::TaskDefinition",
            "Properties": {
                "RequiresCompatibilities": ["FARGATE"],
                "NetworkMode": "awsvpc",
                "Cpu": "256",
                "Memory": "512",
                "RuntimePlatform": {"CpuArchitecture": arch, "OperatingSystemFamily": "LINUX"},
                "ContainerDefinitions": [{"Name": "app", "Image": "nginx", "Essential": True}],
            },
        },
        "Service": {"Type": "AWS::ECS::Service", "Properties": service},
    }


ARM_TOO_OLD = (
    "PlatformVersion 1.3.0 is older than 1.4.0, the first that Fargate Spot runs ARM64 Linux "
    "tasks on; use 1.4.0 or later, or LATEST (leave it unset)"
)
X86_TOO_OLD = (
    "PlatformVersion 1.2.0 is older than 1.3.0, the first that Fargate Spot runs X86_64 Linux "
    "tasks on; use 1.3.0 or later, or LATEST (leave it unset)"
)
CASES: dict[str, tuple[dict[str, Any], list[str]]] = {
    "arm64_spot_on_1_3_0": (_resources("ARM64", "1.3.0"), [ARM_TOO_OLD]),
    "arm64_spot_on_1_4_0": (_resources("ARM64", "1.4.0"), []),
    "arm64_spot_on_latest": (_resources("ARM64", "LATEST"), []),
    "arm64_spot_unset": (_resources("ARM64", None), []),
    "x86_spot_on_1_3_0": (_resources("X86_64", "1.3.0"), []),
    "x86_spot_on_1_2_0": (_resources("X86_64", "1.2.0"), [X86_TOO_OLD]),
    "arm64_regular_on_1_3_0": (_resources("ARM64", "1.3.0", REGULAR), []),
    "arm64_spot_in_one_branch": (
        _resources("ARM64", "1.3.0", {"Fn::If": ["SpotOn", SPOT_ONLY, REGULAR]}),
        [ARM_TOO_OLD],
    ),
}


@pytest.fixture(scope="module")
def findings(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[str]]:
    folder = tmp_path_factory.mktemp("spot-platform")
    paths: dict[str, Path] = {}
    for name, (resources, _) in CASES.items():
        paths[name] = folder / f"{name}.json"
        body: dict[str, Any] = {"AWSTemplateFormatVersion": "2010-09-09", "Resources": resources}
        if name == "arm64_spot_in_one_branch":
            body["Parameters"] = {"Spot": {"Type": "String", "AllowedValues": ["true", "false"]}}
            body["Conditions"] = {"SpotOn": {"Fn::Equals": [{"Ref": "Spot"}, "true"]}}
        paths[name].write_text(json.dumps(body, indent=2))
    found: list[LintFinding] = lint_templates(list(paths.values()), [REGION])
    return {
        name: [f.message for f in found if f.file == str(path) and f.rule == "E9009"]
        for name, path in paths.items()
    }


@pytest.mark.parametrize("name", list(CASES))
def test_spot_platform_findings(findings: dict[str, list[str]], name: str) -> None:
    assert findings[name] == CASES[name][1]
