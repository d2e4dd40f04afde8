"""What the cheap dev profile saves, priced from the shipped eu-west-1 table: the sample's dev
before (X86_64, a NAT gateway) and after (ARM64, a NAT instance), resource by resource."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from factorstack.cost import Assumptions, Estimate, compare, priced, shipped, usages
from tests.support.sample import copy_sample, edit_yaml
from tests.support.templates import templates_of

HOURS = 730
MAX_SAVING = 30.98 + 3.60 + 2 * 6.83 + 6.83  # web and worker at their 2 tasks


def estimate(root: Path, env: str = "dev") -> Estimate:
    files = templates_of(root, env)
    tree: dict[str, dict[str, Any]] = {"": files["root.json"]}
    for logical, body in files["root.json"]["Resources"].items():
        if body["Type"] == "AWS::CloudFormation::Stack":
            tree[logical] = files[body["Properties"]["TemplateURL"]]
    assumptions = Assumptions()
    return priced(usages(tree, assumptions), shipped("eu-west-1"), assumptions)


@pytest.fixture(scope="module")
def before_after(tmp_path_factory: pytest.TempPathFactory) -> tuple[Estimate, Estimate]:
    after = copy_sample(tmp_path_factory.mktemp("after"))
    before = copy_sample(tmp_path_factory.mktemp("before"))

    def undo_profile(data: dict[str, Any]) -> None:
        data.pop("cpu_architecture")
        data["network"].pop("nat")
        for process in ("worker", "scheduler"):
            data["processes"][process].pop("spot")

    edit_yaml(before / "environments/dev.yaml", undo_profile)
    return estimate(before), estimate(after)


def test_the_dev_profile_saves_about_46_dollars_a_month(
    before_after: tuple[Estimate, Estimate],
) -> None:
    before, after = before_after
    # 2026-11-26: $123.98 → $77.54 (the rest of the estimate moves as the app grows)
    # 30.98 egress + 1.80 web on Graviton + 2 x 6.83 worker and scheduler on Graviton Spot
    assert round(before.total - after.total, 2) == 46.44
    assert round(before.total_max - after.total_max, 2) == round(MAX_SAVING, 2)
    assert after.unpriced == before.unpriced == ()


def test_the_nat_gateway_gives_way_to_a_t4g_nano(before_after: tuple[Estimate, Estimate]) -> None:
    delta = compare(*before_after)
    changes = {change.resource: change for change in delta.changes}
    assert changes["Nat1"].what == "removed (NAT gateway)"
    assert round(changes["Nat1"].monthly, 2) == -35.04  # 730 x 0.048
    assert changes["Nat1Address"].what == "removed (Elastic IP)"
    assert changes["NatInstance1"].what == "added (EC2 instance)"
    assert round(changes["NatInstance1"].monthly, 2) == 4.06  # 730 x 0.0046 + 8 GB x 0.088
    assert round(changes["NatInstance1Address"].monthly, 2) == 3.65  # the same public address
    egress = sum(changes[n].monthly for n in ("Nat1", "Nat1Address", "NatInstance1"))
    assert round(egress + changes["NatInstance1Address"].monthly, 2) == -30.98


def test_graviton_tasks_cost_a_fifth_less_and_spot_about_70_percent(
    before_after: tuple[Estimate, Estimate],
) -> None:
    changes = {change.resource: change for change in compare(*before_after).changes}
    assert changes["web"].what == "architecture X86_64 → ARM64"  # on-demand: it serves users
    assert round(changes["web"].monthly, 2) == -1.80  # 9.01 → 7.21 a task
    assert round(changes["web"].monthly_max, 2) == -3.60  # at its 2 tasks
    for process in ("worker", "scheduler"):
        assert changes[process].what == "architecture X86_64 → ARM64, capacity on-demand → Spot"
        assert round(changes[process].monthly, 2) == -6.83  # 9.01 → 2.18 a task


def test_spot_is_named_and_priced_at_its_own_rate(tmp_path: Path) -> None:
    """A Spot worker (staging, X86_64) is priced at eu-west-1's shipped Spot rates, not at the
    on-demand rate: about 70% less."""
    root = copy_sample(tmp_path)
    edit_yaml(
        root / "environments/staging.yaml",
        lambda d: d["processes"]["worker"].update(spot=True),
    )
    lines = estimate(root, "staging").by_resource()["worker"]
    assert {(line.item, line.rate, line.bound) for line in lines} == {
        ("vCPU-hours (X86_64, Spot)", 0.01224056, False),
        ("GB-hours (X86_64, Spot)", 0.0013441, False),
    }


def test_an_instance_whose_root_size_the_template_leaves_to_its_image_has_no_volume_line() -> None:
    from factorstack.cost.kinds.instances import instance
    from factorstack.cost.tree import Found, Tree

    found = Found("", "Bastion", "AWS::EC2::Instance", {"InstanceType": "t4g.nano"})
    lines = instance(found, Tree({}), Assumptions())
    assert [(u.item, u.price, u.quantity) for u in lines] == [
        ("t4g.nano instance-hours (Linux, on-demand)", "ec2.instance:t4g.nano", HOURS)
    ]


def test_the_price_list_answers_a_nat_instance_and_its_volume() -> None:
    from factorstack.cost.price_list import query_for, rate_from
    from tests.support.price_list_answers import answer

    box = query_for("ec2.instance:t4g.nano")
    assert box is not None and box.service == "AmazonEC2"
    assert {"Type": "EQUALS", "Field": "operatingSystem", "Value": "Linux"} in box.filters(
        "eu-west-1"
    )
    assert rate_from(answer("AmazonEC2")["PriceList"], box) == 0.0046
    volume = query_for("ebs.gp3.gb_month")
    assert volume is not None
    assert rate_from(answer("AmazonEC2")["PriceList"], volume) == 0.088
