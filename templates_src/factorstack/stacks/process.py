"""Process stack, one per process type: its task definition, roles and Fargate service.

A stack per process keeps each template small, so an app with many process types never meets
CloudFormation's 500-resource limit. Every container runs hardened: as app.yaml's non-root user,
with a read-only root filesystem, a scratch volume at each of its `writable` paths and every
Linux capability dropped.
"""

from __future__ import annotations

from dataclasses import dataclass

from troposphere import GetAtt, Parameter, Ref, Split, Sub, Template, ecs, iam
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
    image_tag: Parameter | None  # None once a release recorded this process's digest
    services: dict[tuple[str, str], Parameter]  # (database|cache, host|port) → its parameter
    secrets: dict[str, Parameter]  # generated secret (database|cache) → its ARN's parameter
    load_balancer: _LoadBalancer | None


def process_file(process: Process) -> str:
    return f"process-{process.name}.json"


def uses_image_tag(model: AppModel, process: Process) -> bool:
    """A process runs `:ImageTag` until a release records its digest."""
    return process.name not in model.image_digests


def image(model: AppModel, process: Process, tag: Parameter | None) -> Sub:
    """The release's image digest when `factorstack release` recorded one, else the tag."""
    digest = model.image_digests.get(process.name)
    if digest:
        reference = f"@{digest}"
    elif tag is not None:
        reference = f":${{{tag.title}}}"
    else:
        raise ValueError(f"{process.name}: neither a released digest nor an image tag")
    return Sub(
        "${AWS::AccountId}.dkr.ecr.${AWS::Region}.${AWS::URLSuffix}/"
        f"{repository_name(model.app, process.name)}{reference}"
    )


def build_process(
    model: AppModel, process: Process, sources: ProcessSources
) -> Built[ProcessOutputs]:
    """Model, one process and what it runs on in, that process's stack out."""
    child = ChildStack(
        f"{process.logical}Stack",
        process_file(process),
        f"{model.app} {model.environment}: the {process.name} process",
    )
    template = child.template
    inputs = take_inputs(child, model, process, sources)
    execution_role, task_role = task_roles(template, model, process, inputs)
    task_definition = task_definition_of(
        template, model, process, inputs, execution_role, task_role
    )
    topic = None
    if has_release_alarms(process):
        topic = Ref(child.take(sources.alarm_topic_arn, "SNS topic the alarms notify."))
    alarms = _release_alarms(template, model, process, inputs, topic)
    service = _service(template, process, inputs, task_definition, alarms)
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
    child: ChildStack, model: AppModel, process: Process, sources: ProcessSources
) -> TaskInputs:
    """Declare every parameter this process needs, each wired from the output that feeds it."""
    cluster = sources.cluster
    image_tag = None
    if uses_image_tag(model, process):
        image_tag = child.take(sources.image_tag, "Image tag of this release.")
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
        image_tag=image_tag,
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
    template: Template, model: AppModel, process: Process, inputs: TaskInputs, topic: Ref | None
) -> list[cw.Alarm]:
    """The alarms that roll this service's deployment back; the service names them."""
    balancer = inputs.load_balancer
    return add_release_alarms(
        template,
        model,
        process,
        Ref(inputs.cluster),
        process.name,
        None if balancer is None else balancer.metrics,
        topic,
    )


def task_definition_of(
    template: Template,
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
    container = container_of(model, process, inputs, name)
    return task_definition_with(
        template, model, process, (execution_role, task_role), [container], stem=stem
    )


def task_definition_with(
    template: Template,
    model: AppModel,
    process: Process,
    roles: tuple[iam.Role, iam.Role],
    containers: list[ecs.ContainerDefinition],
    stem: str = "",
    extra_volumes: tuple[str, ...] = (),
) -> ecs.TaskDefinition:
    """A Fargate task definition sized like `process`, with these containers and the process's
    scratch volumes plus `extra_volumes` (another container's own)."""
    name = stem.lower() or process.name
    execution_role, task_role = roles
    # Bind mounts without a host: empty, on the task's ephemeral storage, gone with the task.
    volumes = [ecs.Volume(Name=volume) for volume in (*process.scratch_volumes, *extra_volumes)]
    return template.add_resource(
        ecs.TaskDefinition(
            f"{stem or process.logical}TaskDefinition",
            Family=f"{model.app}-{model.environment}-{name}",
            RequiresCompatibilities=["FARGATE"],
            NetworkMode="awsvpc",
            Cpu=str(process.cpu),
            Memory=str(process.memory),
            RuntimePlatform=ecs.RuntimePlatform(
                CpuArchitecture=model.cpu_architecture, OperatingSystemFamily="LINUX"
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
    model: AppModel, process: Process, inputs: TaskInputs, stream_prefix: str
) -> ecs.ContainerDefinition:
    environment = [
        ecs.Environment(Name=v.name, Value=v.value) for v in process.variables_of(PlainVariable)
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
        Image=image(model, process, inputs.image_tag),
        Essential=True,
        # The task's only container may use all of the task's memory; a hard limit stated
        # (Control Tower CT.ECS.PR.7) rather than left to the task's.
        Memory=process.memory,
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


def _service(
    template: Template,
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
    return template.add_resource(
        ecs.Service(
            f"{process.logical}Service",
            ServiceName=process.name,  # unique in the app's own cluster; the alarms name it
            Cluster=Ref(inputs.cluster),
            TaskDefinition=Ref(task_definition),
            CapacityProviderStrategy=capacity_provider_strategy(process),
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
