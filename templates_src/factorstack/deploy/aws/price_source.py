"""Which prices an estimate uses: the AWS Price List, cached per region and day, or the shipped
table when AWS cannot be asked (--offline, a local endpoint, no credentials) or does not answer.

The book always says which it is and its date; rates the Price List did not answer are taken
from the shipped table and named. The Price List has no Fargate Spot rates, so both kinds of
book take them from the table's Spot section (its own source and date) where it has the region.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Collection
from datetime import UTC, datetime
from pathlib import Path

from factorstack.build.manifest import AwsTarget
from factorstack.cost.price_list import query_for
from factorstack.cost.prices import (
    PRICE_LIST,
    SHIPPED,
    PriceBook,
    book_from_json,
    book_to_json,
    shipped,
    with_spot,
)
from factorstack.deploy.aws.pricing import PriceCalls, has_credentials, open_prices
from factorstack.errors import DeployError, UsageError

CACHE_PARTS = ("factorstack", "prices")

PricesFor = Callable[[AwsTarget, Collection[str], bool], PriceBook]


def cache_folder() -> Path:
    """$XDG_CACHE_HOME/factorstack/prices, else ~/.cache/factorstack/prices."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base).joinpath(*CACHE_PARTS)


def today() -> str:
    return datetime.now(UTC).date().isoformat()


def offline_reason(offline: bool, target: AwsTarget) -> str | None:
    """Why the Price List is not asked, or None when it is."""
    if offline:
        return "--offline"
    if os.environ.get("AWS_ENDPOINT_URL"):
        return "AWS_ENDPOINT_URL points at another endpoint"
    if not has_credentials(target):
        return "no AWS credentials"
    return None


def price_book(
    target: AwsTarget,
    keys: Collection[str],
    offline: bool = False,
    day: str | None = None,
    calls: PriceCalls | None = None,
) -> PriceBook:
    """The prices for `keys` in the target's region (see the module docstring)."""
    reason = offline_reason(offline, target) if calls is None else None
    if reason is not None:
        return _labelled(shipped(target.region), reason)
    try:
        book = listed_book(target, set(keys), day or today(), calls)
    except DeployError as error:  # unreachable or refused: say so, price from the table
        return _labelled(shipped(target.region), f"Price List unavailable: {error}")
    return _filled(with_spot(book, keys), set(keys))


def listed_book(target: AwsTarget, keys: set[str], day: str, calls: PriceCalls | None) -> PriceBook:
    """The day's cached Price List book, asking AWS for the keys it does not hold yet."""
    path = cache_folder() / f"{target.region}-{day}.json"
    cached = book_from_json(path.read_text(encoding="utf-8")) if path.is_file() else None
    rates = dict(cached.rates) if cached else {}
    missing = {key for key in keys - set(rates) if query_for(key) is not None}  # Spot: never
    if missing:
        rates.update((calls or open_prices(target)).rates(missing, target.region))
        _write(path, PriceBook(target.region, PRICE_LIST, day, rates))
    source = PRICE_LIST if missing else f"{PRICE_LIST} (cached {path})"
    return PriceBook(target.region, source, day, rates)


def _filled(book: PriceBook, keys: set[str]) -> PriceBook:
    """Rates the Price List did not answer, from the shipped table when it has the region."""
    missing = sorted(keys - set(book.rates))
    if not missing:
        return book
    try:
        table = shipped(book.region)
    except UsageError:  # a region the table lacks: those lines stay unpriced, and named
        return book
    filled = {k: table.rates[k] for k in missing if k in table.rates}
    if not filled:
        return book
    source = f"{book.source}; from the {SHIPPED} ({table.date}): {', '.join(sorted(filled))}"
    return PriceBook(book.region, source, book.date, {**book.rates, **filled}, book.spot)


def _labelled(book: PriceBook, reason: str) -> PriceBook:
    return PriceBook(book.region, f"{book.source} ({reason})", book.date, book.rates, book.spot)


def _write(path: Path, book: PriceBook) -> None:
    """Write the day's cache; a cache that cannot be written is only slower next time."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text(book_to_json(book), encoding="utf-8")
        tmp.replace(path)
    except OSError:
        pass
