"""`factorstack logs ENV [PROCESS...] [--since 10m] [--follow] [--filter PATTERN]`: the
processes' log lines interleaved by time, each with its process in front, from the log groups
their task definitions write to; `--follow` polls until Ctrl-C."""

from __future__ import annotations

from factorstack.deploy.aws.gateway import Gateway
from factorstack.deploy.context import Context
from factorstack.deploy.day_two import open_deployed, process_services
from factorstack.deploy.decide.deployed import Deployed, require_running
from factorstack.deploy.decide.log_events import Seen, age, interleave
from factorstack.deploy.present.log_lines import log_lines


def run_logs(
    ctx: Context,
    processes: list[str],
    since_seconds: int,
    follow: bool = False,
    pattern: str | None = None,
) -> int:
    """Print the log lines since `since_seconds` ago, then (with `follow`) new ones as they
    come; the number of lines printed."""
    aws, environment = open_deployed(ctx)
    require_running(environment)  # before the processes: "no services yet", not "no web"
    chosen = environment.chosen(processes)
    groups = log_groups(ctx, aws, environment, chosen)
    width = max(len(process) for process in chosen)
    seen = Seen(start_ms=int((ctx.timing.now() - since_seconds) * 1000))
    shown = show_new(ctx, aws, groups, seen, pattern, width)
    if not follow:
        if not shown:
            ctx.note(f"no log lines of {', '.join(chosen)} in the last {age(since_seconds)}")
        return shown
    while True:  # until Ctrl-C
        ctx.timing.sleep(ctx.timing.poll)
        shown += show_new(ctx, aws, groups, seen, pattern, width)


def log_groups(
    ctx: Context, aws: Gateway, environment: Deployed, chosen: list[str]
) -> dict[str, str]:
    """Process → the log group its task definition's awslogs writes to."""
    groups: dict[str, str] = {}
    for process, (_service, definition) in process_services(aws, environment, chosen).items():
        if definition.log_group:
            groups[process] = definition.log_group
        else:
            ctx.note(f"{process}: {definition.arn} does not log through awslogs")
    return groups


def show_new(
    ctx: Context,
    aws: Gateway,
    groups: dict[str, str],
    seen: Seen,
    pattern: str | None,
    width: int,
) -> int:
    """One poll of every group: print the lines not shown yet; how many."""
    batches = [
        (process, aws.log_events(group, seen.start_ms, pattern=pattern))
        for process, group in groups.items()
    ]
    fresh = seen.fresh(interleave(batches))
    for line in log_lines(fresh, width):
        ctx.echo(line)
    return len(fresh)
