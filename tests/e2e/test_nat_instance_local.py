"""The sample's dev, whose NAT is an instance, deployed on the local endpoint: the instance runs
the image AWS's public parameter names, holds its Elastic IP, and both private route tables send
0.0.0.0/0 to it. Then moving the worker to Fargate Spot (on X86_64) deploys as an update."""

from __future__ import annotations

from pathlib import Path

import boto3
import pytest

from factorstack.build import build
from factorstack.cli import main
from factorstack.deploy.apply import run_apply
from factorstack.deploy.bootstrap import run_bootstrap
from factorstack.deploy.local.server import LocalAws
from factorstack.deploy.plan import run_plan
from factorstack.stacks.nat_instance import IMAGE_SSM_NAME
from tests.support.fixture_build import ACCOUNT, REGION, dev_context
from tests.support.sample import copy_sample, edit_yaml

pytestmark = pytest.mark.usefixtures("lint_assumed_clean")


def test_dev_egress_runs_through_its_nat_instance(
    local_aws: LocalAws, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", "/nonexistent")  # no docker: local-images stands in for it
    root = copy_sample(tmp_path / "repo")
    edit_yaml(root / "environments/dev.yaml", lambda d: d.update(account=ACCOUNT, region=REGION))
    build(root, ["dev"])
    run_bootstrap(dev_context(root))
    assert main(["local-seed", "dev", "--root", str(root)]) == 0
    assert main(["local-images", "dev", "--root", str(root), "--tag", "v1"]) == 0
    assert main(["release", "dev", "--root", str(root), "--no-build", "--tag", "v1"]) == 0
    build(root, ["dev"])
    assert run_plan(dev_context(root), []).changed
    assert run_apply(dev_context(root)).status == "CREATE_COMPLETE"

    ec2 = boto3.client("ec2", region_name=REGION)
    ssm = boto3.client("ssm", region_name=REGION)
    [reservation] = ec2.describe_instances()["Reservations"]
    [nat] = reservation["Instances"]
    assert nat["InstanceType"] == "t4g.nano"
    # pinned by deploy from AWS's public parameter on the first create
    assert nat["ImageId"] == ssm.get_parameter(Name=IMAGE_SSM_NAME)["Parameter"]["Value"]
    [public_1] = ec2.describe_subnets(
        Filters=[
            {"Name": "tag:Name", "Values": ["Public1"]},
            {"Name": "vpc-id", "Values": [nat["VpcId"]]},
        ]
    )["Subnets"]
    assert nat["SubnetId"] == public_1["SubnetId"]  # in the VPC's first public subnet
    # SourceDestCheck: false is proven on the template (tests/templates/test_nat_instance.py);
    # moto 5.2.5's CloudFormation does not apply it to the instance it starts.
    addresses = ec2.describe_addresses()["Addresses"]
    assert [a.get("InstanceId") for a in addresses] == [nat["InstanceId"]]  # its Elastic IP
    to_nat = [
        table
        for table in ec2.describe_route_tables()["RouteTables"]
        if any(
            route.get("DestinationCidrBlock") == "0.0.0.0/0"
            and route.get("InstanceId") == nat["InstanceId"]
            for route in table["Routes"]
        )
    ]
    assert len(to_nat) == 2  # the two private zones
    assert not ec2.describe_nat_gateways()["NatGateways"]

    # Spot for the worker (X86_64, as Spot needs); moto does not say whether AWS would
    # replace (tests/deploy/test_named_replacement.py covers a change set that does).
    def worker_on_spot(data: dict) -> None:
        data.pop("cpu_architecture")
        data["processes"]["worker"]["spot"] = True

    edit_yaml(root / "environments/dev.yaml", worker_on_spot)
    build(root, ["dev"])
    assert run_plan(dev_context(root), []).changed
    assert run_apply(dev_context(root)).status == "UPDATE_COMPLETE"
    # Still one NAT instance running (moto 5.2.5 starts a fresh one on every stack update and
    # terminates the old; AWS leaves an unchanged instance alone).
    running = ec2.describe_instances(
        Filters=[{"Name": "instance-state-name", "Values": ["running"]}]
    )
    [still] = [i for r in running["Reservations"] for i in r["Instances"]]
    assert still["ImageId"] == nat["ImageId"]  # the pinned image was kept (UsePreviousValue)
