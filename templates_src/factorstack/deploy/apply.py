"""`factorstack apply ENV`: execute exactly the reviewed change set, watch it, print outputs.

Refuses when the stack moved since the plan (status or last-updated time differ) or when the
change set is gone or no longer executable; on failure prints the root cause and exits 1.
"""

from __future__ import annotations

from factorstack.deploy.context import Context
from factorstack.deploy.decide.change_sets import check_executable
from factorstack.deploy.decide.stacks import Stack, stack_moved
from factorstack.deploy.execute import execute_and_watch, newest_event_ids
from factorstack.deploy.follow_up import run_follow_up
from factorstack.deploy.present.plan_files import APPLIED, discard_plan, read_plan, write_note
from factorstack.errors import DeployError, NotReady


def run_apply(ctx: Context) -> Stack:
    """Apply the recorded plan of one environment; the stack as it ends."""
    build = ctx.load(require_fresh=False)
    record = read_plan(build.folder, build.environment, build.templates)
    if record.template_hashes != build.templates:
        raise NotReady(
            f"build/{build.environment} changed since the plan "
            f"(run `./deploy.sh {build.environment}` to plan it again)"
        )
    aws = ctx.connect(build.target)
    checking = f"checking stack {record.stack_name}"
    stack = aws.describe_stack(record.stack_name, doing=checking)
    moved = stack_moved(record.stack_status, record.stack_last_updated, stack)
    if moved:
        raise DeployError(f"stack {record.stack_name} changed since the plan: {moved} (plan again)")
    check_executable(
        record.change_set_name, aws.find_change_set(record.change_set_id, doing=checking)
    )
    # Every call that may fail comes before the plan is discarded: nothing ran, plan kept.
    baseline = newest_event_ids(aws, record.stack_name)
    discard_plan(build.folder)  # a change set runs once; a second apply needs a new plan
    write_note(build.folder, APPLIED, build.templates)
    stack = execute_and_watch(ctx, aws, record.stack_name, record.change_set_id, baseline)
    return run_follow_up(ctx, aws, record, stack) or stack
