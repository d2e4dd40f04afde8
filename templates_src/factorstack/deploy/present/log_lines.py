"""Log lines as `logs` prints them: time (UTC), who wrote the line, the message."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from factorstack.deploy.decide.log_events import Labelled


def stamp(timestamp_ms: int) -> str:
    return datetime.fromtimestamp(timestamp_ms / 1000, UTC).strftime("%Y-%m-%d %H:%M:%S")


def log_lines(events: Sequence[Labelled], width: int = 0) -> list[str]:
    """`2026-11-26 12:00:05  web     | message`, the sources padded alike (at least to
    `width`)."""
    width = max([width, *(len(item.source) for item in events)])
    return [
        f"{stamp(item.event.timestamp)}  {item.source:<{width}} | {item.event.message}"
        for item in events
    ]
