"""The follow-up update after a change set that created a protected resource (see
decide/follow_up.py): the root template the plan reviewed, the same parameters except the
values plan.json names. It may only modify: anything else means the stack is not what the plan
saw, and it stops.
"""

from __future__ import annotations

from factorstack.deploy.aws.gateway import Gateway
from factorstack.deploy.context import Context
from factorstack.deploy.decide.change_sets import ChangeSetRequest
from factorstack.deploy.decide.follow_up import (
    FOLLOW_UP_SUFFIX,
    follow_up_parameters,
    unexpected_rows,
)
from factorstack.deploy.decide.stacks import Stack
from factorstack.deploy.execute import execute_and_watch
from factorstack.deploy.flow import create_change_set, review_change_set
from factorstack.deploy.present.plan_files import PlanRecord
from factorstack.errors import DeployError


def follow_up_request(record: PlanRecord, stack: Stack, settings: str) -> ChangeSetRequest:
    """The follow-up's change set: an UPDATE of the reviewed root with the follow-up values."""
    return ChangeSetRequest(
        stack_name=record.stack_name,
        name=f"{record.change_set_name}{FOLLOW_UP_SUFFIX}"[:128],
        change_set_type="UPDATE",
        stack_exists=True,
        template_url=record.template_url,
        description=f"factorstack follow-up of {record.change_set_name}: {settings}"[:1024],
        parameters=follow_up_parameters(record.parameter_keys, record.follow_up),
        tags=dict(stack.tags),
    )


def run_follow_up(ctx: Context, aws: Gateway, record: PlanRecord, stack: Stack) -> Stack | None:
    """Apply the plan's follow-up values; None when there are none or the stack has them."""
    if not record.follow_up:
        return None
    settings = ", ".join(f"{k}={v}" for k, v in sorted(record.follow_up.items()))
    ctx.echo(f"follow-up update of {record.stack_name}: {settings}")
    request = follow_up_request(record, stack, settings)
    change_set = create_change_set(aws, request, ctx.change_set_timing, ctx.echo)
    if change_set is None:
        ctx.echo(f"follow-up: {record.stack_name} already has {settings}")
        return None
    surprises = unexpected_rows(review_change_set(aws, change_set).rows)
    if surprises:
        aws.delete_change_set(change_set.change_set_id)
        listed = "; ".join(f"{r.stack}/{r.logical_id} {r.action}" for r in surprises)
        raise DeployError(
            f"follow-up update of {record.stack_name} would do more than set {settings} "
            f"({listed}); not executed (plan again and review)"
        )
    updated = execute_and_watch(ctx, aws, record.stack_name, change_set.change_set_id)
    ctx.echo(f"follow-up done: {settings}")
    return updated
