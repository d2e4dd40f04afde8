"""One review over the whole nested tree: every change of the root and nested change sets.

Nested stacks are a black box in the console; here the root change set and each nested
ChangeSetId are walked into one table (stack path, resource, action, replacement, cause),
rendered for the terminal (rich), as Markdown and as plain data for plan.json.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from typing import Any
from urllib.parse import quote

from rich.table import Table

from factorstack.deploy.changeset import describe_change_set_pages
from factorstack.deploy.session import aws_errors

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


@dataclass
class Review:
    """The table plus what a reviewer needs around it."""

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


def rows_of(stack_path: str, change_set: dict[str, Any]) -> list[tuple[Row, str | None]]:
    """The rows of one change set, each with the nested ChangeSetId it points at (if any)."""
    rows: list[tuple[Row, str | None]] = []
    for change in change_set.get("Changes") or []:
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


def walk(
    root_change_set: dict[str, Any],
    describe: Callable[[str], dict[str, Any]],
    region: str,
) -> Review:
    """Walk the root change set and, depth first, every nested change set into one Review."""
    stack_name = str(root_change_set.get("StackName", ""))
    review = Review(
        stack_name=stack_name,
        change_set_id=str(root_change_set.get("ChangeSetId", "")),
        console_link=console_link(
            region, str(root_change_set.get("StackId", "")), root_change_set.get("ChangeSetId", "")
        ),
    )

    def visit(path: str, change_set: dict[str, Any]) -> None:
        for row, nested_id in rows_of(path, change_set):
            review.rows.append(row)
            if nested_id:
                child_path = f"{path}/{row.logical_id}"
                review.nested_change_set_ids[child_path] = nested_id
                visit(child_path, describe(nested_id))

    visit(stack_name, root_change_set)
    return review


def review_change_set(cloudformation: Any, root_change_set: dict[str, Any], region: str) -> Review:
    """The Review of a created change set, fetching nested change sets from AWS."""

    def describe(change_set_id: str) -> dict[str, Any]:
        with aws_errors("describing a nested change set"):
            return describe_change_set_pages(cloudformation, change_set_id)

    return walk(root_change_set, describe, region)


def _cells(row: Row) -> list[str]:
    return [
        row.stack,
        row.logical_id,
        row.resource_type,
        row.action,
        row.replacement or "-",
        ", ".join(row.causes) or "-",
    ]


HEADERS = ["Stack", "Logical id", "Type", "Action", "Replacement", "Caused by"]


def summary_line(counts: dict[str, int]) -> str:
    """`2 Add, 1 Modify` or `no resource changes`."""
    return ", ".join(f"{n} {action}" for action, n in counts.items()) or "no resource changes"


def rich_table(review: Review) -> Table:
    """The review as a rich table for the terminal."""
    table = Table(title=f"Change set for {review.stack_name}: {summary_line(review.counts())}")
    for header in HEADERS:
        table.add_column(header, overflow="fold")
    styles = {"Add": "green", "Modify": "yellow", "Remove": "red"}
    for row in review.rows:
        danger = row.action == "Remove" or row.replacement in {"True", "Conditional"}
        table.add_row(*_cells(row), style="bold red" if danger else styles.get(row.action))
    return table


def _md_escape(text: str) -> str:
    return text.replace("|", "\\|")


def markdown(review: Review, extra: Iterable[str] = ()) -> str:
    """The review as Markdown (for changeset.md and the CI step summary)."""
    lines = [
        f"## Change set for `{review.stack_name}`",
        "",
        f"**{summary_line(review.counts())}** · [open in the console]({review.console_link})",
        "",
        "| " + " | ".join(HEADERS) + " |",
        "|" + "---|" * len(HEADERS),
    ]
    lines += ["| " + " | ".join(_md_escape(c) for c in _cells(row)) + " |" for row in review.rows]
    lines += ["", *extra]
    return "\n".join(lines).rstrip() + "\n"
