"""Release stack (twelve-factor XII): the release command runs once per deploy, before any
service rolls to the new release.

A custom resource backed by a small Lambda starts a one-off Fargate task from a task definition
of its own (the named process's image, variables, secrets and network, the release command),
waits for it and answers CloudFormation. The root orders every process stack after this one,
so a failing migration fails the deploy while the services still run the old release. A new
image or command means a new task definition, hence an Update of the custom resource, hence one
run; an unchanged deploy runs nothing. The handler is factorstack_lambda/release_phase.py,
inlined (limits.py keeps it under Lambda's 4 KB for inline code).
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, replace
from importlib import resources

from awacs import awslambda, cloudformation, ecs, logs
from awacs.aws import Allow, Condition, PolicyDocument, Principal, Statement, StringEquals
from awacs.iam import PassRole
from awacs.sts import AssumeRole
from troposphere import GetAtt, Ref, Split, Template, iam
from troposphere import awslambda as lambda_
from troposphere.cloudformation import CustomResource
from troposphere.logs import LogGroup

from factorstack.model import AppModel, ReleasePhase
from factorstack.stacks.common import arn, retain, unique_name
from factorstack.stacks.process import (
    ProcessSources,
    TaskInputs,
    take_inputs,
    task_definition_of,
    task_roles,
)
from factorstack.stacks.wiring import Built, ChildStack, Handle

RELEASE_PHASE_FILE = "release-phase.json"
HANDLER_MODULE = "release_phase.py"
RUNTIME = "python3.13"
LAMBDA_TIMEOUT_SECONDS = 900  # Lambda's longest; the handler hands a longer wait on
LAMBDA_MEMORY_MB = 128
# CloudFormation waits this much longer than the release may take before it gives up.
SERVICE_TIMEOUT_MARGIN_SECONDS = 300
STEM = "Release"
POLICY_VERSION = "2012-10-17"  # the current policy language; older means no policy variables


class ReleasePhaseResource(CustomResource):
    """`Custom::ReleasePhase`: its properties are what the handler reads."""

    resource_type = "Custom::ReleasePhase"
    props = {
        "ServiceToken": (str, True),
        "ServiceTimeout": (int, False),
        "Cluster": (str, True),
        "TaskDefinition": (str, True),
        "Container": (str, True),
        "Subnets": (list, True),
        "SecurityGroup": (str, True),
        "LogGroup": (str, True),
        "StreamPrefix": (str, True),
        "TimeoutSeconds": (int, True),
    }


@dataclass(frozen=True)
class ReleasePhaseOutputs:
    task_definition_arn: Handle


def handler_source() -> str:
    """The handler as Lambda gets it: docstrings and comments gone, one space per indent."""
    text = resources.files("factorstack_lambda").joinpath(HANDLER_MODULE).read_text("utf-8")
    tree = ast.parse(text)
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if (
            isinstance(node, ast.Module | ast.FunctionDef)
            and body
            and isinstance(body[0], ast.Expr)
            and isinstance(body[0].value, ast.Constant)
            and isinstance(body[0].value.value, str)
        ):
            node.body = body[1:] or [ast.Pass()]
    lines = ast.unparse(tree).splitlines()
    return "\n".join(re.sub(r"^(    )+", lambda m: " " * (len(m[0]) // 4), line) for line in lines)


def build_release_phase(
    model: AppModel, phase: ReleasePhase, sources: ProcessSources
) -> Built[ReleasePhaseOutputs]:
    """The release task definition, the Lambda that runs it and the custom resource."""
    process = next(p for p in model.processes if p.name == phase.process)
    # The named process's image, variables and secrets; the release command; no load balancer.
    release = replace(process, command=phase.command, port=None)
    child = ChildStack(
        "ReleaseStack",
        RELEASE_PHASE_FILE,
        f"{model.app} {model.environment}: release phase in the {process.name} image",
    )
    template = child.template
    inputs = take_inputs(child, model, release, sources)
    execution_role, task_role = task_roles(template, model, release, inputs, stem=STEM)
    task_definition = task_definition_of(
        template, model, release, inputs, execution_role, task_role, stem=STEM
    )
    runner = _runner(template, model, inputs, task_definition, (execution_role, task_role))
    template.add_resource(
        ReleasePhaseResource(
            "ReleasePhase",
            DependsOn=[runner.invoke_policy.title],
            ServiceToken=GetAtt(runner.function, "Arn"),
            ServiceTimeout=phase.timeout_seconds + SERVICE_TIMEOUT_MARGIN_SECONDS,
            Cluster=Ref(inputs.cluster),
            TaskDefinition=Ref(task_definition),
            Container=process.name,
            Subnets=Split(",", Ref(inputs.subnets)),
            SecurityGroup=Ref(inputs.security_group),
            LogGroup=Ref(inputs.log_group),
            StreamPrefix=STEM.lower(),
            TimeoutSeconds=phase.timeout_seconds,
        )
    )
    return child.built(
        ReleasePhaseOutputs(
            task_definition_arn=child.give(
                "ReleaseTaskDefinitionArn", Ref(task_definition), "The last release task."
            )
        )
    )


@dataclass(frozen=True)
class _Runner:
    function: lambda_.Function
    invoke_policy: iam.PolicyType


def _runner(
    template: Template,
    model: AppModel,
    inputs: TaskInputs,
    task_definition: object,
    task_roles: tuple[iam.Role, iam.Role],
) -> _Runner:
    """The Lambda behind the custom resource, allowed exactly what the handler does."""
    log_group = template.add_resource(
        retain(
            LogGroup(
                "ReleaseRunnerLogGroup",
                LogGroupName=unique_name(f"/{model.app}/{model.environment}/release-runner-"),
                RetentionInDays=model.log_retention_days,
            )
        )
    )
    cluster_arn = arn("ecs", f"cluster/${{{inputs.cluster.title}}}")
    role = template.add_resource(
        iam.Role(
            "ReleaseRunnerRole",
            AssumeRolePolicyDocument=PolicyDocument(
                Version=POLICY_VERSION,
                Statement=[
                    Statement(
                        Effect=Allow,
                        Principal=Principal("Service", "lambda.amazonaws.com"),
                        Action=[AssumeRole],
                    )
                ],
            ),
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
                            Statement(
                                Effect=Allow,
                                Action=[ecs.RunTask],
                                Resource=[Ref(task_definition)],
                                Condition=Condition(StringEquals("ecs:cluster", cluster_arn)),
                            ),
                            Statement(
                                Effect=Allow,
                                Action=[ecs.DescribeTasks, ecs.StopTask],
                                Resource=[arn("ecs", f"task/${{{inputs.cluster.title}}}/*")],
                                Condition=Condition(StringEquals("ecs:cluster", cluster_arn)),
                            ),
                            Statement(
                                Effect=Allow,
                                Action=[PassRole],
                                Resource=[GetAtt(role, "Arn") for role in task_roles],
                                Condition=Condition(
                                    StringEquals("iam:PassedToService", "ecs-tasks.amazonaws.com")
                                ),
                            ),
                            Statement(
                                Effect=Allow,
                                Action=[logs.GetLogEvents],
                                Resource=[
                                    arn(
                                        "logs",
                                        f"log-group:${{{inputs.log_group.title}}}:log-stream:"
                                        f"{STEM.lower()}/*",
                                    )
                                ],
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
