"""The cheap-dev options in an environment file: `spot` per process and `network.nat`. A bad
value is one line naming file, field and fix; exit 2; no traceback. Fargate Spot takes ARM64
Linux tasks on platform version 1.4.0 or later (ECS API reference, CapacityProviderStrategyItem;
AWS What's New, 2024-09-06), and the services run on LATEST, so spot with ARM64 is allowed."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from factorstack.cli import main
from tests.support.sample import edit_yaml
from tests.support.templates import model_of, templates_of

STAGING = "environments/staging.yaml"
DEV = "environments/dev.yaml"
CASES = [
    (
        DEV,
        lambda d: d["network"].update(nat="instances"),
        f"{DEV}: network.nat: 'instances' is not allowed (use 'gateway' or 'instance')",
    ),
    (
        DEV,
        lambda d: d["processes"]["web"].update(spot="sometimes"),
        f"{DEV}: processes.web.spot: 'sometimes': input should be a valid boolean, unable to "
        "interpret input",
    ),
]


@pytest.mark.parametrize(("file", "change", "expected"), CASES, ids=[c[2][:60] for c in CASES])
def test_bad_dev_profile_settings_get_one_line_and_exit_2(
    sample_root: Path, capsys, file, change, expected
):
    edit_yaml(sample_root / file, change)
    code = main(["--root", str(sample_root), "build", "--no-lint"])
    captured = capsys.readouterr()
    assert code == 2
    assert expected in captured.err.splitlines(), captured.err
    assert "Traceback" not in captured.err


def test_defaults_are_nat_gateways_and_regular_fargate(sample_root: Path) -> None:
    edit_yaml(sample_root / STAGING, lambda d: None)
    model = model_of(sample_root, "staging")
    assert model.network.nat == "gateway" and not model.network.nat_instances
    assert [p.spot for p in model.processes] == [False, False, False]


def test_spot_on_x86_reaches_the_model(sample_root: Path) -> None:
    edit_yaml(sample_root / STAGING, lambda d: d["processes"]["worker"].update(spot=True))
    model = model_of(sample_root, "staging")
    assert {p.name: p.spot for p in model.processes} == {
        "web": False,
        "worker": True,
        "scheduler": False,
    }


def test_the_sample_dev_uses_graviton_and_a_nat_instance() -> None:
    from tests.support.sample import REPO

    model = model_of(REPO, "dev")
    assert model.cpu_architecture == "ARM64"
    assert model.network.nat_instances and model.network.nat_gateways == 1


def _service_and_task(templates: dict[str, Any], stem: str) -> tuple[dict[str, Any], ...]:
    """The process's ECS service and task definition properties, from whichever child has them."""
    for template in templates.values():
        resources = template.get("Resources") or {}
        if f"{stem}Service" in resources:
            return (
                resources[f"{stem}Service"]["Properties"],
                resources[f"{stem}TaskDefinition"]["Properties"],
            )
    raise AssertionError(f"no {stem}Service in any template")


def test_spot_on_arm64_is_built_as_a_graviton_task_on_fargate_spot(sample_root: Path) -> None:
    """dev runs on ARM64; a Spot worker there is accepted and lands on FARGATE_SPOT with an
    ARM64 task on the default platform version (LATEST, which is 1.4.0 or later)."""
    edit_yaml(sample_root / DEV, lambda d: d["processes"]["worker"].update(spot=True))
    model = model_of(sample_root, "dev")
    assert model.cpu_architecture == "ARM64"
    assert {p.name: p.spot for p in model.processes}["worker"] is True
    service, task = _service_and_task(templates_of(sample_root, "dev"), "Worker")
    providers = [item["CapacityProvider"] for item in service["CapacityProviderStrategy"]]
    assert providers == ["FARGATE_SPOT"]
    assert task["RuntimePlatform"]["CpuArchitecture"] == "ARM64"
    assert service.get("PlatformVersion", "LATEST") == "LATEST"


def test_spot_on_arm64_builds_with_exit_0(sample_root: Path, capsys) -> None:
    edit_yaml(
        sample_root / DEV,
        lambda d: [d["processes"][p].update(spot=True) for p in ("worker", "scheduler")],
    )
    code = main(["--root", str(sample_root), "build", "--no-lint", "dev"])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert "Fargate Spot" not in captured.err
