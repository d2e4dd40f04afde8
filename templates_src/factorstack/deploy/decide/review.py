"""One review over the whole nested tree: every change of the root and nested change sets.

Nested stacks are a black box in the console; here the root change set and each nested
ChangeSetId are walked into one list of rows (stack path, resource, action, replacement,
cause) that present/ renders for the terminal, as Markdown and as plain data for plan.json.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any
from urllib.parse import quote

from factorstack.deploy.decide.change_sets import ChangeSet

RECREATES = frozenset({"Always", "Conditionally"})
ACTION_ORDER = ("Add", "Modify", "Remove", "Import", "Dynamic")


@dataclass(frozen=True)
class Row:
    """One resource change, wherever it sits in the tree."""

    stack: str
    logical_id: str
    resource_type: str
    action: str
    replacement: str  # "True" / "Conditional" / "False", "" when not a Modify
    causes: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["causes"] = list(self.causes)
        return data

    @property
    def dangerous(self) -> bool:
        """A removal or a (possible) replacement: the rows a reviewer must not miss."""
        return self.action == "Remove" or self.replacement in {"True", "Conditional"}


@dataclass
class Review:
    """The rows plus what a reviewer needs around them."""

    stack_name: str
    change_set_id: str
    rows: list[Row] = field(default_factory=list)
    nested_change_set_ids: dict[str, str] = field(default_factory=dict)
    console_link: str = ""

    def counts(self) -> dict[str, int]:
        counted = Counter(row.action for row in self.rows)
        ordered = {a: counted[a] for a in ACTION_ORDER if counted[a]}
        ordered.update({a: n for a, n in sorted(counted.items()) if a not in ordered})
        return ordered


def causes_of(change: dict[str, Any]) -> tuple[str, ...]:
    """The properties (or attributes) whose change makes CloudFormation recreate the resource."""
    found: list[str] = []
    for detail in change.get("Details") or []:
        target = detail.get("Target") or {}
        if target.get("RequiresRecreation") in RECREATES:
            name = target.get("Name") or target.get("Attribute") or "?"
            if name not in found:
                found.append(name)
    return tuple(found)


def rows_of(stack_path: str, change_set: ChangeSet) -> list[tuple[Row, str | None]]:
    """The rows of one change set, each with the nested ChangeSetId it points at (if any)."""
    rows: list[tuple[Row, str | None]] = []
    for change in change_set.changes:
        if change.get("Type", "Resource") != "Resource":
            continue
        resource = change.get("ResourceChange") or {}
        action = str(resource.get("Action", "?"))
        replacement = str(resource.get("Replacement", "")) if action == "Modify" else ""
        row = Row(
            stack=stack_path,
            logical_id=str(resource.get("LogicalResourceId", "?")),
            resource_type=str(resource.get("ResourceType", "?")),
            action=action,
            replacement=replacement,
            causes=causes_of(resource),
        )
        rows.append((row, resource.get("ChangeSetId")))
    return rows


def console_link(region: str, stack_id: str, change_set_id: str) -> str:
    """The AWS console page of the change set."""
    return (
        f"https://{region}.console.aws.amazon.com/cloudformation/home?region={region}"
        f"#/stacks/changesets/changes?stackId={quote(stack_id, safe='')}"
        f"&changeSetId={quote(change_set_id, safe='')}"
    )


def walk(root: ChangeSet, describe: Callable[[str], ChangeSet], region: str) -> Review:
    """Walk the root change set and, depth first, every nested change set into one Review."""
    review = Review(
        stack_name=root.stack_name,
        change_set_id=root.change_set_id,
        console_link=console_link(region, root.stack_id, root.change_set_id),
    )

    def visit(path: str, change_set: ChangeSet) -> None:
        for row, nested_id in rows_of(path, change_set):
            review.rows.append(row)
            if nested_id:
                child_path = f"{path}/{row.logical_id}"
                review.nested_change_set_ids[child_path] = nested_id
                visit(child_path, describe(nested_id))

    visit(root.stack_name, root)
    return review
