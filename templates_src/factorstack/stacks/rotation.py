"""Rotation stack: Secrets Manager rotates the app user's database secret on a schedule, with
two users taking turns (`APP_app` and `APP_app_clone`), so running tasks keep working.

Hosted rotation is a template transform, which a nested stack deployed through a change set
cannot use; and a rotation Lambda with a MySQL driver would need packaging and a VPC. So the
Lambda (factorstack_lambda/rotation.py, inlined) only talks to AWS APIs: it writes the pending
version (the other user, a new password), then runs a one-off Fargate task, the release
phase's `database-user` step reading that pending version, which signs in as the master,
creates or updates that user with its password and the schema grant, and signs in as it. Then
the pending version becomes the current one. Tasks that started before keep the previous user,
whose password is untouched until the rotation after this one.

The schedule never rotates during a deploy (RotateImmediatelyOnUpdate false); the stack is
left out when the environment's `database.rotation_days` is 0.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from awacs import logs, secretsmanager
from awacs.aws import Allow, PolicyDocument, Statement
from troposphere import GetAtt, Parameter, Ref, Template, iam
from troposphere import awslambda as lambda_
from troposphere import ecs as ecs_types
from troposphere import secretsmanager as secrets_types
from troposphere.logs import LogGroup

from factorstack.model import ROTATION_USER_SUFFIX, AppModel, Database
from factorstack.stacks import iam as policies
from factorstack.stacks.common import arn, retain, unique_name
from factorstack.stacks.data import PASSWORD_EXCLUDED_CHARACTERS, PASSWORD_LENGTH
from factorstack.stacks.policy import (
    justify_log_group,
    justify_rotator,
    justify_service_permission,
)
from factorstack.stacks.process import ProcessSources, task_definition_with
from factorstack.stacks.release_phase import (
    LAMBDA_MEMORY_MB,
    POLICY_VERSION,
    RUNTIME,
    USER_SETUP,
    USER_SETUP_SCRIPT,
    USER_SETUP_VOLUME,
    UserSetup,
    assume_role_by_lambda,
    handler_source,
    run_task_statements,
)
from factorstack.stacks.wiring import Built, ChildStack

ROTATION_FILE = "rotation.json"
HANDLER_MODULE = "rotation.py"
STEM = "Rotation"
STREAM_PREFIX = "rotation"
LAMBDA_TIMEOUT_SECONDS = 900  # Lambda's longest: a Fargate task starts in about a minute
TASK_CPU, TASK_MEMORY = 256, 512  # the smallest Fargate size; a MySQL client needs no more
PENDING = "AWSPENDING"
# After the user-setup step: sign in as the user it just set, over TLS. This is the rotation's
# test; a wrong password or a missing grant fails the task and so the rotation.
SIGN_IN_CHECK = """\
printf '[client]\\nuser="%s"\\npassword="%s"\\nhost="%s"\\nport=%s\\nssl-mode=REQUIRED\\n' \\
  "$APP_USERNAME" "$APP_PASSWORD" "$DB_HOST" "$DB_PORT" > "$cnf"
printf 'SELECT CURRENT_USER();\\n' | mysql --defaults-extra-file="$cnf" --batch --skip-column-names
echo "signed in as $APP_USERNAME"
"""


def build_rotation(model: AppModel, sources: ProcessSources) -> Built[None]:
    """The rotation task, the Lambda that drives Secrets Manager's four steps, its permission
    and the schedule; needs a database whose `rotation_days` is above 0."""
    db = model.database
    if db is None or db.rotation_days == 0:
        raise ValueError("rotation needs a database with rotation_days above 0")
    child = ChildStack(
        "RotationStack",
        ROTATION_FILE,
        f"{model.app} {model.environment}: the app database user's secret rotates, "
        "two users taking turns",
    )
    template = child.template
    process = model.processes[0]  # its log group; none of its configuration
    cluster = child.take(sources.cluster.cluster_name, "ECS cluster.")
    network = (
        child.take(sources.network.private_subnet_ids, "Comma-separated task subnets."),
        child.take(
            sources.cluster.service_security_group_id,
            "Task security group.",
            "AWS::EC2::SecurityGroup::Id",
        ),
    )
    log_group = child.take(
        sources.cluster.log_group_names[process.name],
        "Log group for the rotation task.",
        name="LogGroupName",
    )
    setup = UserSetup.take(child, db, sources)
    roles = _task_roles(template, setup, log_group)
    bare = replace(
        process,
        variables=(),
        command=None,
        port=None,
        writable=(),
        cpu=TASK_CPU,
        memory=TASK_MEMORY,
    )
    container = setup.container(
        log_group, STREAM_PREFIX, app_stage=PENDING, script=USER_SETUP_SCRIPT + SIGN_IN_CHECK
    )
    # The only container: it must be essential (a task needs one) and nothing waits on it.
    container.Essential = True
    task_definition = task_definition_with(
        template, model, bare, roles, [container], stem=STEM, extra_volumes=(USER_SETUP_VOLUME,)
    )
    wires = _Wires(cluster, *network, log_group=log_group, setup=setup)
    function = justify_rotator(_rotator(template, model, wires, task_definition, roles))
    permission = template.add_resource(
        lambda_.Permission(
            "RotatorInvokedBySecretsManager",
            FunctionName=GetAtt(function, "Arn"),
            Action="lambda:InvokeFunction",
            Principal="secretsmanager.amazonaws.com",
            SourceAccount=Ref("AWS::AccountId"),
            SourceArn=Ref(setup.app),
        )
    )
    justify_service_permission(permission, "Secrets Manager", "the app user's secret")
    template.add_resource(
        secrets_types.RotationSchedule(
            "DatabaseAppSecretRotation",
            DependsOn=[permission.title],
            SecretId=Ref(setup.app),
            RotationLambdaARN=GetAtt(function, "Arn"),
            RotationRules=secrets_types.RotationRules(AutomaticallyAfterDays=db.rotation_days),
            RotateImmediatelyOnUpdate=False,
        )
    )
    return child.built(None)


def rotates(db: Database | None) -> bool:
    """Whether the environment has a rotation stack."""
    return db is not None and db.rotation_days > 0


@dataclass(frozen=True)
class _Wires:
    """The rotation stack's parameters the Lambda hands to RunTask."""

    cluster: Parameter
    subnets: Parameter
    security_group: Parameter
    log_group: Parameter
    setup: UserSetup


def _task_roles(
    template: Template, setup: UserSetup, log_group: Parameter
) -> tuple[iam.Role, iam.Role]:
    """ECS's role for the rotation task: its log streams and the two secrets, nothing else (the
    client image is public: no registry rights); the task's own role may not touch IAM."""
    execution_role = template.add_resource(
        iam.Role(
            f"{STEM}ExecutionRole",
            AssumeRolePolicyDocument=policies.assume_role_by_ecs_tasks(),
            Policies=[
                iam.Policy(
                    PolicyName="start-task",
                    PolicyDocument=PolicyDocument(
                        Version=POLICY_VERSION,
                        Statement=[
                            Statement(
                                Effect=Allow,
                                Action=[logs.CreateLogStream, logs.PutLogEvents],
                                Resource=[_task_log_streams(log_group)],
                            ),
                            Statement(
                                Effect=Allow,
                                Action=[secretsmanager.GetSecretValue],
                                Resource=[Ref(setup.master), Ref(setup.app)],
                            ),
                        ],
                    ),
                )
            ],
        )
    )
    task_role = template.add_resource(
        iam.Role(
            f"{STEM}TaskRole",
            AssumeRolePolicyDocument=policies.assume_role_by_ecs_tasks(),
            Policies=[iam.Policy(PolicyName="no-iam", PolicyDocument=policies.task_policy())],
        )
    )
    return execution_role, task_role


def _task_log_streams(log_group: Parameter) -> object:
    return arn("logs", f"log-group:${{{log_group.title}}}:log-stream:{STREAM_PREFIX}/*")


def _rotator(
    template: Template,
    model: AppModel,
    wires: _Wires,
    task_definition: ecs_types.TaskDefinition,
    roles: tuple[iam.Role, iam.Role],
) -> lambda_.Function:
    """The rotation Lambda, allowed exactly what its four steps do."""
    log_group = template.add_resource(
        retain(
            LogGroup(
                "RotatorLogGroup",
                LogGroupName=unique_name(f"/{model.app}/{model.environment}/rotation-"),
                RetentionInDays=model.log_retention_days,
            )
        )
    )
    justify_log_group(log_group, model.log_retention_days)
    role = template.add_resource(
        iam.Role(
            "RotatorRole",
            AssumeRolePolicyDocument=assume_role_by_lambda(),
            Policies=[
                iam.Policy(
                    PolicyName="rotate-the-app-user",
                    PolicyDocument=PolicyDocument(
                        Version=POLICY_VERSION,
                        Statement=_rotator_statements(log_group, wires, task_definition, roles),
                    ),
                )
            ],
        )
    )
    return template.add_resource(
        lambda_.Function(
            "Rotator",
            Description="Rotates the app database user's secret, two users taking turns.",
            Runtime=RUNTIME,
            Handler="index.handler",
            Code=lambda_.Code(ZipFile=handler_source(HANDLER_MODULE)),
            Role=GetAtt(role, "Arn"),
            Timeout=LAMBDA_TIMEOUT_SECONDS,
            MemorySize=LAMBDA_MEMORY_MB,
            LoggingConfig=lambda_.LoggingConfig(LogGroup=Ref(log_group)),
            Environment=lambda_.Environment(
                Variables={
                    "CLUSTER": Ref(wires.cluster),
                    "TASK_DEFINITION": Ref(task_definition),
                    "SUBNETS": Ref(wires.subnets),
                    "SECURITY_GROUP": Ref(wires.security_group),
                    "LOG_GROUP": Ref(wires.log_group),
                    "STREAM_PREFIX": STREAM_PREFIX,
                    "CONTAINER": USER_SETUP,
                    "USER_SUFFIX": ROTATION_USER_SUFFIX,
                    "PASSWORD_LENGTH": str(PASSWORD_LENGTH),
                    "EXCLUDED_CHARACTERS": PASSWORD_EXCLUDED_CHARACTERS,
                }
            ),
        )
    )


def _rotator_statements(
    log_group: LogGroup,
    wires: _Wires,
    task_definition: ecs_types.TaskDefinition,
    roles: tuple[iam.Role, iam.Role],
) -> list[Statement]:
    return [
        Statement(
            Effect=Allow,
            Action=[logs.CreateLogStream, logs.PutLogEvents],
            Resource=[GetAtt(log_group, "Arn")],
        ),
        Statement(
            Effect=Allow,
            Action=[
                secretsmanager.DescribeSecret,
                secretsmanager.GetSecretValue,
                secretsmanager.PutSecretValue,
                secretsmanager.UpdateSecretVersionStage,
            ],
            Resource=[Ref(wires.setup.app)],
        ),
        # GetRandomPassword acts on no resource: `*` is its only form.
        Statement(
            Effect=Allow, Action=[secretsmanager.GetRandomPassword], Resource=[policies.EVERYTHING]
        ),
        *run_task_statements(
            wires.cluster, task_definition, roles, (wires.log_group, STREAM_PREFIX)
        ),
    ]
