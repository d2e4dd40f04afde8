"""Bootstrap's service-linked roles against IAM-shaped responses (Stubber checks every shape).

Errors are the ones IAM documents and returns: GetRole NoSuchEntity (404), CreateServiceLinkedRole
InvalidInput "... has been taken in this account, please try a different suffix." (400) for a role
that exists, AccessDenied (403) for an identity without iam:CreateServiceLinkedRole.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from botocore.stub import Stubber
from rich.console import Console

from factorstack.deploy.bootstrap import run_bootstrap
from factorstack.deploy.context import Context
from factorstack.deploy.service_roles import (
    SERVICE_LINKED_ROLES,
    CreateFailure,
    Outcome,
    ServiceRole,
    create_failure,
    ensure_service_linked_roles,
)
from factorstack.deploy.session import Clients
from factorstack.errors import EXIT_FAILURE, DeployError
from tests.deploy.aws_responses import ACCOUNT, REGION, T0, client, client_error
from tests.deploy.test_stack_state import FakeClock
from tests.e2e.fixture_build import FixtureProject

TAKEN = "Service role name {} has been taken in this account, please try a different suffix."
ECS, AUTOSCALING, ELASTICACHE, RDS = SERVICE_LINKED_ROLES


def role_body(role: ServiceRole) -> dict[str, Any]:
    """The Role structure IAM returns from GetRole and CreateServiceLinkedRole."""
    path = f"/aws-service-role/{role.service}/"
    return {
        "Path": path,
        "RoleName": role.role_name,
        "RoleId": "AROA" + role.role_name.upper()[:17],
        "Arn": f"arn:aws:iam::{ACCOUNT}:role{path}{role.role_name}",
        "CreateDate": T0,
        "AssumeRolePolicyDocument": (
            '{"Version":"2012-10-17","Statement":[{"Effect":"Allow",'
            f'"Principal":{{"Service":"{role.service}"}},"Action":"sts:AssumeRole"}}]}}'
        ),
    }


def role_missing(stub: Stubber, role: ServiceRole) -> None:
    stub.add_client_error(
        "get_role",
        expected_params={"RoleName": role.role_name},
        **client_error(
            "NoSuchEntity", f"The role with name {role.role_name} cannot be found.", 404
        ),
    )


def role_present(stub: Stubber, role: ServiceRole) -> None:
    stub.add_response("get_role", {"Role": role_body(role)}, {"RoleName": role.role_name})


def role_created(stub: Stubber, role: ServiceRole) -> None:
    stub.add_response(
        "create_service_linked_role", {"Role": role_body(role)}, {"AWSServiceName": role.service}
    )


def create_refused(stub: Stubber, role: ServiceRole, code: str, message: str, status: int) -> None:
    stub.add_client_error(
        "create_service_linked_role",
        expected_params={"AWSServiceName": role.service},
        **client_error(code, message, status),
    )


def denied_create(role: ServiceRole) -> str:
    return (
        f"User: arn:aws:iam::{ACCOUNT}:user/ci is not authorized to perform: "
        f"iam:CreateServiceLinkedRole on resource: arn:aws:iam::{ACCOUNT}:role/aws-service-role/"
        f"{role.service}/{role.role_name} because no identity-based policy allows the "
        "iam:CreateServiceLinkedRole action"
    )


def run(iam: Any, stub: Stubber) -> tuple[dict[str, Outcome], list[str]]:
    lines: list[str] = []
    with stub:
        outcomes = ensure_service_linked_roles(iam, lines.append)
    stub.assert_no_pending_responses()
    return outcomes, lines


def test_the_four_roles_and_their_service_principals() -> None:
    assert [(r.service, r.role_name) for r in SERVICE_LINKED_ROLES] == [
        ("ecs.amazonaws.com", "AWSServiceRoleForECS"),
        (
            "ecs.application-autoscaling.amazonaws.com",
            "AWSServiceRoleForApplicationAutoScaling_ECSService",
        ),
        ("elasticache.amazonaws.com", "AWSServiceRoleForElastiCache"),
        ("rds.amazonaws.com", "AWSServiceRoleForRDS"),
    ]


def test_all_missing_are_created_with_their_service_names() -> None:
    iam = client("iam")
    stub = Stubber(iam)
    for role in SERVICE_LINKED_ROLES:
        role_missing(stub, role)
        role_created(stub, role)
    outcomes, lines = run(iam, stub)
    assert outcomes == {role.role_name: Outcome.CREATED for role in SERVICE_LINKED_ROLES}
    assert lines == [
        "service-linked role AWSServiceRoleForECS (ecs.amazonaws.com): created",
        "service-linked role AWSServiceRoleForApplicationAutoScaling_ECSService "
        "(ecs.application-autoscaling.amazonaws.com): created",
        "service-linked role AWSServiceRoleForElastiCache (elasticache.amazonaws.com): created",
        "service-linked role AWSServiceRoleForRDS (rds.amazonaws.com): created",
    ]


def test_roles_that_exist_cost_no_create_call() -> None:
    iam = client("iam")
    stub = Stubber(iam)
    for role in SERVICE_LINKED_ROLES:
        role_present(stub, role)  # a create call would find no stubbed response and fail
    outcomes, lines = run(iam, stub)
    assert set(outcomes.values()) == {Outcome.ALREADY_THERE}
    assert len(lines) == 4 and all(line.endswith(": already there") for line in lines)


def test_losing_the_create_race_is_success() -> None:
    """Another run created the role between GetRole and CreateServiceLinkedRole."""
    iam = client("iam")
    stub = Stubber(iam)
    role_missing(stub, ECS)
    create_refused(stub, ECS, "InvalidInput", TAKEN.format(ECS.role_name), 400)
    for role in (AUTOSCALING, ELASTICACHE, RDS):
        role_present(stub, role)
    outcomes, lines = run(iam, stub)
    assert outcomes[ECS.role_name] is Outcome.ALREADY_THERE
    assert lines[0] == "service-linked role AWSServiceRoleForECS (ecs.amazonaws.com): already there"


def test_only_the_missing_role_is_created() -> None:
    iam = client("iam")
    stub = Stubber(iam)
    for role in (ECS, AUTOSCALING, ELASTICACHE):
        role_present(stub, role)
    role_missing(stub, RDS)
    role_created(stub, RDS)
    outcomes, _ = run(iam, stub)
    assert outcomes[RDS.role_name] is Outcome.CREATED
    assert outcomes[ECS.role_name] is Outcome.ALREADY_THERE


def test_access_denied_on_create_names_the_permission() -> None:
    iam = client("iam")
    stub = Stubber(iam)
    role_missing(stub, ECS)
    create_refused(stub, ECS, "AccessDenied", denied_create(ECS), 403)
    with stub, pytest.raises(DeployError) as refused:
        ensure_service_linked_roles(iam, print)
    error = refused.value
    assert error.exit_code == EXIT_FAILURE
    assert len(error.lines) == 1 and "\n" not in error.lines[0]
    assert error.lines[0] == (
        "creating service-linked role AWSServiceRoleForECS: access denied; the deploying "
        "identity needs iam:CreateServiceLinkedRole with condition "
        "iam:AWSServiceName=ecs.amazonaws.com (or an admin runs `aws iam "
        "create-service-linked-role --aws-service-name ecs.amazonaws.com` once)"
    )


def test_access_denied_on_get_role_names_the_permission() -> None:
    iam = client("iam")
    stub = Stubber(iam)
    stub.add_client_error(
        "get_role",
        expected_params={"RoleName": ECS.role_name},
        **client_error("AccessDenied", "User: ci is not authorized to perform: iam:GetRole", 403),
    )
    with stub, pytest.raises(DeployError, match=r"needs iam:GetRole on arn:aws:iam::\*:role/"):
        ensure_service_linked_roles(iam, print)


def test_any_other_create_error_is_one_aws_line_not_success() -> None:
    iam = client("iam")
    stub = Stubber(iam)
    role_missing(stub, ECS)
    message = "Custom suffix is not allowed for ecs.amazonaws.com"
    create_refused(stub, ECS, "InvalidInput", message, 400)
    with stub, pytest.raises(DeployError) as failed:
        ensure_service_linked_roles(iam, print)
    assert failed.value.lines == [
        "creating service-linked role AWSServiceRoleForECS (iam create-service-linked-role): "
        f"AWS error InvalidInput: {message}"
    ]


@pytest.mark.parametrize(
    ("code", "message", "meaning"),
    [
        ("InvalidInput", TAKEN.format("AWSServiceRoleForRDS"), CreateFailure.ROLE_EXISTS),
        ("InvalidInput", TAKEN.format("X").upper(), CreateFailure.ROLE_EXISTS),
        ("EntityAlreadyExists", "Role with name X already exists.", CreateFailure.ROLE_EXISTS),
        ("InvalidInput", "Custom suffix is not allowed for rds.amazonaws.com", CreateFailure.OTHER),
        ("AccessDenied", "User: ci is not authorized", CreateFailure.DENIED),
        ("AccessDeniedException", "", CreateFailure.DENIED),
        ("LimitExceeded", "Cannot exceed quota for RolesPerAccount: 1000", CreateFailure.OTHER),
        ("ServiceFailure", "", CreateFailure.OTHER),
        ("NoSuchEntity", "has been taken in this account", CreateFailure.OTHER),
    ],
)
def test_what_a_create_error_means(code: str, message: str, meaning: CreateFailure) -> None:
    assert create_failure(code, message) is meaning


# --- through run_bootstrap: the roles come first, before any CloudFormation call ---


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> FixtureProject:
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)
    built = FixtureProject(tmp_path / "repo")
    built.write()
    return built


def test_bootstrap_stops_before_its_change_set_when_the_role_cannot_be_created(
    project: FixtureProject,
) -> None:
    cfn, s3, sts, iam = client("cloudformation"), client("s3"), client("sts"), client("iam")
    stubs = [Stubber(cfn), Stubber(s3), Stubber(sts), Stubber(iam)]
    _, _, sts_stub, iam_stub = stubs
    identity = {"UserId": "AIDA", "Account": ACCOUNT, "Arn": f"arn:aws:iam::{ACCOUNT}:user/ci"}
    sts_stub.add_response("get_caller_identity", identity)
    role_missing(iam_stub, ECS)
    create_refused(iam_stub, ECS, "AccessDenied", denied_create(ECS), 403)
    clients = Clients(cloudformation=cfn, s3=s3, sts=sts, region=REGION, iam=iam)
    clock = FakeClock()
    ctx = Context(
        root=project.root,
        environment="dev",
        console=Console(record=True, width=200),
        timing=clock.timing(),
        change_set_timing=clock.timing(),
        clients_for=lambda _target: clients,
    )
    for stub in stubs:
        stub.activate()
    try:
        # No CloudFormation response is stubbed: reaching the change set would fail differently.
        with pytest.raises(DeployError, match="needs iam:CreateServiceLinkedRole") as refused:
            run_bootstrap(ctx)
    finally:
        for stub in stubs:
            stub.deactivate()
    assert refused.value.exit_code == EXIT_FAILURE
    for stub in stubs:
        stub.assert_no_pending_responses()
