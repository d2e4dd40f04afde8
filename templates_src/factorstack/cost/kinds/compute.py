"""Fargate: vCPU-hours and GB-hours of each ECS service at its minimum and maximum task count.

The task counts come from the service's scalable target (`<Process>ScalableTarget`, the
autoscaling stack's logical id), else its DesiredCount, else 1 (what ECS starts without one).
The CPU architecture comes from the task definition's RuntimePlatform (x86 when absent), and a
capacity provider strategy that uses FARGATE_SPOT puts that share of the tasks on Spot, priced
at the Spot rate (`fargate_spot.*`), or at the on-demand rate (its fallback, an upper bound)
where the price book has no Spot rate for the region.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from factorstack.cost.kinds.registry import billed
from factorstack.cost.prices import SPOT_PREFIX
from factorstack.cost.tree import Found, Tree, as_int, literal
from factorstack.cost.usage import Assumptions, Usage

X86 = "X86_64"
SPOT = "FARGATE_SPOT"
SERVICE_SUFFIX = "Service"  # `WebService` ↔ `WebScalableTarget`
TARGET_SUFFIX = "ScalableTarget"


def task_counts(service: Found, tree: Tree) -> tuple[int, int]:
    """(minimum, maximum) tasks of a service."""
    stem = service.logical.removesuffix(SERVICE_SUFFIX)
    target = tree.find(f"{stem}{TARGET_SUFFIX}")
    if target is not None:
        low = as_int(target.properties.get("MinCapacity"), 1)
        return low, max(low, as_int(target.properties.get("MaxCapacity"), low))
    desired = as_int(service.properties.get("DesiredCount"), 1)
    return desired, desired


def spot_tasks(strategy: Any, tasks: int) -> int:
    """How many of `tasks` run on FARGATE_SPOT: each provider's base first, then the rest by
    weight (ECS's rule for a capacity provider strategy)."""
    if not isinstance(strategy, Sequence) or not strategy:
        return 0
    items = [s for s in strategy if isinstance(s, Mapping)]
    bases = {str(s.get("CapacityProvider")): as_int(s.get("Base"), 0) for s in items}
    weights = {str(s.get("CapacityProvider")): as_int(s.get("Weight"), 0) for s in items}
    spot_base = min(bases.get(SPOT, 0), tasks)
    rest = max(0, tasks - sum(bases.values()))
    total = sum(weights.values())
    return spot_base + (round(rest * weights.get(SPOT, 0) / total) if total else 0)


def capacity_of(strategy: Any) -> str:
    """`on-demand`, `Spot` or `on-demand + Spot`: the providers a service's strategy names, so a
    cost delta says `capacity on-demand → Spot` when a process moves to Spot."""
    items = strategy if isinstance(strategy, Sequence) else []
    providers = {str(s.get("CapacityProvider")) for s in items if isinstance(s, Mapping)}
    if SPOT not in providers:
        return "on-demand"
    return "Spot" if providers == {SPOT} else "on-demand + Spot"


def architecture(task: Found) -> str:
    platform = task.properties.get("RuntimePlatform")
    if isinstance(platform, Mapping):
        return str(literal(platform.get("CpuArchitecture"), X86))
    return X86


@billed("AWS::ECS::Service")
def fargate_service(found: Found, tree: Tree, assumptions: Assumptions) -> list[Usage]:
    task = tree.referenced(found, found.properties.get("TaskDefinition"))
    if task is None:
        return []
    cpu = as_int(task.properties.get("Cpu"), 256)
    memory = as_int(task.properties.get("Memory"), 512)
    arch = architecture(task)
    low, high = task_counts(found, tree)
    name = str(literal(found.properties.get("ServiceName"), found.logical))
    strategy = found.properties.get("CapacityProviderStrategy")
    capacity = ("capacity", capacity_of(strategy))
    facts = (("cpu", str(cpu)), ("memory", str(memory)), ("architecture", arch), capacity)
    lines: list[Usage] = []
    for market, count in (("on-demand", _on_demand), ("Spot", _spot)):
        at_low, at_high = count(strategy, low), count(strategy, high)
        if at_high == 0:
            continue
        for measure, size, unit in (("vcpu", cpu, "vCPU-hour"), ("gb", memory, "GB-hour")):
            per_task = size / 1024 * assumptions.hours_per_month
            lines.append(
                Usage(
                    resource=name,
                    kind="Fargate service",
                    item=_item(measure, arch, market),
                    price=f"{_family(market)}.{measure}_hour.{arch}",
                    quantity=per_task * at_low,
                    quantity_max=per_task * at_high,
                    unit=unit,
                    tasks=(low, high),
                    facts=facts,
                    fallback=f"fargate.{measure}_hour.{arch}" if market == "Spot" else None,
                )
            )
    return lines


def _spot(strategy: Any, tasks: int) -> int:
    return spot_tasks(strategy, tasks)


def _on_demand(strategy: Any, tasks: int) -> int:
    return tasks - spot_tasks(strategy, tasks)


def _family(market: str) -> str:
    """Spot has rates of its own (prices.py's Spot section); on-demand is its fallback."""
    return SPOT_PREFIX.rstrip(".") if market == "Spot" else "fargate"


def _item(measure: str, arch: str, market: str) -> str:
    what = "vCPU-hours" if measure == "vcpu" else "GB-hours"
    return f"{what} ({arch}, Spot)" if market == "Spot" else f"{what} ({arch})"
