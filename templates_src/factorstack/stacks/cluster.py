"""Cluster stack: the ECS cluster, the load balancer in front of it, the task security group and
one log group per process.

The cluster offers the FARGATE and FARGATE_SPOT capacity providers, and every service names its
own capacity provider strategy (capacity_provider_strategy): regular Fargate, or with
`spot: true` Fargate Spot. Because every service always has a strategy, turning Spot on or off
is a change of strategy, which ECS and CloudFormation apply in place (a new deployment, no
replacement); a service never moves between a launch type and a strategy again after the one
move from `LaunchType: FARGATE` that existing stacks make once.

The template is the same text in every environment; what an environment chooses arrives as a
setting from the root. With a certificate (HasCertificate) the load balancer speaks HTTPS (TLS 1.3
policy) and redirects HTTP; without one it serves plain HTTP. It drops invalid header fields,
logs every request to its access-log bucket, and may sit behind a web ACL (see edge.py); its
deletion protection is a parameter, off while a first create can still roll back.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from troposphere import Equals, GetAtt, If, Not, Ref, Split, Sub, Template, ec2, ecs
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
from factorstack.stacks.wiring import ENVIRONMENT_NAME, Built, ChildStack, Handle

TLS_POLICY = "ELBSecurityPolicy-TLS13-1-2-2021-06"
HTTP_PORT = 80
HEALTH_CHECK_INTERVAL_SECONDS = 15
DEREGISTRATION_DELAY_SECONDS = "30"
FARGATE, FARGATE_SPOT = "FARGATE", "FARGATE_SPOT"
# A load-balanced process on Spot: its first task on regular Fargate, then this many Spot tasks
# for every further regular one.
SPOT_WEIGHT_BESIDE_REGULAR = 3
# Settings and conditions of the shared templates (their names are what the root passes).
CERTIFICATE_ARN = "CertificateArn"
HAS_CERTIFICATE = "HasCertificate"
DOMAIN_NAME = "DomainName"
HAS_DOMAIN = "HasDomain"


def capacity_provider_strategy(process: Process) -> list[ecs.CapacityProviderStrategyItem]:
    """Where a service's tasks run. Spot can take a task away with two minutes' notice, so a
    load-balanced process keeps one regular task as the base; any other Spot process (a worker,
    even the singleton scheduler, which may then miss runs while Spot has no capacity) runs on
    Spot only. (The process stack asks for both and lets its Spot flag choose.)"""
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
    """`/APP/${EnvironmentName}/PROCESS-`: Fn::Sub text for a template that has declared the
    environment's name (ChildStack.environment_name)."""
    return f"/{model.app}/${{{ENVIRONMENT_NAME}}}/{process.name}-"


def log_group_name(child: ChildStack, model: AppModel, process: Process) -> Sub:
    """`/APP/ENV/PROCESS-` and this stack's suffix: see common.unique_name."""
    child.environment_name()
    return unique_name(log_group_prefix(model, process))


def _certificate(child: ChildStack, model: AppModel) -> tuple[str, Ref]:
    """The HasCertificate condition and the certificate's ARN (empty where there is none)."""
    certificate = Ref(
        child.setting(
            CERTIFICATE_ARN,
            model.certificate_arn or "",
            "ACM certificate for HTTPS; empty: the load balancer serves plain HTTP.",
        )
    )
    return child.condition(HAS_CERTIFICATE, Not(Equals(certificate, ""))), certificate


def _from_internet(port: int) -> ec2.SecurityGroupRule:
    return ec2.SecurityGroupRule(
        IpProtocol="tcp",
        FromPort=port,
        ToPort=port,
        CidrIp=ANYWHERE,
        Description=f"{'HTTPS' if port == HTTPS_PORT else 'HTTP'} from the internet",
    )


def _edge_group(child: ChildStack, model: AppModel, vpc: Ref, https: str) -> ec2.SecurityGroup:
    """The load balancer's group: HTTP from anywhere, HTTPS too where there is a certificate."""
    child.environment_name()
    return child.template.add_resource(
        ec2.SecurityGroup(
            "LoadBalancerSecurityGroup",
            GroupDescription=Sub(
                f"{model.app} ${{{ENVIRONMENT_NAME}}} load balancer: web traffic only"
            ),
            VpcId=vpc,
            # The whole list chosen by the condition (not AWS::NoValue inside it): the local
            # endpoint (moto) reads a NoValue list item as a rule and fails.
            SecurityGroupIngress=If(
                https,
                [_from_internet(HTTP_PORT), _from_internet(HTTPS_PORT)],
                [_from_internet(HTTP_PORT)],
            ),
            # Inline egress replaces the default allow-all. This rule matches nothing (ICMP
            # type 252, code 86, to 255.255.255.255); the real one, to the tasks' port only, is
            # LoadBalancerEgressToService. Standalone, because moving a rule between inline and
            # standalone revokes it on an existing stack.
            SecurityGroupEgress=[match_nothing_egress("Disallow all other traffic")],
        )
    )


def _target_group(template: Template, process: Process, vpc: Ref) -> elb.TargetGroup:
    return template.add_resource(
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


def _listeners(
    template: Template,
    balancer: elb.LoadBalancer,
    target_group: elb.TargetGroup,
    certificate: tuple[str, Ref],
) -> elb.Listener:
    """HTTPS to the tasks and HTTP redirected to it where there is a certificate; HTTP to the
    tasks where there is none. Returns the HTTP listener."""
    https, certificate_arn = certificate
    forward = elb.Action(Type="forward", TargetGroupArn=Ref(target_group))
    template.add_resource(
        elb.Listener(
            "HttpsListener",
            Condition=https,
            LoadBalancerArn=Ref(balancer),
            Port=HTTPS_PORT,
            Protocol="HTTPS",
            SslPolicy=TLS_POLICY,
            Certificates=[elb.Certificate(CertificateArn=certificate_arn)],
            DefaultActions=[forward],
        )
    )
    redirect = elb.Action(
        Type="redirect",
        RedirectConfig=elb.RedirectConfig(
            Protocol="HTTPS", Port=str(HTTPS_PORT), StatusCode="HTTP_301"
        ),
    )
    return template.add_resource(
        elb.Listener(
            "HttpListener",
            LoadBalancerArn=Ref(balancer),
            Port=HTTP_PORT,
            Protocol="HTTP",
            DefaultActions=[If(https, redirect, forward)],
        )
    )


def _load_balancer(
    child: ChildStack,
    model: AppModel,
    process: Process,
    network: tuple[Ref, Ref],
    deletion_protection: Ref,
) -> tuple[ec2.SecurityGroup, elb.LoadBalancer, elb.TargetGroup]:
    """`network` is (VPC, comma-separated public subnets)."""
    template = child.template
    vpc, subnets = network
    certificate = _certificate(child, model)
    edge = _edge_group(child, model, vpc, certificate[0])
    logs, logs_policy = add_access_log_bucket(child, model)
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
    add_web_acl(child, model, balancer)
    target_group = _target_group(template, process, vpc)
    http_listener = _listeners(template, balancer, target_group, certificate)
    justify_load_balancer(edge, balancer, http_listener)
    return edge, balancer, target_group


def build_cluster(
    model: AppModel, *, network: NetworkOutputs, deletion_protection: Handle | None
) -> Built[ClusterOutputs]:
    """Model and the network in, cluster stack out; `deletion_protection` is the root's
    "true"/"false" for the load balancer."""
    child = ChildStack(
        "ClusterStack",
        "cluster.json",
        f"{model.app}: ECS cluster, load balancer, task security group, logs",
        environment=model.environment,
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
    child.environment_name()
    tasks = template.add_resource(
        ec2.SecurityGroup(
            "ServiceSecurityGroup",
            GroupDescription=Sub(f"{model.app} ${{{ENVIRONMENT_NAME}}} tasks"),
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


def _app_url(child: ChildStack, model: AppModel, balancer: elb.LoadBalancer) -> If:
    """Where the app answers: its domain where the environment names one (the certificate
    would not match the balancer's own name), else the balancer's DNS name; https where there
    is a certificate."""
    domain = Ref(
        child.setting(
            DOMAIN_NAME,
            model.domain_name or "",
            "Domain the app answers at; empty: the load balancer's own DNS name.",
        )
    )
    has_domain = child.condition(HAS_DOMAIN, Not(Equals(domain, "")))
    scheme = If(HAS_CERTIFICATE, "https", "http")
    return If(
        has_domain,
        Sub(f"${{Scheme}}://${{{DOMAIN_NAME}}}", Scheme=scheme),
        Sub(f"${{Scheme}}://${{{balancer.title}.DNSName}}", Scheme=scheme),
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
        child, model, web, (vpc, public_subnets), protection
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
    return LoadBalancerOutputs(
        app_url=child.give("AppUrl", _app_url(child, model, balancer), "Where the app answers."),
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
    retention = child.log_retention(
        model.log_retention_days, "Days CloudWatch Logs keeps each process's output."
    )
    group = child.template.add_resource(
        retain(
            LogGroup(
                f"{process.logical}LogGroup",
                LogGroupName=log_group_name(child, model, process),
                RetentionInDays=retention,
            )
        )
    )
    justify_log_group(group)
    return child.give(
        f"{process.logical}LogGroupName", Ref(group), f"Where {process.name} writes stdout."
    )
