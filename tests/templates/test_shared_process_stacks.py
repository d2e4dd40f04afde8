"""The process, release, rotation and autoscaling stacks are the same text in every environment:
what an environment file chooses reaches them as values root.json passes, and each
environment's resolved view still reads what that environment chose."""

from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path
from typing import Any

import pytest

from factorstack.build.resolve import resolve_set
from factorstack.stacks.process import variable_parameter_name
from factorstack.stacks.release_phase import USER_SETUP_MEMORY_MIB, handler_source
from factorstack.stacks.root import build_stack_set
from tests.support.sample import edit_yaml
from tests.support.templates import model_of, raw_templates_of, templates_of

REPO = Path(__file__).resolve().parents[2]
DIGEST = "sha256:" + "ab" * 32
MINE = ("process-web.json", "process-worker.json", "process-scheduler.json")
MINE += ("release-phase.json", "rotation.json", "autoscaling.json")


def _passed(templates: dict[str, Any], stack: str) -> dict[str, Any]:
    return templates["root.json"]["Resources"][stack]["Properties"]["Parameters"]


def _task(templates: dict[str, Any], file: str, stem: str) -> dict[str, Any]:
    return templates[file]["Resources"][f"{stem}TaskDefinition"]["Properties"]


def _texts(templates: dict[str, Any]) -> dict[str, str]:
    return {f: json.dumps(templates[f], sort_keys=True) for f in MINE}


def test_the_root_passes_each_environments_task_size_architecture_and_values() -> None:
    dev, prod = raw_templates_of(REPO, "dev"), raw_templates_of(REPO, "prod")
    chosen = ("Cpu", "Memory", "CpuArchitecture", "EnvironmentName", "VariableLogLevel")
    assert {k: _passed(dev, "WebStack")[k] for k in chosen} == {
        "Cpu": "256",
        "Memory": "512",
        "CpuArchitecture": "ARM64",
        "EnvironmentName": "dev",
        "VariableLogLevel": "debug",
    }
    assert {k: _passed(prod, "WebStack")[k] for k in chosen} == {
        "Cpu": "1024",
        "Memory": "2048",
        "CpuArchitecture": "X86_64",
        "EnvironmentName": "prod",
        "VariableLogLevel": "warning",
    }
    assert _passed(prod, "WebStack")["ErrorRatePercent"] == "2.0"
    assert _passed(dev, "WebStack")["ErrorRatePercent"] == "10.0"
    # The shared text reads them; it names no environment.
    task = _task(prod, "process-web.json", "Web")
    assert task["Cpu"] == {"Ref": "Cpu"}
    assert task["Family"] == {"Fn::Sub": "example-${EnvironmentName}-web"}
    assert "prod" not in json.dumps(prod["process-web.json"])


def test_each_environments_view_reads_its_own_values() -> None:
    prod = templates_of(REPO, "prod")
    task = _task(prod, "process-web.json", "Web")
    assert (task["Cpu"], task["Memory"], task["Family"]) == ("1024", 2048, "example-prod-web")
    assert task["RuntimePlatform"]["CpuArchitecture"] == "X86_64"
    (container,) = task["ContainerDefinitions"]
    variables = {e["Name"]: e["Value"] for e in container["Environment"]}
    assert (variables["LOG_LEVEL"], variables["LOG_CHANNEL"]) == ("warning", "stdout")
    alarm = prod["process-web.json"]["Resources"]["WebErrorRateAlarm"]["Properties"]
    assert (alarm["Threshold"], alarm["EvaluationPeriods"]) == (2, 3)


def test_a_recorded_release_changes_only_what_the_root_passes() -> None:
    """The digest is a setting: the child is the same text with or without a record, and the
    task runs the digest where there is one, the release tag where there is none."""
    model = model_of(REPO, "dev")
    digests = {p.name: DIGEST for p in model.processes}
    tagged = {n: t.to_dict() for n, t in build_stack_set(model).items()}
    pinned_model = dataclasses.replace(model, image_digests=digests)
    pinned = {n: t.to_dict() for n, t in build_stack_set(pinned_model).items()}
    assert _texts(tagged) == _texts(pinned)
    assert _passed(tagged, "WebStack")["ImageDigest"] == ""
    assert _passed(pinned, "WebStack")["ImageDigest"] == DIGEST
    assert _passed(pinned, "ReleaseStack")["ImageDigest"] == DIGEST
    assert _passed(pinned, "WebStack")["ImageTag"] == {"Ref": "ImageTag"}
    repository = "${AWS::AccountId}.dkr.ecr.${AWS::Region}.${AWS::URLSuffix}/example/web"
    images = {
        name: resolve_set(templates)["process-web.json"]["Resources"]["WebTaskDefinition"][
            "Properties"
        ]["ContainerDefinitions"][0]["Image"]
        for name, templates in (("tagged", tagged), ("pinned", pinned))
    }
    assert images == {
        "tagged": {"Fn::Sub": f"{repository}:${{ImageTag}}"},
        "pinned": {"Fn::Sub": f"{repository}@{DIGEST}"},
    }


def test_a_digest_that_is_not_a_sha256_is_refused_by_the_parameter() -> None:
    spec = raw_templates_of(REPO, "dev")["process-web.json"]["Parameters"]["ImageDigest"]
    pattern = re.compile(spec["AllowedPattern"])
    assert pattern.fullmatch(DIGEST) and pattern.fullmatch("")
    assert not pattern.fullmatch("latest") and not pattern.fullmatch("sha256:abc")


def test_fargate_spot_is_a_flag_the_same_text_chooses_by(sample_root: Path) -> None:
    before = raw_templates_of(sample_root, "prod")
    edit_yaml(
        sample_root / "environments/prod.yaml",
        lambda env: env["processes"]["worker"].update(spot=True),
    )
    after = raw_templates_of(sample_root, "prod")
    assert _texts(before) == _texts(after)
    assert (_passed(before, "WorkerStack")["Spot"], _passed(after, "WorkerStack")["Spot"]) == (
        "false",
        "true",
    )
    raw = after["process-worker.json"]["Resources"]["WorkerService"]["Properties"]
    assert raw["CapacityProviderStrategy"]["Fn::If"][0] == "SpotOn"
    service = resolve_set(after)["process-worker.json"]["Resources"]["WorkerService"]
    assert service["Properties"]["CapacityProviderStrategy"] == [
        {"CapacityProvider": "FARGATE_SPOT", "Weight": 1}
    ]


def test_autoscaling_bounds_are_one_list_per_bound_in_app_yaml_order() -> None:
    prod = raw_templates_of(REPO, "prod")
    passed = _passed(prod, "AutoscalingStack")
    assert (passed["MinTasks"], passed["MaxTasks"]) == ("2,1", "10,10")
    raw = prod["autoscaling.json"]["Resources"]["WorkerScalableTarget"]["Properties"]
    assert raw["MinCapacity"] == {"Fn::Select": [1, {"Fn::Split": [",", {"Ref": "MinTasks"}]}]}
    resolved = resolve_set(prod)["autoscaling.json"]["Resources"]
    bounds = {
        stem: (
            resolved[f"{stem}ScalableTarget"]["Properties"]["MinCapacity"],
            resolved[f"{stem}ScalableTarget"]["Properties"]["MaxCapacity"],
        )
        for stem in ("Web", "Worker")
    }
    assert bounds == {"Web": ("2", "10"), "Worker": ("1", "10")}


@pytest.mark.parametrize("env", ["dev", "staging", "prod"])
def test_the_release_command_reserves_the_task_memory_less_the_user_step(env: str) -> None:
    raw = raw_templates_of(REPO, env)
    passed = _passed(raw, "ReleaseStack")
    assert int(passed["ReleaseMemoryReservation"]) == (
        int(passed["Memory"]) - USER_SETUP_MEMORY_MIB
    )
    task = _task(resolve_set(raw), "release-phase.json", "Release")
    setup, command = task["ContainerDefinitions"]
    assert setup["Memory"] + command["MemoryReservation"] == task["Memory"]


@pytest.mark.parametrize(
    ("file", "group", "name"),
    [
        ("release-phase.json", "ReleaseRunnerLogGroup", "release-runner"),
        ("rotation.json", "RotatorLogGroup", "rotation"),
        ("rotation.json", "MasterRotatorLogGroup", "master-rotation"),
    ],
)
def test_lambda_log_groups_keep_their_names_and_the_environments_retention(
    file: str, group: str, name: str
) -> None:
    """A changed log group name would replace the group: each environment's name stays."""
    for env, days in (("dev", 7), ("prod", 365)):
        props = templates_of(REPO, env)[file]["Resources"][group]["Properties"]
        assert props["LogGroupName"]["Fn::Sub"][0] == f"/example/{env}/{name}-${{StackSuffix}}"
        assert props["RetentionInDays"] == days


def test_rotation_days_come_from_the_environment_file(sample_root: Path) -> None:
    edit_yaml(
        sample_root / "environments/staging.yaml",
        lambda env: env["database"].update(rotation_days=7),
    )
    staging, dev = raw_templates_of(sample_root, "staging"), raw_templates_of(sample_root, "dev")
    assert json.dumps(staging["rotation.json"], sort_keys=True) == json.dumps(
        dev["rotation.json"], sort_keys=True
    )
    assert (
        _passed(staging, "RotationStack")["RotationDays"],
        _passed(dev, "RotationStack")["RotationDays"],
    ) == ("7", "30")
    schedule = resolve_set(staging)["rotation.json"]["Resources"]["DatabaseSecretRotation"]
    assert schedule["Properties"]["RotationRules"] == {"AutomaticallyAfterDays": 7}


def test_the_lambdas_inline_code_is_the_handlers_own() -> None:
    raw = raw_templates_of(REPO, "prod")
    functions = {
        ("release-phase.json", "ReleaseRunner"): "release_phase.py",
        ("rotation.json", "Rotator"): "rotation.py",
        ("rotation.json", "MasterRotator"): "master_rotation.py",
    }
    for (file, logical_id), module in functions.items():
        code = raw[file]["Resources"][logical_id]["Properties"]["Code"]["ZipFile"]
        assert code == handler_source(module)


def test_plain_variables_get_one_parameter_each_even_when_names_fold_alike(sample_root) -> None:
    """`LOG_LEVEL` and `LOGLEVEL` would both be `VariableLoglevel`-like: the second gets a
    number, and each container variable still reads its own value."""
    edit_yaml(
        sample_root / "app.yaml",
        lambda app: app["environment"].update(
            {"LOGLEVEL": "a", "LOG_LEVEL": "b", "Log_Level": "c"}
        ),
    )
    templates = templates_of(sample_root, "dev")
    (container,) = _task(templates, "process-worker.json", "Worker")["ContainerDefinitions"]
    variables = {e["Name"]: e["Value"] for e in container["Environment"]}
    assert {k: variables[k] for k in ("LOGLEVEL", "LOG_LEVEL", "Log_Level")} == {
        "LOGLEVEL": "a",
        "LOG_LEVEL": "debug",  # dev.yaml overrides app.yaml's value
        "Log_Level": "c",
    }
    assert variable_parameter_name("LOG_LEVEL") == "VariableLogLevel"
    assert variable_parameter_name("A" * 300).startswith("VariableA")
    assert len(variable_parameter_name("A" * 300)) <= 252


def test_every_shared_template_declares_only_what_it_uses() -> None:
    """A parameter or condition no resource reads is a lint warning: each setting is used."""
    for file in MINE:
        template = raw_templates_of(REPO, "prod")[file]
        text = json.dumps({k: template.get(k) for k in ("Resources", "Outputs", "Conditions")})
        for name in template.get("Parameters", {}):
            assert f'"Ref": "{name}"' in text or f"${{{name}}}" in text, (file, name)
