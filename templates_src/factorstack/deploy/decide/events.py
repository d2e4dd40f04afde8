"""Stack events: which nested stacks they lead to, and a failure's root cause.

A nested failure surfaces in the root only as "Embedded stack ... was not successfully
created"; the root cause is the earliest failed event that is not such a message, found by
following the events into the nested stacks.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from factorstack.deploy.decide.stacks import STACK_TYPE
from factorstack.errors import DeployError

EMBEDDED = "Embedded stack"


@dataclass(frozen=True)
class StackEvent:
    """One event, labelled with the stack path it came from."""

    event_id: str
    time: datetime
    stack: str
    stack_id: str
    logical_id: str
    resource_type: str
    physical_id: str
    status: str
    reason: str


def nested_stack_of(event: StackEvent) -> tuple[str, str] | None:
    """(physical id, stack path) of the nested stack an event is about; None for anything else
    (including a stack's events about itself)."""
    own = event.physical_id == event.stack_id
    if event.resource_type != STACK_TYPE or not event.physical_id or own:
        return None
    return event.physical_id, f"{event.stack}/{event.logical_id}"


def is_failure(event: StackEvent) -> bool:
    return event.status.endswith("_FAILED")


def root_cause(events: Iterable[StackEvent]) -> StackEvent | None:
    """The earliest failed event that is not a nested stack's 'Embedded stack ...' echo."""
    failed = sorted((e for e in events if is_failure(e)), key=lambda e: e.time)
    real = [e for e in failed if not e.reason.startswith(EMBEDDED)]
    if real:
        return real[0]
    return failed[0] if failed else None


def failure(stack_name: str, status: str, events: Iterable[StackEvent]) -> DeployError:
    """The one-line failure, naming the root cause when the events show one."""
    cause = root_cause(events)
    if cause is None:
        return DeployError(f"deploy of {stack_name} failed: stack is {status}")
    return DeployError(
        f"deploy of {stack_name} failed ({status}); root cause: {cause.stack} "
        f"{cause.logical_id} ({cause.resource_type}) {cause.status}: {cause.reason}"
    )
