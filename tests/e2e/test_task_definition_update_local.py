"""A process's size changes in the environment file and the deployed sample gets it on the local
endpoint as on AWS: a new task-definition revision with every property (the new cpu and memory,
Fargate, the roles), the service on that revision, the old revision INACTIVE."""

from __future__ import annotations

from pathlib import Path

import boto3
import pytest

from factorstack.build import build
from factorstack.deploy.apply import run_apply
from factorstack.deploy.plan import run_plan
from tests.support.fixture_build import dev_context
from tests.support.sample import edit_yaml


def _web_service(root: Path) -> dict:
    outputs = boto3.client("cloudformation").describe_stacks(StackName="example-dev")["Stacks"][0][
        "Outputs"
    ]
    cluster = next(o["OutputValue"] for o in outputs if o["OutputKey"] == "ClusterName")
    [service] = boto3.client("ecs").describe_services(cluster=cluster, services=["web"])["services"]
    return service


def _definition(arn: str) -> dict:
    return boto3.client("ecs").describe_task_definition(taskDefinition=arn)["taskDefinition"]


@pytest.mark.usefixtures("lint_assumed_clean")
def test_a_new_size_registers_a_new_revision_that_the_service_runs(deployed_sample: Path) -> None:
    root = deployed_sample
    before = _web_service(root)["taskDefinition"]
    first = _definition(before)
    assert (first["cpu"], first["memory"], first["status"]) == ("256", "512", "ACTIVE")

    size = {"cpu": 512, "memory": 1024}
    edit_yaml(root / "environments/dev.yaml", lambda d: d["processes"]["web"].update(size))
    build(root, ["dev"])
    assert run_plan(dev_context(root), []).changed
    assert run_apply(dev_context(root)).status == "UPDATE_COMPLETE"

    service = _web_service(root)
    after = service["taskDefinition"]
    assert after != before
    assert after.rsplit(":", 1)[0] == before.rsplit(":", 1)[0]  # the same family
    assert int(after.rsplit(":", 1)[1]) > int(before.rsplit(":", 1)[1])
    assert {d["taskDefinition"] for d in service["deployments"]} == {after}
    new = _definition(after)
    assert (new["cpu"], new["memory"], new["status"]) == ("512", "1024", "ACTIVE")
    # every property of the template is kept, not only the size
    assert new["requiresCompatibilities"] == ["FARGATE"]
    assert new["networkMode"] == "awsvpc"
    assert new["runtimePlatform"] == first["runtimePlatform"]
    assert new["runtimePlatform"]["cpuArchitecture"] == "ARM64"
    assert (new["executionRoleArn"], new["taskRoleArn"]) == (
        first["executionRoleArn"],
        first["taskRoleArn"],
    )
    assert [c["name"] for c in new["containerDefinitions"]] == ["web"]
    assert new["containerDefinitions"][0]["memory"] == 1024
    assert _definition(before)["status"] == "INACTIVE"
    assert not run_plan(dev_context(root), []).changed
