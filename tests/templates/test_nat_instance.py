"""`network.nat: instance`: a hardened t4g.nano per NAT zone instead of a NAT gateway, its
Elastic IP, its security group and the private routes through it; the gateway path unchanged."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import pytest

from factorstack.stacks.nat_instance import IMAGE_SSM_NAME, PINNED_FROM_SSM
from tests.support.sample import REPO, copy_sample, edit_yaml
from tests.support.templates import resources_of_type, templates_of

DEV_PRIVATE_SUBNETS = ["10.10.64.0/20", "10.10.80.0/20"]  # the VPC's 16ths 4 and 5


@pytest.fixture(scope="module")
def dev() -> dict[str, dict[str, Any]]:
    return templates_of(REPO, "dev")


def test_dev_egress_is_one_hardened_nat_instance(dev: dict[str, dict[str, Any]]) -> None:
    network = dev["network.json"]
    assert not resources_of_type(network, "AWS::EC2::NatGateway")
    assert list(resources_of_type(network, "AWS::EC2::Instance")) == ["NatInstance1"]
    nat = network["Resources"]["NatInstance1"]["Properties"]
    assert nat["InstanceType"] == "t4g.nano"
    assert nat["ImageId"] == {"Fn::Sub": "${NatImageId}"}  # the root's pinned id
    [interface] = nat["NetworkInterfaces"]
    assert interface["DeviceIndex"] == "0"
    assert interface["SubnetId"] == {"Ref": "Public1"}
    assert interface["GroupSet"] == [{"Ref": "NatInstanceSecurityGroup"}]
    # its own way out before the Elastic IP moves to it (a replacement signals first)
    assert interface["AssociatePublicIpAddress"] is True
    assert "SubnetId" not in nat and "SecurityGroupIds" not in nat  # the interface holds them
    assert nat["SourceDestCheck"] is False
    assert nat["MetadataOptions"]["HttpTokens"] == "required"
    assert nat["CreditSpecification"] == {"CPUCredits": "standard"}
    assert "KeyName" not in nat and "IamInstanceProfile" not in nat
    [root_volume] = nat["BlockDeviceMappings"]
    assert root_volume["DeviceName"] == "/dev/xvda"
    assert root_volume["Ebs"] == {
        "DeleteOnTermination": True,
        "Encrypted": True,
        "VolumeSize": 8,
        "VolumeType": "gp3",
    }
    address = network["Resources"]["NatInstance1Address"]
    assert address["Properties"] == {"Domain": "vpc", "InstanceId": {"Ref": "NatInstance1"}}
    assert address["DependsOn"] == "InternetGatewayAttachment"


def test_both_private_zones_route_through_the_instance(dev: dict[str, dict[str, Any]]) -> None:
    routes = resources_of_type(dev["network.json"], "AWS::EC2::Route")
    for zone in (1, 2):
        route = routes[f"Private{zone}DefaultRoute"]["Properties"]
        assert route["DestinationCidrBlock"] == "0.0.0.0/0"
        assert route["InstanceId"] == {"Ref": "NatInstance1"}
        assert "NatGatewayId" not in route


def test_the_instance_admits_only_the_private_subnets_https(
    dev: dict[str, dict[str, Any]],
) -> None:
    group = dev["network.json"]["Resources"]["NatInstanceSecurityGroup"]["Properties"]
    ingress = group["SecurityGroupIngress"]
    assert [rule["CidrIp"] for rule in ingress] == DEV_PRIVATE_SUBNETS
    assert {(r["IpProtocol"], r["FromPort"], r["ToPort"]) for r in ingress} == {("tcp", 443, 443)}
    [egress] = group["SecurityGroupEgress"]
    assert (egress["CidrIp"], egress["FromPort"], egress["ToPort"]) == ("0.0.0.0/0", 443, 443)


def test_user_data_forwards_and_masquerades_the_private_subnets(
    dev: dict[str, dict[str, Any]],
) -> None:
    encoded = dev["network.json"]["Resources"]["NatInstance1"]["Properties"]["UserData"]
    script = encoded["Fn::Base64"]["Fn::Sub"]
    assert script.startswith("#!/bin/bash\nset -Eeuo pipefail\n")
    assert "net.ipv4.ip_forward = 1" in script
    private = ", ".join(DEV_PRIVATE_SUBNETS)
    assert f"elements = {{ {private} }}" in script
    assert "ip saddr @private ip daddr != 10.10.0.0/16 masquerade" in script
    assert "policy drop;" in script  # forwards nothing else
    assert "systemctl enable --now factorstack-nat.service" in script
    base64.b64encode(script.encode())  # plain text, as Fn::Base64 wants


def test_the_instance_takes_traffic_only_after_it_signals_that_nat_works(
    dev: dict[str, dict[str, Any]],
) -> None:
    nat = dev["network.json"]["Resources"]["NatInstance1"]
    assert nat["CreationPolicy"] == {"ResourceSignal": {"Count": 1, "Timeout": "PT15M"}}
    script = nat["Properties"]["UserData"]["Fn::Base64"]["Fn::Sub"]
    lines = script.splitlines()
    assert "--stack ${AWS::StackName} --resource NatInstance1 --region ${AWS::Region}" in script
    assert "trap 'signal 1 || true' ERR" in lines  # a failed boot fails the create at once
    assert any(line.startswith("  dnf install -y nftables aws-cfn-bootstrap") for line in lines)
    # success is signalled last, after the rules are loaded and checked
    assert lines[-1] == "signal 0"
    assert lines.index("nft list table ip factorstack_nat > /dev/null") < lines.index("signal 0")
    assert lines.index("systemctl enable --now factorstack-nat.service") < lines.index("signal 0")
    # the routes and the Elastic IP refer to the instance, so CloudFormation moves them only
    # once the (replacement) instance is complete, i.e. has signalled
    resources = dev["network.json"]["Resources"]
    assert resources["NatInstance1Address"]["Properties"]["InstanceId"] == {"Ref": "NatInstance1"}
    assert resources["Private1DefaultRoute"]["Properties"]["InstanceId"] == {"Ref": "NatInstance1"}
    # Fn::Sub substitutes only the two pseudo parameters: no other ${...} in the script
    assert script.count("${") == script.count("${AWS::StackName}") + script.count("${AWS::Region}")


def test_the_root_pins_the_image_id_deploy_reads_from_aws_public_parameter(
    dev: dict[str, dict[str, Any]],
) -> None:
    root = dev["root.json"]
    parameter = root["Parameters"]["NatImageId"]
    # a plain image id, not an SSM type CloudFormation would re-resolve at every deploy
    assert parameter["Type"] == "AWS::EC2::Image::Id"
    assert "Default" not in parameter
    assert root["Metadata"][PINNED_FROM_SSM] == {"NatImageId": IMAGE_SSM_NAME}
    assert IMAGE_SSM_NAME.endswith("al2023-ami-kernel-default-arm64")  # t4g is Graviton
    network = root["Resources"]["NetworkStack"]["Properties"]
    assert network["Parameters"]["NatImageId"] == {"Ref": "NatImageId"}
    # the shared network.json takes it as a String: environments without NAT instances pass ""
    assert dev["network.json"]["Parameters"]["NatImageId"]["Type"] == "String"


@pytest.mark.parametrize("env", ["staging", "prod"])
def test_staging_and_prod_keep_nat_gateways(env: str) -> None:
    templates = templates_of(REPO, env)
    network = templates["network.json"]
    assert resources_of_type(network, "AWS::EC2::NatGateway")
    assert not resources_of_type(network, "AWS::EC2::Instance")
    assert "NatImageId" not in templates["root.json"].get("Parameters", {})
    assert PINNED_FROM_SSM not in (templates["root.json"].get("Metadata") or {})
    # nothing for deploy to pin: the shared network.json's image id is empty here
    network = templates["root.json"]["Resources"]["NetworkStack"]["Properties"]
    assert network["Parameters"]["NatImageId"] == ""


def test_one_instance_per_nat_zone(tmp_path: Path) -> None:
    root = copy_sample(tmp_path)
    edit_yaml(
        root / "environments/prod.yaml",
        lambda d: d["network"].update(nat="instance", nat_gateways=2),
    )
    network = templates_of(root, "prod")["network.json"]
    assert sorted(resources_of_type(network, "AWS::EC2::Instance")) == [
        "NatInstance1",
        "NatInstance2",
    ]
    routes = resources_of_type(network, "AWS::EC2::Route")
    targets = [
        routes[f"Private{zone}DefaultRoute"]["Properties"]["InstanceId"] for zone in (1, 2, 3)
    ]
    # zones 1 and 2 through their own instance, zone 3 through the first
    assert targets == [{"Ref": "NatInstance1"}, {"Ref": "NatInstance2"}, {"Ref": "NatInstance1"}]
    subnets = [
        network["Resources"][f"NatInstance{z}"]["Properties"]["NetworkInterfaces"][0]["SubnetId"]
        for z in (1, 2)
    ]
    assert subnets == [{"Ref": "Public1"}, {"Ref": "Public2"}]
