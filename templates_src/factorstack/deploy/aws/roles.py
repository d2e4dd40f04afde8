"""IAM's service-linked roles: whether one exists, and creating it.

IAM says a role exists in two ways: CreateServiceLinkedRole answers InvalidInput "Service role
name X has been taken in this account, please try a different suffix.", and EntityAlreadyExists
is its documented code for the same fact; both mean the role is there.
"""

from __future__ import annotations

from botocore.exceptions import ClientError

from factorstack.deploy.aws.session import (
    DENIED_CODES,
    Clients,
    aws_errors,
    error_code,
    error_message,
)
from factorstack.deploy.decide.service_roles import RoleAnswer, ServiceRole

TAKEN_PHRASE = "has been taken in this account"
ALREADY_EXISTS_CODE = "EntityAlreadyExists"


def create_answer(code: str, message: str) -> RoleAnswer | None:
    """What a CreateServiceLinkedRole error means, by its code and message; None: a failure."""
    if code == ALREADY_EXISTS_CODE:
        return RoleAnswer.FOUND
    if code == "InvalidInput" and TAKEN_PHRASE in message.lower():
        return RoleAnswer.FOUND
    if code in DENIED_CODES:
        return RoleAnswer.DENIED
    return None


class RoleCalls:
    """The gateway's calls to IAM."""

    clients: Clients

    def service_role(self, role: ServiceRole) -> RoleAnswer:
        """FOUND, MISSING (NoSuchEntity: the one answer that means "create it") or DENIED."""
        with aws_errors(f"checking service-linked role {role.role_name} (iam get-role)"):
            try:
                self.clients.iam.get_role(RoleName=role.role_name)
            except ClientError as error:
                code = error_code(error)
                if code == "NoSuchEntity":
                    return RoleAnswer.MISSING
                if code in DENIED_CODES:
                    return RoleAnswer.DENIED
                raise
        return RoleAnswer.FOUND

    def create_service_role(self, role: ServiceRole) -> RoleAnswer:
        """CREATED, FOUND (another creator won the race) or DENIED."""
        doing = f"creating service-linked role {role.role_name} (iam create-service-linked-role)"
        with aws_errors(doing):
            try:
                self.clients.iam.create_service_linked_role(AWSServiceName=role.service)
            except ClientError as error:
                answer = create_answer(error_code(error), error_message(error))
                if answer is None:
                    raise
                return answer
        return RoleAnswer.CREATED
