"""`factorstack bootstrap ENV`: create or update the app's bootstrap stack.

The template is `build/ENV/bootstrap.json`, rendered and linted by `factorstack build` like every
other; a missing, altered or stale build is refused as plan refuses it. It goes through the same
path as every deploy (change set, review, guard, execute), with the template sent inline because
the artifacts bucket may not exist yet. Before that it makes sure the service-linked roles a
first deploy needs exist (service_roles.py).
"""

from __future__ import annotations

from typing import Any

from factorstack.deploy import guard
from factorstack.deploy.bootstrap_stack import bootstrap_stack_name
from factorstack.deploy.changeset import (
    ChangeSetRequest,
    change_set_description,
    change_set_name,
    current_revision,
)
from factorstack.deploy.context import Context
from factorstack.deploy.execute import execute_and_watch
from factorstack.deploy.flow import reviewed_change_set
from factorstack.deploy.review import Review, rich_table
from factorstack.deploy.service_roles import ensure_service_linked_roles
from factorstack.deploy.stack_state import prepare_stack


def run_bootstrap(ctx: Context, allow_replace: list[str] | None = None) -> dict[str, Any] | None:
    """Deploy the bootstrap stack; None when it was already up to date."""
    build = ctx.load()  # verified against its manifest and current with the config
    body = build.bootstrap_template().read_text(encoding="utf-8")
    clients = ctx.connect(build)
    # Before the change set: a fresh account's first ECS create fails without these roles.
    ensure_service_linked_roles(clients.iam, ctx.echo)
    cfn = clients.cloudformation
    stack_name = bootstrap_stack_name(build.app)
    change_set_type, stack = prepare_stack(cfn, stack_name, ctx.timing, ctx.echo)
    revision = current_revision(ctx.root)
    request = ChangeSetRequest(
        stack_name=stack_name,
        name=change_set_name(f"bootstrap-{build.environment}", revision),
        change_set_type=change_set_type,
        stack_exists=stack is not None,
        template_body=body,
        description=change_set_description(revision),
        parameters=[],
        tags={"app": build.app, "purpose": "factorstack-bootstrap"},
    )

    def show(review: Review, _verdict: guard.Verdict) -> None:
        ctx.console.print(rich_table(review))

    reviewed = reviewed_change_set(ctx, cfn, request, clients.region, allow_replace or [], show)
    if reviewed is None:
        ctx.echo(f"no changes: bootstrap stack {stack_name} is up to date")
        return None
    return execute_and_watch(ctx, cfn, stack_name, reviewed.change_set_id)
