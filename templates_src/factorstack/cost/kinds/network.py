"""What the network bills by the hour: NAT gateways, public IPv4 addresses, load balancers and
interface endpoints (gateway endpoints are free)."""

from __future__ import annotations

from collections.abc import Sequence

from factorstack.cost.kinds.registry import billed
from factorstack.cost.tree import Found, Tree, literal
from factorstack.cost.usage import Assumptions, Usage


@billed("AWS::EC2::NatGateway")
def nat_gateway(found: Found, tree: Tree, assumptions: Assumptions) -> list[Usage]:
    hours = assumptions.hours_per_month
    return [Usage(found.logical, "NAT gateway", "NAT gateway-hours", "nat.hour", hours, "hour")]


@billed("AWS::EC2::EIP")
def elastic_ip(found: Found, tree: Tree, assumptions: Assumptions) -> list[Usage]:
    """A public IPv4 address is billed by the hour whether it is attached or idle."""
    hours = assumptions.hours_per_month
    item = "public IPv4 address-hours"
    return [Usage(found.logical, "Elastic IP", item, "ipv4.hour", hours, "address-hour")]


@billed("AWS::ElasticLoadBalancingV2::LoadBalancer")
def load_balancer(found: Found, tree: Tree, assumptions: Assumptions) -> list[Usage]:
    """An Application Load Balancer's hours, and when internet-facing one public IPv4 address
    per zone it spans. LCUs follow traffic and are left out (see the assumptions)."""
    if literal(found.properties.get("Type"), "application") != "application":
        return []
    hours = assumptions.hours_per_month
    lines = [
        Usage(found.logical, "load balancer", "ALB-hours", "alb.hour", hours, "hour"),
    ]
    if literal(found.properties.get("Scheme"), "internet-facing") == "internet-facing":
        zones = tree.public_subnets()
        lines.append(
            Usage(
                found.logical,
                "load balancer",
                f"public IPv4 address-hours ({zones} zones)",
                "ipv4.hour",
                hours * zones,
                "address-hour",
                facts=(("zones", str(zones)),),
            )
        )
    return lines


@billed("AWS::EC2::VPCEndpoint")
def interface_endpoint(found: Found, tree: Tree, assumptions: Assumptions) -> list[Usage]:
    """An interface endpoint bills per zone (one per subnet) and hour; data is traffic."""
    if literal(found.properties.get("VpcEndpointType"), "Gateway") != "Interface":
        return []
    subnets = found.properties.get("SubnetIds")
    zones = len(subnets) if isinstance(subnets, Sequence) else tree.public_subnets()
    return [
        Usage(
            found.logical,
            "interface endpoint",
            f"endpoint-hours ({zones} zones)",
            "vpce.interface_hour",
            assumptions.hours_per_month * zones,
            "endpoint-hour",
            facts=(("zones", str(zones)),),
        )
    ]
