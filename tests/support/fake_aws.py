"""A fake AWS gateway: an account in memory that the workflows (plan, apply, bootstrap, the
follow-up) run against, so a test checks what happened (a change set deleted, executed, a plan
recorded) rather than the order of AWS calls.

It answers the gateway's methods with plain data (decide's Stack, ChangeSet, StackEvent) and
records what was done. What AWS itself would decide (a change set's rows, a deploy's events)
is scripted by the test: `change_sets` are handed out in order by `create_change_set`, and
`executions` says how executing a change set ends. Anything it does not fake fails loudly: it
has no clients to fall back on.

The day-two commands read `services` (ECS, per cluster), `task_definitions`, `log_groups`
(every event of a group; `log_events` filters them by time, and by pattern as a plain substring),
`streams` (a task's stream, by group and stream name), `alarms` and `scaling`; a one-off task
goes through `task_states` in order (the last one stays), and what `run_task` was asked is in
`started`.

The response shapes of real AWS are proven elsewhere, by the Stubber tests of the real gateway.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from factorstack.deploy.aws.gateway import Gateway
from factorstack.deploy.aws.images import RegistryLogin
from factorstack.deploy.decide.change_sets import ChangeSet, ChangeSetRequest
from factorstack.deploy.decide.events import StackEvent
from factorstack.deploy.decide.images import ImageRef
from factorstack.deploy.decide.log_events import LogEvent
from factorstack.deploy.decide.preflight_rules import QuotaRead, QuotaSpec, SecretKeys, SecretStatus
from factorstack.deploy.decide.service_roles import RoleAnswer, ServiceRole
from factorstack.deploy.decide.services import OneOff, Service, TaskDefinition, TaskState
from factorstack.deploy.decide.stacks import STACK_TYPE, Stack
from factorstack.deploy.decide.status import AlarmState, ScalingBounds

ACCOUNT = "123456789012"
REGION = "eu-west-1"
T0 = datetime(2026, 11, 26, 12, 0, 0, tzinfo=UTC)


def stack_id(name: str) -> str:
    return f"arn:aws:cloudformation:{REGION}:{ACCOUNT}:stack/{name}/fake"


def change_set_id(name: str, stack_name: str) -> str:
    return f"arn:aws:cloudformation:{REGION}:{ACCOUNT}:changeSet/{name}/{stack_name}"


def stack(name: str, status: str, **fields: Any) -> Stack:
    """A Stack as describe_stacks would show it."""
    return Stack(name=name, stack_id=stack_id(name), status=status, **fields)


def change(
    logical_id: str,
    resource_type: str,
    action: str,
    replacement: str = "",
    causes: tuple[str, ...] = (),
    nested: str | None = None,
) -> dict[str, Any]:
    """One entry of a change set's Changes, as AWS sends it."""
    resource: dict[str, Any] = {
        "Action": action,
        "LogicalResourceId": logical_id,
        "ResourceType": resource_type,
        "Details": [
            {"Target": {"Name": cause, "RequiresRecreation": "Always"}} for cause in causes
        ],
    }
    if replacement:
        resource["Replacement"] = replacement
    if nested:
        resource["ChangeSetId"] = nested
    return {"Type": "Resource", "ResourceChange": resource}


def change_set(
    name: str,
    stack_name: str,
    changes: list[dict[str, Any]] | None = None,
    status: str = "CREATE_COMPLETE",
    reason: str = "",
) -> ChangeSet:
    """A change set as describe_change_set would show it once created."""
    return ChangeSet(
        change_set_id=change_set_id(name, stack_name),
        name=name,
        stack_id=stack_id(stack_name),
        stack_name=stack_name,
        status=status,
        status_reason=reason,
        execution_status="AVAILABLE" if status == "CREATE_COMPLETE" else "UNAVAILABLE",
        changes=tuple(changes or ()),
    )


def event(
    stack_name: str, logical_id: str, status: str, seconds: int, reason: str = "", **more: Any
) -> StackEvent:
    """One stack event, `seconds` after T0."""
    return StackEvent(
        event_id=f"{stack_name}-{logical_id}-{status}-{seconds}",
        time=T0 + timedelta(seconds=seconds),
        stack=stack_name,
        stack_id=stack_id(stack_name),
        logical_id=logical_id,
        resource_type=more.pop("resource_type", STACK_TYPE),
        physical_id=more.pop("physical_id", f"{logical_id}-physical"),
        status=status,
        reason=reason,
    )


@dataclass
class Execution:
    """How executing a change set ends: the stack afterwards, and the events it left (newest
    first, per stack name or physical id)."""

    final: Stack
    events: dict[str, list[StackEvent]] = field(default_factory=dict)


class FakeAws(Gateway):
    """An AWS account in memory; see the module docstring."""

    def __init__(self, account: str = ACCOUNT, region: str = REGION) -> None:
        # No super().__init__: there are no clients, so anything not faked here fails loudly.
        self.account = account
        self._region = region
        self.stacks: dict[str, Stack] = {}  # by name
        self.nested: dict[str, dict[str, str]] = {}  # root name → stack path → physical id
        self.templates: dict[str, dict[str, Any]] = {}  # physical id → deployed template
        self.events: dict[str, list[StackEvent]] = {}  # stack → its events, newest first
        self.bucket: set[str] = set()  # keys in the artifacts bucket
        self.missing_images: set[str] = set()  # str(ImageRef) of images not in ECR
        self.engine_versions: dict[str, list[str]] = {}
        self.roles: set[str] = set()
        # Scripted by the test: what each create_change_set makes (None: "No updates are to be
        # performed"), nested change sets by id, and how executing a change set ends.
        self.change_sets: list[ChangeSet | None] = []
        self.nested_change_sets: dict[str, ChangeSet] = {}
        self.executions: dict[str, Execution] = {}
        # What was done.
        self.requests: list[ChangeSetRequest] = []
        self.created: dict[str, ChangeSet] = {}
        self.deleted: list[str] = []
        self.executed: list[str] = []
        self.deleted_stacks: list[str] = []
        self.uploaded: list[str] = []
        self.parameters_read: list[str] = []
        # The day-two commands: what ECS, CloudWatch and Application Auto Scaling hold.
        self.services_by_cluster: dict[str, dict[str, Service]] = {}
        self.task_definitions: dict[str, TaskDefinition] = {}
        self.log_groups: dict[str, list[LogEvent]] = {}
        self.streams: dict[tuple[str, str], list[LogEvent]] = {}
        self.alarms: dict[str, AlarmState] = {}
        self.scaling: dict[str, ScalingBounds] = {}
        self.task_states: list[TaskState] = []
        self.started: list[OneOff] = []
        self.log_queries: list[tuple[str, int, str | None]] = []  # group, start, pattern

    # -- account

    @property
    def region(self) -> str:
        return self._region

    def caller_account(self) -> str:
        return self.account

    # -- stacks

    def describe_stack(self, name: str, doing: str = "") -> Stack | None:
        found = self.stacks.get(name)
        if found is None:  # nested stacks are asked for by physical id
            found = next((s for s in self.stacks.values() if s.stack_id == name), None)
        return found

    def delete_stack(self, name: str) -> None:
        self.deleted_stacks.append(name)
        self.stacks.pop(name, None)

    def nested_stacks(self, stack_name: str) -> dict[str, str]:
        return self.nested.get(stack_name, {"": stack_name})

    def deployed_template(self, stack: str) -> dict[str, Any]:
        return self.templates[stack]

    def deployed_parameters(self, stack: str) -> dict[str, str]:
        self.parameters_read.append(stack)
        found = self.describe_stack(stack)
        return dict(found.parameters) if found else {}

    # -- change sets

    def create_change_set(self, request: ChangeSetRequest) -> str | None:
        self.requests.append(request)
        scripted = self.change_sets.pop(0)
        if scripted is None:
            return None
        created = replace(scripted, name=request.name)
        self.created[created.change_set_id] = created
        if request.stack_name not in self.stacks:  # a CREATE leaves a stack in review
            self.stacks[request.stack_name] = stack(request.stack_name, "REVIEW_IN_PROGRESS")
        return created.change_set_id

    def describe_change_set(self, change_set_id: str, doing: str = "") -> ChangeSet:
        found = self.find_change_set(change_set_id, doing)
        assert found is not None, f"no change set {change_set_id}"
        return found

    def find_change_set(self, change_set_id: str, doing: str = "") -> ChangeSet | None:
        if change_set_id in self.deleted:
            return None
        return self.created.get(change_set_id) or self.nested_change_sets.get(change_set_id)

    def delete_change_set(self, change_set_id: str) -> None:
        self.deleted.append(change_set_id)

    def execute_change_set(self, stack_name: str, change_set_id: str) -> None:
        self.executed.append(change_set_id)
        execution = self.executions.get(change_set_id)
        if execution is None:
            before = self.stacks.get(stack_name)
            done = "CREATE_COMPLETE" if before and before.status.startswith("REVIEW") else None
            final = stack(stack_name, done or "UPDATE_COMPLETE")
            execution = Execution(final=replace(final, tags=before.tags if before else {}))
        self.stacks[stack_name] = execution.final
        for name, events in execution.events.items():
            self.events[name] = [*events, *self.events.get(name, [])]
        self.created[change_set_id] = replace(
            self.created[change_set_id], execution_status="EXECUTE_COMPLETE"
        )

    # -- events

    def newest_event_id(self, stack: str) -> str | None:
        events = self.events.get(stack) or []
        return events[0].event_id if events else None

    def new_events(
        self,
        stack: str,
        path: str,
        known: Callable[[str], bool],
        doing: str,
        missing_ok: bool = False,
    ) -> list[StackEvent]:
        fresh: list[StackEvent] = []
        for found in self.events.get(stack) or []:
            if known(found.event_id):
                break
            fresh.append(replace(found, stack=path))
        return fresh

    # -- artifacts and images

    def upload_once(self, bucket: str, key: str, body: bytes) -> bool:
        if key in self.bucket:
            return False
        self.bucket.add(key)
        self.uploaded.append(key)
        return True

    def image_digest(self, image: ImageRef) -> str | None:
        if str(image) in self.missing_images:
            return None
        return image.digest or "sha256:" + "a" * 64

    def registry_login(self) -> RegistryLogin:
        return RegistryLogin(f"{self.account}.dkr.ecr.{self.region}.amazonaws.com", "AWS", "pw")

    # -- the account preflight: an account that has everything, unless told otherwise

    def invalid_parameters(self, arns: list[str]) -> set[str]:
        return set()

    def secret_status(self, name: str) -> SecretStatus:
        return SecretStatus(exists=True)

    def secret_keys(self, name: str) -> SecretKeys:
        return SecretKeys(shape="unreadable", unreadable_code="AccessDeniedException")

    def certificate(self, arn: str) -> dict[str, Any] | None:
        return None

    def offered_db_versions(self, engine: str) -> list[str]:
        return self.engine_versions.get(engine, [])

    def offered_cache_versions(self, engine: str) -> list[str]:
        return self.engine_versions.get(engine, [])

    def quota(self, spec: QuotaSpec) -> QuotaRead:
        return QuotaRead(value=float(spec.default))

    def vpc_count(self) -> int:
        return 1

    def address_count(self) -> int:
        return 0

    def available_zones(self) -> list[str]:
        return [f"{self.region}{letter}" for letter in "abc"]

    # -- IAM

    def service_role(self, role: ServiceRole) -> RoleAnswer:
        return RoleAnswer.FOUND if role.role_name in self.roles else RoleAnswer.MISSING

    def create_service_role(self, role: ServiceRole) -> RoleAnswer:
        self.roles.add(role.role_name)
        return RoleAnswer.CREATED

    # -- the day-two commands

    def services(self, cluster: str, names: Sequence[str]) -> dict[str, Service]:
        known = self.services_by_cluster.get(cluster, {})
        return {name: known[name] for name in names if name in known}

    def task_definition(self, arn: str, container_name: str = "") -> TaskDefinition:
        return self.task_definitions[arn]

    def run_task(self, request: OneOff) -> str:
        self.started.append(request)
        task = f"task/{request.cluster}/task-{len(self.started)}"
        return f"arn:aws:ecs:{self.region}:{self.account}:{task}"

    def task(self, cluster: str, task_arn: str, container: str) -> TaskState | None:
        if not self.task_states:
            return None
        state = self.task_states.pop(0) if len(self.task_states) > 1 else self.task_states[0]
        return replace(state, arn=task_arn)

    def stream_events(
        self, group: str, stream: str, token: str | None
    ) -> tuple[list[LogEvent], str | None]:
        events = self.streams.get((group, stream))
        if events is None:  # not written yet
            return [], token
        start = int(token or 0)
        return events[start:], str(len(events))

    def log_events(
        self, group: str, start_ms: int, end_ms: int | None = None, pattern: str | None = None
    ) -> list[LogEvent]:
        self.log_queries.append((group, start_ms, pattern))
        return [
            e
            for e in self.log_groups.get(group, [])
            if e.timestamp >= start_ms and (not pattern or pattern in e.message)
        ]

    def alarm_states(self, names: Sequence[str]) -> dict[str, AlarmState]:
        return {name: self.alarms[name] for name in names if name in self.alarms}

    def scaling_bounds(self, cluster: str, services: Sequence[str]) -> dict[str, ScalingBounds]:
        return {name: self.scaling[name] for name in services if name in self.scaling}
