"""The data-loss guard on the REAL sample app, deployed on the local moto server: changes whose
data-tier template text stays the same (a new VPC range, a new database user) are refused."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import boto3
import pytest

from factorstack.build import build
from factorstack.cli import main
from factorstack.deploy.apply import run_apply
from factorstack.deploy.bootstrap import run_bootstrap
from factorstack.deploy.local.server import LocalAws
from factorstack.deploy.plan import run_plan
from factorstack.errors import EXIT_GUARD, GuardRefusal
from tests.support.fixture_build import ACCOUNT, REGION, dev_context
from tests.support.sample import copy_sample, edit_yaml

pytestmark = pytest.mark.usefixtures("lint_assumed_clean")

DATA = "example-dev/DataStack"


def seed_account() -> None:
    """What the sample reads from the account and the plan's preflight checks is there."""
    boto3.client("ssm", region_name=REGION).put_parameter(
        Name="APP_URL", Type="String", Value="http://example.test", Overwrite=True
    )
    boto3.client("secretsmanager", region_name=REGION).create_secret(
        Name="STRIPE", SecretString=json.dumps({"STRIPE_KEY": "pk", "STRIPE_SECRET": "sk"})
    )


def deployed_sample(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The sample app built, released at v1 and deployed; returns its repo root."""
    monkeypatch.setenv("PATH", "/nonexistent")  # no docker: local-images stands in for it
    root = copy_sample(tmp_path / "repo")
    edit_yaml(root / "environments/dev.yaml", lambda d: d.update(account=ACCOUNT, region=REGION))
    seed_account()
    build(root, ["dev"])
    run_bootstrap(dev_context(root))
    assert main(["local-images", "dev", "--root", str(root), "--tag", "v1"]) == 0
    assert main(["release", "dev", "--root", str(root), "--no-build", "--tag", "v1"]) == 0
    build(root, ["dev"])
    assert run_plan(dev_context(root), []).changed
    run_apply(dev_context(root))
    return root


def refused_after(root: Path, file: str, change: Callable[[dict], None]) -> list[str]:
    """Change one config file, build, plan: the guard's refusal lines."""
    edit_yaml(root / file, change)
    build(root, ["dev"])
    with pytest.raises(GuardRefusal) as refused:
        run_plan(dev_context(root), [])
    assert refused.value.exit_code == EXIT_GUARD
    print("\n".join(refused.value.lines))  # the exact text, for whoever reads -s output
    return refused.value.lines


def blocked(lines: list[str]) -> dict[str, str]:
    """'stack: LogicalId (Type)' → the rest of each refused line."""
    found = {}
    for line in lines[1:-1]:
        head, _, reasons = line.strip().partition("): ")
        found[head + ")"] = reasons
    return found


def test_a_new_vpc_range_is_refused_naming_database_and_cache(
    local_aws: LocalAws, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = deployed_sample(tmp_path, monkeypatch)
    data_before = (root / "build/dev/data.json").read_text()
    lines = refused_after(
        root, "environments/dev.yaml", lambda d: d["network"].update(cidr="10.20.0.0/16")
    )
    assert (root / "build/dev/data.json").read_text() == data_before
    found = blocked(lines)
    assert set(found) == {
        f"{DATA}: Database (AWS::RDS::DBInstance)",
        f"{DATA}: Cache (AWS::ElastiCache::ReplicationGroup)",
    }
    root_cause = (
        "NetworkStack/Vpc is replaced (create-only CidrBlock changes) "
        "because parameter NetworkStack/VpcCidr gets a new value"
    )
    assert found[f"{DATA}: Database (AWS::RDS::DBInstance)"] == (
        "moves: VPCSecurityGroups changes because DatabaseSecurityGroup is replaced "
        f"(create-only VpcId changes) because parameter VpcId changes because {root_cause}"
    )
    assert root_cause in found[f"{DATA}: Cache (AWS::ElastiCache::ReplicationGroup)"]
    assert lines[-1].endswith("--allow-replace Cache --allow-replace Database")

    outcome = run_plan(dev_context(root), ["Database", "Cache"])
    assert outcome.changed and outcome.record is not None
    assert len(outcome.record.guard) == 2


def test_a_new_database_user_is_refused_naming_database_and_secret(
    local_aws: LocalAws, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = deployed_sample(tmp_path, monkeypatch)
    lines = refused_after(root, "app.yaml", lambda d: d["database"].update(username="admin"))
    found = blocked(lines)
    assert set(found) == {
        f"{DATA}: Database (AWS::RDS::DBInstance)",
        f"{DATA}: DatabaseSecret (AWS::SecretsManager::Secret)",
    }
    assert (
        "read from DatabaseSecret, whose generated value changes"
        in (found[f"{DATA}: Database (AWS::RDS::DBInstance)"])
    )
    assert found[f"{DATA}: DatabaseSecret (AWS::SecretsManager::Secret)"] == (
        "regenerated while Database reads it (GenerateSecretString changed)"
    )
