"""ECS as the day-two commands read it: a service, its task definition, and a one-off task
started from them (`factorstack run`), reduced to plain data.
"""

from __future__ import annotations

from dataclasses import dataclass

from factorstack.errors import DeployError, NotReady

STARTED_BY = "factorstack-run"  # RunTask's startedBy: tells one-off tasks from a service's
STOPPED = "STOPPED"


@dataclass(frozen=True)
class TaskNetwork:
    """A service's awsvpc configuration, which a one-off task of it reuses."""

    subnets: tuple[str, ...]
    security_groups: tuple[str, ...]
    assign_public_ip: str = "DISABLED"


@dataclass(frozen=True)
class Service:
    """One ECS service as describe_services shows it, reduced to what status and run read."""

    name: str
    task_definition: str  # ARN
    desired: int
    running: int
    pending: int
    rollout_state: str | None = None  # of the PRIMARY deployment
    rollout_reason: str | None = None
    network: TaskNetwork | None = None
    alarm_names: tuple[str, ...] = ()  # the deployment configuration's rollback alarms


@dataclass(frozen=True)
class TaskDefinition:
    """A task definition's one container: its image and where awslogs writes its output."""

    arn: str
    container: str
    image: str
    log_group: str | None = None
    stream_prefix: str | None = None

    def log_stream(self, task_arn: str) -> str | None:
        """awslogs' stream of this container in a task: `PREFIX/CONTAINER/TASK_ID`."""
        if not self.log_group or not self.stream_prefix:
            return None
        return f"{self.stream_prefix}/{self.container}/{task_id(task_arn)}"


@dataclass(frozen=True)
class OneOff:
    """What RunTask is asked for: the service's task definition and network, another command."""

    cluster: str
    task_definition: str
    container: str
    command: tuple[str, ...]
    network: TaskNetwork
    started_by: str = STARTED_BY


@dataclass(frozen=True)
class TaskState:
    """A task as describe_tasks shows it: its status and, once stopped, how it ended."""

    arn: str
    last_status: str
    stopped_reason: str | None = None
    exit_code: int | None = None  # of the container the command ran in
    container_reason: str | None = None

    @property
    def stopped(self) -> bool:
        return self.last_status == STOPPED


def task_id(task_arn: str) -> str:
    """`arn:aws:ecs:REGION:ACCOUNT:task/CLUSTER/ID` (or the old `task/ID`) → ID."""
    return task_arn.rsplit("/", 1)[-1]


def one_off(
    cluster: str, service: Service, definition: TaskDefinition, command: list[str]
) -> OneOff:
    """A one-off task in the service's image, variables, secrets, subnets and security group."""
    if service.network is None:
        raise NotReady(
            f"service {service.name} has no awsvpc network configuration to run a task in "
            "(was it deployed by factorstack?)"
        )
    return OneOff(
        cluster=cluster,
        task_definition=definition.arn,
        container=definition.container,
        command=tuple(command),
        network=service.network,
    )


def exit_code(task: TaskState) -> int:
    """The stopped task's container exit code; without one it failed to run (exit 1)."""
    if task.exit_code is not None:
        return task.exit_code
    why = "; ".join(r for r in (task.stopped_reason, task.container_reason) if r)
    raise DeployError(
        f"task {task_id(task.arn)} stopped without an exit code: {why or 'no reason given'}"
    )


def image_digest(image: str) -> str | None:
    """`REPO@sha256:…` → `sha256:…`; None for an image named by tag."""
    return image.split("@", 1)[1] if "@" in image else None


def image_tag(image: str) -> str | None:
    """`REPO:TAG` → `TAG`; None for an image pinned by digest (or with neither)."""
    if "@" in image:
        return None
    last = image.rsplit("/", 1)[-1]
    return last.split(":", 1)[1] if ":" in last else None
