"""Executing a reviewed change set and watching it to the end: apply, bootstrap and the
follow-up update share it.

Which events belong to this deploy is decided by event id, never by a clock: before executing,
`newest_event_ids` notes each stack's newest event, and everything newer is this deploy's (the
local clock may be ahead of AWS's, which would hide the first events and the root cause).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from factorstack.deploy.aws.gateway import Gateway
from factorstack.deploy.context import Context, Timing
from factorstack.deploy.decide.events import StackEvent, failure, nested_stack_of
from factorstack.deploy.decide.stacks import SUCCESS, Stack, is_settled
from factorstack.deploy.present.job_summary import append_job_summary, outcome_markdown
from factorstack.deploy.present.progress import event_line, output_lines
from factorstack.errors import DeployError


def newest_event_ids(aws: Gateway, stack_name: str) -> dict[str, str]:
    """Stack (the root by name, nested ones by physical id) → its newest event id, taken before
    executing; EventStream treats only events newer than these as this deploy's."""
    baseline: dict[str, str] = {}
    for physical in aws.nested_stacks(stack_name).values():
        newest = aws.newest_event_id(physical)
        if newest:
            baseline[physical] = newest
    return baseline


class EventStream:
    """Fetches new events of the root stack and of every nested stack it discovers.

    `baseline` maps a stack (root by name, nested by physical id) to the newest event it had
    before this deploy; that event and the ones before it are not shown. A stack without a
    baseline (created by this deploy) shows all its events.
    """

    def __init__(self, aws: Gateway, stack_name: str, baseline: dict[str, str] | None = None):
        self.aws = aws
        self.baseline = dict(baseline or {})
        self.root_path = stack_name
        self.stacks: dict[str, str] = {stack_name: stack_name}  # physical id → path
        self.seen: set[str] = set()
        self.events: list[StackEvent] = []

    def known(self, before: str | None, event_id: str) -> bool:
        """An event shown already, or the newest one a stack had before this deploy."""
        return event_id in self.seen or event_id == before

    def poll(self) -> list[StackEvent]:
        """New events since the last poll, oldest first."""
        fresh: list[StackEvent] = []
        for physical, path in list(self.stacks.items()):
            fetched = self.aws.new_events(
                physical,
                path,
                known=partial(self.known, self.baseline.get(physical)),
                doing=f"watching stack {self.root_path}",
                missing_ok=path != self.root_path,  # a replaced nested stack is gone
            )
            for event in fetched:
                self.seen.add(event.event_id)
                nested = nested_stack_of(event)
                if nested:
                    self.stacks.setdefault(*nested)
            fresh += fetched
        fresh.sort(key=lambda e: e.time)
        self.events += fresh
        return fresh


def wait_for_stack(
    aws: Gateway,
    stack_name: str,
    stream: EventStream,
    timing: Timing,
    echo: Callable[[str], None],
    progress: Callable[[str], None] = lambda _text: None,
) -> Stack:
    """Stream events until the stack settles; raise with the root cause when it failed."""
    started = timing.clock()
    deadline = started + timing.timeout
    doing = f"watching stack {stack_name}"
    while True:
        for event in stream.poll():
            echo(event_line(event))
        stack = aws.describe_stack(stack_name, doing=doing)
        status = stack.status if stack else "DELETE_COMPLETE"
        progress(
            f"{stack_name}: {status}, {len(stream.events)} events, "
            f"{int(timing.clock() - started)} s"
        )
        if is_settled(status):
            for event in stream.poll():
                echo(event_line(event))
            if status in SUCCESS and stack is not None:
                return stack
            raise failure(stack_name, status, stream.events)
        if timing.clock() >= deadline:
            raise DeployError(
                f"stack {stack_name} still {status} after {int(timing.timeout)} s; "
                "it keeps running in AWS: watch it in the console"
            )
        timing.sleep(timing.poll)


def execute_and_watch(
    ctx: Context,
    aws: Gateway,
    stack_name: str,
    change_set_id: str,
    baseline: dict[str, str] | None = None,
) -> Stack:
    """Execute a change set, stream events until the stack settles, print its outputs."""
    if baseline is None:
        baseline = newest_event_ids(aws, stack_name)
    aws.execute_change_set(stack_name, change_set_id)
    ctx.echo(f"executing change set on {stack_name}")
    stream = EventStream(aws, stack_name, baseline)
    with ctx.console.status(f"{stack_name}: waiting") as status:
        stack = wait_for_stack(
            aws,
            stack_name,
            stream,
            ctx.timing,
            ctx.echo,
            progress=lambda text: status.update(text),
        )
    ctx.echo(f"{stack_name}: {stack.status}")
    for line in output_lines(stack.outputs):
        ctx.echo(line)
    append_job_summary(outcome_markdown(stack_name, stack.status, stack.outputs))
    return stack
