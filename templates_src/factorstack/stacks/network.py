"""Network stack: a VPC with public, private (egress through NAT) and isolated subnets per zone.

Public subnets hold the load balancer, private ones the tasks, isolated ones the data tier,
which has no route out of the VPC at all. The private subnets reach S3 through a gateway
endpoint, so image layers pulled from ECR (stored in S3) skip the NAT. NAT is a managed NAT
gateway per NAT zone, or with `network.nat: instance` a small NAT instance (nat_instance.py).
"""

from __future__ import annotations

from dataclasses import dataclass

from awacs import logs
from awacs.aws import Allow, Condition, PolicyDocument, Principal, Statement, StringEquals
from awacs.sts import AssumeRole
from troposphere import GetAtt, GetAZs, Join, Ref, Select, Sub, Tags, Template, ec2, iam
from troposphere.logs import LogGroup

from factorstack.model import AppModel
from factorstack.stacks.common import STACK_SUFFIX, arn, retain, stack_suffix, unique_name
from factorstack.stacks.nat_instance import add_nat_instance, add_security_group, take_image
from factorstack.stacks.policy import justify_log_group
from factorstack.stacks.wiring import Built, ChildStack, Handle

FLOW_LOGS_GROUP = "FlowLogsLogGroup"


@dataclass(frozen=True)
class NetworkOutputs:
    vpc_id: Handle
    public_subnet_ids: Handle  # comma-separated, like every subnet list below
    private_subnet_ids: Handle
    isolated_subnet_ids: Handle


def _zone(index: int) -> Select:
    return Select(index, GetAZs(""))


def _subnet(template: Template, tier: str, zone: int, vpc: ec2.VPC, cidr: str) -> ec2.Subnet:
    """One subnet of a tier ("public", "private" or "isolated") in the zone-th zone (from 1)."""
    name = f"{tier.capitalize()}{zone}"
    return template.add_resource(
        ec2.Subnet(
            name,
            VpcId=Ref(vpc),
            CidrBlock=cidr,
            AvailabilityZone=_zone(zone - 1),
            MapPublicIpOnLaunch=False,
            Tags=Tags(Name=name, Tier=tier),
        )
    )


def _flow_logs(template: Template, model: AppModel, vpc: ec2.VPC) -> None:
    prefix = f"/{model.app}/{model.environment}/vpc-flow-logs-"
    group = template.add_resource(
        retain(
            LogGroup(
                FLOW_LOGS_GROUP,
                LogGroupName=unique_name(prefix),
                RetentionInDays=model.log_retention_days,
            )
        )
    )
    justify_log_group(group, model.log_retention_days)
    name = f"{prefix}${{{STACK_SUFFIX}}}"
    suffix = {STACK_SUFFIX: stack_suffix()}
    group_arn = arn("logs", f"log-group:{name}:*", **suffix)
    streams_arn = arn("logs", f"log-group:{name}:log-stream:*", **suffix)
    role = template.add_resource(
        iam.Role(
            "FlowLogsRole",
            AssumeRolePolicyDocument=PolicyDocument(
                Statement=[
                    Statement(
                        Effect=Allow,
                        Principal=Principal("Service", "vpc-flow-logs.amazonaws.com"),
                        Action=[AssumeRole],
                        # Only on behalf of this account (no confused deputy).
                        Condition=Condition(
                            StringEquals({"aws:SourceAccount": Ref("AWS::AccountId")})
                        ),
                    )
                ]
            ),
            Policies=[
                iam.Policy(
                    PolicyName="write-flow-logs",
                    PolicyDocument=PolicyDocument(
                        Statement=[
                            Statement(
                                Effect=Allow,
                                Action=[logs.CreateLogStream, logs.PutLogEvents],
                                Resource=[streams_arn],
                            ),
                            Statement(
                                Effect=Allow,
                                Action=[logs.DescribeLogStreams],
                                Resource=[group_arn],
                            ),
                        ]
                    ),
                )
            ],
        )
    )
    template.add_resource(
        ec2.FlowLog(
            "FlowLog",
            ResourceId=Ref(vpc),
            ResourceType="VPC",
            TrafficType="ALL",
            LogDestinationType="cloud-watch-logs",
            LogGroupName=Ref(group),
            DeliverLogsPermissionArn=GetAtt(role, "Arn"),
        )
    )


def _s3_endpoint(template: Template, vpc: ec2.VPC, route_tables: list[ec2.RouteTable]) -> None:
    """A route to S3 in each private route table: no NAT charge, no NAT bandwidth, for ECR's
    image layers and the app's own buckets in the region. No endpoint policy: a restrictive one
    would also bind the app's own S3 traffic, which takes this route too."""
    template.add_resource(
        ec2.VPCEndpoint(
            "S3GatewayEndpoint",
            VpcId=Ref(vpc),
            ServiceName=Sub("com.amazonaws.${AWS::Region}.s3"),
            VpcEndpointType="Gateway",
            RouteTableIds=[Ref(table) for table in route_tables],
        )
    )


def _nat_gateway(
    template: Template, zone: int, subnet: ec2.Subnet, attachment: ec2.VPCGatewayAttachment
) -> ec2.NatGateway:
    address = template.add_resource(
        ec2.EIP(f"Nat{zone}Address", Domain="vpc", DependsOn=attachment.title)
    )
    return template.add_resource(
        ec2.NatGateway(
            f"Nat{zone}", AllocationId=GetAtt(address, "AllocationId"), SubnetId=Ref(subnet)
        )
    )


def _nat_routes(
    child: ChildStack,
    model: AppModel,
    public: list[ec2.Subnet],
    edge: tuple[ec2.VPC, ec2.VPCGatewayAttachment, Handle | None],
) -> list[dict[str, Ref]]:
    """One NAT per NAT zone, as the target of a default route: {property: Ref}. `edge` is
    (VPC, internet gateway attachment, the root's NAT image when NAT is by instance)."""
    template = child.template
    vpc, attachment, nat_image = edge
    zones = range(1, model.network.nat_gateways + 1)
    if not model.network.nat_instances:
        gateways = [_nat_gateway(template, z, public[z - 1], attachment) for z in zones]
        return [{"NatGatewayId": Ref(gateway)} for gateway in gateways]
    if nat_image is None:
        raise ValueError("NAT instances need the root's image parameter (add_image_parameter)")
    image = take_image(child, nat_image)
    group = add_security_group(template, model, vpc)
    instances = [
        add_nat_instance(template, model, z, (public[z - 1], group, image), attachment)
        for z in zones
    ]
    return [{"InstanceId": Ref(instance)} for instance in instances]


def build_network(model: AppModel, nat_image: Handle | None = None) -> Built[NetworkOutputs]:
    """Model in, network stack out; its outputs are the ids other stacks need. `nat_image`:
    the root's image parameter (nat_instance.add_image_parameter), when NAT is by instance."""
    net = model.network
    child = ChildStack(
        "NetworkStack",
        "network.json",
        f"{model.app} {model.environment}: VPC, subnets, NAT, flow logs",
    )
    template = child.template
    vpc = template.add_resource(
        ec2.VPC(
            "Vpc",
            CidrBlock=net.cidr,
            EnableDnsHostnames=True,
            EnableDnsSupport=True,
            Tags=Tags(Name=f"{model.app}-{model.environment}"),
        )
    )
    gateway = template.add_resource(ec2.InternetGateway("InternetGateway"))
    attachment = template.add_resource(
        ec2.VPCGatewayAttachment(
            "InternetGatewayAttachment", VpcId=Ref(vpc), InternetGatewayId=Ref(gateway)
        )
    )
    public_routes = template.add_resource(ec2.RouteTable("PublicRouteTable", VpcId=Ref(vpc)))
    template.add_resource(
        ec2.Route(
            "PublicDefaultRoute",
            DependsOn=attachment.title,
            RouteTableId=Ref(public_routes),
            DestinationCidrBlock="0.0.0.0/0",
            GatewayId=Ref(gateway),
        )
    )
    isolated_routes = template.add_resource(ec2.RouteTable("IsolatedRouteTable", VpcId=Ref(vpc)))

    public, private, isolated, private_routes = [], [], [], []
    for index in range(net.availability_zones):
        zone = index + 1
        subnet = _subnet(template, "public", zone, vpc, net.public_subnets[index])
        public.append(subnet)
        template.add_resource(
            ec2.SubnetRouteTableAssociation(
                f"Public{zone}Routes", SubnetId=Ref(subnet), RouteTableId=Ref(public_routes)
            )
        )
    nats = _nat_routes(child, model, public, (vpc, attachment, nat_image))
    for index in range(net.availability_zones):
        zone = index + 1
        subnet = _subnet(template, "private", zone, vpc, net.private_subnets[index])
        private.append(subnet)
        routes = template.add_resource(ec2.RouteTable(f"Private{zone}RouteTable", VpcId=Ref(vpc)))
        private_routes.append(routes)
        template.add_resource(
            ec2.Route(
                f"Private{zone}DefaultRoute",
                RouteTableId=Ref(routes),
                DestinationCidrBlock="0.0.0.0/0",
                **nats[index % len(nats)],
            )
        )
        template.add_resource(
            ec2.SubnetRouteTableAssociation(
                f"Private{zone}Routes", SubnetId=Ref(subnet), RouteTableId=Ref(routes)
            )
        )
        data_subnet = _subnet(template, "isolated", zone, vpc, net.isolated_subnets[index])
        isolated.append(data_subnet)
        template.add_resource(
            ec2.SubnetRouteTableAssociation(
                f"Isolated{zone}Routes",
                SubnetId=Ref(data_subnet),
                RouteTableId=Ref(isolated_routes),
            )
        )
    _s3_endpoint(template, vpc, private_routes)
    _flow_logs(template, model, vpc)

    def subnet_ids(name: str, subnets: list[ec2.Subnet], use: str) -> Handle:
        return child.give(name, Join(",", [Ref(s) for s in subnets]), f"Subnets for the {use}.")

    return child.built(
        NetworkOutputs(
            vpc_id=child.give("VpcId", Ref(vpc), "The VPC every other stack lives in."),
            public_subnet_ids=subnet_ids("PublicSubnetIds", public, "load balancer"),
            private_subnet_ids=subnet_ids(
                "PrivateSubnetIds", private, "tasks (egress through NAT)"
            ),
            isolated_subnet_ids=subnet_ids(
                "IsolatedSubnetIds", isolated, "data tier (no route out)"
            ),
        )
    )
