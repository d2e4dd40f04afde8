"""The AWS Price List Query API (`pricing` GetProducts), for `factorstack cost` and the cost
delta in a plan's review.

The Price List endpoint lives in a few regions only; us-east-1 answers for every region (the
region asked about is a filter). It needs credentials like any call, but no particular account,
so it is opened apart from an environment's gateway.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import boto3
from botocore.exceptions import BotoCoreError

from factorstack.build.manifest import AwsTarget
from factorstack.cost.price_list import Query, query_for, rate_from
from factorstack.deploy.aws.session import RETRY_CONFIG, aws_errors, translate

PRICING_REGION = "us-east-1"
PAGE_SIZE = 100


class PriceCalls:
    """GetProducts for the keys an estimate needs."""

    def __init__(self, client: Any) -> None:
        self.client = client

    def products(self, query: Query, region: str) -> list[str]:
        """Every PriceList document of one query (JSON strings, as AWS sends them)."""
        found: list[str] = []
        pages = self.client.get_paginator("get_products")
        doing = f"reading prices from the AWS Price List ({query.service} {query.usagetype})"
        with aws_errors(doing):
            for page in pages.paginate(
                ServiceCode=query.service,
                Filters=query.filters(region),
                FormatVersion="aws_v1",
                PaginationConfig={"PageSize": PAGE_SIZE},
            ):
                found += [str(entry) for entry in page.get("PriceList") or []]
        return found

    def rates(self, keys: Iterable[str], region: str) -> dict[str, float]:
        """Key → on-demand USD rate, for the keys the Price List knows and answers."""
        rates: dict[str, float] = {}
        for key in sorted(set(keys)):
            query = query_for(key)
            if query is None:
                continue
            rate = rate_from(self.products(query, region), query)
            if rate is not None:
                rates[key] = rate
        return rates


def has_credentials(target: AwsTarget) -> bool:
    """Whether boto3 finds credentials for the environment's profile (no call is made)."""
    try:
        session = boto3.Session(profile_name=target.profile, region_name=target.region)
        return session.get_credentials() is not None
    except BotoCoreError:  # a missing profile, an unreadable config: no credentials
        return False


def open_prices(target: AwsTarget) -> PriceCalls:
    """A Price List client with the environment's profile (its role is not needed to read
    public prices)."""
    try:
        session = boto3.Session(profile_name=target.profile, region_name=target.region)
        client = session.client("pricing", region_name=PRICING_REGION, config=RETRY_CONFIG)
    except BotoCoreError as error:
        raise translate(error, "opening the AWS Price List") from None
    return PriceCalls(client)
