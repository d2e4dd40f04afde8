"""IAM policies for the process stacks, built with awacs and scoped to exact ARNs.

The only `Resource: *` a task's roles ever get is `ecr:GetAuthorizationToken` (it has no
resource-level form) and the task role's blanket deny of IAM.
"""

from __future__ import annotations

from awacs import ecr, logs, secretsmanager, ssm
from awacs.aws import Action, Allow, Deny, PolicyDocument, Principal, Statement
from awacs.sts import AssumeRole

from factorstack.stacks.common import arn

EVERYTHING = "*"


def assume_role_by_ecs_tasks() -> PolicyDocument:
    return PolicyDocument(
        Statement=[
            Statement(
                Effect=Allow,
                Principal=Principal("Service", "ecs-tasks.amazonaws.com"),
                Action=[AssumeRole],
            )
        ]
    )


def ssm_parameter_arn(name: str) -> object:
    """SSM ARNs carry the name without its leading slash after `parameter/`."""
    return arn("ssm", f"parameter/{name.lstrip('/')}")


def external_secret_arn(name: str) -> object:
    """An existing secret's ARN; Secrets Manager appends a dash and six random characters."""
    return arn("secretsmanager", f"secret:{name}-??????")


def execution_policy(
    repository: str,
    log_group_name: str,
    parameter_names: list[str],
    secret_arns: list[object],
) -> PolicyDocument:
    """What ECS needs to start the task: pull its image, write its log, read its config."""
    statements = [
        Statement(Effect=Allow, Action=[ecr.GetAuthorizationToken], Resource=[EVERYTHING]),
        Statement(
            Effect=Allow,
            Action=[ecr.BatchCheckLayerAvailability, ecr.GetDownloadUrlForLayer, ecr.BatchGetImage],
            Resource=[arn("ecr", f"repository/{repository}")],
        ),
        Statement(
            Effect=Allow,
            Action=[logs.CreateLogStream, logs.PutLogEvents],
            Resource=[arn("logs", f"log-group:{log_group_name}:log-stream:*")],
        ),
    ]
    if parameter_names:
        statements.append(
            Statement(
                Effect=Allow,
                Action=[ssm.GetParameters],
                Resource=[ssm_parameter_arn(name) for name in parameter_names],
            )
        )
    if secret_arns:
        statements.append(
            Statement(Effect=Allow, Action=[secretsmanager.GetSecretValue], Resource=secret_arns)
        )
    return PolicyDocument(Statement=statements)


def task_policy() -> PolicyDocument:
    """The app's own role: it may do nothing with IAM, whatever is attached later."""
    return PolicyDocument(
        Statement=[Statement(Effect=Deny, Action=[Action("iam", "*")], Resource=[EVERYTHING])]
    )
