"""A nested stack's templates as one thing to read resources from.

The same reader serves the build (`factorstack cost`, the new side of a plan) and the deployed
stacks (the old side), so both sides of a cost delta are counted alike.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

PUBLIC_SUBNETS_OUTPUT = "PublicSubnetIds"  # the network stack's output (README, "What it makes")
DEFAULT_ZONES = 2  # a load balancer spans at least two zones


@dataclass(frozen=True)
class Found:
    """One resource of one template of the tree."""

    path: str  # stack path: '' for the root, 'DataStack', ...
    logical: str
    type: str
    properties: Mapping[str, Any]


@dataclass(frozen=True)
class Tree:
    """Stack path → template, for one environment."""

    templates: Mapping[str, Mapping[str, Any]]

    def resources(self) -> Iterator[Found]:
        for path in sorted(self.templates):
            for logical, body in sorted(_resources(self.templates[path]).items()):
                if isinstance(body, Mapping):
                    properties = body.get("Properties")
                    yield Found(
                        path,
                        logical,
                        str(body.get("Type", "")),
                        properties if isinstance(properties, Mapping) else {},
                    )

    def find(self, logical: str, path: str | None = None) -> Found | None:
        """A resource by logical id: in the stack `path`, or in any stack of the tree."""
        for found in self.resources():
            if found.logical == logical and (path is None or found.path == path):
                return found
        return None

    def referenced(self, where: Found, value: Any) -> Found | None:
        """The resource a `{"Ref": X}` in `where`'s template points at."""
        if isinstance(value, Mapping) and isinstance(value.get("Ref"), str):
            return self.find(value["Ref"], where.path)
        return None

    def public_subnets(self) -> int:
        """How many public subnets the network stack makes: one per availability zone."""
        for template in self.templates.values():
            output = (template.get("Outputs") or {}).get(PUBLIC_SUBNETS_OUTPUT) or {}
            joined = (output.get("Value") or {}).get("Fn::Join")
            if isinstance(joined, list) and len(joined) == 2 and isinstance(joined[1], list):
                return len(joined[1])
        return DEFAULT_ZONES


def _resources(template: Mapping[str, Any]) -> Mapping[str, Any]:
    resources = template.get("Resources")
    return resources if isinstance(resources, Mapping) else {}


def literal(value: Any, default: Any) -> Any:
    """A property's value when the template spells it out, else `default` (a Ref or a
    parameter cannot be priced)."""
    return default if value is None or isinstance(value, Mapping | list) else value


def as_bool(value: Any, default: bool = False) -> bool:
    """CloudFormation booleans arrive as true or "true"."""
    found = literal(value, default)
    return found if isinstance(found, bool) else str(found).lower() == "true"


def as_int(value: Any, default: int) -> int:
    try:
        return int(literal(value, default))
    except (TypeError, ValueError):
        return default
