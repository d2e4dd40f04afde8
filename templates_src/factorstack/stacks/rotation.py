"""Rotation stack: Secrets Manager rotates the database secrets on a schedule, the app user's
with two users taking turns (`APP_app` and `APP_app_clone`), the master's in place.

Hosted rotation is a template transform, which a nested stack deployed through a change set
cannot use; and a rotation Lambda with a MySQL driver would need packaging and a VPC. So each
Lambda (factorstack_lambda/rotation.py and master_rotation.py, each inlined with
rotation_steps.py) only talks to AWS APIs: it writes the pending version, then runs a one-off
Fargate task that signs in as the master and changes the user that version names, and signs in
as it. Then the pending version becomes the current one.

The app user: the task is the release phase's `database-user` step reading the pending
version. Tasks that started before keep the previous user, whose password is untouched until
the rotation after this one; and once the new version is current, every service of the app
starts a new deployment, so no task lives to see that rotation.

The master: the task signs in with the current password (or already the pending one, when a
retry finds it set) and runs ALTER USER CURRENT_USER(). Only one-off tasks use the master, so
the moment between that change and finishSecret is acceptable, and nothing restarts.

The schedules never rotate during a deploy (RotateImmediatelyOnUpdate false); the stack is
left out when the environment's `database.rotation_days` is 0. Where it exists it is the same
text in every environment: the days, the tasks' architecture and the Lambdas' log retention are
settings the root passes (wiring.py).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace

from awacs import ecs, logs, secretsmanager
from awacs.aws import Allow, PolicyDocument, Statement
from troposphere import GetAtt, Join, Parameter, Ref, Split, Sub, Template, iam
from troposphere import awslambda as lambda_
from troposphere import ecs as ecs_types
from troposphere import secretsmanager as secrets_types
from troposphere.logs import LogGroup

from factorstack.model import ROTATION_USER_SUFFIX, AppModel, Database
from factorstack.stacks import iam as policies
from factorstack.stacks.common import arn
from factorstack.stacks.data import PASSWORD_EXCLUDED_CHARACTERS, PASSWORD_LENGTH
from factorstack.stacks.policy import (
    justify_log_group,
    justify_rotator,
    justify_service_permission,
)
from factorstack.stacks.process import ProcessSources, no_iam_task_role, task_definition_with
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
    lambda_log_group,
    run_task_statements,
)
from factorstack.stacks.wiring import Built, ChildStack

ROTATION_FILE = "rotation.json"
HANDLER_MODULE = "rotation.py"
MASTER_HANDLER_MODULE = "master_rotation.py"
MASTER_STEP = "database-master"  # the master rotation task's container
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


# The master rotation task: sign in with the pending password if a retry finds it already set,
# else with the current one, change the master's own password, then sign in with the new one.
# The password alphabet excludes ' " ` \\ (data.py), so the value sits safely in its quotes.
MASTER_SCRIPT = """set -eu
umask 077
cnf="${TMPDIR:-/tmp}/client.cnf"
trap 'rm -f "$cnf"' EXIT
options() {
  printf '[client]\\nuser="%s"\\npassword="%s"\\nhost="%s"\\nport=%s\\nssl-mode=REQUIRED\\n' \\
    "$MASTER_USERNAME" "$1" "$DB_HOST" "$DB_PORT" > "$cnf"
}
options "$PENDING_PASSWORD"
if printf 'SELECT 1;\\n' | mysql --defaults-extra-file="$cnf" --batch > /dev/null 2>&1; then
  echo "the master already signs in with the pending password"
  exit 0
fi
options "$MASTER_PASSWORD"
printf "ALTER USER CURRENT_USER() IDENTIFIED BY '%s';\\n" "$PENDING_PASSWORD" \\
  | mysql --defaults-extra-file="$cnf" --batch
options "$PENDING_PASSWORD"
printf 'SELECT CURRENT_USER();\\n' | mysql --defaults-extra-file="$cnf" --batch --skip-column-names
echo "master $MASTER_USERNAME signed in with its new password"
"""
# Environment variable of the master step → (JSON key, version stage; empty = current).
MASTER_SECRETS = {
    "MASTER_USERNAME": ("username", ""),
    "MASTER_PASSWORD": ("password", ""),
    "PENDING_PASSWORD": ("password", PENDING),
}


def build_rotation(model: AppModel, sources: ProcessSources) -> Built[None]:
    """The two rotation tasks, the Lambdas that drive Secrets Manager's four steps, their
    permissions and the schedules; needs a database whose `rotation_days` is above 0."""
    db = model.database
    if db is None or db.rotation_days == 0:
        raise ValueError("rotation needs a database with rotation_days above 0")
    child = ChildStack(
        "RotationStack",
        ROTATION_FILE,
        f"{model.app}: the database secrets rotate, the app user's with two users taking "
        "turns, the master's in place",
        environment=model.environment,
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
    bare = replace(process, variables=(), command=None, port=None, writable=())
    size = (str(TASK_CPU), str(TASK_MEMORY))
    container = setup.container(
        log_group, STREAM_PREFIX, app_stage=PENDING, script=USER_SETUP_SCRIPT + SIGN_IN_CHECK
    )
    # The only container: it must be essential (a task needs one) and nothing waits on it.
    container.Essential = True
    task_definition = task_definition_with(
        child,
        model,
        bare,
        roles,
        [container],
        size=size,
        stem=STEM,
        extra_volumes=(USER_SETUP_VOLUME,),
    )
    master_task_definition = task_definition_with(
        child,
        model,
        bare,
        roles,
        [_master_container(setup, log_group)],
        size=size,
        stem=f"Master{STEM}",
        extra_volumes=(USER_SETUP_VOLUME,),
    )
    wires = _Wires(cluster, *network, log_group=log_group, setup=setup)
    services = [_service_arn(cluster, p.name) for p in model.processes]
    app = _Rotated(
        "Rotator",
        "DatabaseAppSecretRotation",
        "rotation",
        setup.app,
        "the app user's secret",
        task_definition,
        USER_SETUP,
        HANDLER_MODULE,
        {
            "CLUSTER": Ref(cluster),
            "SERVICES": ",".join(p.name for p in model.processes),
            "USER_SUFFIX": ROTATION_USER_SUFFIX,
        },
        [Statement(Effect=Allow, Action=[ecs.UpdateService], Resource=services)],
    )
    master = _Rotated(
        "MasterRotator",
        "DatabaseSecretRotation",
        "master-rotation",
        setup.master,
        "the master's secret",
        master_task_definition,
        MASTER_STEP,
        MASTER_HANDLER_MODULE,
        {},
        [],
    )
    days = Ref(
        child.setting(
            "RotationDays",
            db.rotation_days,
            "Days between rotations of each secret (environment file, database.rotation_days).",
        )
    )
    for rotated in (app, master):
        _rotate_on_schedule(child, model, wires, rotated, roles, days)
    return child.built(None)


def rotates(db: Database | None) -> bool:
    """Whether the environment has a rotation stack."""
    return db is not None and db.rotation_days > 0


@dataclass(frozen=True)
class _Wires:
    """The rotation stack's parameters the Lambdas hand to RunTask."""

    cluster: Parameter
    subnets: Parameter
    security_group: Parameter
    log_group: Parameter
    setup: UserSetup


@dataclass(frozen=True)
class _Rotated:
    """One rotated secret: its Lambda's name, the task that sets it, what else it may do."""

    name: str
    schedule: str  # the RotationSchedule's logical id
    log_name: str  # the Lambda's log group: /APP/ENV/LOG_NAME-...
    secret: Parameter
    what: str
    task_definition: ecs_types.TaskDefinition
    container: str
    handler: str
    variables: dict[str, object]
    statements: list[Statement]


def _rotate_on_schedule(
    child: ChildStack,
    model: AppModel,
    wires: _Wires,
    rotated: _Rotated,
    roles: tuple[iam.Role, iam.Role],
    days: Ref,
) -> None:
    """The secret's Lambda, Secrets Manager's permission to invoke it for that secret only, and
    the schedule, which never rotates during a deploy."""
    template = child.template
    function = justify_rotator(_rotator(child, model, wires, rotated, roles))
    permission = template.add_resource(
        lambda_.Permission(
            f"{rotated.name}InvokedBySecretsManager",
            FunctionName=GetAtt(function, "Arn"),
            Action="lambda:InvokeFunction",
            Principal="secretsmanager.amazonaws.com",
            SourceAccount=Ref("AWS::AccountId"),
            SourceArn=Ref(rotated.secret),
        )
    )
    justify_service_permission(permission, "Secrets Manager", rotated.what)
    template.add_resource(
        secrets_types.RotationSchedule(
            rotated.schedule,
            DependsOn=[permission.title],
            SecretId=Ref(rotated.secret),
            RotationLambdaARN=GetAtt(function, "Arn"),
            RotationRules=secrets_types.RotationRules(AutomaticallyAfterDays=days),
            RotateImmediatelyOnUpdate=False,
        )
    )


def _service_arn(cluster: Parameter, service: str) -> object:
    return arn("ecs", f"service/${{{cluster.title}}}/{service}")


def _master_container(setup: UserSetup, log_group: Parameter) -> ecs_types.ContainerDefinition:
    """The user-setup step's hardened container, with the master's two versions instead."""
    container = setup.container(log_group, STREAM_PREFIX, script=MASTER_SCRIPT)
    container.Name = MASTER_STEP
    container.Essential = True  # the task's only container
    container.Secrets = [
        ecs_types.Secret(Name=name, ValueFrom=Sub(f"${{{setup.master.title}}}:{key}:{stage}:"))
        for name, (key, stage) in sorted(MASTER_SECRETS.items())
    ]
    return container


def _task_roles(
    template: Template, setup: UserSetup, log_group: Parameter
) -> tuple[iam.Role, iam.Role]:
    """ECS's role for the rotation tasks: their log streams and the two secrets, nothing else
    (the client image is public: no registry rights); the tasks' own role may not touch IAM."""
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
    return execution_role, no_iam_task_role(template, STEM)


def _task_log_streams(log_group: Parameter) -> object:
    return arn("logs", f"log-group:${{{log_group.title}}}:log-stream:{STREAM_PREFIX}/*")


def _run_task_arguments(wires: _Wires, task_definition: ecs_types.TaskDefinition) -> Sub:
    """RunTask's arguments as JSON, for the Lambda to pass on as they are."""
    arguments = {
        "cluster": f"${{{wires.cluster.title}}}",
        "taskDefinition": "${TaskDefinition}",
        "launchType": "FARGATE",
        "startedBy": "factorstack-rotation",
        "networkConfiguration": {
            "awsvpcConfiguration": {
                "subnets": ["${SubnetList}"],
                "securityGroups": [f"${{{wires.security_group.title}}}"],
            }
        },
    }
    return Sub(
        json.dumps(arguments, separators=(",", ":")),
        TaskDefinition=Ref(task_definition),
        SubnetList=Join('","', Split(",", Ref(wires.subnets))),
    )


def _rotator(
    child: ChildStack,
    model: AppModel,
    wires: _Wires,
    rotated: _Rotated,
    roles: tuple[iam.Role, iam.Role],
) -> lambda_.Function:
    """One rotation Lambda, allowed exactly what its four steps do."""
    template = child.template
    log_group = lambda_log_group(child, model, f"{rotated.name}LogGroup", rotated.log_name)
    justify_log_group(log_group)
    role = template.add_resource(
        iam.Role(
            f"{rotated.name}Role",
            AssumeRolePolicyDocument=assume_role_by_lambda(),
            Policies=[
                iam.Policy(
                    PolicyName=f"rotate-with-{rotated.container}",
                    PolicyDocument=PolicyDocument(
                        Version=POLICY_VERSION,
                        Statement=[
                            *_rotator_statements(log_group, wires, rotated, roles),
                            *rotated.statements,
                        ],
                    ),
                )
            ],
        )
    )
    password_rules = {
        "PasswordLength": PASSWORD_LENGTH,
        "ExcludeCharacters": PASSWORD_EXCLUDED_CHARACTERS,
    }
    return template.add_resource(
        lambda_.Function(
            rotated.name,
            Description=f"Rotates {rotated.what} of the database.",
            Runtime=RUNTIME,
            Handler="index.handler",
            Code=lambda_.Code(ZipFile=handler_source(rotated.handler)),
            Role=GetAtt(role, "Arn"),
            Timeout=LAMBDA_TIMEOUT_SECONDS,
            MemorySize=LAMBDA_MEMORY_MB,
            LoggingConfig=lambda_.LoggingConfig(LogGroup=Ref(log_group)),
            Environment=lambda_.Environment(
                Variables={
                    "RUN_TASK": _run_task_arguments(wires, rotated.task_definition),
                    "CONTAINER": rotated.container,
                    "LOG_GROUP": Ref(wires.log_group),
                    "STREAMS": f"{STREAM_PREFIX}/{rotated.container}/",
                    "PASSWORD_RULES": json.dumps(password_rules, separators=(",", ":")),
                    **rotated.variables,
                }
            ),
        )
    )


def _rotator_statements(
    log_group: LogGroup,
    wires: _Wires,
    rotated: _Rotated,
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
            Resource=[Ref(rotated.secret)],
        ),
        # GetRandomPassword acts on no resource: `*` is its only form.
        Statement(
            Effect=Allow, Action=[secretsmanager.GetRandomPassword], Resource=[policies.EVERYTHING]
        ),
        *run_task_statements(
            wires.cluster, rotated.task_definition, roles, (wires.log_group, STREAM_PREFIX)
        ),
    ]
