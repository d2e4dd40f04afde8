"""Stack events: streaming them while a change set runs, and finding a failure's root cause.

Which events belong to this deploy is decided by event id, never by a clock: before executing,
`newest_event_ids` notes each stack's newest event, and everything newer is this deploy's (the
local clock may be ahead of AWS's, which would hide the first events and the root cause).

A nested failure surfaces in the root only as "Embedded stack ... was not successfully
created"; the root cause is the earliest failed event that is not such a message, found by
following the events into the nested stacks.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import ClientError

from factorstack.deploy.deployed import nested_tree
from factorstack.deploy.package import STACK_TYPE
from factorstack.deploy.session import aws_errors, error_code, is_throttling
from factorstack.deploy.stack_state import THROTTLED, Timing, poll_stack
from factorstack.errors import DeployError

EMBEDDED = "Embedded stack"
SUCCESS = frozenset({"CREATE_COMPLETE", "UPDATE_COMPLETE", "IMPORT_COMPLETE"})


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

    def line(self) -> str:
        stamp = self.time.astimezone(UTC).strftime("%H:%M:%S")
        reason = f"  {self.reason}" if self.reason else ""
        return f"{stamp}  {self.stack}  {self.logical_id}  {self.status}{reason}"


def from_api(raw: dict[str, Any], stack_path: str) -> StackEvent:
    """A StackEvent from one describe_stack_events entry."""
    return StackEvent(
        event_id=str(raw.get("EventId", "")),
        time=raw.get("Timestamp") or datetime.now(UTC),
        stack=stack_path,
        stack_id=str(raw.get("StackId", "")),
        logical_id=str(raw.get("LogicalResourceId", "")),
        resource_type=str(raw.get("ResourceType", "")),
        physical_id=str(raw.get("PhysicalResourceId", "") or ""),
        status=str(raw.get("ResourceStatus", "")),
        reason=" ".join(str(raw.get("ResourceStatusReason", "") or "").split()),
    )


def is_failure(event: StackEvent) -> bool:
    return event.status.endswith("_FAILED")


def root_cause(events: Iterable[StackEvent]) -> StackEvent | None:
    """The earliest failed event that is not a nested stack's 'Embedded stack ...' echo."""
    failed = sorted((e for e in events if is_failure(e)), key=lambda e: e.time)
    real = [e for e in failed if not e.reason.startswith(EMBEDDED)]
    if real:
        return real[0]
    return failed[0] if failed else None


def newest_event_id(cloudformation: Any, stack: str) -> str | None:
    """The id of a stack's newest event (events come newest first), None when it has none."""
    events = cloudformation.describe_stack_events(StackName=stack).get("StackEvents") or []
    return str(events[0]["EventId"]) if events else None


def newest_event_ids(cloudformation: Any, stack_name: str) -> dict[str, str]:
    """Stack (the root by name, nested ones by physical id) → its newest event id, taken before
    executing; EventStream treats only events newer than these as this deploy's."""
    baseline: dict[str, str] = {}
    for physical in nested_tree(cloudformation, stack_name).values():
        with aws_errors(f"reading the events of {physical}"):
            newest = newest_event_id(cloudformation, physical)
        if newest:
            baseline[physical] = newest
    return baseline


class EventStream:
    """Fetches new events of the root stack and of every nested stack it discovers.

    `baseline` maps a stack (root by name, nested by physical id) to the newest event it had
    before this deploy; that event and the ones before it are not shown. A stack without a
    baseline (created by this deploy) shows all its events.
    """

    def __init__(
        self, cloudformation: Any, stack_name: str, baseline: dict[str, str] | None = None
    ) -> None:
        self.cloudformation = cloudformation
        self.baseline = dict(baseline or {})
        self.root_path = stack_name
        self.stacks: dict[str, str] = {stack_name: stack_name}  # physical id → path
        self.seen: set[str] = set()
        self.events: list[StackEvent] = []

    def _fetch(self, physical: str, path: str) -> list[StackEvent]:
        fresh: list[StackEvent] = []
        kwargs: dict[str, Any] = {"StackName": physical}
        before = self.baseline.get(physical)
        while True:
            page = self.cloudformation.describe_stack_events(**kwargs)
            done = False
            for raw in page.get("StackEvents") or []:
                event = from_api(raw, path)
                if event.event_id in self.seen or event.event_id == before:
                    done = True  # events come newest first; the rest was seen or is older
                    break
                self.seen.add(event.event_id)
                fresh.append(event)
            token = page.get("NextToken")
            if done or not token:
                return fresh
            kwargs["NextToken"] = token

    def _discover(self, events: Iterable[StackEvent]) -> None:
        """Follow events about nested stack resources into those stacks."""
        for event in events:
            own = event.physical_id == event.stack_id  # a stack's events about itself
            if event.resource_type == STACK_TYPE and event.physical_id and not own:
                self.stacks.setdefault(event.physical_id, f"{event.stack}/{event.logical_id}")

    def poll(self) -> list[StackEvent]:
        """New events since the last poll, oldest first (throttled polls return nothing)."""
        fresh: list[StackEvent] = []
        for physical, path in list(self.stacks.items()):
            try:
                fetched = self._fetch(physical, path)
            except ClientError as error:
                gone = error_code(error) == "ValidationError" and path != self.root_path
                if is_throttling(error) or gone:  # ask again later / a replaced nested stack
                    continue
                raise
            self._discover(fetched)
            fresh += fetched
        fresh.sort(key=lambda e: e.time)
        self.events += fresh
        return fresh


def is_done(status: str) -> bool:
    """True when no operation is running on the stack any more."""
    return not status.endswith("_IN_PROGRESS") and status != THROTTLED


def wait_for_stack(
    cloudformation: Any,
    stack_name: str,
    stream: EventStream,
    timing: Timing,
    echo: Callable[[str], None],
    progress: Callable[[str], None] = lambda _text: None,
) -> dict[str, Any]:
    """Stream events until the stack settles; raise with the root cause when it failed."""
    started = timing.clock()
    deadline = started + timing.timeout
    while True:
        with aws_errors(f"watching stack {stack_name}"):
            for event in stream.poll():
                echo(event.line())
            stack = poll_stack(cloudformation, stack_name)
        status = stack["StackStatus"] if stack else "DELETE_COMPLETE"
        progress(
            f"{stack_name}: {status}, {len(stream.events)} events, "
            f"{int(timing.clock() - started)} s"
        )
        if is_done(status):
            with aws_errors(f"watching stack {stack_name}"):
                for event in stream.poll():
                    echo(event.line())
            if status in SUCCESS and stack is not None:
                return stack
            raise failure(stack_name, status, stream.events)
        if timing.clock() >= deadline:
            raise DeployError(
                f"stack {stack_name} still {status} after {int(timing.timeout)} s; "
                "it keeps running in AWS: watch it in the console"
            )
        timing.sleep(timing.poll)


def failure(stack_name: str, status: str, events: Iterable[StackEvent]) -> DeployError:
    """The one-line failure, naming the root cause when the events show one."""
    cause = root_cause(events)
    if cause is None:
        return DeployError(f"deploy of {stack_name} failed: stack is {status}")
    return DeployError(
        f"deploy of {stack_name} failed ({status}); root cause: {cause.stack} "
        f"{cause.logical_id} ({cause.resource_type}) {cause.status}: {cause.reason}"
    )
