"""Process stack, one per process type: its task definition, roles and Fargate service.

A stack per process keeps each template small, so an app with many process types never meets
CloudFormation's 500-resource limit.
"""

from __future__ import annotations

from troposphere import GetAtt, Ref, Split, Sub, Template, ecs, iam

from factorstack import iam as policies
from factorstack.model import (
    AppModel,
    ParameterVariable,
    PlainVariable,
    Process,
    SecretVariable,
    ServiceVariable,
    repository_name,
)
from factorstack.stacks.alarms import add_release_alarms
from factorstack.stacks.common import add_output, add_parameter, arn, new_template

# Outputs of the data stack a process may need, by what its variables reference.
SERVICE_OUTPUTS = {
    ("database", "host"): "DatabaseHost",
    ("database", "port"): "DatabasePort",
    ("cache", "host"): "CacheHost",
    ("cache", "port"): "CachePort",
}
SECRET_OUTPUTS = {"database": "DatabaseSecretArn", "cache": "CacheSecretArn"}
HEALTH_CHECK_GRACE_SECONDS = 60
STOP_TIMEOUT_SECONDS = 120  # the longest Fargate allows; lets a queue job finish


def data_inputs(process: Process) -> list[str]:
    """The data-stack outputs this process's parameters take, in a stable order."""
    needed = {
        SERVICE_OUTPUTS[(v.service, v.attribute)] for v in process.variables_of(ServiceVariable)
    }
    needed |= {
        SECRET_OUTPUTS[v.secret] for v in process.variables_of(SecretVariable) if v.generated
    }
    return sorted(needed)


def uses_image_tag(model: AppModel, process: Process) -> bool:
    """A process runs `:ImageTag` until a release records its digest."""
    return process.name not in model.image_digests


def image(model: AppModel, process: Process) -> Sub:
    """The release's image digest when `factorstack release` recorded one, else the tag."""
    digest = model.image_digests.get(process.name)
    reference = f"@{digest}" if digest else ":${ImageTag}"
    return Sub(
        "${AWS::AccountId}.dkr.ecr.${AWS::Region}.${AWS::URLSuffix}/"
        f"{repository_name(model.app, process.name)}{reference}"
    )


def _secret_value_from(variable: SecretVariable) -> Sub:
    """ECS's `valueFrom`: the secret ARN, then `:KEY::` to pick one JSON key."""
    suffix = f":{variable.key}::" if variable.key else ""
    if variable.generated:
        return Sub(f"${{{SECRET_OUTPUTS[variable.secret]}}}{suffix}")
    return arn("secretsmanager", f"secret:{variable.secret}{suffix}")


def _container(model: AppModel, process: Process, log_group: Ref) -> ecs.ContainerDefinition:
    environment = [
        ecs.Environment(Name=v.name, Value=v.value) for v in process.variables_of(PlainVariable)
    ] + [
        ecs.Environment(Name=v.name, Value=Ref(SERVICE_OUTPUTS[(v.service, v.attribute)]))
        for v in process.variables_of(ServiceVariable)
    ]
    secrets = [
        ecs.Secret(Name=v.name, ValueFrom=policies.ssm_parameter_arn(v.parameter))
        for v in process.variables_of(ParameterVariable)
    ] + [
        ecs.Secret(Name=v.name, ValueFrom=_secret_value_from(v))
        for v in process.variables_of(SecretVariable)
    ]
    extra: dict[str, object] = {}
    if process.command:
        extra["Command"] = list(process.command)
    if process.port is not None:
        extra["PortMappings"] = [ecs.PortMapping(ContainerPort=process.port, Protocol="tcp")]
    return ecs.ContainerDefinition(
        Name=process.name,
        Image=image(model, process),
        Essential=True,
        # An init process forwards SIGTERM to the app (cron and shells ignore it as PID 1).
        LinuxParameters=ecs.LinuxParameters(InitProcessEnabled=True),
        Environment=sorted(environment, key=lambda e: e.Name),
        Secrets=sorted(secrets, key=lambda s: s.Name),
        StopTimeout=STOP_TIMEOUT_SECONDS,
        LogConfiguration=ecs.LogConfiguration(
            LogDriver="awslogs",
            Options={
                "awslogs-group": log_group,
                "awslogs-region": Ref("AWS::Region"),
                "awslogs-stream-prefix": process.name,
            },
        ),
        **extra,
    )


def _secret_arns(process: Process) -> list[object]:
    arns: list[object] = []
    for name in sorted({v.secret for v in process.variables_of(SecretVariable)}):
        if name in SECRET_OUTPUTS:
            arns.append(Ref(SECRET_OUTPUTS[name]))
        else:
            arns.append(policies.external_secret_arn(name))
    return arns


def build_process(model: AppModel, process: Process) -> Template:
    """Model and one process in, that process's template out."""
    template = new_template(f"{model.app} {model.environment}: the {process.name} process")
    if uses_image_tag(model, process):
        add_parameter(template, "ImageTag", "Image tag of this release.")  # in the image's Sub
    cluster = add_parameter(template, "ClusterName", "ECS cluster.")
    subnets = add_parameter(template, "PrivateSubnetIds", "Comma-separated task subnets.")
    security_group = add_parameter(
        template, "ServiceSecurityGroupId", "Task security group.", "AWS::EC2::SecurityGroup::Id"
    )
    log_group = add_parameter(template, "LogGroupName", "Log group for stdout.")
    for name in data_inputs(process):
        add_parameter(template, name, f"{name} from the data stack.")
    target_group = load_balancer = None
    if process.load_balanced:
        target_group = add_parameter(template, "TargetGroupArn", "Load balancer target group.")
        load_balancer = (
            Ref(add_parameter(template, "LoadBalancerFullName", "For the web alarms.")),
            Ref(add_parameter(template, "TargetGroupFullName", "For the web alarms.")),
        )

    logical = process.logical
    execution_role = template.add_resource(
        iam.Role(
            f"{logical}ExecutionRole",
            AssumeRolePolicyDocument=policies.assume_role_by_ecs_tasks(),
            Policies=[
                iam.Policy(
                    PolicyName="start-task",
                    PolicyDocument=policies.execution_policy(
                        repository=repository_name(model.app, process.name),
                        log_group_name="${LogGroupName}",
                        parameter_names=[
                            v.parameter for v in process.variables_of(ParameterVariable)
                        ],
                        secret_arns=_secret_arns(process),
                    ),
                )
            ],
        )
    )
    task_role = template.add_resource(
        iam.Role(
            f"{logical}TaskRole",
            AssumeRolePolicyDocument=policies.assume_role_by_ecs_tasks(),
            Policies=[iam.Policy(PolicyName="no-iam", PolicyDocument=policies.task_policy())],
        )
    )
    task_definition = template.add_resource(
        ecs.TaskDefinition(
            f"{logical}TaskDefinition",
            Family=f"{model.app}-{model.environment}-{process.name}",
            RequiresCompatibilities=["FARGATE"],
            NetworkMode="awsvpc",
            Cpu=str(process.cpu),
            Memory=str(process.memory),
            RuntimePlatform=ecs.RuntimePlatform(
                CpuArchitecture=model.cpu_architecture, OperatingSystemFamily="LINUX"
            ),
            ExecutionRoleArn=GetAtt(execution_role, "Arn"),
            TaskRoleArn=GetAtt(task_role, "Arn"),
            ContainerDefinitions=[_container(model, process, Ref(log_group))],
        )
    )
    alarms = add_release_alarms(template, model, process, Ref(cluster), process.name, load_balancer)
    # Stated even when there are none: left out, ECS would keep alarms attached earlier.
    deployment_alarms = ecs.DeploymentAlarms(
        AlarmNames=[Ref(alarm) for alarm in alarms], Enable=bool(alarms), Rollback=bool(alarms)
    )
    # A singleton stops its old task before starting the new one: two never overlap.
    healthy_percent = (0, 100) if process.singleton else (100, 200)
    service_extra: dict[str, object] = {}
    if target_group is not None:
        service_extra["LoadBalancers"] = [
            ecs.LoadBalancer(
                ContainerName=process.name,
                ContainerPort=process.port,
                TargetGroupArn=Ref(target_group),
            )
        ]
        service_extra["HealthCheckGracePeriodSeconds"] = HEALTH_CHECK_GRACE_SECONDS
    service = template.add_resource(
        ecs.Service(
            f"{logical}Service",
            ServiceName=process.name,  # unique in the app's own cluster; the alarms name it
            Cluster=Ref(cluster),
            TaskDefinition=Ref(task_definition),
            LaunchType="FARGATE",
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
                    Subnets=Split(",", Ref(subnets)),
                    SecurityGroups=[Ref(security_group)],
                )
            ),
            **service_extra,
        )
    )
    add_output(template, "ServiceName", GetAtt(service, "Name"), f"ECS service of {process.name}.")
    add_output(template, "TaskDefinitionArn", Ref(task_definition), "Task definition in use.")
    return template
