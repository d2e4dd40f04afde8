"""A NAT instance per NAT zone: the cheap egress path for non-production (`network.nat: instance`).

One t4g.nano in the zone's public subnet forwards the private subnets' HTTPS to the internet
and rewrites its source to the instance's Elastic IP. It costs a few dollars a month where a NAT
gateway costs over thirty, but it is a single machine: no automatic recovery, bandwidth of the
smallest burstable instance. Tasks stay in the private subnets either way.

Replacement without an egress gap: the image id is pinned (deploy reads AWS's public SSM
parameter once, on the first create or when asked with --newest-nat-image, and passes the id as
a plain parameter), so a newer Amazon Linux image alone never replaces the instance. When it is
replaced (a pinned id or user data change), the new instance boots with its own public address,
installs what it needs, loads the NAT rules and only then signals CloudFormation (CreationPolicy):
CloudFormation creates a replacement before it points the routes and the Elastic IP at it, and
waits for the signal to call the replacement created, so the old instance carries the traffic
until the new one forwards it.

Hardening: IMDSv2 only, encrypted root volume, no SSH key, standard CPU credits (throttled,
never billed for bursting), a security group that admits HTTPS from the private subnets only.
"""

from __future__ import annotations

from troposphere import Base64, Parameter, Ref, Sub, Tags, Template, ec2
from troposphere.policies import CreationPolicy, ResourceSignal

from factorstack.model import AppModel
from factorstack.stacks.common import HTTPS_PORT, https_out_to_anywhere, justify
from factorstack.stacks.network_shape import (
    VPC_CIDR,
    NetworkShape,
    by_zone_count,
    subnet_name,
)
from factorstack.stacks.policy import justify_nat_instance
from factorstack.stacks.wiring import ENVIRONMENT_NAME, ChildStack, Handle

INSTANCE_TYPE = "t4g.nano"  # Graviton: the image below is arm64
IMAGE_PARAMETER = "NatImageId"
IMAGE_DESCRIPTION = "Image id of the NAT instances (empty where NAT is by gateway)."
PRIVATE_RANGES = "PrivateRanges"  # the user data's variable: the private subnets' ranges
# AWS's public SSM parameter for the newest Amazon Linux 2023 arm64 image: deploy reads it on
# the first create (or when asked) and passes the id; CloudFormation itself never resolves it.
IMAGE_SSM_NAME = "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-arm64"
# Root template Metadata key: {root parameter: public SSM parameter} whose value deploy reads
# once and then keeps (UsePreviousValue) until the user asks for the newest.
PINNED_FROM_SSM = "FactorstackPinnedFromSsm"
SIGNAL_TIMEOUT = "PT15M"  # boot, package install and rules take a few minutes at most
CFN_SIGNAL = "/opt/aws/bin/cfn-signal"  # from the aws-cfn-bootstrap package
BOOT_PACKAGES = "nftables aws-cfn-bootstrap"
ROOT_DEVICE = "/dev/xvda"  # Amazon Linux 2023's root device name
ROOT_VOLUME_GB = 8  # the image's own root size: a smaller volume is refused at launch
NFT_RULES_FILE = "/etc/factorstack-nat.nft"
UNIT = "factorstack-nat.service"


NAT_OWN_ADDRESS = (
    "a NAT instance sits in a public subnet and needs a public address; it boots with its own "
    "so that it can install its packages and signal CloudFormation before the Elastic IP moves "
    "to it, and the security group admits only HTTPS from the private subnets"
)


def nat_rules(vpc_cidr: str, private: str) -> str:
    """nftables rules: forward only the private subnets' HTTPS out of the VPC (and its replies),
    masquerading it as this instance. `private`: the subnets' ranges, comma-separated."""
    return "\n".join(
        [
            "table ip factorstack_nat {}",
            "flush table ip factorstack_nat",
            "table ip factorstack_nat {",
            f"  set private {{ type ipv4_addr; flags interval; elements = {{ {private} }} }}",
            "  chain forward {",
            "    type filter hook forward priority filter; policy drop;",
            "    ct state established,related accept",
            f"    ip saddr @private ip daddr != {vpc_cidr} tcp dport {HTTPS_PORT} accept",
            "  }",
            "  chain postrouting {",
            "    type nat hook postrouting priority srcnat; policy accept;",
            f"    ip saddr @private ip daddr != {vpc_cidr} masquerade",
            "  }",
            "}",
        ]
    )


def user_data(resource: str) -> str:
    """First-boot script, an Fn::Sub body (the VPC's range and PRIVATE_RANGES filled in by
    CloudFormation): turn on forwarding, install nftables and the
    CloudFormation helpers through the instance's own public address (a few retries while the
    network comes up), load the rules now and at every boot, check that they are loaded, then
    signal `resource` created. Any failure signals failure, so a broken replacement rolls back
    instead of taking the routes."""
    return "\n".join(
        [
            "#!/bin/bash",
            "set -Eeuo pipefail",
            # Stack names and regions hold no spaces or quotes: no quoting needed after Fn::Sub.
            f"signal() {{ {CFN_SIGNAL} --stack ${{AWS::StackName}} --resource {resource} "
            '--region ${AWS::Region} --exit-code "$1"; }',
            "trap 'signal 1 || true' ERR",
            "cat > /etc/sysctl.d/90-factorstack-nat.conf <<'CONF'",
            "net.ipv4.ip_forward = 1",
            "net.ipv4.conf.all.send_redirects = 0",
            "CONF",
            "sysctl --system",
            "for attempt in 1 2 3 4 5 6; do",
            f"  dnf install -y {BOOT_PACKAGES} && break",
            "  sleep 10",
            "done",
            f"rpm -q {BOOT_PACKAGES}",
            f"cat > {NFT_RULES_FILE} <<'RULES'",
            nat_rules(f"${{{VPC_CIDR}}}", f"${{{PRIVATE_RANGES}}}"),
            "RULES",
            f"cat > /etc/systemd/system/{UNIT} <<'SERVICE'",
            "[Unit]",
            "Description=NAT for the private subnets",
            "After=network-online.target",
            "Wants=network-online.target",
            "[Service]",
            "Type=oneshot",
            "RemainAfterExit=yes",
            f"ExecStart=/usr/sbin/nft -f {NFT_RULES_FILE}",
            "[Install]",
            "WantedBy=multi-user.target",
            "SERVICE",
            "systemctl daemon-reload",
            f"systemctl enable --now {UNIT}",
            'test "$(sysctl -n net.ipv4.ip_forward)" = 1',
            "nft list table ip factorstack_nat > /dev/null",
            "signal 0",
            "",
        ]
    )


def add_image_parameter(root: Template, model: AppModel) -> Handle | None:
    """The root's image parameter, when the environment has NAT instances: a plain image id
    with no default, which deploy fills from AWS's public SSM parameter (named in the root's
    PINNED_FROM_SSM metadata) on the first create and keeps afterwards, so an image AWS
    publishes later replaces nothing until the user asks for it."""
    if not model.network.nat_instances:
        return None
    metadata = dict(root.metadata or {})
    metadata[PINNED_FROM_SSM] = {
        **metadata.get(PINNED_FROM_SSM, {}),
        IMAGE_PARAMETER: IMAGE_SSM_NAME,
    }
    root.set_metadata(metadata)
    return Handle.of_root_parameter(
        root.add_parameter(
            Parameter(
                IMAGE_PARAMETER,
                Type="AWS::EC2::Image::Id",
                Description="Amazon Linux 2023 (arm64) for the NAT instances, pinned by deploy "
                f"from {IMAGE_SSM_NAME}.",
            )
        )
    )


def image_parameter(child: ChildStack, image: Handle | None) -> Parameter:
    """The child's image id, declared the same in every environment: a plain String (an
    AWS::EC2::Image::Id parameter refuses ""), wired from the root's pinned image where NAT
    is by instance and "" elsewhere. The root's parameter has the type, so CloudFormation
    still checks the id there."""
    if image is None:
        return child.setting(IMAGE_PARAMETER, "", IMAGE_DESCRIPTION)
    return child.take(image, IMAGE_DESCRIPTION, "String", name=IMAGE_PARAMETER)


def add_security_group(
    template: Template, app: str, vpc: ec2.VPC, shape: NetworkShape
) -> ec2.SecurityGroup:
    """HTTPS in from each private subnet, HTTPS out to the internet: what the tasks may send."""
    return template.add_resource(
        ec2.SecurityGroup(
            "NatInstanceSecurityGroup",
            Condition=shape.by_instance,
            GroupDescription=Sub(f"{app} ${{{ENVIRONMENT_NAME}}} NAT instances"),
            VpcId=Ref(vpc),
            # The whole list per zone count (not an item each with AWS::NoValue, which moto
            # 5.2.5's CloudFormation passes on as None).
            SecurityGroupIngress=by_zone_count(
                shape.zones,
                lambda zones: [_https_from_private(shape, zone) for zone in range(1, zones + 1)],
            ),
            SecurityGroupEgress=[https_out_to_anywhere("HTTPS to the internet")],
        )
    )


def _https_from_private(shape: NetworkShape, zone: int) -> ec2.SecurityGroupRule:
    return ec2.SecurityGroupRule(
        IpProtocol="tcp",
        FromPort=HTTPS_PORT,
        ToPort=HTTPS_PORT,
        CidrIp=shape.cidr("private", zone),
        Description=f"HTTPS from private subnet {zone}",
    )


def _private_ranges(shape: NetworkShape, zone: int) -> object:
    """The private subnets' ranges as the nftables set lists them, for the zones there are
    (at least `zone`: the instance of zone k exists only where zone k does)."""

    def ranges(zones: int) -> Sub:
        names = [
            f"${{{shape.cidrs[subnet_name('private', z)].title}}}" for z in range(1, zones + 1)
        ]
        return Sub(", ".join(names))

    return by_zone_count(shape.zones, ranges, fewest=zone)


def add_nat_instance(
    template: Template,
    shape: NetworkShape,
    zone: int,
    placement: tuple[ec2.Subnet, ec2.SecurityGroup, Parameter],
    edge: tuple[str, ec2.VPCGatewayAttachment],
) -> ec2.Instance:
    """The zone's NAT instance and its Elastic IP, where this NAT is an instance; `placement`
    is (public subnet, security group, image parameter), `edge` (app, gateway attachment)."""
    subnet, group, image = placement
    app, attachment = edge
    name = f"NatInstance{zone}"
    condition = shape.instances[zone - 1]
    instance = template.add_resource(
        ec2.Instance(
            name,
            Condition=condition,
            InstanceType=INSTANCE_TYPE,
            # A Sub, not a Ref: cfn-lint's W2506 wants a Ref'd image parameter to be typed
            # AWS::EC2::Image::Id (image_parameter says why this one is a String) and reports
            # it on the parameter, where no resource-level ignore reaches. Same value.
            ImageId=Sub(f"${{{image.title}}}"),
            # Its own public address until the Elastic IP arrives (a replacement gets the EIP
            # only after it signals, and it needs the internet to install and to signal).
            NetworkInterfaces=[
                ec2.NetworkInterfaceProperty(
                    DeviceIndex="0",
                    SubnetId=Ref(subnet),
                    GroupSet=[Ref(group)],
                    AssociatePublicIpAddress=True,
                    DeleteOnTermination=True,
                )
            ],
            SourceDestCheck=False,  # it forwards packets that are neither from nor to itself
            CreditSpecification=ec2.CreditSpecification(CPUCredits="standard"),
            MetadataOptions=ec2.MetadataOptions(
                HttpEndpoint="enabled", HttpTokens="required", HttpPutResponseHopLimit=1
            ),
            BlockDeviceMappings=[
                ec2.BlockDeviceMapping(
                    DeviceName=ROOT_DEVICE,
                    Ebs=ec2.EbsBlockDevice(
                        VolumeType="gp3",
                        VolumeSize=ROOT_VOLUME_GB,
                        Encrypted=True,
                        DeleteOnTermination=True,
                    ),
                )
            ],
            UserData=Base64(Sub(user_data(name), **{PRIVATE_RANGES: _private_ranges(shape, zone)})),
            Tags=Tags(Name=Sub(f"{app}-${{{ENVIRONMENT_NAME}}}-nat-{zone}")),
            CreationPolicy=CreationPolicy(
                ResourceSignal=ResourceSignal(Count=1, Timeout=SIGNAL_TIMEOUT)
            ),
        )
    )
    justify_nat_instance(instance)
    justify(instance, checkov={"CKV_AWS_88": NAT_OWN_ADDRESS})
    template.add_resource(
        ec2.EIP(
            f"{name}Address",
            Condition=condition,
            Domain="vpc",
            InstanceId=Ref(instance),
            DependsOn=attachment.title,
        )
    )
    return instance
