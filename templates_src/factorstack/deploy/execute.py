"""Executing a reviewed change set and watching it to the end: apply, bootstrap and the
follow-up update share it.
"""

from __future__ import annotations

from typing import Any

from factorstack.deploy.bootstrap_stack import outputs_of
from factorstack.deploy.context import Context
from factorstack.deploy.events import EventStream, newest_event_ids, wait_for_stack
from factorstack.deploy.session import aws_errors


def execute_and_watch(
    ctx: Context,
    cloudformation: Any,
    stack_name: str,
    change_set_id: str,
    baseline: dict[str, str] | None = None,
) -> dict[str, Any]:
    """Execute a change set, stream events until the stack settles, print its outputs.

    RetainExceptOnCreate: when the deploy rolls back, resources it CREATED are deleted even if
    their DeletionPolicy is Retain, so a failed first create leaves no named log group or
    secret behind to block the next create with "already exists"; resources that existed
    before keep their Retain.
    """
    if baseline is None:
        baseline = newest_event_ids(cloudformation, stack_name)
    with aws_errors(f"executing the change set on {stack_name}"):
        cloudformation.execute_change_set(ChangeSetName=change_set_id, RetainExceptOnCreate=True)
    ctx.echo(f"executing change set on {stack_name}")
    stream = EventStream(cloudformation, stack_name, baseline)
    with ctx.console.status(f"{stack_name}: waiting") as status:
        stack = wait_for_stack(
            cloudformation,
            stack_name,
            stream,
            ctx.timing,
            ctx.echo,
            progress=lambda text: status.update(text),
        )
    ctx.echo(f"{stack_name}: {stack['StackStatus']}")
    outputs = outputs_of(stack)
    for key, value in sorted(outputs.items()):
        ctx.echo(f"  {key} = {value}")
    return stack
