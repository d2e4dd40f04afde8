"""Fargate and Fargate Spot: the cluster offers both, and every service names its capacity
provider strategy (never a launch type), so turning `spot` on or off changes only the strategy."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.support.sample import REPO, copy_sample, edit_yaml
from tests.support.templates import templates_of

PROCESSES = ("web", "worker", "scheduler")
REGULAR = [{"CapacityProvider": "FARGATE", "Weight": 1}]


def service(templates: dict[str, dict[str, Any]], process: str) -> dict[str, Any]:
    template = templates[f"process-{process}.json"]
    return template["Resources"][f"{process.capitalize()}Service"]["Properties"]


@pytest.mark.parametrize("env", ["dev", "staging", "prod"])
def test_the_cluster_offers_fargate_and_fargate_spot(env: str) -> None:
    cluster = templates_of(REPO, env)["cluster.json"]["Resources"]["Cluster"]["Properties"]
    assert cluster["CapacityProviders"] == ["FARGATE", "FARGATE_SPOT"]
    assert cluster["DefaultCapacityProviderStrategy"] == REGULAR


@pytest.mark.parametrize("env", ["staging", "prod"])
def test_the_sample_runs_every_service_on_regular_fargate(env: str) -> None:
    templates = templates_of(REPO, env)
    for process in PROCESSES:
        properties = service(templates, process)
        assert properties["CapacityProviderStrategy"] == REGULAR
        assert "LaunchType" not in properties  # one or the other, never both


def test_the_sample_dev_runs_worker_and_scheduler_on_spot_and_web_on_fargate() -> None:
    """dev's profile: the web keeps serving from regular Fargate; the worker (its jobs survive
    a restart) and the scheduler (a missed minute is fine in dev) take Spot on ARM64."""
    templates = templates_of(REPO, "dev")
    assert service(templates, "web")["CapacityProviderStrategy"] == REGULAR
    for process in ("worker", "scheduler"):
        strategy = service(templates, process)["CapacityProviderStrategy"]
        assert strategy == [{"CapacityProvider": "FARGATE_SPOT", "Weight": 1}]


@pytest.fixture(scope="module")
def spot(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    """staging (X86_64) with every process on Spot."""
    root = copy_sample(tmp_path_factory.mktemp("spot"))
    edit_yaml(
        root / "environments/staging.yaml",
        lambda d: [d["processes"].setdefault(p, {}).update(spot=True) for p in PROCESSES],
    )
    return templates_of(root, "staging")


def test_web_on_spot_keeps_its_first_task_on_regular_fargate(
    spot: dict[str, dict[str, Any]],
) -> None:
    assert service(spot, "web")["CapacityProviderStrategy"] == [
        {"Base": 1, "CapacityProvider": "FARGATE", "Weight": 1},
        {"CapacityProvider": "FARGATE_SPOT", "Weight": 3},
    ]


@pytest.mark.parametrize("process", ["worker", "scheduler"])
def test_a_worker_or_the_scheduler_may_run_on_spot_only(
    spot: dict[str, dict[str, Any]], process: str
) -> None:
    assert service(spot, process)["CapacityProviderStrategy"] == [
        {"CapacityProvider": "FARGATE_SPOT", "Weight": 1}
    ]


def test_spot_changes_nothing_but_the_strategy(tmp_path: Path) -> None:
    before = service(templates_of(REPO, "staging"), "worker")
    root = copy_sample(tmp_path)
    edit_yaml(
        root / "environments/staging.yaml", lambda d: d["processes"]["worker"].update(spot=True)
    )
    after = service(templates_of(root, "staging"), "worker")
    assert {k for k in after if after[k] != before.get(k)} == {"CapacityProviderStrategy"}
