"""CloudFormation stack events, which AWS returns newest first."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from factorstack.deploy.aws.session import Clients, aws_errors, error_code
from factorstack.deploy.decide.events import StackEvent

if TYPE_CHECKING:
    from mypy_boto3_cloudformation.type_defs import StackEventTypeDef


def event_from_api(raw: StackEventTypeDef, stack_path: str) -> StackEvent:
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


class EventCalls:
    """The gateway's calls about stack events."""

    clients: Clients

    def newest_event_id(self, stack: str) -> str | None:
        """The id of a stack's newest event, None when it has none."""
        with aws_errors(f"reading the events of {stack}"):
            events = self.clients.cloudformation.describe_stack_events(StackName=stack)
        newest = events.get("StackEvents") or []
        return str(newest[0]["EventId"]) if newest else None

    def new_events(
        self,
        stack: str,
        path: str,
        known: Callable[[str], bool],
        doing: str,
        missing_ok: bool = False,
    ) -> list[StackEvent]:
        """A stack's events newer than the newest `known` one, newest first, labelled `path`.

        Pages are read only until a known event turns up. With `missing_ok`, a stack that no
        longer exists (a replaced nested stack) has no events instead of failing.
        """
        fresh: list[StackEvent] = []
        kwargs: dict[str, Any] = {"StackName": stack}
        with aws_errors(doing):
            while True:
                try:
                    page = self.clients.cloudformation.describe_stack_events(**kwargs)
                except ClientError as error:
                    if missing_ok and error_code(error) == "ValidationError":
                        return fresh
                    raise
                for raw in page.get("StackEvents") or []:
                    if known(str(raw.get("EventId", ""))):
                        return fresh  # events come newest first; the rest is older
                    fresh.append(event_from_api(raw, path))
                token = page.get("NextToken")
                if not token:
                    return fresh
                kwargs["NextToken"] = token
