"""A NAT instance per NAT zone: the cheap egress path for non-production (`network.nat: instance`).

One t4g.nano in the zone's public subnet forwards the private subnets' HTTPS to the internet
and rewrites its source to the instance's Elastic IP. It costs a few dollars a month where a NAT
gateway costs over thirty, but it is a single machine: no automatic recovery, bandwidth of the
smallest burstable instance, and a replacement (a newer Amazon Linux image at a later deploy)
interrupts egress for a minute or two. Tasks stay in the private subnets either way.

Hardening: IMDSv2 only, encrypted root volume, no SSH key, standard CPU credits (throttled,
never billed for bursting), a security group that admits HTTPS from the private subnets only.
"""

from __future__ import annotations

from troposphere import Base64, Parameter, Ref, Tags, Template, ec2

from factorstack.model import AppModel
from factorstack.stacks.policy import justify_nat_instance
from factorstack.stacks.wiring import ChildStack, Handle

INSTANCE_TYPE = "t4g.nano"  # Graviton: the image below is arm64
IMAGE_PARAMETER = "NatImageId"
# AWS's public SSM parameter for the newest Amazon Linux 2023 arm64 image, resolved per deploy.
IMAGE_SSM_NAME = "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-arm64"
ROOT_DEVICE = "/dev/xvda"  # Amazon Linux 2023's root device name
ROOT_VOLUME_GB = 8  # the image's own root size: a smaller volume is refused at launch
HTTPS_PORT = 443
ANYWHERE = "0.0.0.0/0"
NFT_RULES_FILE = "/etc/factorstack-nat.nft"
UNIT = "factorstack-nat.service"


def nat_rules(vpc_cidr: str, private_subnets: tuple[str, ...]) -> str:
    """nftables rules: forward only the private subnets' HTTPS out of the VPC (and its replies),
    masquerading it as this instance."""
    private = ", ".join(private_subnets)
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


def user_data(vpc_cidr: str, private_subnets: tuple[str, ...]) -> str:
    """First-boot script: turn on forwarding, install nftables (retrying until the Elastic IP
    is attached and the package mirror answers), load the rules now and at every boot."""
    return "\n".join(
        [
            "#!/bin/bash",
            "set -euo pipefail",
            "cat > /etc/sysctl.d/90-factorstack-nat.conf <<'CONF'",
            "net.ipv4.ip_forward = 1",
            "net.ipv4.conf.all.send_redirects = 0",
            "CONF",
            "sysctl --system",
            "for attempt in $(seq 1 60); do",
            "  dnf install -y nftables && break",
            "  sleep 10",
            "done",
            f"cat > {NFT_RULES_FILE} <<'RULES'",
            nat_rules(vpc_cidr, private_subnets),
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
            "",
        ]
    )


def add_image_parameter(root: Template, model: AppModel) -> Handle | None:
    """The root's image parameter, when the environment has NAT instances: CloudFormation reads
    the image id from AWS's public SSM parameter at every deploy (a newer image replaces the
    instances)."""
    if not model.network.nat_instances:
        return None
    return Handle.of_root_parameter(
        root.add_parameter(
            Parameter(
                IMAGE_PARAMETER,
                Type="AWS::SSM::Parameter::Value<AWS::EC2::Image::Id>",
                Default=IMAGE_SSM_NAME,
                Description="Amazon Linux 2023 (arm64) for the NAT instances.",
            )
        )
    )


def take_image(child: ChildStack, image: Handle) -> Parameter:
    return child.take(image, "Image id of the NAT instances.", "AWS::EC2::Image::Id")


def add_security_group(template: Template, model: AppModel, vpc: ec2.VPC) -> ec2.SecurityGroup:
    """HTTPS in from each private subnet, HTTPS out to the internet: what the tasks may send."""
    private = model.network.private_subnets
    return template.add_resource(
        ec2.SecurityGroup(
            "NatInstanceSecurityGroup",
            GroupDescription=f"{model.app} {model.environment} NAT instances",
            VpcId=Ref(vpc),
            SecurityGroupIngress=[
                ec2.SecurityGroupRule(
                    IpProtocol="tcp",
                    FromPort=HTTPS_PORT,
                    ToPort=HTTPS_PORT,
                    CidrIp=cidr,
                    Description=f"HTTPS from private subnet {index + 1}",
                )
                for index, cidr in enumerate(private)
            ],
            SecurityGroupEgress=[
                ec2.SecurityGroupRule(
                    IpProtocol="tcp",
                    FromPort=HTTPS_PORT,
                    ToPort=HTTPS_PORT,
                    CidrIp=ANYWHERE,
                    Description="HTTPS to the internet",
                )
            ],
        )
    )


def add_nat_instance(
    template: Template,
    model: AppModel,
    zone: int,
    placement: tuple[ec2.Subnet, ec2.SecurityGroup, Parameter],
    attachment: ec2.VPCGatewayAttachment,
) -> ec2.Instance:
    """The zone's NAT instance and its Elastic IP; `placement` is (public subnet, security
    group, image parameter)."""
    subnet, group, image = placement
    name = f"NatInstance{zone}"
    instance = template.add_resource(
        ec2.Instance(
            name,
            InstanceType=INSTANCE_TYPE,
            ImageId=Ref(image),
            SubnetId=Ref(subnet),
            SecurityGroupIds=[Ref(group)],
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
            UserData=Base64(user_data(model.network.cidr, model.network.private_subnets)),
            Tags=Tags(Name=f"{model.app}-{model.environment}-nat-{zone}"),
        )
    )
    justify_nat_instance(instance)
    template.add_resource(
        ec2.EIP(
            f"{name}Address",
            Domain="vpc",
            InstanceId=Ref(instance),
            DependsOn=attachment.title,
        )
    )
    return instance
