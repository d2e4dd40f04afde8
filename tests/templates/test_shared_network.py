"""network.json is one text for every environment: the root passes each environment's zones,
NAT choice and address ranges, and conditions keep what an environment does not have (a third
zone, a NAT per zone, NAT instances or gateways) out of its stack."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from factorstack.config.models import NetworkSettings
from factorstack.stacks.network_shape import MAX_ZONES, MIN_ZONES
from tests.support.sample import REPO, copy_sample, edit_yaml
from tests.support.templates import raw_templates_of, resources_of_type, templates_of

THIRD_ZONE = [
    "Public3",
    "Public3Routes",
    "Private3",
    "Private3RouteTable",
    "Private3DefaultRoute",
    "Private3Routes",
    "Isolated3",
    "Isolated3Routes",
]


@pytest.fixture(scope="module")
def raw() -> dict[str, dict[str, dict[str, Any]]]:
    return {env: raw_templates_of(REPO, env) for env in ("dev", "staging", "prod")}


def _passed(templates: dict[str, dict[str, Any]]) -> dict[str, Any]:
    return templates["root.json"]["Resources"]["NetworkStack"]["Properties"]["Parameters"]


def test_the_root_passes_each_environments_network(raw) -> None:
    dev, prod = _passed(raw["dev"]), _passed(raw["prod"])
    assert {k: dev[k] for k in ("EnvironmentName", "AvailabilityZones", "NatZones")} == {
        "EnvironmentName": "dev",
        "AvailabilityZones": "2",
        "NatZones": "1",
    }
    assert (dev["NatInstances"], prod["NatInstances"]) == ("true", "false")
    assert (prod["AvailabilityZones"], prod["NatZones"]) == ("3", "3")
    assert (dev["VpcCidr"], prod["VpcCidr"]) == ("10.10.0.0/16", "10.30.0.0/16")
    assert (dev["Private2Cidr"], prod["Private3Cidr"]) == ("10.10.80.0/20", "10.30.96.0/20")
    assert dev["Private3Cidr"] == ""  # dev has no third zone: nothing reads it
    assert (dev["LogRetentionDays"], prod["LogRetentionDays"]) == ("7", "365")
    # dev's instances run the image deploy pinned in the root; elsewhere there is none
    assert dev["NatImageId"] == {"Ref": "NatImageId"}
    assert prod["NatImageId"] == ""


def test_every_value_the_child_declares_is_passed(raw) -> None:
    for templates in raw.values():
        declared = set(templates["network.json"]["Parameters"])
        assert declared == set(_passed(templates))


def test_the_third_zone_is_in_the_shared_text_under_a_condition(raw) -> None:
    resources = raw["dev"]["network.json"]["Resources"]
    for name in THIRD_ZONE:
        assert resources[name]["Condition"] == "HasZone3", name
    assert "Condition" not in resources["Private2"]
    conditions = raw["dev"]["network.json"]["Conditions"]
    assert conditions["HasZone3"] == {"Fn::Equals": [{"Ref": "AvailabilityZones"}, "3"]}
    dev = templates_of(REPO, "dev")["network.json"]["Resources"]
    prod = templates_of(REPO, "prod")["network.json"]["Resources"]
    assert not set(THIRD_ZONE) & set(dev)
    assert set(THIRD_ZONE) <= set(prod)
    assert prod["Private3"]["Properties"]["CidrBlock"] == "10.30.96.0/20"


def test_nat_instances_and_gateways_each_exist_only_where_chosen(raw) -> None:
    resources = raw["staging"]["network.json"]["Resources"]
    assert resources["NatInstance1"]["Condition"] == "NatInstancesOn"
    assert resources["NatInstanceSecurityGroup"]["Condition"] == "NatInstancesOn"
    assert resources["Nat1"]["Condition"] == "NatGateways"
    assert resources["Nat2"]["Condition"] == "HasNatGateway2"
    assert resources["NatInstance3Address"]["Condition"] == "HasNatInstance3"
    conditions = raw["staging"]["network.json"]["Conditions"]
    # the third NAT sits in the third zone: its condition says so, as config does
    assert conditions["HasNat3"] == {
        "Fn::And": [
            {"Condition": "HasZone3"},
            {"Fn::Equals": [{"Ref": "NatZones"}, "3"]},
        ]
    }
    staging = templates_of(REPO, "staging")["network.json"]
    assert list(resources_of_type(staging, "AWS::EC2::NatGateway")) == ["Nat1"]
    assert not resources_of_type(staging, "AWS::EC2::Instance")
    assert "NatInstanceSecurityGroup" not in staging["Resources"]


def test_each_private_route_picks_its_nat_by_condition(raw) -> None:
    routes = resources_of_type(raw["prod"]["network.json"], "AWS::EC2::Route")
    zone3 = routes["Private3DefaultRoute"]["Properties"]
    assert zone3["NatGatewayId"] == {
        "Fn::If": [
            "NatInstancesOn",
            {"Ref": "AWS::NoValue"},
            {"Fn::If": ["HasNat3", {"Ref": "Nat3"}, {"Ref": "Nat1"}]},
        ]
    }
    zone2 = routes["Private2DefaultRoute"]["Properties"]
    assert zone2["InstanceId"] == {
        "Fn::If": [
            "NatInstancesOn",
            {"Fn::If": ["HasNat2", {"Ref": "NatInstance2"}, {"Ref": "NatInstance1"}]},
            {"Ref": "AWS::NoValue"},
        ]
    }
    staging = resources_of_type(templates_of(REPO, "staging")["network.json"], "AWS::EC2::Route")
    assert staging["Private2DefaultRoute"]["Properties"]["NatGatewayId"] == {"Ref": "Nat1"}
    assert "InstanceId" not in staging["Private2DefaultRoute"]["Properties"]


def test_subnet_outputs_list_two_or_three_zones(raw) -> None:
    output = raw["dev"]["network.json"]["Outputs"]["PrivateSubnetIds"]["Value"]
    two = {"Fn::Join": [",", [{"Ref": "Private1"}, {"Ref": "Private2"}]]}
    three = {"Fn::Join": [",", [{"Ref": f"Private{z}"} for z in (1, 2, 3)]]}
    assert output == {"Fn::If": ["HasZone3", three, two]}
    assert templates_of(REPO, "dev")["network.json"]["Outputs"]["PrivateSubnetIds"]["Value"] == two
    prod = templates_of(REPO, "prod")["network.json"]["Outputs"]["PrivateSubnetIds"]["Value"]
    assert prod == three


def test_names_that_embed_the_environment_resolve_to_what_they_were(raw) -> None:
    shared = raw["dev"]["network.json"]["Resources"]
    group = shared["NatInstanceSecurityGroup"]["Properties"]["GroupDescription"]
    assert group == {"Fn::Sub": "example ${EnvironmentName} NAT instances"}
    dev = templates_of(REPO, "dev")["network.json"]["Resources"]
    # a changed GroupDescription would replace the security group (and the instance with it)
    assert dev["NatInstanceSecurityGroup"]["Properties"]["GroupDescription"] == (
        "example dev NAT instances"
    )
    assert dev["Vpc"]["Properties"]["Tags"] == [{"Key": "Name", "Value": "example-dev"}]
    flow_logs = dev["FlowLogsLogGroup"]["Properties"]
    assert flow_logs["LogGroupName"]["Fn::Sub"][0] == "/example/dev/vpc-flow-logs-${StackSuffix}"
    assert flow_logs["RetentionInDays"] == 7


def test_user_data_reads_the_ranges_the_root_passes(raw) -> None:
    instance = raw["prod"]["network.json"]["Resources"]["NatInstance1"]["Properties"]
    text, variables = instance["UserData"]["Fn::Base64"]["Fn::Sub"]
    assert "ip daddr != ${VpcCidr} masquerade" in text
    assert "elements = { ${PrivateRanges} }" in text
    assert variables["PrivateRanges"] == {
        "Fn::If": [
            "HasZone3",
            {"Fn::Sub": "${Private1Cidr}, ${Private2Cidr}, ${Private3Cidr}"},
            {"Fn::Sub": "${Private1Cidr}, ${Private2Cidr}"},
        ]
    }
    # the third zone's instance exists only with three zones: no two-zone branch to lint
    third = raw["prod"]["network.json"]["Resources"]["NatInstance3"]["Properties"]
    _, third_variables = third["UserData"]["Fn::Base64"]["Fn::Sub"]
    assert third_variables["PrivateRanges"] == {
        "Fn::Sub": "${Private1Cidr}, ${Private2Cidr}, ${Private3Cidr}"
    }


def test_the_template_holds_every_zone_the_config_allows() -> None:
    schema = NetworkSettings.model_json_schema()["properties"]
    zones = schema["availability_zones"]
    assert (zones["minimum"], zones["maximum"]) == (MIN_ZONES, MAX_ZONES)
    assert schema["nat_gateways"]["maximum"] <= MAX_ZONES


@pytest.mark.parametrize(
    ("env", "network"),
    [
        ("prod", {"nat": "instance", "nat_gateways": 2}),
        ("staging", {"availability_zones": 3, "nat_gateways": 2, "cidr": "10.99.0.0/18"}),
        ("dev", {"availability_zones": 3}),
    ],
)
def test_any_network_the_config_allows_runs_the_same_text(
    raw, tmp_path: Path, env: str, network: dict[str, Any]
) -> None:
    root = copy_sample(tmp_path)
    edit_yaml(root / f"environments/{env}.yaml", lambda d: d["network"].update(network))
    shared = json.dumps(raw["dev"]["network.json"], sort_keys=True)
    assert json.dumps(raw_templates_of(root, env)["network.json"], sort_keys=True) == shared


def test_three_zones_with_two_nat_gateways_route_the_third_through_the_first(
    tmp_path: Path,
) -> None:
    root = copy_sample(tmp_path)
    edit_yaml(root / "environments/prod.yaml", lambda d: d["network"].update(nat_gateways=2))
    network = templates_of(root, "prod")["network.json"]
    assert sorted(resources_of_type(network, "AWS::EC2::NatGateway")) == ["Nat1", "Nat2"]
    routes = resources_of_type(network, "AWS::EC2::Route")
    targets = [routes[f"Private{z}DefaultRoute"]["Properties"]["NatGatewayId"] for z in (1, 2, 3)]
    assert targets == [{"Ref": "Nat1"}, {"Ref": "Nat2"}, {"Ref": "Nat1"}]
