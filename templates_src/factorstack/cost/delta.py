"""What a change set does to the monthly bill: per resource, old estimate against new.

Resources are matched by name (a process, or a logical id), so a resized service shows as one
change naming what changed (`web cpu 256 → 512`), an added NAT gateway as added. A resource
whose cost did not move says nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

from factorstack.cost.estimate import Estimate, Line

CENT = 0.005  # below half a cent a month is no change


@dataclass(frozen=True)
class Change:
    """One resource's monthly delta, at the minimum and the maximum task count."""

    resource: str
    what: str  # "cpu 256 → 512", "added (NAT gateway)", "removed (alarm)"
    monthly: float
    monthly_max: float
    tasks: tuple[int, int] | None = None  # the new side's (min, max) tasks, for a service

    def line(self) -> str:
        """`web cpu 256 → 512: +$7.39/month at 1 task, +$14.78 at 2`."""
        text = f"{self.resource} {self.what}: {money(self.monthly, signed=True)}/month"
        if self.tasks is not None and self.tasks[0] != self.tasks[1]:
            low, high = self.tasks
            text += f" at {low} task{'' if low == 1 else 's'}, "
            text += f"{money(self.monthly_max, signed=True)} at {high}"
        return text

    def as_dict(self) -> dict[str, object]:
        return {
            "resource": self.resource,
            "change": self.what,
            "monthly_usd": round(self.monthly, 2),
            "monthly_max_usd": round(self.monthly_max, 2),
            "tasks": list(self.tasks) if self.tasks else None,
        }


@dataclass(frozen=True)
class CostDelta:
    """The estimate before and after a change set; `before` is None on a first create."""

    before: Estimate | None
    after: Estimate
    changes: tuple[Change, ...]

    @property
    def silent(self) -> bool:
        """Nothing to say: a deployed stack whose cost the change does not move."""
        return self.before is not None and not self.changes


def money(amount: float, signed: bool = False) -> str:
    sign = ("+" if amount >= 0 else "-") if signed else ("-" if amount < 0 else "")
    return f"{sign}${abs(amount):,.2f}"


def compare(before: Estimate | None, after: Estimate) -> CostDelta:
    """Per-resource changes between two estimates priced from the same book."""
    if before is None:
        return CostDelta(None, after, ())
    old, new = before.by_resource(), after.by_resource()
    changes = [
        change
        for name in [*new, *(n for n in old if n not in new)]
        if (change := _change(name, old.get(name, []), new.get(name, []))) is not None
    ]
    return CostDelta(before, after, tuple(changes))


def _change(name: str, old: list[Line], new: list[Line]) -> Change | None:
    low = sum(line.monthly for line in new) - sum(line.monthly for line in old)
    high = sum(line.monthly_max for line in new) - sum(line.monthly_max for line in old)
    if abs(low) < CENT and abs(high) < CENT:
        return None
    tasks = (new or old)[0].usage.tasks
    return Change(name, _what(old, new), low, high, tasks)


def _what(old: list[Line], new: list[Line]) -> str:
    if not old:
        return f"added ({new[0].usage.kind})"
    if not new:
        return f"removed ({old[0].usage.kind})"
    before, after = dict(old[0].usage.facts), dict(new[0].usage.facts)
    moved = [f"{k} {before.get(k, '-')} → {v}" for k, v in after.items() if before.get(k) != v]
    old_tasks, new_tasks = old[0].usage.tasks, new[0].usage.tasks
    if old_tasks != new_tasks and old_tasks and new_tasks:
        moved.append(f"tasks {_span(old_tasks)} → {_span(new_tasks)}")
    return ", ".join(moved) or "usage changed"


def _span(tasks: tuple[int, int]) -> str:
    return str(tasks[0]) if tasks[0] == tasks[1] else f"{tasks[0]}-{tasks[1]}"
