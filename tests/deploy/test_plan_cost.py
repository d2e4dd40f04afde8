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
