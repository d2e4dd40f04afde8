"""`factorstack bootstrap ENV`: create or update the app's bootstrap stack.

The template is `build/ENV/bootstrap.json`, rendered and linted by `factorstack build` like every
other; a missing, altered or stale build is refused as plan refuses it. It goes through the same
path as every deploy (change set, review, guard, execute), with the template sent inline because
the artifacts bucket may not exist yet. Before that it makes sure the service-linked roles a
first deploy needs exist (decide/service_roles.py).
"""

from __future__ import annotations

from collections.abc import Callable

from factorstack.deploy.aws.gateway import Gateway
from factorstack.deploy.context import Context
from factorstack.deploy.decide import guard
from factorstack.deploy.decide.change_sets import (
    ChangeSetRequest,
    change_set_description,
    change_set_name,
)
from factorstack.deploy.decide.review import Review
from factorstack.deploy.decide.service_roles import (
    SERVICE_LINKED_ROLES,
    Outcome,
    RoleAnswer,
    ServiceRole,
    create_denied,
    get_denied,
)
from factorstack.deploy.decide.stacks import Stack, bootstrap_stack_name
from factorstack.deploy.execute import execute_and_watch
from factorstack.deploy.flow import prepare_stack, reviewed_change_set
from factorstack.deploy.present.review import rich_table
from factorstack.deploy.revision import current_revision


def run_bootstrap(ctx: Context, allow_replace: list[str] | None = None) -> Stack | None:
    """Deploy the bootstrap stack; None when it was already up to date."""
    build = ctx.load()  # verified against its manifest and current with the config
    body = build.bootstrap_template().read_text(encoding="utf-8")
    aws = ctx.connect(build.target)
    # Before the change set: a fresh account's first ECS create fails without these roles.
    ensure_service_linked_roles(aws, ctx.echo)
    stack_name = bootstrap_stack_name(build.app)
    change_set_type, stack = prepare_stack(aws, stack_name, ctx.timing, ctx.echo)
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

    reviewed = reviewed_change_set(ctx, aws, request, allow_replace or [], show)
    if reviewed is None:
        ctx.echo(f"no changes: bootstrap stack {stack_name} is up to date")
        return None
    return execute_and_watch(ctx, aws, stack_name, reviewed.change_set.change_set_id)


def ensure_role(aws: Gateway, role: ServiceRole) -> Outcome:
    """Create the role unless IAM has it (a role already there costs one GetRole)."""
    found = aws.service_role(role)
    if found is RoleAnswer.DENIED:
        raise get_denied(role)
    if found is RoleAnswer.FOUND:
        return Outcome.ALREADY_THERE
    created = aws.create_service_role(role)
    if created is RoleAnswer.DENIED:
        raise create_denied(role)
    return Outcome.CREATED if created is RoleAnswer.CREATED else Outcome.ALREADY_THERE


def ensure_service_linked_roles(
    aws: Gateway,
    echo: Callable[[str], None],
    roles: tuple[ServiceRole, ...] = SERVICE_LINKED_ROLES,
) -> dict[str, Outcome]:
    """Make sure every role exists, one line each."""
    outcomes: dict[str, Outcome] = {}
    for role in roles:
        outcome = ensure_role(aws, role)
        echo(f"service-linked role {role.role_name} ({role.service}): {outcome.value}")
        outcomes[role.role_name] = outcome
    return outcomes
