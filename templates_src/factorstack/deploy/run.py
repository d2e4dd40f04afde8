"""`factorstack run ENV PROCESS -- COMMAND...`: a one-off task of a deployed process (twelve-
factor XII: admin processes in the same image, variables, secrets and network), its log
followed live; the command's exit code is the exit code. `--detach` only starts it.
"""

from __future__ import annotations

from factorstack.deploy.aws.gateway import Gateway
from factorstack.deploy.context import Context
from factorstack.deploy.day_two import open_deployed, process_services
from factorstack.deploy.decide.deployed import require_running
from factorstack.deploy.decide.services import (
    TaskDefinition,
    TaskState,
    exit_code,
    one_off,
    task_id,
)
from factorstack.errors import EXIT_OK, DeployError


def run_one_off(ctx: Context, process: str, command: list[str], detach: bool = False) -> int:
    """Start the task; with `detach` print its id, else follow it and return its exit code."""
    aws, environment = open_deployed(ctx)
    cluster = require_running(environment)
    service, definition = process_services(aws, environment, [process])[process]
    task_arn = aws.run_task(one_off(cluster, service, definition, command))
    if detach:
        ctx.echo(task_id(task_arn))
        return EXIT_OK
    ctx.note(
        f"started task {task_id(task_arn)} of {process} in {environment.environment}; "
        "following its log (Ctrl-C stops following, not the task)"
    )
    try:
        return follow_task(ctx, aws, cluster, definition, task_arn)
    except KeyboardInterrupt:
        ctx.note(f"task {task_id(task_arn)} keeps running in AWS")
        raise


class StreamReader:
    """The task's awslogs stream, read on from where the last read stopped."""

    def __init__(self, aws: Gateway, definition: TaskDefinition, task_arn: str) -> None:
        self.aws = aws
        self.group = definition.log_group
        self.stream = definition.log_stream(task_arn)
        self.token: str | None = None

    def new_lines(self) -> list[str]:
        if not self.group or not self.stream:
            return []
        events, self.token = self.aws.stream_events(self.group, self.stream, self.token)
        return [event.message for event in events]


def follow_task(
    ctx: Context, aws: Gateway, cluster: str, definition: TaskDefinition, task_arn: str
) -> int:
    """Print the task's log lines as they come until it stops; its container's exit code."""
    reader = StreamReader(aws, definition, task_arn)
    if reader.stream is None:
        ctx.note(f"{definition.arn} does not log through awslogs: no output to follow")
    deadline = ctx.timing.clock() + ctx.timing.timeout
    while True:
        task = aws.task(cluster, task_arn, definition.container)
        for line in reader.new_lines():
            ctx.echo(line)
        if task is None or task.stopped:
            return finish(ctx, reader, task, task_arn)
        if ctx.timing.clock() >= deadline:
            raise DeployError(
                f"task {task_id(task_arn)} still {task.last_status} after "
                f"{int(ctx.timing.timeout)} s; it keeps running in AWS (its log: "
                f"`factorstack logs {ctx.environment} {definition.container} --follow`)"
            )
        ctx.timing.sleep(ctx.timing.poll)


def finish(ctx: Context, reader: StreamReader, task: TaskState | None, task_arn: str) -> int:
    """The last lines (awslogs delivers them shortly after the stop), then the exit code."""
    if task is None:
        raise DeployError(f"task {task_id(task_arn)} is gone: ECS no longer knows it")
    ctx.timing.sleep(ctx.timing.poll)
    for line in reader.new_lines():
        ctx.echo(line)
    code = exit_code(task)
    ctx.note(f"task {task_id(task_arn)} stopped: exit code {code}")
    return code
