"""An estimate and a plan's cost delta for people (terminal table, Markdown) and for scripts
(JSON with stable keys)."""

from __future__ import annotations

import json
from typing import Any

from rich.table import Table

from factorstack.cost import CostDelta, Estimate, Line, money

# Resources shown by what they are, the running costs first; a kind not listed comes last.
KIND_ORDER = (
    "Fargate service",
    "NAT gateway",
    "Elastic IP",
    "load balancer",
    "interface endpoint",
    "RDS instance",
    "ElastiCache",
    "secret",
    "KMS key",
    "log group",
    "alarm",
)
HEADERS = ["Resource", "Line item", "Quantity", "Rate", "Monthly (min)", "Monthly (max)"]
ROUND = 2


def total_line(estimate: Estimate) -> str:
    """`$121.43/month at the minimum task counts, $139.45 at the maximum`."""
    low, high = money(estimate.total), money(estimate.total_max)
    if abs(estimate.total - estimate.total_max) < 0.005:
        return f"{low}/month"
    return f"{low}/month at the minimum task counts, {high} at the maximum"


def prices_line(estimate: Estimate) -> str:
    book = estimate.book
    return f"prices: {book.source}, {book.region}, dated {book.date} (USD, on-demand)"


def spot_line(estimate: Estimate) -> str | None:
    """Where the Fargate Spot share's rate came from, or None when nothing runs on Spot."""
    spot = estimate.spot_lines()
    if not spot:
        return None
    region = estimate.book.region
    if any(line.bound for line in spot) or estimate.book.spot is None:
        return (
            f"Spot: no Fargate Spot rate for {region} in the shipped table, so the Spot share "
            "is priced at the on-demand rate, its upper bound"
        )
    source = estimate.book.spot
    return (
        f"Spot: Fargate Spot rates for {region} from {source.source}, read {source.date}; "
        "Spot prices move with supply and demand, so the Spot share is that day's figure"
    )


def _quantity(line: Line) -> str:
    usage = line.usage
    text = f"{usage.quantity:,.2f}"
    if usage.quantity_max is not None and usage.quantity_max != usage.quantity:
        text += f"-{usage.quantity_max:,.2f}"
    return f"{text} {usage.unit}"


def _rate(line: Line) -> str:
    """`$0.04048/vCPU-hour`, `$0.10/metric-month`: as many digits as the rate has, two at least."""
    digits = f"{line.rate:.6f}".rstrip("0")
    whole, _, fraction = digits.partition(".")
    return f"${whole}.{fraction.ljust(2, '0')}/{line.usage.unit}"


def grouped(estimate: Estimate) -> list[tuple[str, list[Line]]]:
    """Resources in KIND_ORDER, then by name."""

    def rank(item: tuple[str, list[Line]]) -> tuple[int, str]:
        kind = item[1][0].usage.kind
        order = KIND_ORDER.index(kind) if kind in KIND_ORDER else len(KIND_ORDER)
        return order, item[0]

    return sorted(estimate.by_resource().items(), key=rank)


def _cells(line: Line, first: bool) -> list[str]:
    usage = line.usage
    name = f"{usage.resource} ({usage.kind})" if first else ""
    return [
        name,
        line.item,
        _quantity(line),
        _rate(line),
        money(line.monthly),
        money(line.monthly_max),
    ]


def rich_table(estimate: Estimate, title: str) -> Table:
    table = Table(title=f"{title}: {total_line(estimate)}")
    for header in HEADERS:
        numeric = header.startswith(("Quantity", "Rate", "Monthly"))
        table.add_column(header, justify="right" if numeric else "left", overflow="fold")
    for _, lines in grouped(estimate):
        for index, line in enumerate(lines):
            table.add_row(*_cells(line, index == 0))
    return table


def notes(estimate: Estimate) -> list[str]:
    """What is printed under the table: the prices' source, the unpriced, the assumptions."""
    found = [prices_line(estimate)]
    spot = spot_line(estimate)
    found += [spot] if spot else []
    found += [
        f"not priced (no rate for {u.price}): {u.resource} {u.item}" for u in estimate.unpriced
    ]
    found += [f"assumed: {line}" for line in estimate.assumptions]
    return found


def as_json(estimate: Estimate, environment: str) -> str:
    resources = [_resource_json(name, items) for name, items in grouped(estimate)]
    data: dict[str, Any] = {
        "environment": environment,
        "region": estimate.book.region,
        "currency": "USD",
        "prices": _prices_json(estimate),
        "total_monthly_usd": round(estimate.total, ROUND),
        "total_monthly_max_usd": round(estimate.total_max, ROUND),
        "resources": resources,
        "unpriced": [
            {"resource": u.resource, "item": u.item, "price_key": u.price}
            for u in estimate.unpriced
        ],
        "assumptions": list(estimate.assumptions),
    }
    return json.dumps(data, indent=2) + "\n"


def _prices_json(estimate: Estimate) -> dict[str, Any]:
    """Where the rates came from; `spot` says where the Spot rates did (null: none shipped for
    the region, so a Spot share is priced at on-demand)."""
    book = estimate.book
    spot = {"source": book.spot.source, "date": book.spot.date} if book.spot else None
    return {"source": book.source, "date": book.date, "spot": spot}


def _resource_json(name: str, items: list[Line]) -> dict[str, Any]:
    first = items[0].usage
    return {
        "resource": name,
        "kind": first.kind,
        "tasks": list(first.tasks) if first.tasks else None,
        "monthly_usd": round(sum(line.monthly for line in items), ROUND),
        "monthly_max_usd": round(sum(line.monthly_max for line in items), ROUND),
        "lines": [
            {
                "item": line.item,
                "price_key": line.usage.fallback if line.bound else line.usage.price,
                "quantity": round(line.usage.quantity, 4),
                "quantity_max": round(line.usage.most, 4),
                "unit": line.usage.unit,
                "rate_usd": line.rate,
                "monthly_usd": round(line.monthly, ROUND),
                "monthly_max_usd": round(line.monthly_max, ROUND),
            }
            for line in items
        ],
    }


def delta_lines(delta: CostDelta | None) -> list[str]:
    """The review's cost lines: one per resource whose cost moves and the totals; a first
    create shows the new total; a change that moves no cost says nothing."""
    if delta is None or delta.silent:
        return []
    after = delta.after
    spot = spot_line(after)
    if delta.before is None:
        lines = [f"monthly cost (new): {total_line(after)}; {prices_line(after)}"]
        return lines + ([spot] if spot else [])
    before = delta.before
    change = after.total - before.total
    lines = [change_item.line() for change_item in delta.changes]
    lines.append(
        f"monthly cost: {money(before.total)} → {money(after.total)} "
        f"({money(change, signed=True)}) at the minimum task counts; {prices_line(after)}"
    )
    return lines + ([spot] if spot else [])


def delta_json(delta: CostDelta | None) -> dict[str, Any] | None:
    """plan.json's `cost`: the totals and the per-resource changes, or None when silent."""
    if delta is None or delta.silent:
        return None
    before = delta.before
    return {
        "currency": "USD",
        "prices": _prices_json(delta.after),
        "before_monthly_usd": round(before.total, ROUND) if before else None,
        "after_monthly_usd": round(delta.after.total, ROUND),
        "after_monthly_max_usd": round(delta.after.total_max, ROUND),
        "changes": [change.as_dict() for change in delta.changes],
    }
