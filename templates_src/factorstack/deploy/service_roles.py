"""The service-linked roles a first deploy needs, made sure of before bootstrap's change set.

In a fresh account ECS creates `AWSServiceRoleForECS` on first use and can then fail to assume
it ("Unable to assume the service linked role"), which fails the first create. Creating the roles
up front avoids that; an `AWS::IAM::ServiceLinkedRole` resource would instead fail whenever the
role already exists, so this is done with plain IAM calls that treat "already there" as success.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from factorstack.deploy.session import DENIED_CODES, error_code, error_message, translate
from factorstack.errors import DeployError


@dataclass(frozen=True)
class ServiceRole:
    """One service-linked role: the service principal IAM takes and the name AWS gives it."""

    service: str
    role_name: str


# Names as each service documents them; IAM derives the name, we only check for it.
SERVICE_LINKED_ROLES = (
    ServiceRole("ecs.amazonaws.com", "AWSServiceRoleForECS"),
    ServiceRole(
        "ecs.application-autoscaling.amazonaws.com",
        "AWSServiceRoleForApplicationAutoScaling_ECSService",
    ),
    ServiceRole("elasticache.amazonaws.com", "AWSServiceRoleForElastiCache"),
    ServiceRole("rds.amazonaws.com", "AWSServiceRoleForRDS"),
)

# What IAM says when the role exists: CreateServiceLinkedRole answers InvalidInput
# "Service role name X has been taken in this account, please try a different suffix."
TAKEN_PHRASE = "has been taken in this account"
# IAM's documented code for creating an entity that exists; accepted too, as the same fact.
ALREADY_EXISTS_CODE = "EntityAlreadyExists"


class Outcome(Enum):
    """What bootstrap did about one role; the value is what it prints."""

    CREATED = "created"
    ALREADY_THERE = "already there"


class CreateFailure(Enum):
    """What a CreateServiceLinkedRole error means for bootstrap."""

    ROLE_EXISTS = "exists"  # someone (or a concurrent run) made it first: success
    DENIED = "denied"  # the deploying identity may not create it: say which permission
    OTHER = "other"  # anything else: a one-line AWS error


def create_failure(code: str, message: str) -> CreateFailure:
    """Classify a CreateServiceLinkedRole error by its code and message, nothing else."""
    if code == ALREADY_EXISTS_CODE:
        return CreateFailure.ROLE_EXISTS
    if code == "InvalidInput" and TAKEN_PHRASE in message.lower():
        return CreateFailure.ROLE_EXISTS
    if code in DENIED_CODES:
        return CreateFailure.DENIED
    return CreateFailure.OTHER


def create_denied(role: ServiceRole) -> DeployError:
    """The one line that tells the user which permission is missing, and the way around it."""
    return DeployError(
        f"creating service-linked role {role.role_name}: access denied; the deploying identity "
        f"needs iam:CreateServiceLinkedRole with condition iam:AWSServiceName={role.service} "
        "(or an admin runs `aws iam create-service-linked-role --aws-service-name "
        f"{role.service}` once)"
    )


def get_denied(role: ServiceRole) -> DeployError:
    """Without GetRole bootstrap cannot tell a missing role from one it may not see."""
    return DeployError(
        f"checking service-linked role {role.role_name}: access denied; the deploying identity "
        f"needs iam:GetRole on arn:aws:iam::*:role/aws-service-role/{role.service}/{role.role_name}"
    )


def role_exists(iam: Any, role: ServiceRole) -> bool:
    """True when IAM has the role; NoSuchEntity is the one answer that means 'create it'."""
    doing = f"checking service-linked role {role.role_name} (iam get-role)"
    try:
        iam.get_role(RoleName=role.role_name)
    except ClientError as error:
        code = error_code(error)
        if code == "NoSuchEntity":
            return False
        if code in DENIED_CODES:
            raise get_denied(role) from None
        raise translate(error, doing) from None
    except BotoCoreError as error:
        raise translate(error, doing) from None
    return True


def create_role(iam: Any, role: ServiceRole) -> Outcome:
    """Create the role; losing a race to another creator still leaves it there."""
    doing = f"creating service-linked role {role.role_name} (iam create-service-linked-role)"
    try:
        iam.create_service_linked_role(AWSServiceName=role.service)
    except ClientError as error:
        meaning = create_failure(error_code(error), error_message(error))
        if meaning is CreateFailure.ROLE_EXISTS:
            return Outcome.ALREADY_THERE
        if meaning is CreateFailure.DENIED:
            raise create_denied(role) from None
        raise translate(error, doing) from None
    except BotoCoreError as error:
        raise translate(error, doing) from None
    return Outcome.CREATED


def ensure_service_linked_roles(
    iam: Any,
    echo: Callable[[str], None],
    roles: tuple[ServiceRole, ...] = SERVICE_LINKED_ROLES,
) -> dict[str, Outcome]:
    """Make sure every role exists (a role already there costs one GetRole), one line each."""
    outcomes: dict[str, Outcome] = {}
    for role in roles:
        outcome = Outcome.ALREADY_THERE if role_exists(iam, role) else create_role(iam, role)
        echo(f"service-linked role {role.role_name} ({role.service}): {outcome.value}")
        outcomes[role.role_name] = outcome
    return outcomes
