"""`factorstack cost ENV`, and the cost delta a plan shows in its review.

Both read templates: the build's for `cost` and a plan's new side, the deployed stacks' for a
plan's old side, so the two sides of a delta are counted the same way.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from factorstack.build.manifest import ROOT_FILE, Build
from factorstack.build.resolve import resolve_tree
from factorstack.cost import Assumptions, CostDelta, Estimate, compare, price_keys, priced, usages
from factorstack.deploy.aws.gateway import Gateway
from factorstack.deploy.aws.price_source import PricesFor, price_book
from factorstack.deploy.context import Context
from factorstack.deploy.package import read_template
from factorstack.deploy.present.cost import as_json, notes, rich_table
from factorstack.errors import UserError

STACK_TYPE = "AWS::CloudFormation::Stack"
Templates = Mapping[str, Mapping[str, Any]]


def build_templates(build: Build) -> dict[str, dict[str, Any]]:
    """Stack path → template of the build's nested tree, following local TemplateURLs."""
    found: dict[str, dict[str, Any]] = {}
    pending: list[tuple[str, Path]] = [("", build.folder / ROOT_FILE)]
    while pending:
        path, file = pending.pop()
        template = read_template(file)
        found[path] = template
        for logical, body in (template.get("Resources") or {}).items():
            url = (body.get("Properties") or {}).get("TemplateURL")
            if body.get("Type") == STACK_TYPE and isinstance(url, str) and "://" not in url:
                pending.append((f"{path}/{logical}".lstrip("/"), build.folder / url))
    return found


def estimate(
    templates: Templates, build: Build, offline: bool, prices_for: PricesFor = price_book
) -> Estimate:
    """The templates' monthly estimate in the build's region."""
    assumptions = Assumptions()
    found = usages(resolve_tree(templates), assumptions)
    book = prices_for(build.target, price_keys(found), offline)
    return priced(found, book, assumptions)


def run_cost(ctx: Context, as_json_output: bool, offline: bool) -> Estimate:
    """Print the environment's monthly estimate: a table, or JSON with --json."""
    build = ctx.load()
    result = estimate(build_templates(build), build, offline, ctx.prices_for)
    if as_json_output:
        ctx.console.out(as_json(result, build.environment), end="", highlight=False)
        return result
    ctx.console.print(rich_table(result, f"{build.stack_name} ({build.environment})"))
    for line in notes(result):
        ctx.echo(line)
    return result


class DeployedTree:
    """The deployed nested stack's templates, read once per plan: the guard and the cost delta
    both look at them."""

    def __init__(
        self, aws: Gateway, stack_name: str, held: Mapping[str, str] | None = None
    ) -> None:
        """`held`: the root's parameter values as the stack holds them. They stand in for the
        deployed root's Defaults, which a change set or follow-up that did not finish leaves
        different from what runs (build/resolve.py reads a root setting from its Default)."""
        self.aws = aws
        self.stack_name = stack_name
        self.held = dict(held or {})
        self._stacks: dict[str, str] | None = None
        self._templates: dict[str, dict[str, Any]] = {}

    def stacks(self) -> dict[str, str]:
        """Stack path → physical id."""
        if self._stacks is None:
            self._stacks = self.aws.nested_stacks(self.stack_name)
        return self._stacks

    def template(self, path: str) -> dict[str, Any]:
        if path not in self._templates:
            template = self.aws.deployed_template(self.stacks()[path])
            self._templates[path] = (
                with_held_defaults(template, self.held) if not path else template
            )
        return self._templates[path]

    def templates(self) -> dict[str, dict[str, Any]]:
        return {path: self.template(path) for path in sorted(self.stacks())}


def with_held_defaults(template: dict[str, Any], held: Mapping[str, str]) -> dict[str, Any]:
    """The deployed root with each parameter's Default replaced by the value the stack holds."""
    declared = template.get("Parameters")
    if not held or not isinstance(declared, dict):
        return template
    parameters = {
        name: {**spec, "Default": held[name]}
        if isinstance(spec, dict) and "Default" in spec and name in held
        else spec
        for name, spec in declared.items()
    }
    return {**template, "Parameters": parameters}


def plan_cost(
    ctx: Context, build: Build, new: Templates, deployed: DeployedTree | None
) -> CostDelta | None:
    """The monthly estimate before and after a change set (before: None on a first create),
    both priced from one book.

    A cost that cannot be worked out (no prices for the region) never stops a plan: it is
    said in one line and the review goes on.
    """
    assumptions = Assumptions()
    try:
        after_usages = usages(resolve_tree(new), assumptions)
        old = resolve_tree(deployed.templates()) if deployed else None
        before_usages = usages(old, assumptions) if old is not None else None
        keys = price_keys(after_usages) | price_keys(before_usages or [])
        book = ctx.prices_for(build.target, keys, False)
    except UserError as error:
        ctx.echo(f"cost: not estimated ({error})")
        return None
    before = priced(before_usages, book, assumptions) if before_usages is not None else None
    return compare(before, priced(after_usages, book, assumptions))


class PlanCost:
    """A plan's cost delta, worked out once when the review first asks for it (after the guard
    has read the deployed templates it needs too)."""

    def __init__(
        self, ctx: Context, build: Build, new: Templates, deployed: DeployedTree | None
    ) -> None:
        self.ctx, self.build, self.new, self.deployed = ctx, build, new, deployed
        self._done = False
        self._delta: CostDelta | None = None

    def delta(self) -> CostDelta | None:
        if not self._done:
            self._delta = plan_cost(self.ctx, self.build, self.new, self.deployed)
            self._done = True
        return self._delta
