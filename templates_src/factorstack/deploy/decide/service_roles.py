"""The service-linked roles a first deploy needs, made sure of before bootstrap's change set.

In a fresh account ECS creates `AWSServiceRoleForECS` on first use and can then fail to assume
it ("Unable to assume the service linked role"), which fails the first create. Creating the roles
up front avoids that; an `AWS::IAM::ServiceLinkedRole` resource would instead fail whenever the
role already exists, so this is done with plain IAM calls that treat "already there" as success.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

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
    # ELB makes its own on the first load balancer, with the caller's right to do so: made here,
    # a missing right fails bootstrap with the fix instead of the cluster stack halfway.
    ServiceRole("elasticloadbalancing.amazonaws.com", "AWSServiceRoleForElasticLoadBalancing"),
)


class RoleAnswer(Enum):
    """What IAM said about a role, to GetRole or to CreateServiceLinkedRole."""

    FOUND = "found"  # it exists (a create lost the race to another creator: still there)
    MISSING = "missing"  # GetRole: NoSuchEntity, the one answer that means "create it"
    CREATED = "created"
    DENIED = "denied"  # the deploying identity may not do this: say which permission


class Outcome(Enum):
    """What bootstrap did about one role; the value is what it prints."""

    CREATED = "created"
    ALREADY_THERE = "already there"


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
