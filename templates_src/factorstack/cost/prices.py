"""Prices: a book of rates for one region, from the shipped table or from AWS's Price List.

The shipped table (price_table.json, inside the package) is dated and names its sources; it is
what an estimate uses offline. A book always says where its rates came from and when.

Fargate Spot rates are not in the Price List (AWS publishes them on the Fargate pricing page
only), so the table's `spot` section, with its own source and date, adds them to every book,
offline or live, for the regions it has; elsewhere a Spot share is priced at the on-demand rate.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any

from factorstack.errors import UsageError

TABLE_FILE = "price_table.json"
SHIPPED = "shipped price table"
PRICE_LIST = "AWS Price List API"


SPOT_PREFIX = "fargate_spot."  # price keys of the Spot section: fargate_spot.vcpu_hour.ARM64


@dataclass(frozen=True)
class SpotSource:
    """Where a book's Fargate Spot rates came from: a page read on a day (they move)."""

    source: str
    date: str


@dataclass(frozen=True)
class PriceBook:
    """Rates (USD per unit) for one region, and where they came from."""

    region: str
    source: str  # SHIPPED or PRICE_LIST (plus ", cached" when read from the day's cache)
    date: str  # the table's date, or the day the Price List was read
    rates: Mapping[str, float] = field(default_factory=dict)
    spot: SpotSource | None = None  # None: no Spot rates for the region

    def rate(self, key: str) -> float | None:
        return self.rates.get(key)

    def described(self) -> str:
        return f"{self.source}, {self.region}, {self.date}"


@cache
def _table() -> dict[str, Any]:
    text = resources.files("factorstack.cost").joinpath(TABLE_FILE).read_text(encoding="utf-8")
    data: dict[str, Any] = json.loads(text)
    return data


def shipped_regions() -> list[str]:
    return sorted(_table()["regions"])


def source_of(key: str) -> str:
    """The pricing page a shipped rate was read from."""
    if key.startswith(SPOT_PREFIX):
        return str(_table()["spot"]["source"])
    sources: dict[str, str] = _table()["sources"]
    return sources.get(key.split(".", 1)[0], "")


def with_spot(book: PriceBook, keys: Collection[str] | None = None) -> PriceBook:
    """The book plus the table's Fargate Spot rates for its region (those in `keys`, when
    given), when the table has them."""
    section = _table()["spot"]
    found = section["regions"].get(book.region)
    if not found:
        return book
    spot_rates = {str(k): float(v) for k, v in found.items() if keys is None or k in keys}
    spot = SpotSource(str(section["source"]), str(section["date"]))
    return PriceBook(book.region, book.source, book.date, {**spot_rates, **book.rates}, spot)


def shipped(region: str) -> PriceBook:
    """The shipped table's rates for a region, or refuse naming the regions it has."""
    regions = _table()["regions"]
    if region not in regions:
        raise UsageError(
            f"no shipped prices for region {region} (the table has "
            f"{', '.join(shipped_regions())}); run with AWS credentials and without --offline "
            "to read the AWS Price List"
        )
    entry = regions[region]
    rates = {str(k): float(v) for k, v in entry["rates"].items()}
    return with_spot(PriceBook(region=region, source=SHIPPED, date=str(entry["date"]), rates=rates))


def book_from_json(text: str) -> PriceBook | None:
    """A cached book, or None when the cache file is not one (then it is read again)."""
    try:
        data = json.loads(text)
        rates = {str(k): float(v) for k, v in data["rates"].items()}
        return PriceBook(str(data["region"]), str(data["source"]), str(data["date"]), rates)
    except (ValueError, KeyError, TypeError, AttributeError):
        return None


def book_to_json(book: PriceBook) -> str:
    data = {"region": book.region, "source": book.source, "date": book.date, "rates": book.rates}
    return json.dumps(data, indent=2, sort_keys=True) + "\n"
