"""The review of a change set tree for people: a rich table for the terminal, and Markdown for
changeset.md and the CI step summary.
"""

from __future__ import annotations

from collections.abc import Iterable

from rich.table import Table

from factorstack.deploy.decide.review import Review, Row

HEADERS = ["Stack", "Logical id", "Type", "Action", "Replacement", "Caused by"]
STYLES = {"Add": "green", "Modify": "yellow", "Remove": "red"}


def _cells(row: Row) -> list[str]:
    return [
        row.stack,
        row.logical_id,
        row.resource_type,
        row.action,
        row.replacement or "-",
        ", ".join(row.causes) or "-",
    ]


def summary_line(counts: dict[str, int]) -> str:
    """`2 Add, 1 Modify` or `no resource changes`."""
    return ", ".join(f"{n} {action}" for action, n in counts.items()) or "no resource changes"


def rich_table(review: Review) -> Table:
    """The review as a rich table for the terminal."""
    table = Table(title=f"Change set for {review.stack_name}: {summary_line(review.counts())}")
    for header in HEADERS:
        table.add_column(header, overflow="fold")
    for row in review.rows:
        table.add_row(*_cells(row), style="bold red" if row.dangerous else STYLES.get(row.action))
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


def no_changes_markdown(stack_name: str, line: str) -> str:
    """changeset.md when a plan found nothing to change."""
    return f"## Change set for `{stack_name}`\n\n{line}\n"
