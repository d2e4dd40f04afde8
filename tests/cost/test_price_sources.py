"""Where prices come from: the Price List API (GetProducts, answered by a Stubber with responses
in AWS's format), cached per region and day; the shipped table offline; and both give the same
estimate for the same rates."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from botocore.stub import ANY, Stubber

from factorstack.build.manifest import AwsTarget
from factorstack.cost import Assumptions, price_keys, priced, shipped, usages
from factorstack.cost.price_list import query_for, rate_from
from factorstack.deploy.aws.price_source import cache_folder, price_book
from factorstack.deploy.aws.pricing import PriceCalls
from tests.support.aws_answers import client
from tests.support.price_list_answers import answer
from tests.support.sample import copy_sample
from tests.support.templates import templates_of

TARGET = AwsTarget("111111111111", "eu-west-1")
DAY = "2026-11-26"


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    return tmp_path / "xdg" / "factorstack" / "prices"


@pytest.fixture(scope="module")
def dev_tree(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    files = templates_of(copy_sample(tmp_path_factory.mktemp("sample")), "dev")
    root = files["root.json"]
    tree = {"": root}
    for logical, body in root["Resources"].items():
        if body["Type"] == "AWS::CloudFormation::Stack":
            tree[logical] = files[body["Properties"]["TemplateURL"]]
    return tree


def stubbed_prices(keys: set[str]) -> tuple[PriceCalls, Stubber]:
    """A pricing client whose Stubber answers one GetProducts per key, in the order asked;
    Fargate Spot rates are not in the Price List, so nothing asks for them there."""
    pricing = client("pricing", "us-east-1")
    stub = Stubber(pricing)
    for key in sorted(k for k in keys if not k.startswith("fargate_spot.")):
        query = query_for(key)
        assert query is not None, key
        stub.add_response(
            "get_products",
            answer(query.service),
            {
                "ServiceCode": query.service,
                "Filters": query.filters("eu-west-1"),
                "FormatVersion": "aws_v1",
                "MaxResults": ANY,
            },
        )
    stub.activate()
    return PriceCalls(pricing), stub


def test_the_table_and_the_price_list_give_the_same_estimate(
    dev_tree: dict[str, dict[str, Any]], cache: Path
) -> None:
    assumptions = Assumptions()
    found = usages(dev_tree, assumptions)
    keys = price_keys(found)
    calls, stub = stubbed_prices(keys)
    listed = price_book(TARGET, keys, day=DAY, calls=calls)
    stub.assert_no_pending_responses()
    assert listed.source == "AWS Price List API" and listed.date == DAY
    from_api = priced(found, listed, assumptions)
    from_table = priced(found, shipped("eu-west-1"), assumptions)
    assert from_api.unpriced == from_table.unpriced == ()
    assert [(line.usage, line.rate) for line in from_api.lines] == [
        (line.usage, line.rate) for line in from_table.lines
    ]
    assert from_api.total == pytest.approx(from_table.total)


def test_the_price_list_is_asked_once_per_region_and_day(
    dev_tree: dict[str, dict[str, Any]], cache: Path
) -> None:
    keys = price_keys(usages(dev_tree, Assumptions()))
    calls, stub = stubbed_prices(keys)
    first = price_book(TARGET, keys, day=DAY, calls=calls)
    assert (cache / f"eu-west-1-{DAY}.json").is_file()
    # The same day again: read from the cache, no call (the Stubber has no answers left).
    again = price_book(TARGET, keys, day=DAY, calls=calls)
    assert again.rates == first.rates
    assert again.source == f"AWS Price List API (cached {cache / f'eu-west-1-{DAY}.json'})"
    # The next day asks again.
    nat = {"nat.hour"}
    calls, stub = stubbed_prices(nat)
    tomorrow = price_book(TARGET, nat, day="2026-11-27", calls=calls)
    stub.assert_no_pending_responses()
    assert tomorrow.rates == {"nat.hour": 0.048}
    assert cache_folder() == cache


def test_regional_and_arm_rows_are_not_taken_for_the_asked_usage_type() -> None:
    nat = query_for("nat.hour")
    gb = query_for("fargate.gb_hour.X86_64")
    assert nat is not None and gb is not None
    assert rate_from(answer("AmazonEC2")["PriceList"], nat) == 0.048  # not RegionalNatGateway
    assert rate_from(answer("AmazonECS")["PriceList"], gb) == 0.004445  # not the ARM row


def test_a_key_the_price_list_does_not_answer_comes_from_the_table_and_is_named(
    cache: Path,
) -> None:
    pricing = client("pricing", "us-east-1")
    stub = Stubber(pricing)
    stub.add_response("get_products", {"FormatVersion": "aws_v1", "PriceList": []})
    stub.activate()
    book = price_book(TARGET, {"kms.key_month"}, day=DAY, calls=PriceCalls(pricing))
    assert book.rates == {"kms.key_month": 1.0}
    assert book.source == (
        "AWS Price List API; from the shipped price table (2026-11-26): kms.key_month"
    )


def test_a_price_list_error_falls_back_to_the_table_and_says_why(cache: Path) -> None:
    pricing = client("pricing", "us-east-1")
    stub = Stubber(pricing)
    stub.add_client_error("get_products", "AccessDeniedException", "no pricing:GetProducts")
    stub.activate()
    book = price_book(TARGET, {"nat.hour"}, day=DAY, calls=PriceCalls(pricing))
    assert book.rates["nat.hour"] == 0.048
    assert book.source.startswith("shipped price table (Price List unavailable: reading prices")
    assert "access denied: no pricing:GetProducts" in book.source


@pytest.mark.parametrize(
    ("offline", "environment", "reason"),
    [
        (True, {}, "--offline"),
        (False, {"AWS_ENDPOINT_URL": "http://127.0.0.1:5000"}, "AWS_ENDPOINT_URL points at"),
        (False, {}, "no AWS credentials"),
    ],
)
def test_offline_prices_name_their_source(
    offline: bool,
    environment: dict[str, str],
    reason: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    for key, value in environment.items():
        monkeypatch.setenv(key, value)
    book = price_book(TARGET, {"nat.hour"}, offline=offline)
    assert book.source.startswith(f"shipped price table ({reason}")
    assert book.date == "2026-11-26" and book.rates["nat.hour"] == 0.048
