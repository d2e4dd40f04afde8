"""An environment's monthly estimate: its usages (kinds/) times a price book (prices.py)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from factorstack.cost.kinds import usages_of
from factorstack.cost.prices import SPOT_PREFIX, PriceBook
from factorstack.cost.tree import Tree
from factorstack.cost.usage import Assumptions, Usage


@dataclass(frozen=True)
class Line:
    """One priced line item."""

    usage: Usage
    rate: float
    bound: bool = False  # priced at the usage's fallback: an upper bound, not its own rate

    @property
    def item(self) -> str:
        """The line item as shown: says so when the rate is only an upper bound."""
        if not self.bound:
            return self.usage.item
        return f"{self.usage.item.removesuffix(')')}, priced at on-demand: an upper bound)"

    @property
    def spot(self) -> bool:
        return self.usage.price.startswith(SPOT_PREFIX)

    @property
    def monthly(self) -> float:
        return self.usage.quantity * self.rate

    @property
    def monthly_max(self) -> float:
        return self.usage.most * self.rate


@dataclass(frozen=True)
class Estimate:
    """Monthly USD by resource and line item, with where the prices came from."""

    book: PriceBook
    lines: tuple[Line, ...]
    unpriced: tuple[Usage, ...] = ()  # no rate in the book: named, never silently zero
    assumptions: tuple[str, ...] = field(default_factory=tuple)

    def spot_lines(self) -> list[Line]:
        """The Fargate Spot shares: priced at the book's Spot rate, or bound at on-demand."""
        return [line for line in self.lines if line.spot]

    @property
    def total(self) -> float:
        return sum(line.monthly for line in self.lines)

    @property
    def total_max(self) -> float:
        return sum(line.monthly_max for line in self.lines)

    def by_resource(self) -> dict[str, list[Line]]:
        grouped: dict[str, list[Line]] = {}
        for line in self.lines:
            grouped.setdefault(line.usage.resource, []).append(line)
        return grouped


def usages(templates: Mapping[str, Mapping[str, Any]], assumptions: Assumptions) -> list[Usage]:
    """What the templates (stack path → template) use in a month."""
    return usages_of(Tree(templates), assumptions)


def price_keys(found: list[Usage]) -> set[str]:
    """Every rate the usages may need, fallbacks included (a Spot share without a Spot rate)."""
    return {usage.price for usage in found} | {u.fallback for u in found if u.fallback}


def priced(found: list[Usage], book: PriceBook, assumptions: Assumptions) -> Estimate:
    """Each usage times its rate (or its fallback's, marked as an upper bound); usages without
    either are kept aside and named."""
    lines: list[Line] = []
    unpriced: list[Usage] = []
    for usage in found:
        line = _line(usage, book)
        if line is None:
            unpriced.append(usage)
        else:
            lines.append(line)
    return Estimate(book, tuple(lines), tuple(unpriced), tuple(assumptions.lines()))


def _line(usage: Usage, book: PriceBook) -> Line | None:
    rate = book.rate(usage.price)
    if rate is not None:
        return Line(usage, rate)
    bound = book.rate(usage.fallback) if usage.fallback else None
    return Line(usage, bound, bound=True) if bound is not None else None
