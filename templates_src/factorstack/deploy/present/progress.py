"""Progress lines while a stack operation runs: its events and, at the end, its outputs."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC

from factorstack.deploy.decide.events import StackEvent


def event_line(event: StackEvent) -> str:
    """`12:00:05  example-dev/DataStack  Database  CREATE_FAILED  reason`."""
    stamp = event.time.astimezone(UTC).strftime("%H:%M:%S")
    reason = f"  {event.reason}" if event.reason else ""
    return f"{stamp}  {event.stack}  {event.logical_id}  {event.status}{reason}"


def output_lines(outputs: Mapping[str, str]) -> list[str]:
    """A stack's outputs, one `  Key = value` line each, sorted by key."""
    return [f"  {key} = {value}" for key, value in sorted(outputs.items())]
