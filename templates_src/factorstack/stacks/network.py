"""Network stack: a VPC with public, private (egress through NAT) and isolated subnets per zone.

Public subnets hold the load balancer, private ones the tasks, isolated ones the data tier,
which has no route out of the VPC at all. The private subnets reach S3 through a gateway
endpoint, so image layers pulled from ECR (stored in S3) skip the NAT. NAT is a managed NAT
gateway per NAT zone, or with `network.nat: instance` a small NAT instance (nat_instance.py).

The template is the same text in every environment: it holds three zones, three NAT gateways
and three NAT instances, and the conditions of network_shape.py keep what an environment's
settings (passed by the root) do not ask for out of its stack.
"""

from __future__ import annotations

from dataclasses import dataclass

from awacs import logs
from awacs.aws import Allow, Condition, PolicyDocument, Principal, Statement, StringEquals
from awacs.sts import AssumeRole
from troposphere import (
    AWSObject,
    GetAtt,
    GetAZs,
    If,
    Join,
    Ref,
    Select,
    Sub,
    Tags,
    Template,
    ec2,
    iam,
)
from troposphere.logs import LogGroup

from factorstack.model import AppModel
from factorstack.stacks.common import STACK_SUFFIX, arn, retain, stack_suffix, unique_name
from factorstack.stacks.nat_instance import add_nat_instance, add_security_group, image_parameter
from factorstack.stacks.network_shape import (
    MAX_ZONES,
    NO_VALUE,
    NetworkShape,
    by_zone_count,
    declare_shape,
    subnet_name,
)
from factorstack.stacks.policy import justify_log_group
from factorstack.stacks.wiring import ENVIRONMENT_NAME, Built, ChildStack, Handle

FLOW_LOGS_GROUP = "FlowLogsLogGroup"
ZONES = range(1, MAX_ZONES + 1)


@dataclass(frozen=True)
class NetworkOutputs:
    vpc_id: Handle
    public_subnet_ids: Handle  # comma-separated, like every subnet list below
    private_subnet_ids: Handle
    isolated_subnet_ids: Handle


def _zone(index: int) -> Select:
    return Select(index, GetAZs(""))


def _guarded(resource: AWSObject, condition: str | None) -> AWSObject:
    """`resource`, created only where `condition` holds (always when None)."""
    if condition is not None:
        resource.Condition = condition
    return resource


def _subnet(
    template: Template, shape: NetworkShape, tier: str, zone: int, vpc: ec2.VPC
) -> ec2.Subnet:
    """One subnet of a tier ("public", "private" or "isolated") in the zone-th zone (from 1)."""
    name = subnet_name(tier, zone)
    return template.add_resource(
        _guarded(
            ec2.Subnet(
                name,
                VpcId=Ref(vpc),
                CidrBlock=shape.cidr(tier, zone),
                AvailabilityZone=_zone(zone - 1),
                MapPublicIpOnLaunch=False,
                Tags=Tags(Name=name, Tier=tier),
            ),
            shape.zones[zone - 1],
        )
    )


def _associate(
    template: Template, shape: NetworkShape, zone: int, subnet: ec2.Subnet, table: ec2.RouteTable
) -> None:
    template.add_resource(
        _guarded(
            ec2.SubnetRouteTableAssociation(
                f"{subnet.title}Routes", SubnetId=Ref(subnet), RouteTableId=Ref(table)
            ),
            shape.zones[zone - 1],
        )
    )


def _flow_logs(child: ChildStack, model: AppModel, vpc: ec2.VPC) -> None:
    template = child.template
    prefix = f"/{model.app}/${{{ENVIRONMENT_NAME}}}/vpc-flow-logs-"
    retention = child.log_retention(model.log_retention_days, "Days the VPC flow logs are kept.")
    group = template.add_resource(
        retain(
            LogGroup(
                FLOW_LOGS_GROUP,
                LogGroupName=unique_name(prefix),
                RetentionInDays=retention,
            )
        )
    )
    justify_log_group(group)
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


def _s3_endpoint(
    template: Template,
    shape: NetworkShape,
    vpc: ec2.VPC,
    route_tables: list[ec2.RouteTable],
) -> None:
    """A route to S3 in each private route table: no NAT charge, no NAT bandwidth, for ECR's
    image layers and the app's own buckets in the region. No endpoint policy: a restrictive one
    would also bind the app's own S3 traffic, which takes this route too."""
    template.add_resource(
        ec2.VPCEndpoint(
            "S3GatewayEndpoint",
            VpcId=Ref(vpc),
            ServiceName=Sub("com.amazonaws.${AWS::Region}.s3"),
            VpcEndpointType="Gateway",
            # one list per zone count, like every conditional list here: moto 5.2.5's
            # CloudFormation keeps an AWS::NoValue list item as None
            RouteTableIds=by_zone_count(
                shape.zones, lambda zones: [Ref(table) for table in route_tables[:zones]]
            ),
        )
    )


def _nat_gateway(
    template: Template,
    shape: NetworkShape,
    zone: int,
    placement: tuple[ec2.Subnet, ec2.VPCGatewayAttachment],
) -> ec2.NatGateway:
    """The zone's NAT gateway and its Elastic IP, where this NAT is a gateway."""
    subnet, attachment = placement
    condition = shape.gateways[zone - 1]
    address = template.add_resource(
        ec2.EIP(f"Nat{zone}Address", Condition=condition, Domain="vpc", DependsOn=attachment.title)
    )
    return template.add_resource(
        ec2.NatGateway(
            f"Nat{zone}",
            Condition=condition,
            AllocationId=GetAtt(address, "AllocationId"),
            SubnetId=Ref(subnet),
        )
    )


def _nat_for_zone(zone: int, nats: list[AWSObject], shape: NetworkShape) -> object:
    """The NAT a private zone routes through: with k NATs, zone z uses NAT ((z - 1) mod k) + 1,
    its own when there is one per zone, else one of the first. As an Fn::If per NAT count that
    changes the answer (shape.nats[k - 1]: at least k NATs)."""
    index = 0  # one NAT: the first
    choice: object = Ref(nats[index])
    for count in range(2, MAX_ZONES + 1):
        chosen = (zone - 1) % count
        condition = shape.nats[count - 1]
        if chosen != index and condition is not None:
            choice = If(condition, Ref(nats[chosen]), choice)
        index = chosen
    return choice


def _nat_routes(
    child: ChildStack,
    model: AppModel,
    shape: NetworkShape,
    edge: tuple[ec2.VPC, ec2.VPCGatewayAttachment, list[ec2.Subnet], Handle | None],
) -> dict[int, dict[str, object]]:
    """Every NAT the template can hold, gateways and instances each under its condition, and
    per private zone its default route's target: {property: value}. `edge` is (VPC, internet
    gateway attachment, public subnets, the root's NAT image when NAT is by instance)."""
    template = child.template
    vpc, attachment, public, nat_image = edge
    if model.network.nat_instances and nat_image is None:
        raise ValueError("NAT instances need the root's image parameter (add_image_parameter)")
    gateways = [_nat_gateway(template, shape, z, (public[z - 1], attachment)) for z in ZONES]
    image = image_parameter(child, nat_image)
    group = add_security_group(template, model.app, vpc, shape)
    instances = [
        add_nat_instance(template, shape, z, (public[z - 1], group, image), (model.app, attachment))
        for z in ZONES
    ]
    by_instance = shape.by_instance
    return {
        zone: {
            "NatGatewayId": If(by_instance, NO_VALUE, _nat_for_zone(zone, gateways, shape)),
            "InstanceId": If(by_instance, _nat_for_zone(zone, instances, shape), NO_VALUE),
        }
        for zone in ZONES
    }


def _private_zone(
    template: Template,
    shape: NetworkShape,
    zone: int,
    placement: tuple[ec2.VPC, dict[str, object]],
) -> tuple[ec2.Subnet, ec2.RouteTable]:
    """The zone's private subnet with its own route table, whose default route leads to the
    zone's NAT; `placement` is (VPC, that route's target)."""
    vpc, target = placement
    condition = shape.zones[zone - 1]
    subnet = _subnet(template, shape, "private", zone, vpc)
    routes = template.add_resource(
        _guarded(ec2.RouteTable(f"Private{zone}RouteTable", VpcId=Ref(vpc)), condition)
    )
    route = _guarded(
        ec2.Route(
            f"Private{zone}DefaultRoute",
            RouteTableId=Ref(routes),
            DestinationCidrBlock="0.0.0.0/0",
            **target,
        ),
        condition,
    )
    # troposphere counts both targets; each environment resolves exactly one (E9011 checks).
    template.add_resource(route.no_validation())
    _associate(template, shape, zone, subnet, routes)
    return subnet, routes


def build_network(model: AppModel, nat_image: Handle | None = None) -> Built[NetworkOutputs]:
    """Model in, network stack out; its outputs are the ids other stacks need. `nat_image`:
    the root's image parameter (nat_instance.add_image_parameter), when NAT is by instance.
    The template is the same in every environment: the root passes the sizes and ranges."""
    child = ChildStack(
        "NetworkStack",
        "network.json",
        f"{model.app}: VPC, subnets, NAT, flow logs",
        environment=model.environment,
    )
    child.environment_name()
    shape = declare_shape(child, model.network)
    template = child.template
    vpc = template.add_resource(
        ec2.VPC(
            "Vpc",
            CidrBlock=Ref(shape.vpc_cidr),
            EnableDnsHostnames=True,
            EnableDnsSupport=True,
            Tags=Tags(Name=Sub(f"{model.app}-${{{ENVIRONMENT_NAME}}}")),
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

    public = [_subnet(template, shape, "public", zone, vpc) for zone in ZONES]
    for zone, subnet in zip(ZONES, public, strict=True):
        _associate(template, shape, zone, subnet, public_routes)
    targets = _nat_routes(child, model, shape, (vpc, attachment, public, nat_image))
    private, isolated, private_routes = [], [], []
    for zone in ZONES:
        subnet, routes = _private_zone(template, shape, zone, (vpc, targets[zone]))
        private.append(subnet)
        private_routes.append(routes)
        data_subnet = _subnet(template, shape, "isolated", zone, vpc)
        isolated.append(data_subnet)
        _associate(template, shape, zone, data_subnet, isolated_routes)
    _s3_endpoint(template, shape, vpc, private_routes)
    _flow_logs(child, model, vpc)

    def subnet_ids(name: str, subnets: list[ec2.Subnet], use: str) -> Handle:
        joined = by_zone_count(
            shape.zones, lambda zones: Join(",", [Ref(s) for s in subnets[:zones]])
        )
        return child.give(name, joined, f"Subnets for the {use}.")

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
