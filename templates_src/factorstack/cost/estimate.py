"""An environment's monthly estimate: its usages (kinds/) times a price book (prices.py)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from factorstack.cost.kinds import usages_of
from factorstack.cost.prices import PriceBook
from factorstack.cost.tree import Tree
from factorstack.cost.usage import Assumptions, Usage


@dataclass(frozen=True)
class Line:
    """One priced line item."""

    usage: Usage
    rate: float

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
    return {usage.price for usage in found}


def priced(found: list[Usage], book: PriceBook, assumptions: Assumptions) -> Estimate:
    """Each usage times its rate; usages without one are kept aside and named."""
    lines: list[Line] = []
    unpriced: list[Usage] = []
    for usage in found:
        rate = book.rate(usage.price)
        if rate is None:
            unpriced.append(usage)
        else:
            lines.append(Line(usage, rate))
    return Estimate(book, tuple(lines), tuple(unpriced), tuple(assumptions.lines()))
