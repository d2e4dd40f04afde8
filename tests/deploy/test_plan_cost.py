"""A plan's cost delta: the deployed side is read once (the guard reads the same templates), and
a cost that cannot be priced never stops a plan."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rich.console import Console

from factorstack.build.manifest import AwsTarget, Build
from factorstack.deploy.aws.price_source import price_book
from factorstack.deploy.context import Context
from factorstack.deploy.cost import DeployedTree, PlanCost

NAT = {"Resources": {"Nat1": {"Type": "AWS::EC2::NatGateway", "Properties": {}}}}
TWO_NATS = {
    "Resources": {
        "Nat1": {"Type": "AWS::EC2::NatGateway", "Properties": {}},
        "Nat2": {"Type": "AWS::EC2::NatGateway", "Properties": {}},
    }
}


class CountingAws:
    """The two gateway reads a deployed tree needs, counted."""

    def __init__(self, templates: dict[str, dict[str, Any]]) -> None:
        self.templates = templates
        self.calls: list[str] = []

    def nested_stacks(self, stack_name: str) -> dict[str, str]:
        self.calls.append("nested_stacks")
        return {path: f"physical-{path or 'root'}" for path in self.templates}

    def deployed_template(self, physical: str) -> dict[str, Any]:
        self.calls.append(physical)
        path = physical.removeprefix("physical-")
        return self.templates["" if path == "root" else path]


def build_in(region: str, folder: Path) -> Build:
    return Build(
        folder=folder,
        app="example",
        environment="dev",
        stack_name="example-dev",
        target=AwsTarget("111111111111", region),
        config_sha256="",
        processes=(),
        templates={},
    )


def offline_context(root: Path) -> tuple[Context, Console]:
    console = Console(record=True, width=200)
    ctx = Context(
        root=root,
        environment="dev",
        console=console,
        prices_for=lambda target, keys, offline: price_book(target, keys, offline=True),
    )
    return ctx, console


def test_the_deployed_templates_are_read_once_for_guard_and_cost(tmp_path: Path) -> None:
    aws = CountingAws({"": {"Resources": {}}, "NetworkStack": NAT})
    tree = DeployedTree(aws, "example-dev")  # type: ignore[arg-type]
    tree.template("NetworkStack")  # what the guard reads first
    ctx, _ = offline_context(tmp_path)
    cost = PlanCost(ctx, build_in("eu-west-1", tmp_path), {"NetworkStack": TWO_NATS}, tree)
    delta = cost.delta()
    assert delta is not None and cost.delta() is delta
    assert [c.line() for c in delta.changes] == ["Nat2 added (NAT gateway): +$35.04/month"]
    assert aws.calls == ["nested_stacks", "physical-NetworkStack", "physical-root"]


def test_a_region_without_prices_is_one_line_and_the_plan_goes_on(tmp_path: Path) -> None:
    ctx, console = offline_context(tmp_path)
    cost = PlanCost(ctx, build_in("ap-south-2", tmp_path), {"NetworkStack": NAT}, None)
    assert cost.delta() is None
    assert console.export_text().startswith(
        "cost: not estimated (no shipped prices for region ap-south-2"
    )


def _cache_tree(nodes_default: int) -> dict[str, dict[str, Any]]:
    root = {
        "Parameters": {"CacheNodes": {"Type": "Number", "Default": nodes_default}},
        "Resources": {
            "DataStack": {
                "Type": "AWS::CloudFormation::Stack",
                "Properties": {
                    "TemplateURL": "data.json",
                    "Parameters": {"CacheNodes": {"Ref": "CacheNodes"}},
                },
            }
        },
    }
    data = {
        "Parameters": {"CacheNodes": {"Type": "Number"}},
        "Resources": {
            "Cache": {
                "Type": "AWS::ElastiCache::ReplicationGroup",
                "Properties": {
                    "CacheNodeType": "cache.t4g.micro",
                    "Engine": "valkey",
                    "NumCacheClusters": {"Ref": "CacheNodes"},
                },
            }
        },
    }
    return {"": root, "DataStack": data}


def test_the_deployed_side_counts_what_the_stack_holds_not_its_roots_default(
    tmp_path: Path,
) -> None:
    """A follow-up that did not finish leaves the stack holding 3 nodes while the deployed root
    says 1: the delta of a plan that removes two nodes must show them going."""
    aws = CountingAws(_cache_tree(1))
    tree = DeployedTree(aws, "example-dev", {"CacheNodes": "3"})  # type: ignore[arg-type]
    ctx, _ = offline_context(tmp_path)
    new = _cache_tree(1)
    cost = PlanCost(ctx, build_in("eu-west-1", tmp_path), new, tree)
    delta = cost.delta()
    assert delta is not None
    assert [c.line() for c in delta.changes] == ["Cache nodes 3 → 1: -$20.56/month"]
    # without the held values the deployed root's Default (1) would hide the change
    plain = PlanCost(ctx, build_in("eu-west-1", tmp_path), new, DeployedTree(aws, "x"))  # type: ignore[arg-type]
    unchanged = plain.delta()
    assert unchanged is not None and not unchanged.changes
