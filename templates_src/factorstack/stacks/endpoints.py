"""Endpoints stack (when the environment asks for it): VPC interface endpoints for the AWS APIs a
task needs to start and run, in the private subnets with private DNS, so that pulling an image,
reading secrets and parameters and writing logs never crosses the NAT gateway.

ECR's image layers come from S3, which the network stack's gateway endpoint already serves. Only
the tasks' security group may reach the endpoints, on 443.
"""

from __future__ import annotations

from troposphere import Ref, Split, Sub, ec2

from factorstack.model import AppModel
from factorstack.stacks.cluster import ClusterOutputs
from factorstack.stacks.common import HTTPS_PORT, match_nothing_egress
from factorstack.stacks.network import NetworkOutputs
from factorstack.stacks.wiring import Built, ChildStack

# Logical id stem → the service's name after com.amazonaws.REGION.
INTERFACE_ENDPOINTS = {
    "EcrApi": "ecr.api",  # image manifests and auth tokens
    "EcrDkr": "ecr.dkr",  # the Docker registry API
    "Logs": "logs",  # the awslogs driver
    "SecretsManager": "secretsmanager",  # secrets ECS injects
    "Ssm": "ssm",  # parameters ECS injects
}


def build_endpoints(
    model: AppModel, *, network: NetworkOutputs, cluster: ClusterOutputs
) -> Built[None]:
    """One interface endpoint per service above, reachable from the tasks only."""
    child = ChildStack(
        "EndpointsStack",
        "endpoints.json",
        f"{model.app}: VPC interface endpoints for ECR, Logs, Secrets Manager, SSM",
        environment=model.environment,
    )
    template = child.template
    vpc = Ref(child.take(network.vpc_id, "VPC of the app.", "AWS::EC2::VPC::Id"))
    subnets = Ref(child.take(network.private_subnet_ids, "Comma-separated task subnets."))
    tasks = Ref(
        child.take(
            cluster.service_security_group_id,
            "Task security group.",
            "AWS::EC2::SecurityGroup::Id",
        )
    )
    child.environment_name()
    group = template.add_resource(
        ec2.SecurityGroup(
            "EndpointSecurityGroup",
            # Same resolved text as before: a changed GroupDescription replaces the group.
            GroupDescription=Sub(f"{model.app} ${{EnvironmentName}} interface endpoints"),
            VpcId=vpc,
            SecurityGroupIngress=[
                ec2.SecurityGroupRule(
                    IpProtocol="tcp",
                    FromPort=HTTPS_PORT,
                    ToPort=HTTPS_PORT,
                    SourceSecurityGroupId=tasks,
                    Description="HTTPS from the tasks only",
                )
            ],
            # Endpoints answer; they never open a connection of their own.
            SecurityGroupEgress=[match_nothing_egress("No traffic out")],
        )
    )
    for stem, service in INTERFACE_ENDPOINTS.items():
        template.add_resource(
            ec2.VPCEndpoint(
                f"{stem}Endpoint",
                VpcId=vpc,
                ServiceName=Sub(f"com.amazonaws.${{AWS::Region}}.{service}"),
                VpcEndpointType="Interface",
                PrivateDnsEnabled=True,
                SubnetIds=Split(",", subnets),
                SecurityGroupIds=[Ref(group)],
            )
        )
    return child.built(None)
