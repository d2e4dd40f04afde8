"""Cluster stack: the ECS cluster, the load balancer in front of it, the task security group and
one log group per process.

The cluster offers the FARGATE and FARGATE_SPOT capacity providers, and every service names its
own capacity provider strategy (capacity_provider_strategy): regular Fargate, or with
`spot: true` Fargate Spot. Because every service always has a strategy, turning Spot on or off
is a change of strategy, which ECS and CloudFormation apply in place (a new deployment, no
replacement); a service never moves between a launch type and a strategy again after the one
move from `LaunchType: FARGATE` that existing stacks make once.

With a certificate the load balancer speaks HTTPS (TLS 1.3 policy) and redirects HTTP; without
one (dev) it serves plain HTTP. It drops invalid header fields, logs every request to its
access-log bucket, and may sit behind a web ACL (see edge.py); its deletion protection is a
parameter, off while a first create can still roll back.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from troposphere import GetAtt, Ref, Split, Sub, Template, ec2, ecs
from troposphere import elasticloadbalancingv2 as elb
from troposphere.logs import LogGroup

from factorstack.model import AppModel, Process
from factorstack.stacks.common import (
    ANYWHERE,
    HTTPS_PORT,
    https_out_to_anywhere,
    match_nothing_egress,
    retain,
    unique_name,
)
from factorstack.stacks.edge import access_log_attributes, add_access_log_bucket, add_web_acl
from factorstack.stacks.network import NetworkOutputs
from factorstack.stacks.policy import justify_load_balancer, justify_log_group
from factorstack.stacks.wiring import Built, ChildStack, Handle

TLS_POLICY = "ELBSecurityPolicy-TLS13-1-2-2021-06"
HTTP_PORT = 80
HEALTH_CHECK_INTERVAL_SECONDS = 15
DEREGISTRATION_DELAY_SECONDS = "30"
FARGATE, FARGATE_SPOT = "FARGATE", "FARGATE_SPOT"
# A load-balanced process on Spot: its first task on regular Fargate, then this many Spot tasks
# for every further regular one.
SPOT_WEIGHT_BESIDE_REGULAR = 3


def capacity_provider_strategy(process: Process) -> list[ecs.CapacityProviderStrategyItem]:
    """Where a service's tasks run. Spot can take a task away with two minutes' notice, so a
    load-balanced process keeps one regular task as the base; any other Spot process (a worker,
    even the singleton scheduler, which may then miss runs while Spot has no capacity) runs on
    Spot only."""
    if not process.spot:
        return [ecs.CapacityProviderStrategyItem(CapacityProvider=FARGATE, Weight=1)]
    if process.load_balanced:
        return [
            ecs.CapacityProviderStrategyItem(CapacityProvider=FARGATE, Base=1, Weight=1),
            ecs.CapacityProviderStrategyItem(
                CapacityProvider=FARGATE_SPOT, Weight=SPOT_WEIGHT_BESIDE_REGULAR
            ),
        ]
    return [ecs.CapacityProviderStrategyItem(CapacityProvider=FARGATE_SPOT, Weight=1)]


@dataclass(frozen=True)
class LoadBalancerOutputs:
    """Present when a process is load-balanced: where it answers, and what its alarms watch."""

    app_url: Handle
    target_group_arn: Handle
    target_group_full_name: Handle  # the names CloudWatch metrics know them by
    load_balancer_full_name: Handle


@dataclass(frozen=True)
class ClusterOutputs:
    cluster_name: Handle
    service_security_group_id: Handle
    load_balancer: LoadBalancerOutputs | None
    log_group_names: Mapping[str, Handle]  # by process name


def log_group_prefix(model: AppModel, process: Process) -> str:
    return f"/{model.app}/{model.environment}/{process.name}-"


def log_group_name(model: AppModel, process: Process) -> Sub:
    """`/APP/ENV/PROCESS-` and this stack's suffix: see common.unique_name."""
    return unique_name(log_group_prefix(model, process))


def _load_balancer(
    template: Template,
    model: AppModel,
    process: Process,
    network: tuple[Ref, Ref],
    deletion_protection: Ref,
) -> tuple[ec2.SecurityGroup, elb.LoadBalancer, elb.TargetGroup]:
    """`network` is (VPC, comma-separated public subnets)."""
    vpc, subnets = network
    edge_ports = [HTTP_PORT, HTTPS_PORT] if model.https else [HTTP_PORT]
    edge = template.add_resource(
        ec2.SecurityGroup(
            "LoadBalancerSecurityGroup",
            GroupDescription=f"{model.app} {model.environment} load balancer: web traffic only",
            VpcId=vpc,
            SecurityGroupIngress=[
                ec2.SecurityGroupRule(
                    IpProtocol="tcp",
                    FromPort=port,
                    ToPort=port,
                    CidrIp=ANYWHERE,
                    Description=f"{'HTTPS' if port == HTTPS_PORT else 'HTTP'} from the internet",
                )
                for port in edge_ports
            ],
            # Inline egress replaces the default allow-all. This rule matches nothing (ICMP
            # type 252, code 86, to 255.255.255.255); the real one, to the tasks' port only, is
            # LoadBalancerEgressToService. Standalone, because moving a rule between inline and
            # standalone revokes it on an existing stack.
            SecurityGroupEgress=[match_nothing_egress("Disallow all other traffic")],
        )
    )
    logs, logs_policy = add_access_log_bucket(template, model)
    balancer = template.add_resource(
        elb.LoadBalancer(
            "LoadBalancer",
            DependsOn=[logs_policy.title],  # ELB tests its write access to the bucket
            Scheme="internet-facing",
            Type="application",
            Subnets=Split(",", subnets),
            SecurityGroups=[Ref(edge)],
            LoadBalancerAttributes=[
                elb.LoadBalancerAttributes(
                    Key="routing.http.drop_invalid_header_fields.enabled", Value="true"
                ),
                elb.LoadBalancerAttributes(
                    Key="deletion_protection.enabled", Value=deletion_protection
                ),
                *access_log_attributes(logs),
            ],
        )
    )
    add_web_acl(template, model, balancer)
    target_group = template.add_resource(
        elb.TargetGroup(
            "TargetGroup",
            TargetType="ip",
            Protocol="HTTP",
            Port=process.port,
            VpcId=vpc,
            HealthCheckPath=process.health_check_path,
            HealthCheckIntervalSeconds=HEALTH_CHECK_INTERVAL_SECONDS,
            Matcher=elb.Matcher(HttpCode="200"),
            TargetGroupAttributes=[
                elb.TargetGroupAttribute(
                    Key="deregistration_delay.timeout_seconds",
                    Value=DEREGISTRATION_DELAY_SECONDS,
                )
            ],
        )
    )
    forward = [elb.Action(Type="forward", TargetGroupArn=Ref(target_group))]
    if model.https:
        template.add_resource(
            elb.Listener(
                "HttpsListener",
                LoadBalancerArn=Ref(balancer),
                Port=HTTPS_PORT,
                Protocol="HTTPS",
                SslPolicy=TLS_POLICY,
                Certificates=[elb.Certificate(CertificateArn=model.certificate_arn)],
                DefaultActions=forward,
            )
        )
        http_actions = [
            elb.Action(
                Type="redirect",
                RedirectConfig=elb.RedirectConfig(
                    Protocol="HTTPS", Port=str(HTTPS_PORT), StatusCode="HTTP_301"
                ),
            )
        ]
    else:
        http_actions = forward
    http_listener = template.add_resource(
        elb.Listener(
            "HttpListener",
            LoadBalancerArn=Ref(balancer),
            Port=HTTP_PORT,
            Protocol="HTTP",
            DefaultActions=http_actions,
        )
    )
    justify_load_balancer(model, edge, balancer, http_listener)
    return edge, balancer, target_group


def build_cluster(
    model: AppModel, *, network: NetworkOutputs, deletion_protection: Handle | None
) -> Built[ClusterOutputs]:
    """Model and the network in, cluster stack out; `deletion_protection` is the root's
    "true"/"false" for the load balancer."""
    child = ChildStack(
        "ClusterStack",
        "cluster.json",
        f"{model.app} {model.environment}: ECS cluster, load balancer, task security group, logs",
    )
    template = child.template
    vpc = Ref(child.take(network.vpc_id, "VPC of the app.", "AWS::EC2::VPC::Id"))
    public_subnets = Ref(child.take(network.public_subnet_ids, "Comma-separated subnets."))

    cluster = template.add_resource(
        ecs.Cluster(
            "Cluster",
            ClusterSettings=[ecs.ClusterSetting(Name="containerInsights", Value="enabled")],
            # Both offered, so `spot` can be turned on for a service without touching the
            # cluster; what runs without a strategy (none of ours) runs on regular Fargate.
            CapacityProviders=[FARGATE, FARGATE_SPOT],
            DefaultCapacityProviderStrategy=[
                ecs.CapacityProviderStrategyItem(CapacityProvider=FARGATE, Weight=1)
            ],
        )
    )
    tasks = template.add_resource(
        ec2.SecurityGroup(
            "ServiceSecurityGroup",
            GroupDescription=f"{model.app} {model.environment} tasks",
            VpcId=vpc,
            # Inline egress replaces the default allow-all: HTTPS out only (AWS APIs, ECR and
            # its S3 layers, logs, secrets, the app's third parties). The data stack adds the
            # database and cache ports to their groups (ServiceEgressTo...). DNS to the VPC
            # resolver is never filtered by security groups.
            SecurityGroupEgress=[https_out_to_anywhere("HTTPS to AWS APIs, ECR and third parties")],
        )
    )
    cluster_name = child.give("ClusterName", Ref(cluster), "ECS cluster name.")
    tasks_group = child.give("ServiceSecurityGroupId", Ref(tasks), "Security group of every task.")
    web = model.load_balanced_process
    load_balancer = None
    if web is not None and deletion_protection is not None:
        protection = Ref(child.take(deletion_protection, "Load balancer deletion protection."))
        load_balancer = _web_entry(child, model, web, (vpc, public_subnets, protection), tasks)
    return child.built(
        ClusterOutputs(
            cluster_name=cluster_name,
            service_security_group_id=tasks_group,
            load_balancer=load_balancer,
            log_group_names={p.name: _log_group(child, model, p) for p in model.processes},
        )
    )


def _web_entry(
    child: ChildStack,
    model: AppModel,
    web: Process,
    inputs: tuple[Ref, Ref, Ref],
    tasks: ec2.SecurityGroup,
) -> LoadBalancerOutputs:
    """The load balancer in front of `web`, the one rule each way between it and the tasks.
    `inputs` is (VPC, public subnets, deletion protection)."""
    template = child.template
    vpc, public_subnets, protection = inputs
    edge, balancer, target_group = _load_balancer(
        template, model, web, (vpc, public_subnets), protection
    )
    template.add_resource(
        ec2.SecurityGroupEgress(
            "LoadBalancerEgressToService",
            GroupId=Ref(edge),
            IpProtocol="tcp",
            FromPort=web.port,
            ToPort=web.port,
            DestinationSecurityGroupId=Ref(tasks),
            Description=f"to {web.name} tasks only",
        )
    )
    template.add_resource(
        ec2.SecurityGroupIngress(
            "ServiceIngressFromLoadBalancer",
            GroupId=Ref(tasks),
            IpProtocol="tcp",
            FromPort=web.port,
            ToPort=web.port,
            SourceSecurityGroupId=Ref(edge),
            Description=f"{web.name} traffic from the load balancer only",
        )
    )
    scheme = "https" if model.https else "http"
    # With a certificate the app answers at its domain; the balancer's name would not match.
    url = (
        f"{scheme}://{model.domain_name}"
        if model.domain_name
        else Sub(f"{scheme}://${{{balancer.title}.DNSName}}")
    )
    return LoadBalancerOutputs(
        app_url=child.give("AppUrl", url, "Where the app answers."),
        target_group_arn=child.give(
            "TargetGroupArn", Ref(target_group), "Target group of the web tasks."
        ),
        target_group_full_name=child.give(
            "TargetGroupFullName",
            GetAtt(target_group, "TargetGroupFullName"),
            "Target group name as CloudWatch metrics know it.",
        ),
        load_balancer_full_name=child.give(
            "LoadBalancerFullName",
            GetAtt(balancer, "LoadBalancerFullName"),
            "Load balancer name as CloudWatch metrics know it.",
        ),
    )


def _log_group(child: ChildStack, model: AppModel, process: Process) -> Handle:
    """A process's log group, retained: its logs outlive a replaced or deleted stack."""
    group = child.template.add_resource(
        retain(
            LogGroup(
                f"{process.logical}LogGroup",
                LogGroupName=log_group_name(model, process),
                RetentionInDays=model.log_retention_days,
            )
        )
    )
    justify_log_group(group, model.log_retention_days)
    return child.give(
        f"{process.logical}LogGroupName", Ref(group), f"Where {process.name} writes stdout."
    )
