"""The change-set path every deploy shares (plan, bootstrap, the follow-up): bring the stack into
a state a change set can target, create the change set and wait for it, drop it when it holds
no changes, refuse one that failed, review the nested tree, show the review, and let the
data-loss guard refuse it (deleting it, so nobody can execute it from the console).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from factorstack.deploy.aws.gateway import Gateway
from factorstack.deploy.context import Context, Timing
from factorstack.deploy.decide import guard
from factorstack.deploy.decide.change_sets import (
    FINISHED,
    ChangeSet,
    ChangeSetRequest,
    check_created,
    is_no_op,
)
from factorstack.deploy.decide.review import Review, walk
from factorstack.deploy.decide.stacks import Action, Stack, decide, is_busy, status_of
from factorstack.errors import DeployError, GuardRefusal

Echo = Callable[[str], None]


def wait_while_busy(aws: Gateway, stack_name: str, timing: Timing, echo: Echo) -> Stack | None:
    """Poll until the stack is not *_IN_PROGRESS (or gone); refuse after the timeout."""
    deadline = timing.clock() + timing.timeout
    while True:
        stack = aws.describe_stack(stack_name)
        if not is_busy(status_of(stack)):
            return stack
        if timing.clock() >= deadline:
            raise DeployError(
                f"stack {stack_name} is still {status_of(stack)} after {int(timing.timeout)} s; "
                "wait for it to finish (or cancel it) and plan again"
            )
        echo(f"waiting for stack {stack_name}: {status_of(stack)}")
        timing.sleep(timing.poll)


def delete_and_wait(aws: Gateway, stack_name: str, timing: Timing, echo: Echo) -> None:
    """Delete a stack and wait until it is gone."""
    aws.delete_stack(stack_name)
    stack = wait_while_busy(aws, stack_name, timing, echo)
    if stack is not None and stack.status != "DELETE_COMPLETE":
        raise DeployError(
            f"stack {stack_name} could not be deleted ({stack.status}); "
            "see its events in the CloudFormation console"
        )


def prepare_stack(
    aws: Gateway, stack_name: str, timing: Timing, echo: Echo
) -> tuple[str, Stack | None]:
    """Bring the stack into a state a change set can target; return (change-set type, stack)."""
    stack = aws.describe_stack(stack_name)
    decision = decide(status_of(stack), stack_name)
    if decision.action is Action.WAIT:
        echo(decision.reason + "; waiting")
        stack = wait_while_busy(aws, stack_name, timing, echo)
        decision = decide(status_of(stack), stack_name)
        if decision.action is Action.WAIT:  # pragma: no cover - wait_while_busy returns idle
            raise DeployError(decision.reason)
    if decision.action is Action.REFUSE:
        raise DeployError(decision.reason)
    if decision.action is Action.RECREATE:
        echo(decision.reason)
        delete_and_wait(aws, stack_name, timing, echo)
        return "CREATE", None
    if decision.reason:
        echo(decision.reason)
    return decision.action.value, stack


def wait_for_change_set(aws: Gateway, change_set_id: str, timing: Timing) -> ChangeSet:
    """Poll until the change set is CREATE_COMPLETE or FAILED."""
    deadline = timing.clock() + timing.timeout
    while True:
        change_set = aws.describe_change_set(change_set_id)
        if change_set.status in FINISHED:
            return change_set
        if timing.clock() >= deadline:
            raise DeployError(
                f"change set {change_set_id} still {change_set.status} after "
                f"{int(timing.timeout)} s"
            )
        timing.sleep(timing.poll)


def create_change_set(
    aws: Gateway, request: ChangeSetRequest, timing: Timing, echo: Echo
) -> ChangeSet | None:
    """Create the change set and wait for it; None when it holds no changes (and is gone)."""
    change_set_id = aws.create_change_set(request)
    if change_set_id is None:  # refused up front: "No updates are to be performed"
        return None
    echo(f"created change set {request.name} ({request.change_set_type}); waiting for it")
    change_set = wait_for_change_set(aws, change_set_id, timing)
    if is_no_op(change_set):
        aws.delete_change_set(change_set.change_set_id or change_set_id)
        return None
    check_created(change_set)
    return change_set


def review_change_set(aws: Gateway, root: ChangeSet) -> Review:
    """The Review of a created change set, fetching the nested change sets it points at."""

    def describe(change_set_id: str) -> ChangeSet:
        return aws.describe_change_set(change_set_id, doing="describing a nested change set")

    return walk(root, describe, aws.region)


@dataclass(frozen=True)
class Reviewed:
    """A change set that has changes, was reviewed and passed the guard."""

    change_set: ChangeSet
    review: Review
    verdict: guard.Verdict


def change_set_findings(review: Review) -> list[guard.Finding]:
    """The guard's evidence from the change sets alone."""
    return guard.findings_from_rows(review.rows)


def reviewed_change_set(
    ctx: Context,
    aws: Gateway,
    request: ChangeSetRequest,
    allow_replace: list[str],
    show: Callable[[Review, guard.Verdict], None],
    findings: Callable[[Review], list[guard.Finding]] = change_set_findings,
) -> Reviewed | None:
    """create → no-op? → failed? → review → show → guard; None when nothing changed.

    `findings` gathers the guard's evidence for a review; `show` prints or records the review
    with the guard's verdict before the guard can refuse, so a refusal is reviewable too.
    """
    change_set = create_change_set(aws, request, ctx.change_set_timing, ctx.echo)
    if change_set is None:
        return None
    review = review_change_set(aws, change_set)
    verdict = guard.judge(findings(review), allow_replace)
    show(review, verdict)
    try:
        guard.enforce(verdict, ctx.echo)
    except GuardRefusal:
        aws.delete_change_set(change_set.change_set_id)
        raise
    return Reviewed(change_set=change_set, review=review, verdict=verdict)
