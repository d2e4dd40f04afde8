"""Process stack, one per process type: its task definition, roles and Fargate service.

A stack per process keeps each template small, so an app with many process types never meets
CloudFormation's 500-resource limit. Every container runs hardened: as app.yaml's non-root user,
with a read-only root filesystem, a scratch volume at each of its `writable` paths and every
Linux capability dropped.

The template is the same text in every environment: what the environment file chooses (task
size, CPU architecture, plain variables' values, Fargate Spot, alarm thresholds, the released
image digest) arrives as a setting the root passes (wiring.py).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, replace

from troposphere import (
    Equals,
    GetAtt,
    If,
    Not,
    Parameter,
    Ref,
    Split,
    Sub,
    Template,
    ecs,
    iam,
)
from troposphere import cloudwatch as cw

from factorstack.model import (
    AppModel,
    ParameterVariable,
    PlainVariable,
    Process,
    SecretVariable,
    ServiceVariable,
    repository_name,
)
from factorstack.stacks import iam as policies
from factorstack.stacks.alarms import add_release_alarms, has_release_alarms
from factorstack.stacks.cluster import ClusterOutputs, capacity_provider_strategy
from factorstack.stacks.common import arn
from factorstack.stacks.data import DataOutputs
from factorstack.stacks.network import NetworkOutputs
from factorstack.stacks.wiring import Built, ChildStack, Handle

HEALTH_CHECK_GRACE_SECONDS = 60
STOP_TIMEOUT_SECONDS = 120  # the longest Fargate allows; lets a queue job finish
IMAGE_DIGEST = "ImageDigest"
DIGEST_RECORDED = "ImageDigestRecorded"
DIGEST_PATTERN = r"^(sha256:[0-9a-f]{64})?$"  # a recorded digest, or empty: run the tag
CPU_ARCHITECTURES = ["X86_64", "ARM64"]
PARAMETER_NAME_MAX = 255  # CloudFormation's longest parameter name


@dataclass(frozen=True)
class ProcessSources:
    """What a process stack runs on: the other stacks' outputs and the root's image tag."""

    network: NetworkOutputs
    cluster: ClusterOutputs
    data: DataOutputs | None  # None when the app has neither database nor cache
    image_tag: Handle
    alarm_topic_arn: Handle  # the SNS topic the release alarms notify


@dataclass(frozen=True)
class ProcessOutputs:
    service_name: Handle
    task_definition_arn: Handle


@dataclass(frozen=True)
class _LoadBalancer:
    target_group_arn: Parameter
    metrics: tuple[Ref, Ref]  # (LoadBalancerFullName, TargetGroupFullName), for the alarms


@dataclass(frozen=True)
class TaskInputs:
    """This process's parameters, each fed by another stack's output or the root's tag."""

    cluster: Parameter
    subnets: Parameter
    security_group: Parameter
    log_group: Parameter
    cpu: Parameter  # the environment's task size (settings)
    memory: Parameter
    image: If | None  # the released digest, else the tag; None: the task runs no app container
    variables: dict[str, Parameter]  # plain variable → the setting holding its value
    services: dict[tuple[str, str], Parameter]  # (database|cache, host|port) → its parameter
    secrets: dict[str, Parameter]  # generated secret (database|cache) → its ARN's parameter
    load_balancer: _LoadBalancer | None


def process_file(process: Process) -> str:
    return f"process-{process.name}.json"


def image(child: ChildStack, model: AppModel, process: Process, tag: Parameter) -> If:
    """The release's image digest where `factorstack release` recorded one, else the tag: the
    digest is a setting (empty without a record), so the template is the same either way."""
    digest = child.setting(
        IMAGE_DIGEST,
        model.image_digests.get(process.name, ""),
        f"Digest of the released {process.name} image (factorstack release); empty: the tag.",
        AllowedPattern=DIGEST_PATTERN,
    )
    recorded = child.condition(DIGEST_RECORDED, Not(Equals(Ref(digest), "")))
    repository = (
        "${AWS::AccountId}.dkr.ecr.${AWS::Region}.${AWS::URLSuffix}/"
        f"{repository_name(model.app, process.name)}"
    )
    return If(
        recorded,
        Sub(f"{repository}@${{{digest.title}}}"),
        Sub(f"{repository}:${{{tag.title}}}"),
    )


def variable_settings(child: ChildStack, process: Process) -> dict[str, Parameter]:
    """A setting per plain variable: the environment file may override any of app.yaml's
    values, so every value comes from the root and the template stays the same."""
    settings: dict[str, Parameter] = {}
    for variable in sorted(process.variables_of(PlainVariable), key=lambda v: v.name):
        name = _free_name(child, variable_parameter_name(variable.name))
        settings[variable.name] = child.setting(
            name, variable.value, f"Value of the {variable.name} variable."
        )
    return settings


def variable_parameter_name(variable: str) -> str:
    """`LOG_LEVEL` → `VariableLogLevel`: parameter names are alphanumeric."""
    words = "".join(part[:1].upper() + part[1:].lower() for part in variable.split("_"))
    return f"Variable{words}"[: PARAMETER_NAME_MAX - 3]


def _free_name(child: ChildStack, name: str) -> str:
    """`name`, or `name2`, `name3`...: two variables that differ only in case or underscores."""
    taken = child.template.parameters
    candidate, number = name, 1
    while candidate in taken:
        number += 1
        candidate = f"{name}{number}"
    return candidate


def task_size(child: ChildStack, process: Process) -> tuple[Parameter, Parameter]:
    """The environment's task size: CPU units (a string, as the task's Cpu is) and MiB."""
    cpu = child.setting("Cpu", str(process.cpu), "Task CPU units (environment file).")
    memory = child.setting("Memory", process.memory, "Task memory in MiB (environment file).")
    return cpu, memory


def build_process(
    model: AppModel, process: Process, sources: ProcessSources
) -> Built[ProcessOutputs]:
    """Model, one process and what it runs on in, that process's stack out."""
    child = ChildStack(
        f"{process.logical}Stack",
        process_file(process),
        f"{model.app}: the {process.name} process",
        environment=model.environment,
    )
    template = child.template
    inputs = take_inputs(child, model, process, sources)
    execution_role, task_role = task_roles(template, model, process, inputs)
    task_definition = task_definition_of(child, model, process, inputs, execution_role, task_role)
    topic = None
    if has_release_alarms(process):
        topic = Ref(child.take(sources.alarm_topic_arn, "SNS topic the alarms notify."))
    alarms = _release_alarms(child, model, process, inputs, topic)
    service = _service(child, process, inputs, task_definition, alarms)
    return child.built(
        ProcessOutputs(
            service_name=child.give(
                "ServiceName", GetAtt(service, "Name"), f"ECS service of {process.name}."
            ),
            task_definition_arn=child.give(
                "TaskDefinitionArn", Ref(task_definition), "Task definition in use."
            ),
        )
    )


def take_inputs(
    child: ChildStack,
    model: AppModel,
    process: Process,
    sources: ProcessSources,
    *,
    runs_image: bool = True,
) -> TaskInputs:
    """Declare every parameter this process needs, each wired from the output that feeds it or
    set to the environment's value; `runs_image` False: no container of the process's image
    (the release phase's user-setup step alone)."""
    cluster = sources.cluster
    task_image = None
    if runs_image:
        tag = child.take(sources.image_tag, "Image tag of this release.")
        task_image = image(child, model, process, tag)
    cpu, memory = task_size(child, process)
    services: dict[tuple[str, str], Parameter] = {}
    secrets: dict[str, Parameter] = {}
    for variable in process.variables_of(ServiceVariable):
        handle = _data(sources).service(variable.service).attribute(variable.attribute)
        services[(variable.service, variable.attribute)] = _take_data(child, handle)
    for variable in process.variables_of(SecretVariable):
        if variable.generated:
            handle = _data(sources).service(variable.secret).secret_arn
            secrets[variable.secret] = _take_data(child, handle)
    return TaskInputs(
        cluster=child.take(cluster.cluster_name, "ECS cluster."),
        subnets=child.take(sources.network.private_subnet_ids, "Comma-separated task subnets."),
        security_group=child.take(
            cluster.service_security_group_id,
            "Task security group.",
            "AWS::EC2::SecurityGroup::Id",
        ),
        log_group=child.take(
            cluster.log_group_names[process.name], "Log group for stdout.", name="LogGroupName"
        ),
        cpu=cpu,
        memory=memory,
        image=task_image,
        variables=variable_settings(child, process),
        services=services,
        secrets=secrets,
        load_balancer=_take_load_balancer(child, cluster) if process.load_balanced else None,
    )


def _data(sources: ProcessSources) -> DataOutputs:
    if sources.data is None:
        raise ValueError("a process references the data stack, but the app has none")
    return sources.data


def _take_data(child: ChildStack, handle: Handle) -> Parameter:
    return child.take(handle, f"{handle.name} from the data stack.")


def _take_load_balancer(child: ChildStack, cluster: ClusterOutputs) -> _LoadBalancer:
    balancer = cluster.load_balancer
    if balancer is None:
        raise ValueError("a load-balanced process, but the cluster has no load balancer")
    return _LoadBalancer(
        target_group_arn=child.take(balancer.target_group_arn, "Load balancer target group."),
        metrics=(
            Ref(child.take(balancer.load_balancer_full_name, "For the web alarms.")),
            Ref(child.take(balancer.target_group_full_name, "For the web alarms.")),
        ),
    )


def task_roles(
    template: Template,
    model: AppModel,
    process: Process,
    inputs: TaskInputs,
    stem: str = "",
    extra_secret_arns: tuple[object, ...] = (),
) -> tuple[iam.Role, iam.Role]:
    """ECS's role to start the task (pull, log, read config) and the app's own, which may not
    touch IAM. `stem` names them (default: the process's logical name); `extra_secret_arns`
    are secrets another container of the task reads (the release phase's user-setup step)."""
    stem = stem or process.logical
    execution_role = template.add_resource(
        iam.Role(
            f"{stem}ExecutionRole",
            AssumeRolePolicyDocument=policies.assume_role_by_ecs_tasks(),
            Policies=[
                iam.Policy(
                    PolicyName="start-task",
                    PolicyDocument=policies.execution_policy(
                        repository=repository_name(model.app, process.name),
                        log_group_name=f"${{{inputs.log_group.title}}}",
                        parameter_names=[
                            v.parameter for v in process.variables_of(ParameterVariable)
                        ],
                        secret_arns=_secret_arns(process, inputs) + list(extra_secret_arns),
                    ),
                )
            ],
        )
    )
    return execution_role, no_iam_task_role(template, stem)


def no_iam_task_role(template: Template, stem: str) -> iam.Role:
    """The app's own role in a task: it may not touch IAM, and holds nothing else."""
    return template.add_resource(
        iam.Role(
            f"{stem}TaskRole",
            AssumeRolePolicyDocument=policies.assume_role_by_ecs_tasks(),
            Policies=[iam.Policy(PolicyName="no-iam", PolicyDocument=policies.task_policy())],
        )
    )


def _secret_arns(process: Process, inputs: TaskInputs) -> list[object]:
    arns: list[object] = []
    for name in sorted({v.secret for v in process.variables_of(SecretVariable)}):
        if name in inputs.secrets:
            arns.append(Ref(inputs.secrets[name]))
        else:
            arns.append(policies.external_secret_arn(name))
    return arns


def _release_alarms(
    child: ChildStack, model: AppModel, process: Process, inputs: TaskInputs, topic: Ref | None
) -> list[cw.Alarm]:
    """The alarms that roll this service's deployment back; the service names them."""
    balancer = inputs.load_balancer
    return add_release_alarms(
        child,
        model,
        process,
        Ref(inputs.cluster),
        process.name,
        None if balancer is None else balancer.metrics,
        topic,
    )


def task_definition_of(
    child: ChildStack,
    model: AppModel,
    process: Process,
    inputs: TaskInputs,
    execution_role: iam.Role,
    task_role: iam.Role,
    stem: str = "",
) -> ecs.TaskDefinition:
    """`stem` names a task definition other than the service's (the release phase's): its
    logical id, family and log stream prefix."""
    name = stem.lower() or process.name
    container = container_of(process, inputs, name)
    return task_definition_with(
        child,
        model,
        process,
        (execution_role, task_role),
        [container],
        size=(Ref(inputs.cpu), Ref(inputs.memory)),
        stem=stem,
    )


def task_definition_with(
    child: ChildStack,
    model: AppModel,
    process: Process,
    roles: tuple[iam.Role, iam.Role],
    containers: list[ecs.ContainerDefinition],
    *,
    size: tuple[object, object],
    stem: str = "",
    extra_volumes: tuple[str, ...] = (),
) -> ecs.TaskDefinition:
    """A Fargate task definition of `size` (CPU units, MiB), with these containers and the
    process's scratch volumes plus `extra_volumes` (another container's own)."""
    name = stem.lower() or process.name
    execution_role, task_role = roles
    child.environment_name()
    architecture = child.setting(
        "CpuArchitecture",
        model.cpu_architecture,
        "CPU architecture of the tasks (environment file).",
        AllowedValues=CPU_ARCHITECTURES,
    )
    # Bind mounts without a host: empty, on the task's ephemeral storage, gone with the task.
    volumes = [ecs.Volume(Name=volume) for volume in (*process.scratch_volumes, *extra_volumes)]
    cpu, memory = size
    return child.template.add_resource(
        ecs.TaskDefinition(
            f"{stem or process.logical}TaskDefinition",
            Family=Sub(f"{model.app}-${{EnvironmentName}}-{name}"),
            RequiresCompatibilities=["FARGATE"],
            NetworkMode="awsvpc",
            Cpu=cpu,
            Memory=memory,
            RuntimePlatform=ecs.RuntimePlatform(
                CpuArchitecture=Ref(architecture), OperatingSystemFamily="LINUX"
            ),
            ExecutionRoleArn=GetAtt(execution_role, "Arn"),
            TaskRoleArn=GetAtt(task_role, "Arn"),
            ContainerDefinitions=containers,
            **({"Volumes": volumes} if volumes else {}),
        )
    )


def _hardened(process: Process) -> dict[str, object]:
    """What every container gets: its own user (never root), a read-only root filesystem with
    a scratch volume at each path the process writes, and no Linux capability at all."""
    mounts = [
        ecs.MountPoint(SourceVolume=volume, ContainerPath=path, ReadOnly=False)
        for volume, path in process.scratch_volumes.items()
    ]
    return {
        "User": process.user,
        "ReadonlyRootFilesystem": True,
        **({"MountPoints": mounts} if mounts else {}),
        # An init process forwards SIGTERM to the app (shells ignore it as PID 1).
        "LinuxParameters": ecs.LinuxParameters(
            InitProcessEnabled=True, Capabilities=ecs.KernelCapabilities(Drop=["ALL"])
        ),
    }


def container_of(
    process: Process, inputs: TaskInputs, stream_prefix: str
) -> ecs.ContainerDefinition:
    if inputs.image is None:
        raise ValueError(f"{process.name}: a container, but its inputs took no image")
    environment = [
        ecs.Environment(Name=v.name, Value=Ref(inputs.variables[v.name]))
        for v in process.variables_of(PlainVariable)
    ] + [
        ecs.Environment(Name=v.name, Value=Ref(inputs.services[(v.service, v.attribute)]))
        for v in process.variables_of(ServiceVariable)
    ]
    secrets = [
        ecs.Secret(Name=v.name, ValueFrom=policies.ssm_parameter_arn(v.parameter))
        for v in process.variables_of(ParameterVariable)
    ] + [
        ecs.Secret(Name=v.name, ValueFrom=_secret_value_from(v, inputs))
        for v in process.variables_of(SecretVariable)
    ]
    extra: dict[str, object] = {}
    if process.command:
        extra["Command"] = list(process.command)
    if process.port is not None:
        extra["PortMappings"] = [ecs.PortMapping(ContainerPort=process.port, Protocol="tcp")]
    return ecs.ContainerDefinition(
        Name=process.name,
        Image=inputs.image,
        Essential=True,
        # The task's only container may use all of the task's memory; a hard limit stated
        # (Control Tower CT.ECS.PR.7) rather than left to the task's.
        Memory=Ref(inputs.memory),
        Environment=sorted(environment, key=lambda e: e.Name),
        Secrets=sorted(secrets, key=lambda s: s.Name),
        StopTimeout=STOP_TIMEOUT_SECONDS,
        LogConfiguration=ecs.LogConfiguration(
            LogDriver="awslogs",
            Options={
                "awslogs-group": Ref(inputs.log_group),
                "awslogs-region": Ref("AWS::Region"),
                "awslogs-stream-prefix": stream_prefix,
            },
        ),
        **_hardened(process),
        **extra,
    )


def _secret_value_from(variable: SecretVariable, inputs: TaskInputs) -> Sub:
    """ECS's `valueFrom`: the secret ARN, then `:KEY::` to pick one JSON key."""
    suffix = f":{variable.key}::" if variable.key else ""
    if variable.generated:
        return Sub(f"${{{inputs.secrets[variable.secret].title}}}{suffix}")
    return arn("secretsmanager", f"secret:{variable.secret}{suffix}")


SPOT = "Spot"  # the parameter that says whether a process runs on Fargate Spot


def _capacity(child: ChildStack, process: Process) -> tuple[If, ecs.ForceNewDeployment]:
    """Fargate Spot or not is the environment file's choice: both strategies, one chosen.

    ECS refuses a changed capacity provider strategy (and the move from a launch type to one)
    unless the update forces a new deployment, so the deployment is forced exactly when the
    strategy changes: the nonce is the Spot setting after a digest of both strategies (which
    also change when a process gains or loses a port). An unchanged nonce forces nothing."""
    spot = child.flag(SPOT, process.spot, "Run on Fargate Spot (environment file).")
    on_spot = capacity_provider_strategy(replace(process, spot=True))
    regular = capacity_provider_strategy(replace(process, spot=False))
    strategy = If(spot, on_spot, regular)
    shapes = json.dumps([[item.to_dict() for item in s] for s in (on_spot, regular)])
    digest = hashlib.sha256(shapes.encode()).hexdigest()[:8]
    forced = ecs.ForceNewDeployment(
        EnableForceNewDeployment=True,
        ForceNewDeploymentNonce=Sub(f"{digest}-spot-${{{SPOT}}}"),
    )
    return strategy, forced


def _service(
    child: ChildStack,
    process: Process,
    inputs: TaskInputs,
    task_definition: ecs.TaskDefinition,
    alarms: list[cw.Alarm],
) -> ecs.Service:
    """The Fargate service: circuit breaker and release alarms roll a broken deployment back."""
    # Stated even when there are none: left out, ECS would keep alarms attached earlier.
    deployment_alarms = ecs.DeploymentAlarms(
        AlarmNames=[Ref(alarm) for alarm in alarms], Enable=bool(alarms), Rollback=bool(alarms)
    )
    # A singleton stops its old task before starting the new one: two never overlap.
    healthy_percent = (0, 100) if process.singleton else (100, 200)
    strategy, forced = _capacity(child, process)
    extra: dict[str, object] = {}
    if inputs.load_balancer is not None:
        extra["LoadBalancers"] = [
            ecs.LoadBalancer(
                ContainerName=process.name,
                ContainerPort=process.port,
                TargetGroupArn=Ref(inputs.load_balancer.target_group_arn),
            )
        ]
        extra["HealthCheckGracePeriodSeconds"] = HEALTH_CHECK_GRACE_SECONDS
    return child.template.add_resource(
        ecs.Service(
            f"{process.logical}Service",
            ServiceName=process.name,  # unique in the app's own cluster; the alarms name it
            Cluster=Ref(inputs.cluster),
            TaskDefinition=Ref(task_definition),
            CapacityProviderStrategy=strategy,
            ForceNewDeployment=forced,
            PropagateTags="SERVICE",
            EnableECSManagedTags=True,
            DeploymentConfiguration=ecs.DeploymentConfiguration(
                DeploymentCircuitBreaker=ecs.DeploymentCircuitBreaker(Enable=True, Rollback=True),
                Alarms=deployment_alarms,
                MinimumHealthyPercent=healthy_percent[0],
                MaximumPercent=healthy_percent[1],
            ),
            NetworkConfiguration=ecs.NetworkConfiguration(
                AwsvpcConfiguration=ecs.AwsvpcConfiguration(
                    AssignPublicIp="DISABLED",
                    Subnets=Split(",", Ref(inputs.subnets)),
                    SecurityGroups=[Ref(inputs.security_group)],
                )
            ),
            **extra,
        )
    )
