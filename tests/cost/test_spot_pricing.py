"""Fargate Spot at its own rate: the shipped table's Spot section (source and date of its own)
prices a Spot share offline and beside live Price List rates (the Price List has no Spot); a
region without Spot rates prices it at on-demand and says so; a move to Spot shows in a plan's
cost delta. Numbers are worked out by hand from the table (730 hours a month)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from botocore.stub import ANY, Stubber

from factorstack.build.manifest import AwsTarget
from factorstack.cost import Assumptions, Estimate, compare, price_keys, priced, shipped, usages
from factorstack.cost.price_list import query_for
from factorstack.cost.prices import PriceBook, SpotSource, source_of
from factorstack.deploy.aws.price_source import price_book
from factorstack.deploy.aws.pricing import PriceCalls
from factorstack.deploy.present.cost import delta_json, delta_lines, notes
from tests.support.aws_answers import client
from tests.support.price_list_answers import answer
from tests.support.sample import copy_sample, edit_yaml
from tests.support.templates import templates_of

HOURS = 730
PAGE = "https://aws.amazon.com/fargate/pricing/"
READ = "2026-09-28"
SPOT = {  # the table's Spot section: region → (vCPU-hour, GB-hour) by architecture
    "eu-west-1": {"X86_64": (0.01224056, 0.0013441), "ARM64": (0.00979124, 0.00107649)},
    "us-east-1": {"X86_64": (0.01288871, 0.00141527), "ARM64": (0.01030969, 0.00113349)},
}


def spot_service_tree(arch: str = "ARM64", tasks: int = 1) -> dict[str, dict[str, Any]]:
    """One stack with one ECS service running all its tasks on FARGATE_SPOT."""
    resources = {
        "WorkerTaskDefinition": {
            "Type": "AWS::ECS::TaskDefinition",
            "Properties": {
                "Cpu": "256",
                "Memory": "512",
                "RuntimePlatform": {"CpuArchitecture": arch, "OperatingSystemFamily": "LINUX"},
            },
        },
        "WorkerService": {
            "Type": "AWS::ECS::Service",
            "Properties": {
                "ServiceName": "worker",
                "TaskDefinition": {"Ref": "WorkerTaskDefinition"},
                "DesiredCount": tasks,
                "CapacityProviderStrategy": [{"CapacityProvider": "FARGATE_SPOT", "Weight": 1}],
            },
        },
    }
    return {"": {"Resources": resources}}


def estimate_with(tree: dict[str, dict[str, Any]], book: PriceBook) -> Estimate:
    assumptions = Assumptions()
    return priced(usages(tree, assumptions), book, assumptions)


@pytest.mark.parametrize("region", sorted(SPOT))
def test_the_table_ships_spot_rates_with_their_own_source_and_date(region: str) -> None:
    book = shipped(region)
    assert book.spot == SpotSource(PAGE, READ)
    assert book.date == "2026-11-26"  # the on-demand rates keep their own date
    for arch, (vcpu, gb) in SPOT[region].items():
        assert book.rate(f"fargate_spot.vcpu_hour.{arch}") == vcpu
        assert book.rate(f"fargate_spot.gb_hour.{arch}") == gb
        # Spot is a discount on the same region's on-demand rate (about 70% off)
        assert 0.25 < vcpu / (book.rate(f"fargate.vcpu_hour.{arch}") or 1) < 0.5
        assert 0.25 < gb / (book.rate(f"fargate.gb_hour.{arch}") or 1) < 0.5
    assert source_of("fargate_spot.vcpu_hour.ARM64") == PAGE


def test_a_spot_share_is_priced_at_the_spot_rate_and_the_note_says_where_from() -> None:
    estimate = estimate_with(spot_service_tree("ARM64"), shipped("eu-west-1"))
    lines = {line.item: (round(line.monthly, 4), line.rate) for line in estimate.lines}
    assert lines == {
        "vCPU-hours (ARM64, Spot)": (round(0.25 * HOURS * 0.00979124, 4), 0.00979124),
        "GB-hours (ARM64, Spot)": (round(0.5 * HOURS * 0.00107649, 4), 0.00107649),
    }
    assert round(estimate.total, 2) == 2.18  # 1.79 + 0.39, against 7.21 on-demand
    assert (
        "Spot: Fargate Spot rates for eu-west-1 from https://aws.amazon.com/fargate/pricing/, "
        "read 2026-09-28; Spot prices move with supply and demand, so the Spot share is that "
        "day's figure"
    ) in notes(estimate)


def test_a_region_without_spot_rates_prices_spot_at_on_demand_and_says_so() -> None:
    on_demand = {"fargate.vcpu_hour.X86_64": 0.04656, "fargate.gb_hour.X86_64": 0.00511}
    book = PriceBook("eu-central-1", "AWS Price List API", "2026-11-26", on_demand)
    estimate = estimate_with(spot_service_tree("X86_64"), book)
    assert estimate.unpriced == ()
    assert {(line.item, line.rate, line.bound) for line in estimate.lines} == {
        ("vCPU-hours (X86_64, Spot, priced at on-demand: an upper bound)", 0.04656, True),
        ("GB-hours (X86_64, Spot, priced at on-demand: an upper bound)", 0.00511, True),
    }
    assert (
        "Spot: no Fargate Spot rate for eu-central-1 in the shipped table, so the Spot share "
        "is priced at the on-demand rate, its upper bound"
    ) in notes(estimate)


def test_the_fallback_rates_are_among_the_keys_an_estimate_asks_for() -> None:
    found = usages(spot_service_tree("ARM64"), Assumptions())
    assert price_keys(found) == {
        "fargate_spot.vcpu_hour.ARM64",
        "fargate_spot.gb_hour.ARM64",
        "fargate.vcpu_hour.ARM64",
        "fargate.gb_hour.ARM64",
    }
    assert query_for("fargate_spot.vcpu_hour.ARM64") is None  # the Price List has no Spot


def stubbed(keys: list[str]) -> tuple[PriceCalls, Stubber]:
    """A pricing client answering one GetProducts per key, in the order given."""
    pricing = client("pricing", "us-east-1")
    stub = Stubber(pricing)
    for key in keys:
        query = query_for(key)
        assert query is not None, key
        params = {
            "ServiceCode": query.service,
            "Filters": query.filters("eu-west-1"),
            "FormatVersion": "aws_v1",
            "MaxResults": ANY,
        }
        stub.add_response("get_products", answer(query.service), params)
    stub.activate()
    return PriceCalls(pricing), stub


def test_a_live_price_list_book_takes_spot_from_the_table_and_never_asks_for_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    target = AwsTarget("111111111111", "eu-west-1")
    keys = price_keys(usages(spot_service_tree("ARM64"), Assumptions()))
    # only the two on-demand fallbacks are asked (sorted); the Spot keys have no query
    calls, stub = stubbed(["fargate.gb_hour.ARM64", "fargate.vcpu_hour.ARM64"])
    book = price_book(target, keys, day="2026-11-26", calls=calls)
    stub.assert_no_pending_responses()
    assert book.source == "AWS Price List API" and book.spot == SpotSource(PAGE, READ)
    estimate = estimate_with(spot_service_tree("ARM64"), book)
    assert {line.rate for line in estimate.lines} == {0.00979124, 0.00107649}
    assert not any(line.bound for line in estimate.lines)
    # the next estimate that day reads the cache: no call, even though Spot is never cached
    quiet, silent = stubbed([])
    again = price_book(target, keys, day="2026-11-26", calls=quiet)
    silent.assert_no_pending_responses()
    assert again.source.startswith("AWS Price List API (cached ")
    assert again.rate("fargate_spot.gb_hour.ARM64") == 0.00107649


def dev_estimate(root: Path) -> Estimate:
    files = templates_of(root, "dev")
    tree: dict[str, dict[str, Any]] = {"": files["root.json"]}
    for logical, body in files["root.json"]["Resources"].items():
        if body["Type"] == "AWS::CloudFormation::Stack":
            tree[logical] = files[body["Properties"]["TemplateURL"]]
    return estimate_with(tree, shipped("eu-west-1"))


@pytest.fixture(scope="module")
def dev_before_after(tmp_path_factory: pytest.TempPathFactory) -> tuple[Estimate, Estimate]:
    """The sample's dev (ARM64) with worker and scheduler on demand, and as shipped (Spot)."""
    before = copy_sample(tmp_path_factory.mktemp("on-demand"))
    after = copy_sample(tmp_path_factory.mktemp("spot"))

    def on_demand(data: dict[str, Any]) -> None:
        for process in ("worker", "scheduler"):
            data["processes"][process].pop("spot")

    edit_yaml(before / "environments/dev.yaml", on_demand)
    return dev_estimate(before), dev_estimate(after)


def test_moving_dev_workers_to_spot_shows_in_the_cost_delta(
    dev_before_after: tuple[Estimate, Estimate],
) -> None:
    delta = compare(*dev_before_after)
    changes = {change.resource: change for change in delta.changes}
    assert set(changes) == {"worker", "scheduler"}
    # a 0.25 vCPU / 0.5 GB ARM64 task: 7.21 on-demand, 2.18 on Spot
    saving = 0.25 * HOURS * (0.03238 - 0.00979124) + 0.5 * HOURS * (0.00356 - 0.00107649)
    assert round(saving, 2) == 5.03
    assert changes["worker"].what == "capacity on-demand → Spot"
    assert round(changes["worker"].monthly, 2) == -5.03
    assert round(changes["worker"].monthly_max, 2) == -10.06  # at its 2 tasks
    assert round(changes["scheduler"].monthly, 2) == round(changes["scheduler"].monthly_max, 2)
    lines = delta_lines(delta)
    assert "worker capacity on-demand → Spot: -$5.03/month at 1 task, -$10.06 at 2" in lines
    assert lines[-1].startswith("Spot: Fargate Spot rates for eu-west-1 from ")
    data = delta_json(delta)
    assert data is not None and data["prices"]["spot"] == {"source": PAGE, "date": READ}


def test_spot_for_worker_and_scheduler_takes_about_10_dollars_off_dev(
    dev_before_after: tuple[Estimate, Estimate],
) -> None:
    before, after = dev_before_after
    assert round(before.total - after.total, 2) == 10.06  # two tasks at 5.03 each
    assert after.unpriced == ()
    assert {line.usage.resource for line in after.spot_lines()} == {"worker", "scheduler"}
    assert not any(line.bound for line in after.lines)
