"""Fargate and Fargate Spot: the cluster offers both, and every service names its capacity
provider strategy (never a launch type), so turning `spot` on or off changes only the strategy."""

from __future__ import annotations

import re
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


def test_spot_changes_the_strategy_and_forces_that_one_deployment(tmp_path: Path) -> None:
    """ECS refuses a changed capacity provider strategy unless the update forces a new
    deployment: the nonce follows the Spot setting, so it changes exactly with the strategy."""
    before = service(templates_of(REPO, "staging"), "worker")
    root = copy_sample(tmp_path)
    edit_yaml(
        root / "environments/staging.yaml", lambda d: d["processes"]["worker"].update(spot=True)
    )
    after = service(templates_of(root, "staging"), "worker")
    changed = {k for k in after if after[k] != before.get(k)}
    assert changed == {"CapacityProviderStrategy", "ForceNewDeployment"}
    assert before["ForceNewDeployment"]["EnableForceNewDeployment"] is True
    nonce_before = before["ForceNewDeployment"]["ForceNewDeploymentNonce"]
    nonce_after = after["ForceNewDeployment"]["ForceNewDeploymentNonce"]
    assert re.fullmatch(r"[0-9a-f]{8}-spot-false", nonce_before)
    assert nonce_after == nonce_before.replace("-spot-false", "-spot-true")


def test_the_nonce_follows_the_strategies_a_process_can_have() -> None:
    """A load-balanced process keeps a regular base beside Spot, another runs on Spot alone:
    the nonce names the pair of strategies, so a process gaining or losing its port (which
    changes its Spot strategy) forces the deployment ECS then requires too."""
    templates = templates_of(REPO, "staging")
    nonces = {
        process: service(templates, process)["ForceNewDeployment"]["ForceNewDeploymentNonce"]
        for process in PROCESSES
    }
    assert nonces["worker"] == nonces["scheduler"]  # the same two strategies
    assert nonces["web"] != nonces["worker"]


def test_a_change_of_size_forces_no_extra_deployment(tmp_path: Path) -> None:
    """An unchanged nonce forces nothing: other changes deploy as they always did."""
    before = service(templates_of(REPO, "staging"), "worker")
    root = copy_sample(tmp_path)
    edit_yaml(
        root / "environments/staging.yaml",
        lambda d: d["processes"]["worker"].update(cpu=1024, memory=2048),
    )
    after = service(templates_of(root, "staging"), "worker")
    assert after["ForceNewDeployment"] == before["ForceNewDeployment"]
