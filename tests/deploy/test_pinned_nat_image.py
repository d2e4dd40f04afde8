"""The NAT instances' image id is pinned: deploy reads AWS's public SSM parameter on the first
create (or when asked with --newest-nat-image) and keeps the deployed id otherwise, so an image
AWS publishes later does not replace the instance at the next deploy."""

from __future__ import annotations

import argparse
from typing import Any

import pytest

from factorstack.deploy.commands import register
from factorstack.deploy.decide.parameters import pinned_values, stack_parameters
from factorstack.deploy.decide.stacks import Stack
from factorstack.stacks.nat_instance import IMAGE_SSM_NAME, PINNED_FROM_SSM

DEPLOYED = "ami-0123456789abcdef0"
NEWEST = "ami-0fedcba9876543210"


def root() -> dict[str, Any]:
    return {
        "Metadata": {PINNED_FROM_SSM: {"NatImageId": IMAGE_SSM_NAME}},
        "Parameters": {
            "ImageTag": {"Type": "String"},
            "NatImageId": {"Type": "AWS::EC2::Image::Id"},
        },
    }


def deployed(image: str) -> Stack:
    return Stack(
        name="example-dev",
        stack_id="arn:aws:cloudformation:eu-west-1:111111111111:stack/example-dev/1",
        status="UPDATE_COMPLETE",
        parameters={"ImageTag": "v1", "NatImageId": image},
    )


class Ssm:
    """Counts the reads: a kept pin reads nothing."""

    def __init__(self) -> None:
        self.read: list[str] = []

    def __call__(self, name: str) -> str:
        self.read.append(name)
        return NEWEST


def test_the_first_create_pins_the_newest_image() -> None:
    ssm = Ssm()
    pinned = pinned_values(root(), None, ssm, newest=False)
    assert pinned == {"NatImageId": NEWEST} and ssm.read == [IMAGE_SSM_NAME]
    assert stack_parameters(root(), None, "v1", pinned) == [
        {"ParameterKey": "ImageTag", "ParameterValue": "v1"},
        {"ParameterKey": "NatImageId", "ParameterValue": NEWEST},
    ]


def test_a_later_deploy_keeps_the_deployed_image() -> None:
    ssm = Ssm()
    pinned = pinned_values(root(), deployed(DEPLOYED), ssm, newest=False)
    assert pinned == {} and ssm.read == []
    assert stack_parameters(root(), deployed(DEPLOYED), None, pinned) == [
        {"ParameterKey": "ImageTag", "UsePreviousValue": True},
        {"ParameterKey": "NatImageId", "UsePreviousValue": True},
    ]


def test_asking_for_the_newest_image_reads_it_again() -> None:
    pinned = pinned_values(root(), deployed(DEPLOYED), Ssm(), newest=True)
    assert {"ParameterKey": "NatImageId", "ParameterValue": NEWEST} in stack_parameters(
        root(), deployed(DEPLOYED), None, pinned
    )


def test_a_stack_from_before_pinning_gets_an_image_id_instead_of_the_ssm_name() -> None:
    """Its parameter held the SSM name (the old SSM-typed parameter): reusing it as an image
    id would fail the update."""
    pinned = pinned_values(root(), deployed(IMAGE_SSM_NAME), Ssm(), newest=False)
    assert pinned == {"NatImageId": NEWEST}


def test_an_environment_without_nat_instances_reads_nothing() -> None:
    template = root()
    del template["Metadata"]
    ssm = Ssm()
    assert pinned_values(template, None, ssm, newest=True) == {} and ssm.read == []


@pytest.mark.parametrize("command", ["plan", "execute"])
def test_plan_and_execute_take_the_newest_image_flag(command: str) -> None:
    parser = argparse.ArgumentParser()
    register(parser.add_subparsers())
    assert parser.parse_args([command, "dev", "--newest-nat-image"]).newest_nat_image is True
    assert parser.parse_args([command, "dev"]).newest_nat_image is False
