"""The follow-up update after a change set that created a protected resource.

A database is created without deletion protection, so that a failed first create can roll
back (ROLLBACK_COMPLETE) instead of getting stuck on a delete that protection refuses
(ROLLBACK_FAILED). Once the change set succeeded, this update turns protection on: the same
root template the plan reviewed, the same parameters, except the values plan.json names.
It may only modify: anything else means the stack is not what the plan saw, and it stops.
"""

from __future__ import annotations

from typing import Any

from factorstack.deploy.changeset import (
    ChangeSetRequest,
    check_created,
    create_change_set,
    delete_change_set,
    is_no_op,
)
from factorstack.deploy.context import Context
from factorstack.deploy.execute import execute_and_watch
from factorstack.deploy.plan_files import PlanRecord
from factorstack.deploy.review import Row, review_change_set
from factorstack.errors import DeployError

FOLLOW_UP_SUFFIX = "-follow-up"
# A follow-up changes a parameter of the root, which reaches a nested stack and one property.
FOLLOW_UP_ACTIONS = frozenset({"Modify"})


def follow_up_parameters(record: PlanRecord) -> list[dict[str, Any]]:
    """Every parameter the plan passed, kept, except the follow-up values."""
    return [
        {"ParameterKey": key, "ParameterValue": record.follow_up[key]}
        if key in record.follow_up
        else {"ParameterKey": key, "UsePreviousValue": True}
        for key in record.parameter_keys
    ]


def unexpected_rows(rows: list[Row]) -> list[Row]:
    """Rows a follow-up must not contain: anything but an in-place modification."""
    return [
        row
        for row in rows
        if row.action not in FOLLOW_UP_ACTIONS or row.replacement in {"True", "Conditional"}
    ]


def run_follow_up(
    ctx: Context, cloudformation: Any, region: str, record: PlanRecord, stack: dict[str, Any]
) -> dict[str, Any] | None:
    """Apply the plan's follow-up values; None when the stack already has them."""
    if not record.follow_up:
        return None
    settings = ", ".join(f"{k}={v}" for k, v in sorted(record.follow_up.items()))
    ctx.echo(f"follow-up update of {record.stack_name}: {settings}")
    request = ChangeSetRequest(
        stack_name=record.stack_name,
        name=f"{record.change_set_name}{FOLLOW_UP_SUFFIX}"[:128],
        change_set_type="UPDATE",
        stack_exists=True,
        template_url=record.template_url,
        description=f"factorstack follow-up of {record.change_set_name}: {settings}"[:1024],
        parameters=follow_up_parameters(record),
        tags={t["Key"]: t["Value"] for t in stack.get("Tags") or []},
    )
    change_set = create_change_set(cloudformation, request, ctx.change_set_timing, ctx.echo)
    if is_no_op(change_set):
        if change_set.get("ChangeSetId"):
            delete_change_set(cloudformation, change_set["ChangeSetId"])
        ctx.echo(f"follow-up: {record.stack_name} already has {settings}")
        return None
    check_created(change_set)
    review = review_change_set(cloudformation, change_set, region)
    surprises = unexpected_rows(review.rows)
    if surprises:
        delete_change_set(cloudformation, change_set["ChangeSetId"])
        listed = "; ".join(f"{r.stack}/{r.logical_id} {r.action}" for r in surprises)
        raise DeployError(
            f"follow-up update of {record.stack_name} would do more than set {settings} "
            f"({listed}); not executed (plan again and review)"
        )
    updated = execute_and_watch(ctx, cloudformation, record.stack_name, change_set["ChangeSetId"])
    ctx.echo(f"follow-up done: {settings}")
    return updated
