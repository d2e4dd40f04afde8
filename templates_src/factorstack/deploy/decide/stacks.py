"""A stack as deploy sees it, and what to do with it before a change set: create, update, wait,
recreate or refuse; whether an operation on it is over; whether it moved since a plan.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum


@dataclass(frozen=True)
class Stack:
    """One stack as describe_stacks shows it, reduced to what deploy reads."""

    name: str
    stack_id: str
    status: str
    last_updated: str | None = None  # ISO text: plan.json records and compares it as text
    parameters: Mapping[str, str] = field(default_factory=dict)  # NoEcho values read '****'
    outputs: Mapping[str, str] = field(default_factory=dict)
    tags: Mapping[str, str] = field(default_factory=dict)
    created: str | None = None  # ISO text, like last_updated


STACK_TYPE = "AWS::CloudFormation::Stack"  # a nested stack, as a resource of its parent


class Action(Enum):
    CREATE = "CREATE"
    UPDATE = "UPDATE"
    RECREATE = "RECREATE"  # ROLLBACK_COMPLETE: delete the empty stack, then CREATE
    WAIT = "WAIT"
    REFUSE = "REFUSE"


# Statuses after which a change set of type UPDATE can run.
UPDATABLE = frozenset(
    {
        "CREATE_COMPLETE",
        "UPDATE_COMPLETE",
        "UPDATE_ROLLBACK_COMPLETE",
        "IMPORT_COMPLETE",
        "IMPORT_ROLLBACK_COMPLETE",
    }
)
# The statuses a deploy that worked ends in.
SUCCESS = frozenset({"CREATE_COMPLETE", "UPDATE_COMPLETE", "IMPORT_COMPLETE"})


@dataclass(frozen=True)
class Decision:
    action: Action
    reason: str = ""


def decide(status: str | None, stack_name: str) -> Decision:
    """The change-set type (or refusal) for a stack in this status; None means absent."""
    if status is None or status == "DELETE_COMPLETE":
        return Decision(Action.CREATE)
    if status == "REVIEW_IN_PROGRESS":
        return Decision(Action.CREATE, "stack exists with no resources (REVIEW_IN_PROGRESS)")
    if status in UPDATABLE:
        return Decision(Action.UPDATE)
    if status == "ROLLBACK_COMPLETE":
        return Decision(
            Action.RECREATE,
            f"stack {stack_name} is in ROLLBACK_COMPLETE (its first create failed and it holds "
            "no resources); deleting it and creating it again",
        )
    if status.endswith("_IN_PROGRESS"):
        return Decision(Action.WAIT, f"stack {stack_name} is busy ({status})")
    if status == "UPDATE_ROLLBACK_FAILED":
        return Decision(
            Action.REFUSE,
            f"stack {stack_name} is in UPDATE_ROLLBACK_FAILED: fix the resource that failed to "
            "roll back (see its events), then run `aws cloudformation continue-update-rollback "
            f"--stack-name {stack_name}` (add `--resources-to-skip LOGICAL_ID` for resources that "
            "cannot be fixed), wait for UPDATE_ROLLBACK_COMPLETE and plan again",
        )
    return Decision(
        Action.REFUSE,
        f"stack {stack_name} is in {status}: resolve it in the CloudFormation console "
        "(see its events) before deploying",
    )


def status_of(stack: Stack | None) -> str | None:
    """The stack's status, None when it does not exist."""
    return stack.status if stack else None


def is_busy(status: str | None) -> bool:
    """True while an operation runs that a new change set must wait for. REVIEW_IN_PROGRESS
    holds no operation: it is a stack that only has change sets."""
    return status is not None and status.endswith("_IN_PROGRESS") and status != "REVIEW_IN_PROGRESS"


def is_settled(status: str) -> bool:
    """True when no operation is running on the stack any more."""
    return not status.endswith("_IN_PROGRESS")


def stack_moved(
    seen_status: str | None, seen_updated: str | None, stack: Stack | None
) -> str | None:
    """Why the stack no longer matches what a plan saw, or None when it does."""
    status = status_of(stack)
    updated = stack.last_updated if stack else None
    if status != seen_status:
        return f"its status is {status or 'gone'}, the plan saw {seen_status or 'none'}"
    if updated != seen_updated:
        return f"it was updated at {updated}, after the plan saw {seen_updated}"
    return None


def bootstrap_stack_name(app: str) -> str:
    """One bootstrap stack per app, account and region."""
    return f"{app}-bootstrap"
