"""Release stack (twelve-factor XII): the release command runs once per deploy, before any
service rolls to the new release.

A custom resource backed by a small Lambda starts a one-off Fargate task from a task definition
of its own (the named process's image, variables, secrets and network, the release command),
waits for it and answers CloudFormation. The root orders every process stack after this one,
so a failing migration fails the deploy while the services still run the old release. A new
image or command means a new task definition, hence an Update of the custom resource, hence one
run; an unchanged deploy runs nothing. The handler is factorstack_lambda/release_phase.py,
inlined (limits.py keeps it under Lambda's 4 KB for inline code).

With a database, the task's first step (a non-essential MySQL client container) signs in as the
master and creates or updates the app's own user (its schema only, TLS required); the release
command runs after it succeeds, as that user. The step runs again whenever the app user's
generated secret changes, and alone when app.yaml has a database but no `release:`.

The template is the same in every environment: the task's size, architecture, variables' values,
the released digest and the runner's log retention are settings the root passes (wiring.py).
"""

from __future__ import annotations

import ast
import functools
import re
from dataclasses import dataclass, replace
from importlib import resources

from awacs import awslambda, cloudformation, ecs, logs
from awacs.aws import Allow, Condition, PolicyDocument, Principal, Statement, StringEquals
from awacs.iam import PassRole
from awacs.sts import AssumeRole
from troposphere import GetAtt, Parameter, Ref, Split, Sub, iam
from troposphere import awslambda as lambda_
from troposphere import ecs as ecs_types
from troposphere.cloudformation import CustomResource
from troposphere.logs import LogGroup

from factorstack.model import AppModel, Database, Process
from factorstack.stacks.common import arn, justify, retain, unique_name
from factorstack.stacks.data import app_secret_fingerprint
from factorstack.stacks.policy import justify_log_group
from factorstack.stacks.process import (
    ProcessSources,
    TaskInputs,
    container_of,
    take_inputs,
    task_definition_with,
    task_roles,
)
from factorstack.stacks.wiring import ENVIRONMENT_NAME, Built, ChildStack, Handle

RELEASE_PHASE_FILE = "release-phase.json"
HANDLER_MODULE = "release_phase.py"
RUNTIME = "python3.13"
LAMBDA_TIMEOUT_SECONDS = 900  # Lambda's longest; the handler hands a longer wait on
LAMBDA_MEMORY_MB = 128
# CloudFormation waits this much longer than the release may take before it gives up.
SERVICE_TIMEOUT_MARGIN_SECONDS = 300
STEM = "Release"
# The user-setup step: its container, the user it runs as (mysql in the official image, never
# root) and its one writable directory, where the client's option file lives for a moment.
USER_SETUP = "database-user"
USER_SETUP_USER = "999:999"
# The user-setup step's hard limit: a MySQL client and a shell need a few MiB. ECS counts each
# container's MemoryReservation (else its Memory) against the task's memory, so the release
# command reserves the rest; it starts only once the step has exited, so it may use all of it.
USER_SETUP_MEMORY_MIB = 128
USER_SETUP_VOLUME = "database-user-tmp"
# Fargate gives an empty bind mount the owner and mode of the image's own directory only where
# the image declares that path a VOLUME; anywhere else it is root's, 0755, and user 999 cannot
# write it. The mysql image declares /var/lib/mysql (mysql's, mode 1777), not /tmp.
USER_SETUP_SCRATCH = "/var/lib/mysql"
POLICY_VERSION = "2012-10-17"  # the current policy language; older means no policy variables
# Why the runner is as it is, for the policy checkers (`make policy`).
RUNNER_OUTSIDE_VPC = (
    "it calls only AWS APIs (ECS, CloudWatch Logs, CloudFormation, Lambda) and the presigned S3 "
    "URL of CloudFormation's response, never the VPC's resources; inside the VPC it would need "
    "the NAT or interface endpoints for each of them, and its network interfaces slow the "
    "stack's delete"
)
RUNNER_CONCURRENCY = (
    "CloudFormation invokes it once per deploy and each invocation hands the wait on to one "
    "successor, so it never runs wide; reserved concurrency is taken from the account's pool, "
    "and an account at the default quota has none to reserve"
)
RUNNER_NO_DLQ = (
    "a custom resource handler: it reports FAILED to CloudFormation itself, and CloudFormation "
    "fails the resource after ServiceTimeout when no answer comes; an event in a dead-letter "
    "queue would be a deploy nobody can resume"
)


class ReleasePhaseResource(CustomResource):
    """`Custom::ReleasePhase`: its properties are what the handler reads."""

    resource_type = "Custom::ReleasePhase"
    props = {
        "ServiceToken": (str, True),
        "ServiceTimeout": (int, False),
        "Cluster": (str, True),
        "TaskDefinition": (str, True),
        "Container": (str, False),  # the release command's; absent when there is none
        "Steps": (list, True),  # the containers, in the order they run
        "AppSecretVersion": (str, False),  # changes when the app user's password does
        "Subnets": (list, True),
        "SecurityGroup": (str, True),
        "LogGroup": (str, True),
        "StreamPrefix": (str, True),
        "TimeoutSeconds": (int, True),
    }


@dataclass(frozen=True)
class ReleasePhaseOutputs:
    task_definition_arn: Handle


@functools.cache
def handler_source(module: str = HANDLER_MODULE) -> str:
    """A handler in factorstack_lambda as Lambda gets it: each `from factorstack_lambda.X import`
    replaced by X's code (Lambda's inline code is one file), imports once, docstrings, comments
    and blank lines gone, one space per indent. Cached: every environment inlines the same text,
    and the package's files do not change while a build runs."""
    tree = ast.Module(body=_module_body(module, set()), type_ignores=[])
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if isinstance(node, ast.FunctionDef) and body and _is_docstring(body[0]):
            node.body = body[1:] or [ast.Pass()]
    lines = [line for line in ast.unparse(tree).splitlines() if line.strip()]
    return "\n".join(re.sub(r"^(    )+", lambda m: " " * (len(m[0]) // 4), line) for line in lines)


def _module_body(module: str, imported: set[str]) -> list[ast.stmt]:
    """A module's statements without its docstring, its own package's modules inlined in place
    and an import already made earlier left out."""
    text = resources.files("factorstack_lambda").joinpath(module).read_text("utf-8")
    body = ast.parse(text).body
    if body and _is_docstring(body[0]):
        body = body[1:]
    statements: list[ast.stmt] = []
    for node in body:
        source = (node.module or "") if isinstance(node, ast.ImportFrom) else ""
        if source.startswith(f"{_PACKAGE}."):
            statements += _module_body(f"{source.removeprefix(_PACKAGE + '.')}.py", imported)
        elif isinstance(node, ast.Import):
            key = ast.unparse(node)
            if key not in imported:
                imported.add(key)
                statements.append(node)
        else:
            statements.append(node)
    return statements


_PACKAGE = "factorstack_lambda"


def _is_docstring(node: ast.stmt) -> bool:
    return (
        isinstance(node, ast.Expr)
        and isinstance(node.value, ast.Constant)
        and isinstance(node.value.value, str)
    )


def build_release_phase(model: AppModel, sources: ProcessSources) -> Built[ReleasePhaseOutputs]:
    """The release task definition, the Lambda that runs it and the custom resource; needs a
    `release:` or a database (whose app user it creates)."""
    phase = model.release_phase
    if phase is not None:
        process = next(p for p in model.processes if p.name == phase.process)
        # The named process's image, variables and secrets; the release command; no balancer.
        release: Process | None = replace(process, command=phase.command, port=None)
        timeout = phase.timeout_seconds
    elif model.database is not None:
        # The user-setup step alone: in the first process's log group, with none of its config.
        process, release = model.processes[0], None
        timeout = USER_SETUP_TIMEOUT_SECONDS
    else:
        raise ValueError("a release phase needs `release:` or a database")
    child = ChildStack(
        "ReleaseStack",
        RELEASE_PHASE_FILE,
        f"{model.app}: release phase in the {process.name} image"
        if release
        else f"{model.app}: release phase, the database user only",
        environment=model.environment,
    )
    template = child.template
    bare = replace(process, variables=(), command=None, port=None, writable=())
    inputs = take_inputs(child, model, release or bare, sources, runs_image=release is not None)
    setup = None if model.database is None else UserSetup.take(child, model.database, sources)
    execution_role, task_role = task_roles(
        template,
        model,
        release or bare,
        inputs,
        stem=STEM,
        extra_secret_arns=() if setup is None else setup.secret_arns(inputs),
    )
    containers = [] if setup is None else [setup.container(inputs.log_group, STEM.lower())]
    if release is not None:
        containers.append(_release_container(child, release, inputs, after=setup))
    task_definition = task_definition_with(
        child,
        model,
        release or bare,
        (execution_role, task_role),
        containers,
        size=(Ref(inputs.cpu), Ref(inputs.memory)),
        stem=STEM,
        extra_volumes=() if setup is None else (USER_SETUP_VOLUME,),
    )
    runner = _runner(child, model, inputs, task_definition, (execution_role, task_role))
    extra: dict[str, object] = {}
    if release is not None:
        extra["Container"] = release.name
    if setup is not None:
        extra["AppSecretVersion"] = setup.fingerprint
    template.add_resource(
        ReleasePhaseResource(
            "ReleasePhase",
            DependsOn=[runner.invoke_policy.title],
            ServiceToken=GetAtt(runner.function, "Arn"),
            ServiceTimeout=timeout + SERVICE_TIMEOUT_MARGIN_SECONDS,
            Cluster=Ref(inputs.cluster),
            TaskDefinition=Ref(task_definition),
            Steps=[c.Name for c in containers],
            Subnets=Split(",", Ref(inputs.subnets)),
            SecurityGroup=Ref(inputs.security_group),
            LogGroup=Ref(inputs.log_group),
            StreamPrefix=STEM.lower(),
            TimeoutSeconds=timeout,
            **extra,
        )
    )
    return child.built(
        ReleasePhaseOutputs(
            task_definition_arn=child.give(
                "ReleaseTaskDefinitionArn", Ref(task_definition), "The last release task."
            )
        )
    )


def _release_container(
    child: ChildStack, release: Process, inputs: TaskInputs, after: UserSetup | None
) -> ecs_types.ContainerDefinition:
    """The release command's container; with a database it starts only once the user-setup
    step exited 0, and signs in as the app user that step made."""
    container = container_of(release, inputs, STEM.lower())
    if after is not None:
        container.DependsOn = [
            ecs_types.ContainerDependency(ContainerName=USER_SETUP, Condition="SUCCESS")
        ]
        # The task's memory less the step's (no arithmetic in a template: the root computes it).
        reservation = child.setting(
            "ReleaseMemoryReservation",
            release.memory - USER_SETUP_MEMORY_MIB,
            "MiB the release command reserves: the task's memory less the user-setup step's.",
        )
        container.MemoryReservation = Ref(reservation)
    return container


# The SQL is fed to the client on stdin by printf, a shell builtin: no password ever appears in
# a command line or in the template. The password alphabet excludes ' " ` \ (data.py), so each
# value sits safely inside its quotes. CREATE makes the user on a first deploy; ALTER sets the
# current password every time (a regenerated or rotated secret); the GRANT is the app's schema.
USER_SETUP_SCRIPT = """set -eu
umask 077
cnf="${TMPDIR:-/tmp}/client.cnf"
trap 'rm -f "$cnf"' EXIT
printf '[client]\\nuser="%s"\\npassword="%s"\\nhost="%s"\\nport=%s\\nssl-mode=REQUIRED\\n' \\
  "$MASTER_USERNAME" "$MASTER_PASSWORD" "$DB_HOST" "$DB_PORT" > "$cnf"
printf "CREATE USER IF NOT EXISTS '%s'@'%%' IDENTIFIED BY '%s' REQUIRE SSL;\\n\\
ALTER USER '%s'@'%%' IDENTIFIED BY '%s' REQUIRE SSL;\\n\\
GRANT ALL PRIVILEGES ON \\`%s\\`.* TO '%s'@'%%';\\n" \\
  "$APP_USERNAME" "$APP_PASSWORD" "$APP_USERNAME" "$APP_PASSWORD" "$DB_NAME" "$APP_USERNAME" \\
  | mysql --defaults-extra-file="$cnf" --batch
echo "database user $APP_USERNAME may use schema $DB_NAME (TLS required)"
"""
USER_SETUP_TIMEOUT_SECONDS = 600  # with no release command: the step alone
# Environment variable of the step → (which secret, JSON key). ECS injects them at start; the
# host and port are plain variables from the data stack's outputs.
USER_SETUP_SECRETS = {
    "MASTER_USERNAME": ("master", "username"),
    "MASTER_PASSWORD": ("master", "password"),
    "APP_USERNAME": ("app", "username"),
    "APP_PASSWORD": ("app", "password"),
    "DB_NAME": ("app", "dbname"),
}


@dataclass(frozen=True)
class UserSetup:
    """The user-setup step: the two secrets it reads and the client image it runs (the release
    task's first step, and the rotation task, which reads the app secret's pending version)."""

    master: Parameter
    app: Parameter
    host: Parameter
    port: Parameter
    image: str
    fingerprint: str

    @classmethod
    def take(cls, child: ChildStack, db: Database, sources: ProcessSources) -> UserSetup:
        data = sources.data
        if data is None or data.database is None or data.database_master_secret_arn is None:
            raise ValueError("the user-setup step needs the data stack's database secrets")
        handles = {
            "master": data.database_master_secret_arn,
            "app": data.database.secret_arn,
            "host": data.database.host,
            "port": data.database.port,
        }
        return cls(
            **{
                field: child.take(handle, f"{handle.name} from the data stack.")
                for field, handle in handles.items()
            },
            image=db.client_image,
            fingerprint=app_secret_fingerprint(db),
        )

    def secret_arns(self, inputs: TaskInputs) -> tuple[object, ...]:
        """What the execution role must read beyond the release command's own secrets."""
        own = {parameter.title for parameter in inputs.secrets.values()}
        return tuple(Ref(p) for p in (self.master, self.app) if p.title not in own)

    def container(
        self,
        log_group: Parameter,
        stream_prefix: str,
        *,
        app_stage: str = "",
        script: str = USER_SETUP_SCRIPT,
    ) -> ecs_types.ContainerDefinition:
        """Non-essential, so that its exit 0 does not stop the task; hardened like the rest.
        `app_stage` picks a version of the app secret (ECS reads `ARN:KEY:STAGE:`), the
        current one when empty; the master's is always the current one."""
        stages = {"master": "", "app": app_stage}
        secrets = [
            ecs_types.Secret(
                Name=name,
                ValueFrom=Sub(f"${{{getattr(self, which).title}}}:{key}:{stages[which]}:"),
            )
            for name, (which, key) in sorted(USER_SETUP_SECRETS.items())
        ]
        return ecs_types.ContainerDefinition(
            Name=USER_SETUP,
            Image=self.image,
            Essential=False,
            Memory=USER_SETUP_MEMORY_MIB,
            EntryPoint=["/bin/sh", "-c"],
            Command=[script],
            Environment=[
                ecs_types.Environment(Name="DB_HOST", Value=Ref(self.host)),
                ecs_types.Environment(Name="DB_PORT", Value=Ref(self.port)),
                ecs_types.Environment(Name="TMPDIR", Value=USER_SETUP_SCRATCH),
            ],
            Secrets=secrets,
            User=USER_SETUP_USER,
            ReadonlyRootFilesystem=True,
            MountPoints=[
                ecs_types.MountPoint(
                    SourceVolume=USER_SETUP_VOLUME,
                    ContainerPath=USER_SETUP_SCRATCH,
                    ReadOnly=False,
                )
            ],
            LinuxParameters=ecs_types.LinuxParameters(
                Capabilities=ecs_types.KernelCapabilities(Drop=["ALL"])
            ),
            LogConfiguration=ecs_types.LogConfiguration(
                LogDriver="awslogs",
                Options={
                    "awslogs-group": Ref(log_group),
                    "awslogs-region": Ref("AWS::Region"),
                    "awslogs-stream-prefix": stream_prefix,
                },
            ),
        )


def assume_role_by_lambda() -> PolicyDocument:
    return PolicyDocument(
        Version=POLICY_VERSION,
        Statement=[
            Statement(
                Effect=Allow,
                Principal=Principal("Service", "lambda.amazonaws.com"),
                Action=[AssumeRole],
            )
        ],
    )


def every_revision(task_definition: ecs_types.TaskDefinition) -> Sub:
    """Any revision of the task definition's family. A release registers a new revision, and
    a grant naming that revision would change in the very update whose Lambda then runs it:
    IAM is eventually consistent, so RunTask could be denied. The family's grant never changes."""
    family = task_definition.properties["Family"]
    return arn("ecs", f"task-definition/{family.data['Fn::Sub']}:*")


def run_task_statements(
    cluster: Parameter,
    task_definition: ecs_types.TaskDefinition,
    task_roles: tuple[iam.Role, iam.Role],
    logs_of: tuple[Parameter, str],
) -> list[Statement]:
    """What a Lambda needs to run one task definition in one cluster and report how it ended:
    start it, watch and stop its tasks, pass its two roles, read its log streams (the log
    group, the stream prefix). Shared by the release runner and the rotation Lambda."""
    cluster_arn = arn("ecs", f"cluster/${{{cluster.title}}}")
    log_group, prefix = logs_of
    return [
        Statement(
            Effect=Allow,
            Action=[ecs.RunTask],
            Resource=[every_revision(task_definition)],
            Condition=Condition(StringEquals("ecs:cluster", cluster_arn)),
        ),
        Statement(
            Effect=Allow,
            Action=[ecs.DescribeTasks, ecs.StopTask],
            Resource=[arn("ecs", f"task/${{{cluster.title}}}/*")],
            Condition=Condition(StringEquals("ecs:cluster", cluster_arn)),
        ),
        Statement(
            Effect=Allow,
            Action=[PassRole],
            Resource=[GetAtt(role, "Arn") for role in task_roles],
            Condition=Condition(StringEquals("iam:PassedToService", "ecs-tasks.amazonaws.com")),
        ),
        Statement(
            Effect=Allow,
            Action=[logs.GetLogEvents],
            Resource=[arn("logs", f"log-group:${{{log_group.title}}}:log-stream:{prefix}/*")],
        ),
    ]


@dataclass(frozen=True)
class _Runner:
    function: lambda_.Function
    invoke_policy: iam.PolicyType


def log_retention(child: ChildStack, model: AppModel) -> Ref:
    """The environment's log retention in days, as a setting."""
    return child.log_retention(
        model.log_retention_days,
        "Days the Lambdas' logs are kept (environment file, log_retention_days).",
    )


def lambda_log_group(child: ChildStack, model: AppModel, logical_id: str, name: str) -> LogGroup:
    """A Lambda's own log group, `/APP/ENV/NAME-SUFFIX`, kept as the environment says."""
    child.environment_name()
    return child.template.add_resource(
        retain(
            LogGroup(
                logical_id,
                LogGroupName=unique_name(f"/{model.app}/${{{ENVIRONMENT_NAME}}}/{name}-"),
                RetentionInDays=log_retention(child, model),
            )
        )
    )


def _runner(
    child: ChildStack,
    model: AppModel,
    inputs: TaskInputs,
    task_definition: object,
    task_roles: tuple[iam.Role, iam.Role],
) -> _Runner:
    """The Lambda behind the custom resource, allowed exactly what the handler does."""
    template = child.template
    log_group = lambda_log_group(child, model, "ReleaseRunnerLogGroup", "release-runner")
    justify_log_group(log_group)
    role = template.add_resource(
        iam.Role(
            "ReleaseRunnerRole",
            AssumeRolePolicyDocument=assume_role_by_lambda(),
            Policies=[
                iam.Policy(
                    PolicyName="run-the-release-task",
                    PolicyDocument=PolicyDocument(
                        Version=POLICY_VERSION,
                        Statement=[
                            Statement(
                                Effect=Allow,
                                Action=[logs.CreateLogStream, logs.PutLogEvents],
                                Resource=[GetAtt(log_group, "Arn")],
                            ),
                            *run_task_statements(
                                inputs.cluster,
                                task_definition,
                                task_roles,
                                (inputs.log_group, STEM.lower()),
                            ),
                            Statement(
                                Effect=Allow,
                                Action=[cloudformation.DescribeStacks],
                                Resource=[Ref("AWS::StackId")],
                            ),
                        ],
                    ),
                )
            ],
        )
    )
    function = template.add_resource(
        lambda_.Function(
            "ReleaseRunner",
            Description="Runs the release task once and reports to CloudFormation.",
            Runtime=RUNTIME,
            Handler="index.handler",
            Code=lambda_.Code(ZipFile=handler_source()),
            Role=GetAtt(role, "Arn"),
            Timeout=LAMBDA_TIMEOUT_SECONDS,
            MemorySize=LAMBDA_MEMORY_MB,
            LoggingConfig=lambda_.LoggingConfig(LogGroup=Ref(log_group)),
        )
    )
    justify(
        function,
        checkov={
            "CKV_AWS_115": RUNNER_CONCURRENCY,
            "CKV_AWS_116": RUNNER_NO_DLQ,
            "CKV_AWS_117": RUNNER_OUTSIDE_VPC,
        },
        guard={"lambda_inside_vpc_check": RUNNER_OUTSIDE_VPC},
    )
    # Apart from the role: the function's ARN exists only once the function does.
    invoke_policy = template.add_resource(
        iam.PolicyType(
            "ReleaseRunnerHandOver",
            PolicyName="hand-the-wait-to-itself",
            Roles=[Ref(role)],
            PolicyDocument=PolicyDocument(
                Version=POLICY_VERSION,
                Statement=[
                    Statement(
                        Effect=Allow,
                        Action=[awslambda.InvokeFunction],
                        Resource=[GetAtt(function, "Arn")],
                    )
                ],
            ),
        )
    )
    return _Runner(function=function, invoke_policy=invoke_policy)
