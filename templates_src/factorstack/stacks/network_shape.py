"""What an environment decides about its network, as parameters and conditions of network.json.

network.json is one text for every environment (twelve-factor X): it holds every resource the
largest network the config allows would have, and the root passes the environment's choices.
A zone beyond the second, a NAT beyond the first and the kind of NAT (gateway or instance) are
conditions computed from those settings; every address range is a setting of its own, so each
subnet reads exactly the range config/resolve.py gave it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from troposphere import And, AWSHelperFn, Condition, Equals, If, Not, Or, Parameter, Ref

from factorstack.model import Network
from factorstack.stacks.wiring import ChildStack

MIN_ZONES = 2  # environments/ENV.yaml network.availability_zones: 2 or 3 (config/models.py)
MAX_ZONES = 3
TIERS = ("public", "private", "isolated")
VPC_CIDR = "VpcCidr"
NO_VALUE = Ref("AWS::NoValue")


@dataclass(frozen=True)
class NetworkShape:
    """The shared template's conditions (None: always there) and address-range parameters.

    `zones[z - 1]`: zone z exists. `nats[k - 1]`: there are at least k NATs (k NAT zones).
    `gateways` / `instances`: the k-th NAT exists and is a gateway / an instance."""

    zones: tuple[str | None, ...]
    nats: tuple[str | None, ...]
    by_instance: str
    gateways: tuple[str, ...]
    instances: tuple[str, ...]
    vpc_cidr: Parameter
    cidrs: dict[str, Parameter]  # subnet logical id ("Private2") → its range

    def cidr(self, tier: str, zone: int) -> Ref:
        return Ref(self.cidrs[subnet_name(tier, zone)])


def subnet_name(tier: str, zone: int) -> str:
    return f"{tier.capitalize()}{zone}"


def by_zone_count(
    zones: Sequence[str | None], make: Callable[[int], object], fewest: int = MIN_ZONES
) -> object:
    """`make(n)` for the environment's number of zones n: the value for `fewest` zones (the
    minimum, or more where the caller exists only with that many), wrapped in an Fn::If per
    further zone (zone z exists exactly when there are at least z)."""
    start = max(fewest, MIN_ZONES)
    value = make(start)
    for zone in range(start + 1, len(zones) + 1):
        condition = zones[zone - 1]
        if condition is not None:
            value = If(condition, make(zone), value)
    return value


def declare_shape(child: ChildStack, network: Network) -> NetworkShape:
    """The settings that size this environment's network and the conditions they decide."""
    # Counts as Strings with their allowed values, compared as text: CloudFormation's Ref of a
    # Number parameter is a string too, but moto 5.2.5 makes it a number that equals no "3".
    zone_count = child.setting(
        "AvailabilityZones",
        str(network.availability_zones),
        "Availability zones with a public, a private and an isolated subnet each.",
        AllowedValues=[str(n) for n in range(MIN_ZONES, MAX_ZONES + 1)],
    )
    nat_count = child.setting(
        "NatZones",
        str(network.nat_gateways),
        "NATs, one in each of the first zones; the other zones route through the first ones.",
        AllowedValues=[str(n) for n in range(1, MAX_ZONES + 1)],
    )
    zones = tuple(
        None
        if zone <= MIN_ZONES
        else child.condition(f"HasZone{zone}", _at_least(zone_count, zone))
        for zone in range(1, MAX_ZONES + 1)
    )
    nats = tuple(_nat_condition(child, nat, nat_count, zones) for nat in range(1, MAX_ZONES + 1))
    by_instance = child.flag(
        "NatInstances",
        network.nat_instances,
        "true: NAT instances (network.nat: instance); false: managed NAT gateways.",
    )
    by_gateway = child.condition("NatGateways", Not(Condition(by_instance)))
    return NetworkShape(
        zones=zones,
        nats=nats,
        by_instance=by_instance,
        gateways=_each_nat(child, "HasNatGateway", by_gateway, nats),
        instances=_each_nat(child, "HasNatInstance", by_instance, nats),
        vpc_cidr=child.setting(VPC_CIDR, network.cidr, "IPv4 range of the VPC."),
        cidrs=_subnet_ranges(child, network),
    )


def _at_least(count: Parameter, least: int) -> AWSHelperFn:
    """`count` is at least `least` (it is at most MAX_ZONES: its allowed values)."""
    equal = [Equals(Ref(count), str(n)) for n in range(least, MAX_ZONES + 1)]
    return equal[0] if len(equal) == 1 else Or(*equal)


def _nat_condition(
    child: ChildStack, nat: int, count: Parameter, zones: tuple[str | None, ...]
) -> str | None:
    """At least `nat` NATs. The k-th NAT sits in zone k, so its condition includes zone k's
    (config refuses more NATs than zones; the template says so too, for cfn-lint's sake)."""
    if nat == 1:
        return None
    enough = _at_least(count, nat)
    zone = zones[nat - 1]
    return child.condition(f"HasNat{nat}", enough if zone is None else And(Condition(zone), enough))


def _each_nat(
    child: ChildStack, prefix: str, kind: str, nats: tuple[str | None, ...]
) -> tuple[str, ...]:
    """Per NAT: `kind` holds and there are that many NATs."""
    return tuple(
        kind
        if condition is None
        else child.condition(f"{prefix}{nat}", And(Condition(kind), Condition(condition)))
        for nat, condition in enumerate(nats, start=1)
    )


def _subnet_ranges(child: ChildStack, network: Network) -> dict[str, Parameter]:
    """A range setting per subnet of every zone the template can hold; a zone the
    environment does not have gets "" (its subnets do not exist there)."""
    given = {
        "public": network.public_subnets,
        "private": network.private_subnets,
        "isolated": network.isolated_subnets,
    }
    ranges: dict[str, Parameter] = {}
    for tier in TIERS:
        for zone in range(1, MAX_ZONES + 1):
            name = subnet_name(tier, zone)
            subnets = given[tier]
            ranges[name] = child.setting(
                f"{name}Cidr",
                subnets[zone - 1] if zone <= len(subnets) else "",
                f"IPv4 range of subnet {name} (empty without zone {zone}).",
            )
    return ranges
