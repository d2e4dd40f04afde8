"""`factorstack apply ENV`: execute exactly the reviewed change set, watch it, print outputs.

Refuses when the stack moved since the plan (status or last-updated time differ) or when the
change set is gone or no longer executable; on failure prints the root cause and exits 1.
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from factorstack.deploy.changeset import CHANGE_SET_GONE_CODES
from factorstack.deploy.context import Context
from factorstack.deploy.events import newest_event_ids
from factorstack.deploy.execute import execute_and_watch
from factorstack.deploy.follow_up import run_follow_up
from factorstack.deploy.plan_files import (
    APPLIED,
    PlanRecord,
    discard_plan,
    read_plan,
    timestamp,
    write_note,
)
from factorstack.deploy.session import aws_errors, error_code, error_message
from factorstack.deploy.stack_state import describe_stack
from factorstack.errors import DeployError, NotReady


def stack_moved(record: PlanRecord, stack: dict[str, Any] | None) -> str | None:
    """Why the stack no longer matches the plan, or None when it does."""
    status = stack.get("StackStatus") if stack else None
    updated = timestamp(stack.get("LastUpdatedTime")) if stack else None
    if status != record.stack_status:
        return f"its status is {status or 'gone'}, the plan saw {record.stack_status or 'none'}"
    if updated != record.stack_last_updated:
        return f"it was updated at {updated}, after the plan saw {record.stack_last_updated}"
    return None


def fetch_change_set(cloudformation: Any, change_set_id: str) -> dict[str, Any] | None:
    """The recorded change set, or None when AWS no longer has it."""
    try:
        return cloudformation.describe_change_set(ChangeSetName=change_set_id)
    except ClientError as error:
        message = error_message(error)
        if error_code(error) in CHANGE_SET_GONE_CODES or "does not exist" in message:
            return None
        raise


def check_executable(record: PlanRecord, change_set: dict[str, Any] | None) -> None:
    """Refuse a change set that is gone, failed or already executed."""
    if change_set is None:
        raise DeployError(f"change set {record.change_set_name} no longer exists (plan again)")
    status = change_set.get("Status")
    execution = change_set.get("ExecutionStatus")
    if status != "CREATE_COMPLETE" or execution != "AVAILABLE":
        raise DeployError(
            f"change set {record.change_set_name} cannot be executed "
            f"(Status {status}, ExecutionStatus {execution}); plan again"
        )


def run_apply(ctx: Context) -> dict[str, Any]:
    """Apply the recorded plan of one environment."""
    build = ctx.load(require_fresh=False)
    record = read_plan(build.folder, build.environment, build.templates)
    if record.template_hashes != build.templates:
        raise NotReady(
            f"build/{build.environment} changed since the plan "
            f"(run `./deploy.sh {build.environment}` to plan it again)"
        )
    clients = ctx.connect(build)
    cfn = clients.cloudformation
    with aws_errors(f"checking stack {record.stack_name}"):
        stack = describe_stack(cfn, record.stack_name)
        moved = stack_moved(record, stack)
        if moved:
            raise DeployError(
                f"stack {record.stack_name} changed since the plan: {moved} (plan again)"
            )
        check_executable(record, fetch_change_set(cfn, record.change_set_id))
    # Every call that may fail comes before the plan is discarded: nothing ran, plan kept.
    baseline = newest_event_ids(cfn, record.stack_name)
    discard_plan(build.folder)  # a change set runs once; a second apply needs a new plan
    write_note(build.folder, APPLIED, build.templates)
    stack = execute_and_watch(ctx, cfn, record.stack_name, record.change_set_id, baseline)
    return run_follow_up(ctx, cfn, clients.region, record, stack) or stack
