"""Log events of the processes (`factorstack logs`, `factorstack run`): how far back to look,
which process a line came from, one time-ordered stream out of several log groups, and which
events a follow-up poll has shown already.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from factorstack.errors import UsageError

SINCE_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
SINCE_PATTERN = re.compile(r"^\s*(\d+)\s*([smhd])\s*$")
# The longest retention CloudWatch Logs offers (10 years): nothing is kept longer, and a start
# further back than the epoch is refused by AWS.
MAX_SINCE_DAYS = 3653
# CloudWatch Logs ingests late: a poll looks back this far and drops the events it has shown.
LATE_MS = 30_000


@dataclass(frozen=True)
class LogEvent:
    """One line of a log group (FilterLogEvents / GetLogEvents), its time in epoch ms."""

    timestamp: int
    message: str
    stream: str = ""
    event_id: str = ""


@dataclass(frozen=True)
class Labelled:
    """An event and the process (or `release`, for the release phase's task) it came from."""

    source: str
    event: LogEvent


def parse_since(text: str) -> int:
    """`30s`, `10m`, `2h`, `1d` → seconds, at most MAX_SINCE_DAYS; anything else is a usage
    error."""
    match = SINCE_PATTERN.match(text)
    if not match or int(match.group(1)) == 0:
        raise UsageError(f"--since {text!r}: give a positive number and a unit: 30s, 10m, 2h or 1d")
    seconds = int(match.group(1)) * SINCE_UNITS[match.group(2)]
    if seconds > MAX_SINCE_DAYS * SINCE_UNITS["d"]:
        raise UsageError(
            f"--since {text!r}: at most {MAX_SINCE_DAYS}d (10 years, the longest CloudWatch Logs "
            "keeps log events)"
        )
    return seconds


def age(seconds: int) -> str:
    """600 → `10m`, in the largest unit that divides it (`--since`'s own spelling)."""
    for unit, size in sorted(SINCE_UNITS.items(), key=lambda item: -item[1]):
        if seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def source_of(process: str, event: LogEvent) -> str:
    """Who wrote a line: the stream's first part (`web/web/ID` → web, `release/…` → release,
    the release phase's task in its process's group), else the process."""
    first = event.stream.split("/", 1)[0]
    return first or process


def interleave(batches: Iterable[tuple[str, Iterable[LogEvent]]]) -> list[Labelled]:
    """The events of several processes as one stream in time order (ties: by source)."""
    labelled = [Labelled(source_of(process, e), e) for process, events in batches for e in events]
    return sorted(labelled, key=lambda item: (item.event.timestamp, item.source))


@dataclass
class Seen:
    """What a follow has shown: where the next poll starts, and the event ids near it."""

    start_ms: int
    ids: dict[str, int] = field(default_factory=dict)  # event id → its timestamp

    def fresh(self, events: Iterable[Labelled]) -> list[Labelled]:
        """The events not shown yet; remembers them and moves the next start forward."""
        new = [item for item in events if item.event.event_id not in self.ids]
        for item in new:
            self.ids[item.event.event_id] = item.event.timestamp
        newest = max(self.ids.values(), default=self.start_ms)
        self.start_ms = max(self.start_ms, newest - LATE_MS)
        self.ids = {key: at for key, at in self.ids.items() if at >= self.start_ms}
        return new
