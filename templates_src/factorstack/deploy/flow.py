"""The change-set path every deploy shares (plan and bootstrap): create the change set, drop it
when it holds no changes, refuse one that failed, review the nested tree, show the review, and
let the data-loss guard refuse it (deleting it, so nobody can execute it from the console).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from factorstack.deploy import guard
from factorstack.deploy.changeset import (
    ChangeSetRequest,
    check_created,
    create_change_set,
    delete_change_set,
    is_no_op,
)
from factorstack.deploy.context import Context
from factorstack.deploy.review import Review, review_change_set
from factorstack.errors import GuardRefusal


@dataclass(frozen=True)
class Reviewed:
    """A change set that has changes, was reviewed and passed the guard."""

    change_set: dict[str, Any]
    review: Review
    verdict: guard.Verdict

    @property
    def change_set_id(self) -> str:
        return str(self.change_set["ChangeSetId"])


def change_set_findings(review: Review) -> list[guard.Finding]:
    """The guard's evidence from the change sets alone."""
    return guard.findings_from_rows(review.rows)


def reviewed_change_set(
    ctx: Context,
    cloudformation: Any,
    request: ChangeSetRequest,
    region: str,
    allow_replace: list[str],
    show: Callable[[Review, guard.Verdict], None],
    findings: Callable[[Review], list[guard.Finding]] = change_set_findings,
) -> Reviewed | None:
    """create → no-op? → failed? → review → show → guard; None when nothing changed.

    `findings` gathers the guard's evidence for a review; `show` prints or records the review
    with the guard's verdict before the guard can refuse, so a refusal is reviewable too.
    """
    change_set = create_change_set(cloudformation, request, ctx.change_set_timing, ctx.echo)
    if is_no_op(change_set):
        if change_set.get("ChangeSetId"):
            delete_change_set(cloudformation, change_set["ChangeSetId"])
        return None
    check_created(change_set)
    review = review_change_set(cloudformation, change_set, region)
    verdict = guard.judge(findings(review), allow_replace)
    show(review, verdict)
    try:
        guard.enforce(verdict, ctx.echo)
    except GuardRefusal:
        delete_change_set(cloudformation, change_set["ChangeSetId"])
        raise
    return Reviewed(change_set=change_set, review=review, verdict=verdict)
