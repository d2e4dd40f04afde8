"""EC2 instances (a NAT instance): instance-hours by type, and the EBS volumes their block
device mappings create, by the GB-month. Their public IPv4 address is the Elastic IP's line.

A root volume without a stated size takes its image's size, which a template does not say: it is
left out rather than guessed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from factorstack.cost.kinds.registry import billed
from factorstack.cost.tree import Found, Tree, as_int, literal
from factorstack.cost.usage import Assumptions, Usage

DEFAULT_INSTANCE_TYPE = "m1.small"  # EC2's default when InstanceType is not given
DEFAULT_VOLUME_TYPE = "gp2"  # EBS's default for a mapping that names no VolumeType


@billed("AWS::EC2::Instance")
def instance(found: Found, tree: Tree, assumptions: Assumptions) -> list[Usage]:
    size = str(literal(found.properties.get("InstanceType"), DEFAULT_INSTANCE_TYPE))
    facts = (("instance type", size),)
    lines = [
        Usage(
            found.logical,
            "EC2 instance",
            f"{size} instance-hours (Linux, on-demand)",
            f"ec2.instance:{size}",
            assumptions.hours_per_month,
            "instance-hour",
            facts=facts,
        )
    ]
    for volume_type, size_gb in _volumes(found.properties.get("BlockDeviceMappings")):
        lines.append(
            Usage(
                found.logical,
                "EC2 instance",
                f"EBS {volume_type} volume ({size_gb} GB)",
                f"ebs.{volume_type}.gb_month",
                size_gb,
                "GB-month",
                facts=facts,
            )
        )
    return lines


def _volumes(mappings: object) -> list[tuple[str, int]]:
    """(volume type, GB) of each EBS mapping that states its size."""
    if not isinstance(mappings, Sequence) or isinstance(mappings, str):
        return []
    found = []
    for mapping in mappings:
        ebs = mapping.get("Ebs") if isinstance(mapping, Mapping) else None
        if isinstance(ebs, Mapping) and as_int(ebs.get("VolumeSize"), 0) > 0:
            volume_type = str(literal(ebs.get("VolumeType"), DEFAULT_VOLUME_TYPE))
            found.append((volume_type, as_int(ebs.get("VolumeSize"), 0)))
    return found
