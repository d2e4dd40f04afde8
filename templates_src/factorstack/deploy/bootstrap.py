"""`factorstack bootstrap ENV`: create or update the app's bootstrap stack.

The template is `build/ENV/bootstrap.json`, rendered and linted by `factorstack build` like every
other; a missing, altered or stale build is refused as plan refuses it. It goes through the same
path as every deploy (change set, review, guard, execute). Once the stack and its artifacts
bucket exist, the template is uploaded there and read by URL; before that it goes inline, and
one too large for inline goes in two reviewed steps: `bootstrap-bucket.json` (the bucket alone)
creates the stack, then bootstrap.json from the new bucket updates it
(decide/bootstrap_route.py). Before all that it makes sure the service-linked roles a first
deploy needs exist (decide/service_roles.py).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from factorstack.build.manifest import BUCKET_OUTPUT, Build
from factorstack.deploy.aws.gateway import Gateway
from factorstack.deploy.context import Context
from factorstack.deploy.decide import guard
from factorstack.deploy.decide.bootstrap_route import Route, bootstrap_route, two_steps_line
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
from factorstack.deploy.package import content_key, template_url
from factorstack.deploy.present.review import rich_table
from factorstack.deploy.revision import current_revision
from factorstack.errors import DeployError


def run_bootstrap(ctx: Context, allow_replace: list[str] | None = None) -> Stack | None:
    """Deploy the bootstrap stack; None when it was already up to date."""
    build = ctx.load()  # verified against its manifest and current with the config
    full = build.bootstrap_template().read_bytes()
    aws = ctx.connect(build.target)
    # Before the change set: a fresh account's first ECS create fails without these roles.
    ensure_service_linked_roles(aws, ctx.echo)
    stack_name = bootstrap_stack_name(build.app)
    change_set_type, stack = prepare_stack(aws, stack_name, ctx.timing, ctx.echo)
    bucket = stack.outputs.get(BUCKET_OUTPUT) if stack else None
    route = bootstrap_route(stack_name, change_set_type, bucket, len(full))
    steps = Steps(ctx, aws, build, stack_name, allow_replace or [])
    if route is Route.INLINE:
        return steps.deploy(change_set_type, stack, template_body=full.decode("utf-8"))
    created = None
    if route is Route.BUCKET_FIRST:
        ctx.echo(two_steps_line(len(full)))
        created = steps.create_bucket(stack)
        bucket = created.outputs.get(BUCKET_OUTPUT)
    if not bucket:  # pragma: no cover - the route and the bucket-only template promise one
        raise DeployError(f"bootstrap stack {stack_name} has no {BUCKET_OUTPUT} output")
    url = steps.upload(bucket, full)
    return steps.deploy("UPDATE", created or stack, template_url=url) or created


@dataclass
class Steps:
    """The change sets one bootstrap makes, each reviewed, guarded and executed."""

    ctx: Context
    aws: Gateway
    build: Build
    stack_name: str
    allow_replace: list[str]

    def deploy(
        self,
        change_set_type: str,
        stack: Stack | None,
        template_body: str | None = None,
        template_url: str | None = None,
        step: str = "bootstrap",
    ) -> Stack | None:
        """One change set of the template given inline or by URL; None when nothing changed."""
        revision = current_revision(self.ctx.root)
        request = ChangeSetRequest(
            stack_name=self.stack_name,
            name=change_set_name(f"{step}-{self.build.environment}", revision),
            change_set_type=change_set_type,
            stack_exists=stack is not None,
            template_body=template_body,
            template_url=template_url,
            description=change_set_description(revision),
            parameters=[],
            tags={"app": self.build.app, "purpose": "factorstack-bootstrap"},
        )

        def show(review: Review, _verdict: guard.Verdict) -> None:
            self.ctx.console.print(rich_table(review))

        reviewed = reviewed_change_set(self.ctx, self.aws, request, self.allow_replace, show)
        if reviewed is None:
            self.ctx.echo(f"no changes: bootstrap stack {self.stack_name} is up to date")
            return None
        change_set_id = reviewed.change_set.change_set_id
        return execute_and_watch(self.ctx, self.aws, self.stack_name, change_set_id)

    def create_bucket(self, stack: Stack | None) -> Stack:
        """Step one of two: create the stack from bootstrap-bucket.json, sent inline."""
        body = self.build.bootstrap_bucket_template().read_text(encoding="utf-8")
        created = self.deploy("CREATE", stack, template_body=body, step="bootstrap-bucket")
        if created is None:  # pragma: no cover - a CREATE change set always holds changes
            raise DeployError(f"bootstrap stack {self.stack_name}: nothing to create")
        return created

    def upload(self, bucket: str, data: bytes) -> str:
        """bootstrap.json into the bucket under its content key (once); its TemplateURL."""
        key = content_key(data)
        uploaded = self.aws.upload_once(bucket, key, data)
        self.ctx.echo(
            f"bootstrap.json {'uploaded to' if uploaded else 'already in'} s3://{bucket}/{key}"
        )
        return template_url(bucket, self.aws.region, key)


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
