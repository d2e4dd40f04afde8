"""The monthly estimate, read from the sample's rendered templates and priced from the shipped
table: the numbers below are worked out by hand from eu-west-1's rates (730 hours a month)."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from factorstack.cost import Assumptions, Estimate, priced, shipped, usages
from factorstack.errors import UsageError
from tests.support.sample import copy_sample
from tests.support.templates import templates_of

HOURS = 730


def tree_of(files: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Rendered files → stack path → template, as the root's TemplateURLs nest them."""
    root = files["root.json"]
    tree = {"": root}
    for logical, body in root["Resources"].items():
        if body["Type"] == "AWS::CloudFormation::Stack":
            tree[logical] = files[body["Properties"]["TemplateURL"]]
    return tree


def estimate_of(tree: dict[str, dict[str, Any]], region: str = "eu-west-1") -> Estimate:
    assumptions = Assumptions()
    return priced(usages(tree, assumptions), shipped(region), assumptions)


def lines_of(estimate: Estimate, resource: str) -> dict[str, tuple[float, float]]:
    return {
        line.usage.item: (round(line.monthly, 2), round(line.monthly_max, 2))
        for line in estimate.by_resource()[resource]
    }


@pytest.fixture(scope="module")
def dev_tree(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    root = copy_sample(tmp_path_factory.mktemp("sample"))
    return tree_of(templates_of(root, "dev"))


def test_sample_dev_line_by_line(dev_tree: dict[str, dict[str, Any]]) -> None:
    estimate = estimate_of(dev_tree)
    # web: 256 cpu = 0.25 vCPU, 512 MiB = 0.5 GB, 1-2 tasks, on ARM64 (dev's Graviton)
    vcpu, gb = 0.25 * HOURS * 0.03238, 0.5 * HOURS * 0.00356  # 5.9094, 1.2994
    assert lines_of(estimate, "web") == {
        "vCPU-hours (ARM64)": (round(vcpu, 2), round(2 * vcpu, 2)),
        "GB-hours (ARM64)": (round(gb, 2), round(2 * gb, 2)),
    }
    assert lines_of(estimate, "scheduler") == {  # a singleton on Spot: one task, always
        "vCPU-hours (ARM64, Spot)": (1.79, 1.79),  # 182.5 x 0.00979124
        "GB-hours (ARM64, Spot)": (0.39, 0.39),  # 365 x 0.00107649
    }
    # dev's NAT is a t4g.nano instance (network.nat: instance), not a NAT gateway
    assert lines_of(estimate, "NatInstance1") == {
        "t4g.nano instance-hours (Linux, on-demand)": (3.36, 3.36),  # 730 x 0.0046
        "EBS gp3 volume (8 GB)": (0.70, 0.70),  # 8 x 0.088
    }
    assert lines_of(estimate, "NatInstance1Address") == {"public IPv4 address-hours": (3.65, 3.65)}
    assert lines_of(estimate, "LoadBalancer") == {
        "ALB-hours": (18.40, 18.40),  # 730 x 0.0252
        "public IPv4 address-hours (2 zones)": (7.30, 7.30),  # 2 x 730 x 0.005
    }
    assert lines_of(estimate, "Database") == {
        "db.t4g.micro instance-hours (Single-AZ)": (12.41, 12.41),  # 730 x 0.017
        "gp3 storage (20 GB)": (2.54, 2.54),  # 20 x 0.127
    }
    assert lines_of(estimate, "Cache") == {
        "cache.t4g.micro node-hours (1 node, valkey)": (10.28, 10.28),  # 730 x 0.01408
    }
    assert lines_of(estimate, "DatabaseSecret") == {"secret-months": (0.40, 0.40)}
    assert lines_of(estimate, "WebLogGroup") == {
        "GB ingested (assumed)": (0.57, 0.57),
        "GB stored (7-day retention)": (0.01, 0.01),  # 7/30 GB x 0.03
    }
    # Groups only a Lambda function writes (once per deploy or rotation) are assumed 10 MB.
    for group in ("ReleaseRunnerLogGroup", "RotatorLogGroup", "MasterRotatorLogGroup"):
        assert lines_of(estimate, group) == {
            "GB ingested (assumed)": (0.01, 0.01),  # 0.01 x 0.57
            "GB stored (7-day retention)": (0.0, 0.0),
        }
    assert lines_of(estimate, "FlowLogsLogGroup")["GB ingested (assumed)"] == (0.57, 0.57)
    assert lines_of(estimate, "WebUnhealthyTargetsAlarm") == {"alarm metrics (1)": (0.10, 0.10)}
    assert estimate.unpriced == ()
    assert estimate.total == pytest.approx(sum(line.monthly for line in estimate.lines))
    # dev has no alarm topic (notify.topic: false), so no topic key either
    assert "AlarmTopicKey" not in estimate.by_resource()
    assert 74 < estimate.total <= 75 < estimate.total_max  # $74.83 and $84.22 on 2026-11-27


def test_prod_doubles_multi_az_and_counts_every_cache_node_and_nat(tmp_path: Path) -> None:
    estimate = estimate_of(tree_of(templates_of(copy_sample(tmp_path), "prod")))
    assert lines_of(estimate, "Database") == {
        "db.m7g.large instance-hours (Multi-AZ: 2 instances)": (273.02, 273.02),  # 2x730x0.187
        "gp3 storage (20 GB x 2)": (5.08, 5.08),
    }
    assert lines_of(estimate, "Cache") == {
        "cache.m7g.large node-hours (2 nodes, valkey)": (205.57, 205.57),  # 2x730x0.1408
    }
    assert {"Nat1", "Nat2", "Nat3"} <= set(estimate.by_resource())
    web = estimate.by_resource()["web"][0].usage
    assert web.tasks == (2, 10)


def arm_spot_tree(dev_tree: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """dev with worker on ARM64 and a capacity provider strategy: 1 on-demand, the rest Spot."""
    tree = copy.deepcopy(dev_tree)
    worker = next(t for t in tree.values() if "WorkerService" in t.get("Resources", {}))
    task = worker["Resources"]["WorkerTaskDefinition"]["Properties"]
    task["RuntimePlatform"]["CpuArchitecture"] = "ARM64"
    service = worker["Resources"]["WorkerService"]["Properties"]
    service.pop("LaunchType", None)
    service["CapacityProviderStrategy"] = [
        {"CapacityProvider": "FARGATE", "Base": 1, "Weight": 0},
        {"CapacityProvider": "FARGATE_SPOT", "Weight": 1},
    ]
    return tree


def test_arm_and_spot_lines_follow_the_task_definition_and_strategy(
    dev_tree: dict[str, dict[str, Any]],
) -> None:
    estimate = estimate_of(arm_spot_tree(dev_tree))
    vcpu = 0.25 * HOURS * 0.03238  # ARM64: 5.91 a task
    assert lines_of(estimate, "worker") == {
        "vCPU-hours (ARM64)": (round(vcpu, 2), round(vcpu, 2)),  # the base task, always 1
        "GB-hours (ARM64)": (1.30, 1.30),
        # the second task (at 2) is Spot, at eu-west-1's ARM64 Spot rates (2026-09-28)
        "vCPU-hours (ARM64, Spot)": (0.0, 1.79),  # 0.25 x 730 x 0.00979124
        "GB-hours (ARM64, Spot)": (0.0, 0.39),  # 0.5 x 730 x 0.00107649
    }


def test_a_size_the_table_lacks_is_named_not_zero(dev_tree: dict[str, dict[str, Any]]) -> None:
    tree = copy.deepcopy(dev_tree)
    data = next(t for t in tree.values() if "Database" in t.get("Resources", {}))
    data["Resources"]["Database"]["Properties"]["DBInstanceClass"] = "db.x2g.16xlarge"
    estimate = estimate_of(tree)
    assert [u.price for u in estimate.unpriced] == ["rds.mysql:db.x2g.16xlarge"]


def test_a_region_the_table_lacks_is_one_line() -> None:
    with pytest.raises(UsageError) as caught:
        shipped("ap-south-2")
    assert str(caught.value) == (
        "no shipped prices for region ap-south-2 (the table has eu-west-1, us-east-1); run "
        "with AWS credentials and without --offline to read the AWS Price List"
    )


def test_a_group_a_task_also_writes_keeps_the_full_log_assumption() -> None:
    """Only a group nothing but Lambda functions write is assumed small: a function's group
    that a container's awslogs driver also names is written all month."""
    function = {
        "Type": "AWS::Lambda::Function",
        "Properties": {"LoggingConfig": {"LogGroup": {"Ref": "Shared"}}},
    }
    task = {
        "Type": "AWS::ECS::TaskDefinition",
        "Properties": {
            "ContainerDefinitions": [
                {"LogConfiguration": {"Options": {"awslogs-group": {"Ref": "Shared"}}}}
            ]
        },
    }
    group = {"Type": "AWS::Logs::LogGroup", "Properties": {"RetentionInDays": 30}}
    template = {
        "Resources": {"Shared": group, "Own": group, "Fn": function, "Task": task},
    }
    template["Resources"]["OwnFn"] = {
        "Type": "AWS::Lambda::Function",
        "Properties": {"LoggingConfig": {"LogGroup": {"Ref": "Own"}}},
    }
    estimate = estimate_of({"": template})
    assert lines_of(estimate, "Shared")["GB ingested (assumed)"] == (0.57, 0.57)
    assert lines_of(estimate, "Own")["GB ingested (assumed)"] == (0.01, 0.01)
