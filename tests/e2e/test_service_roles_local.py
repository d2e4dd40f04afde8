"""Bootstrap's service-linked roles end to end against the local moto server over HTTP."""

from __future__ import annotations

import boto3
from rich.console import Console

from factorstack.deploy.bootstrap import run_bootstrap
from factorstack.deploy.context import Context, Timing
from factorstack.deploy.local.server import LocalAws
from tests.support.fixture_build import REGION, FixtureProject

FAST = Timing(timeout=30.0, poll=0.05)
ROLES = {
    "AWSServiceRoleForECS": "ecs.amazonaws.com",
    "AWSServiceRoleForApplicationAutoScaling_ECSService": (
        "ecs.application-autoscaling.amazonaws.com"
    ),
    "AWSServiceRoleForElastiCache": "elasticache.amazonaws.com",
    "AWSServiceRoleForRDS": "rds.amazonaws.com",
    "AWSServiceRoleForElasticLoadBalancing": "elasticloadbalancing.amazonaws.com",
}


def bootstrap(project: FixtureProject) -> tuple[dict | None, str]:
    """One `factorstack bootstrap dev`, with what it printed."""
    console = Console(record=True, width=200)
    ctx = Context(
        root=project.root,
        environment="dev",
        console=console,
        timing=FAST,
        change_set_timing=FAST,
    )
    return run_bootstrap(ctx), console.export_text()


def role_lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.startswith("service-linked role ")]


def all_role_names(iam) -> list[str]:
    return sorted(role["RoleName"] for role in iam.list_roles()["Roles"])


def test_bootstrap_leaves_the_roles_and_a_second_bootstrap_creates_nothing(
    local_aws: LocalAws, project: FixtureProject
) -> None:
    iam = boto3.client("iam", region_name=REGION)
    stack, first = bootstrap(project)
    assert stack is not None and stack.status == "CREATE_COMPLETE"
    for name, service in ROLES.items():
        role = iam.get_role(RoleName=name)["Role"]
        assert role["Path"] == f"/aws-service-role/{service}/"
        assert role["Arn"].endswith(f":role/aws-service-role/{service}/{name}")
    assert role_lines(first) == [
        f"service-linked role {name} ({service}): created" for name, service in ROLES.items()
    ]
    roles_before = all_role_names(iam)

    again, second = bootstrap(project)
    assert again is None  # the stack is up to date too
    assert role_lines(second) == [
        f"service-linked role {name} ({service}): already there" for name, service in ROLES.items()
    ]
    assert all_role_names(iam) == roles_before


def test_a_role_an_admin_made_earlier_is_left_alone(
    local_aws: LocalAws, project: FixtureProject
) -> None:
    iam = boto3.client("iam", region_name=REGION)
    made = iam.create_service_linked_role(AWSServiceName="ecs.amazonaws.com")["Role"]
    _, printed = bootstrap(project)
    assert iam.get_role(RoleName="AWSServiceRoleForECS")["Role"]["RoleId"] == made["RoleId"]
    lines = role_lines(printed)
    assert lines[0] == "service-linked role AWSServiceRoleForECS (ecs.amazonaws.com): already there"
    assert all(line.endswith(": created") for line in lines[1:])
