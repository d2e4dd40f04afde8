"""Finding the bootstrap stack (artifacts bucket, ECR repositories) of an app."""

from __future__ import annotations

from typing import Any

from factorstack.build.manifest import BUCKET_OUTPUT
from factorstack.deploy.session import aws_errors
from factorstack.deploy.stack_state import describe_stack
from factorstack.errors import NotReady


def bootstrap_stack_name(app: str) -> str:
    """One bootstrap stack per app, account and region."""
    return f"{app}-bootstrap"


def outputs_of(stack: dict[str, Any]) -> dict[str, str]:
    """A stack's outputs as a plain mapping."""
    return {o["OutputKey"]: str(o.get("OutputValue", "")) for o in stack.get("Outputs") or []}


def artifacts_bucket(cloudformation: Any, app: str, environment: str) -> str:
    """The artifacts bucket from the bootstrap stack, or tell the user to bootstrap first."""
    name = bootstrap_stack_name(app)
    with aws_errors(f"reading the bootstrap stack {name}"):
        stack = describe_stack(cloudformation, name)
    bucket = outputs_of(stack).get(BUCKET_OUTPUT) if stack else None
    if not bucket:  # a step not done yet, like a missing build: exit 2, not a failure
        raise NotReady(
            f"no bootstrap stack {name} in this account and region "
            f"(run `factorstack bootstrap {environment}` first)"
        )
    return bucket
