"""The registry of billed resource kinds: CloudFormation type → a function that says what one
such resource uses in a month.

A new billed resource (a WAF web ACL, an SNS topic, an interface endpoint) is one small function
with `@billed("AWS::...")` in one of this package's modules; a type nobody registered costs
nothing in the estimate (IAM roles, security groups, subnets are free).
"""

from __future__ import annotations

from collections.abc import Callable

from factorstack.cost.tree import Found, Tree
from factorstack.cost.usage import Assumptions, Usage

Kind = Callable[[Found, Tree, Assumptions], list[Usage]]
KINDS: dict[str, Kind] = {}


def billed(resource_type: str) -> Callable[[Kind], Kind]:
    """Register the function that prices `resource_type`; a second one for a type is a bug."""

    def register(function: Kind) -> Kind:
        if resource_type in KINDS:
            raise ValueError(f"{resource_type} is billed twice ({function.__name__})")
        KINDS[resource_type] = function
        return function

    return register


def usages_of(tree: Tree, assumptions: Assumptions) -> list[Usage]:
    """Every billed quantity of every resource of the tree, in the tree's order."""
    found: list[Usage] = []
    for resource in tree.resources():
        kind = KINDS.get(resource.type)
        if kind is not None:
            found += kind(resource, tree, assumptions)
    return found
