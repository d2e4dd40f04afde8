"""`factorstack status ENV [--json]`: the root stack's status and last update, and per service
the tasks, the rollout of its current deployment, the image and release running, its alarms,
its scaling bounds, and the app's URL."""

from __future__ import annotations

from factorstack.deploy.aws.gateway import Gateway
from factorstack.deploy.context import Context
from factorstack.deploy.day_two import open_deployed
from factorstack.deploy.decide.deployed import Deployed
from factorstack.deploy.decide.status import EnvironmentStatus, service_statuses
from factorstack.deploy.present.status import header_lines, status_json_text, status_table


def read_status(aws: Gateway, environment: Deployed) -> EnvironmentStatus:
    """Ask ECS, CloudWatch and Application Auto Scaling about the services the root names."""
    cluster = environment.cluster
    names = list(environment.services.values())
    if cluster is None or not names:  # a stack that has no services (yet)
        return EnvironmentStatus(environment, service_statuses(environment, {}, {}, {}, {}))
    services = aws.services(cluster, names)
    definitions = {service.task_definition: name for name, service in services.items()}
    images = {arn: aws.task_definition(arn, name).image for arn, name in definitions.items()}
    alarm_names = sorted({name for service in services.values() for name in service.alarm_names})
    alarms = aws.alarm_states(alarm_names) if alarm_names else {}
    scaling = aws.scaling_bounds(cluster, names)
    rows = service_statuses(environment, services, images, alarms, scaling)
    return EnvironmentStatus(environment, rows)


def run_status(ctx: Context, as_json: bool = False) -> EnvironmentStatus:
    """Print the environment's status: a table, or JSON with stable keys."""
    aws, environment = open_deployed(ctx)
    status = read_status(aws, environment)
    if as_json:
        ctx.console.out(status_json_text(status), highlight=False, end="")
        return status
    for line in header_lines(status):
        ctx.echo(line)
    ctx.console.print(status_table(status))
    return status
