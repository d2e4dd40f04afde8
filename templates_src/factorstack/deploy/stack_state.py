"""What to do with the stack before a change set: create, update, wait, recreate or refuse.

`decide` is a pure function of the stack's status; `prepare_stack` carries the decision out
(waiting for an operation in progress, deleting a stack stuck in ROLLBACK_COMPLETE).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from typing import Any

from botocore.exceptions import ClientError

from factorstack.deploy.session import aws_errors, error_code, error_message, is_throttling
from factorstack.errors import DeployError


class Action(Enum):
    CREATE = "CREATE"
    UPDATE = "UPDATE"
    RECREATE = "RECREATE"  # ROLLBACK_COMPLETE: delete the empty stack, then CREATE
    WAIT = "WAIT"
    REFUSE = "REFUSE"


THROTTLED = "_THROTTLED"

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


def describe_stack(cloudformation: Any, stack_name: str) -> dict[str, Any] | None:
    """The stack's description, or None when it does not exist."""
    try:
        stacks = cloudformation.describe_stacks(StackName=stack_name)["Stacks"]
    except ClientError as error:
        if error_code(error) == "ValidationError" and "does not exist" in error_message(error):
            return None
        raise
    return stacks[0] if stacks else None


@dataclass(frozen=True)
class Timing:
    """How long and how often to poll; tests pass a fake sleep and clock."""

    timeout: float = 3600.0
    poll: float = 5.0
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.monotonic


def poll_stack(cloudformation: Any, stack_name: str) -> dict[str, Any] | None:
    """describe_stacks where a throttled poll means 'ask again later' (a sentinel status)."""
    try:
        return describe_stack(cloudformation, stack_name)
    except ClientError as error:
        if is_throttling(error):
            return {"StackStatus": THROTTLED}
        raise


def wait_while_busy(
    cloudformation: Any, stack_name: str, timing: Timing, echo: Callable[[str], None]
) -> dict[str, Any] | None:
    """Poll until the stack is not *_IN_PROGRESS (or gone); refuse after the timeout."""
    deadline = timing.clock() + timing.timeout
    while True:
        with aws_errors(f"describing stack {stack_name}"):
            stack = poll_stack(cloudformation, stack_name)
        status = stack["StackStatus"] if stack else None
        if status is None or not (status.endswith("_IN_PROGRESS") or status == THROTTLED):
            return stack
        if status == "REVIEW_IN_PROGRESS":
            return stack
        if timing.clock() >= deadline:
            raise DeployError(
                f"stack {stack_name} is still {status} after {int(timing.timeout)} s; "
                "wait for it to finish (or cancel it) and plan again"
            )
        if status != THROTTLED:
            echo(f"waiting for stack {stack_name}: {status}")
        timing.sleep(timing.poll)


def delete_and_wait(
    cloudformation: Any, stack_name: str, timing: Timing, echo: Callable[[str], None]
) -> None:
    """Delete a stack and wait until it is gone."""
    with aws_errors(f"deleting stack {stack_name}"):
        cloudformation.delete_stack(StackName=stack_name)
    stack = wait_while_busy(cloudformation, stack_name, timing, echo)
    if stack is not None and stack["StackStatus"] != "DELETE_COMPLETE":
        raise DeployError(
            f"stack {stack_name} could not be deleted ({stack['StackStatus']}); "
            "see its events in the CloudFormation console"
        )


def prepare_stack(
    cloudformation: Any, stack_name: str, timing: Timing, echo: Callable[[str], None]
) -> tuple[str, dict[str, Any] | None]:
    """Bring the stack into a state a change set can target; return (change-set type, stack)."""
    with aws_errors(f"describing stack {stack_name}"):
        stack = describe_stack(cloudformation, stack_name)
    decision = decide(stack["StackStatus"] if stack else None, stack_name)
    if decision.action is Action.WAIT:
        echo(decision.reason + "; waiting")
        stack = wait_while_busy(cloudformation, stack_name, timing, echo)
        decision = decide(stack["StackStatus"] if stack else None, stack_name)
        if decision.action is Action.WAIT:  # pragma: no cover - wait_while_busy returns idle
            raise DeployError(decision.reason)
    if decision.action is Action.REFUSE:
        raise DeployError(decision.reason)
    if decision.action is Action.RECREATE:
        echo(decision.reason)
        delete_and_wait(cloudformation, stack_name, timing, echo)
        return "CREATE", None
    if decision.reason:
        echo(decision.reason)
    return decision.action.value, stack
