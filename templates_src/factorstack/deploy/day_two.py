"""What the day-two commands (status, run, logs) share: the deployed environment, found from
its root stack's outputs, and a process's service and task definition, found from those."""

from __future__ import annotations

from factorstack.deploy.aws.gateway import Gateway
from factorstack.deploy.context import Context
from factorstack.deploy.decide.deployed import Deployed, deployed, require_running
from factorstack.deploy.decide.services import Service, TaskDefinition
from factorstack.errors import NotReady


def open_deployed(ctx: Context) -> tuple[Gateway, Deployed]:
    """The gateway to the environment's account and what its root stack says, or refuse
    (exit 2) when it is not deployed. Only the build's manifest is read: stack name, account,
    region; an older build does as well as a fresh one."""
    build = ctx.load(require_fresh=False)
    aws = ctx.connect(build.target)
    stack = aws.describe_stack(build.stack_name, doing=f"reading stack {build.stack_name}")
    return aws, deployed(stack, build.environment, build.stack_name, build.processes)


def process_services(
    aws: Gateway, environment: Deployed, processes: list[str]
) -> dict[str, tuple[Service, TaskDefinition]]:
    """Process → its ECS service and the task definition that service runs, for each of the
    named processes (each must be deployed)."""
    cluster = require_running(environment)
    names = {process: environment.service_of(process) for process in processes}
    services = aws.services(cluster, list(names.values()))
    found: dict[str, tuple[Service, TaskDefinition]] = {}
    for process, name in names.items():
        service = services.get(name)
        if service is None:
            raise NotReady(
                f"the {process} service ({name}) is not in cluster {cluster} "
                f"(see `factorstack status {environment.environment}`)"
            )
        # The process's container is named after it (and so is its service).
        found[process] = (service, aws.task_definition(service.task_definition, process))
    return found
