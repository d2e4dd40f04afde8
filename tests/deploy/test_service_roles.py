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

from factorstack.deploy.aws.gateway import Gateway
from factorstack.deploy.aws.roles import create_answer
from factorstack.deploy.bootstrap import ensure_service_linked_roles, run_bootstrap
from factorstack.deploy.decide.service_roles import (
    SERVICE_LINKED_ROLES,
    Outcome,
    RoleAnswer,
    ServiceRole,
)
from factorstack.errors import EXIT_FAILURE, DeployError
from tests.support import deploying
from tests.support.aws_answers import ACCOUNT, T0, client_error
from tests.support.fixture_build import FixtureProject
from tests.support.stubbed_aws import Stubs, stubbed

TAKEN = "Service role name {} has been taken in this account, please try a different suffix."
ECS, AUTOSCALING, ELASTICACHE, RDS, ELB = SERVICE_LINKED_ROLES


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


def run(iam: Gateway, stub: Stubber) -> tuple[dict[str, Outcome], list[str]]:
    lines: list[str] = []
    with stub:
        outcomes = ensure_service_linked_roles(iam, lines.append)
    stub.assert_no_pending_responses()
    return outcomes, lines


def test_the_five_roles_and_their_service_principals() -> None:
    assert [(r.service, r.role_name) for r in SERVICE_LINKED_ROLES] == [
        ("ecs.amazonaws.com", "AWSServiceRoleForECS"),
        (
            "ecs.application-autoscaling.amazonaws.com",
            "AWSServiceRoleForApplicationAutoScaling_ECSService",
        ),
        ("elasticache.amazonaws.com", "AWSServiceRoleForElastiCache"),
        ("rds.amazonaws.com", "AWSServiceRoleForRDS"),
        ("elasticloadbalancing.amazonaws.com", "AWSServiceRoleForElasticLoadBalancing"),
    ]


def test_all_missing_are_created_with_their_service_names() -> None:
    iam, stub = stubbed("iam")
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
        "service-linked role AWSServiceRoleForElasticLoadBalancing "
        "(elasticloadbalancing.amazonaws.com): created",
    ]


def test_roles_that_exist_cost_no_create_call() -> None:
    iam, stub = stubbed("iam")
    for role in SERVICE_LINKED_ROLES:
        role_present(stub, role)  # a create call would find no stubbed response and fail
    outcomes, lines = run(iam, stub)
    assert set(outcomes.values()) == {Outcome.ALREADY_THERE}
    assert len(lines) == 5 and all(line.endswith(": already there") for line in lines)


def test_losing_the_create_race_is_success() -> None:
    """Another run created the role between GetRole and CreateServiceLinkedRole."""
    iam, stub = stubbed("iam")
    role_missing(stub, ECS)
    create_refused(stub, ECS, "InvalidInput", TAKEN.format(ECS.role_name), 400)
    for role in (AUTOSCALING, ELASTICACHE, RDS, ELB):
        role_present(stub, role)
    outcomes, lines = run(iam, stub)
    assert outcomes[ECS.role_name] is Outcome.ALREADY_THERE
    assert lines[0] == "service-linked role AWSServiceRoleForECS (ecs.amazonaws.com): already there"


def test_only_the_missing_role_is_created() -> None:
    iam, stub = stubbed("iam")
    for role in (ECS, AUTOSCALING, ELASTICACHE):
        role_present(stub, role)
    role_missing(stub, RDS)
    role_created(stub, RDS)
    role_present(stub, ELB)
    outcomes, _ = run(iam, stub)
    assert outcomes[RDS.role_name] is Outcome.CREATED
    assert outcomes[ECS.role_name] is Outcome.ALREADY_THERE


def test_access_denied_on_create_names_the_permission() -> None:
    iam, stub = stubbed("iam")
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
    iam, stub = stubbed("iam")
    stub.add_client_error(
        "get_role",
        expected_params={"RoleName": ECS.role_name},
        **client_error("AccessDenied", "User: ci is not authorized to perform: iam:GetRole", 403),
    )
    with stub, pytest.raises(DeployError, match=r"needs iam:GetRole on arn:aws:iam::\*:role/"):
        ensure_service_linked_roles(iam, print)


def test_any_other_create_error_is_one_aws_line_not_success() -> None:
    iam, stub = stubbed("iam")
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
        ("InvalidInput", TAKEN.format("AWSServiceRoleForRDS"), RoleAnswer.FOUND),
        ("InvalidInput", TAKEN.format("X").upper(), RoleAnswer.FOUND),
        ("EntityAlreadyExists", "Role with name X already exists.", RoleAnswer.FOUND),
        ("InvalidInput", "Custom suffix is not allowed for rds.amazonaws.com", None),
        ("AccessDenied", "User: ci is not authorized", RoleAnswer.DENIED),
        ("AccessDeniedException", "", RoleAnswer.DENIED),
        ("LimitExceeded", "Cannot exceed quota for RolesPerAccount: 1000", None),
        ("ServiceFailure", "", None),
        ("NoSuchEntity", "has been taken in this account", None),
    ],
)
def test_what_a_create_error_means(code: str, message: str, meaning: RoleAnswer | None) -> None:
    """None: a real failure, reported as one AWS line."""
    assert create_answer(code, message) is meaning


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
    identity = {"UserId": "AIDA", "Account": ACCOUNT, "Arn": f"arn:aws:iam::{ACCOUNT}:user/ci"}
    with Stubs() as stubs:
        stubs.sts_stub.add_response("get_caller_identity", identity)
        role_missing(stubs.iam_stub, ECS)
        create_refused(stubs.iam_stub, ECS, "AccessDenied", denied_create(ECS), 403)
        ctx, _ = deploying.context(project.root, stubs.gateway)
        # No CloudFormation response is stubbed: reaching the change set would fail differently.
        with pytest.raises(DeployError, match="needs iam:CreateServiceLinkedRole") as refused:
            run_bootstrap(ctx)
        stubs.verify()
    assert refused.value.exit_code == EXIT_FAILURE
