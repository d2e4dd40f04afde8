"""CloudWatch Logs: the events of a process's log group (`factorstack logs`) and of one task's
stream (`factorstack run`)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from factorstack.deploy.aws.session import Clients, aws_errors, error_code
from factorstack.deploy.decide.log_events import LogEvent

if TYPE_CHECKING:
    from mypy_boto3_logs.type_defs import FilteredLogEventTypeDef, OutputLogEventTypeDef

NOT_FOUND = "ResourceNotFoundException"  # no such group, or a stream not written yet


def filtered_from_api(raw: FilteredLogEventTypeDef) -> LogEvent:
    return LogEvent(
        timestamp=int(raw.get("timestamp", 0)),
        message=str(raw.get("message", "")).rstrip("\n"),
        stream=str(raw.get("logStreamName", "")),
        event_id=str(raw.get("eventId", "")),
    )


def output_from_api(raw: OutputLogEventTypeDef, stream: str) -> LogEvent:
    return LogEvent(
        timestamp=int(raw.get("timestamp", 0)),
        message=str(raw.get("message", "")).rstrip("\n"),
        stream=stream,
    )


class LogCalls:
    """The gateway's calls to CloudWatch Logs."""

    clients: Clients

    def log_events(
        self, group: str, start_ms: int, end_ms: int | None = None, pattern: str | None = None
    ) -> list[LogEvent]:
        """Every event of the group from start_ms (to end_ms), all pages; none when the group
        does not exist."""
        kwargs: dict[str, Any] = {"logGroupName": group, "startTime": start_ms}
        if end_ms is not None:
            kwargs["endTime"] = end_ms
        if pattern:
            kwargs["filterPattern"] = pattern
        events: list[LogEvent] = []
        pages = self.clients.logs.get_paginator("filter_log_events")
        with aws_errors(f"reading log group {group}"):
            try:
                for page in pages.paginate(**kwargs):
                    events += [filtered_from_api(raw) for raw in page.get("events") or []]
            except ClientError as error:
                if error_code(error) != NOT_FOUND:
                    raise
        return events

    def stream_events(
        self, group: str, stream: str, token: str | None
    ) -> tuple[list[LogEvent], str | None]:
        """The stream's events after `token` (from its start without one) and the token to go
        on from; none yet while the stream does not exist."""
        events: list[LogEvent] = []
        with aws_errors(f"reading log stream {stream} of {group}"):
            while True:
                kwargs: dict[str, Any] = {
                    "logGroupName": group,
                    "logStreamName": stream,
                    "startFromHead": True,
                }
                if token:
                    kwargs["nextToken"] = token
                try:
                    page = self.clients.logs.get_log_events(**kwargs)
                except ClientError as error:
                    if error_code(error) == NOT_FOUND:
                        return events, token
                    raise
                fresh = [output_from_api(raw, stream) for raw in page.get("events") or []]
                events += fresh
                following = page.get("nextForwardToken")
                if not fresh or not following or following == token:
                    return events, following or token
                token = following
