"""Rotation of the app user's database secret in the templates: a schedule on the app secret
(never the master's) every `database.rotation_days`, none at 0; a Lambda that may touch only
that secret, that task definition in that cluster and its own logs; Secrets Manager may invoke
it only for that secret in this account; the task reads the pending version."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from factorstack.stacks.release_phase import USER_SETUP_SCRIPT
from tests.support.sample import copy_sample, edit_yaml
from tests.support.templates import resources_of_type, templates_of

REPO = Path(__file__).resolve().parents[2]
APP_SECRET = {"Ref": "DatabaseAppSecretArn"}


@pytest.fixture(scope="module")
def dev() -> dict[str, dict[str, Any]]:
    return templates_of(REPO, "dev")


def with_rotation_days(tmp_path: Path, days: int) -> dict[str, dict[str, Any]]:
    root = copy_sample(tmp_path / "repo")
    edit_yaml(
        root / "environments/dev.yaml",
        lambda data: data.setdefault("database", {}).__setitem__("rotation_days", days),
    )
    return templates_of(root, "dev")


def test_the_app_secret_rotates_every_30_days_by_default_never_during_a_deploy(dev) -> None:
    resources = dev["rotation.json"]["Resources"]
    (schedule,) = resources_of_type(dev["rotation.json"], "AWS::SecretsManager::RotationSchedule")
    assert schedule == "DatabaseAppSecretRotation"
    rotation = resources[schedule]
    assert rotation["Properties"] == {
        "SecretId": APP_SECRET,
        "RotationLambdaARN": {"Fn::GetAtt": ["Rotator", "Arn"]},
        "RotationRules": {"AutomaticallyAfterDays": 30},
        "RotateImmediatelyOnUpdate": False,
    }
    # Secrets Manager checks that it may invoke the function when the schedule is set.
    assert rotation["DependsOn"] == ["RotatorInvokedBySecretsManager"]


def test_the_app_secret_parameter_is_the_data_stacks_app_secret_not_the_master(dev) -> None:
    wired = dev["root.json"]["Resources"]["RotationStack"]
    assert wired["Properties"]["TemplateURL"] == "rotation.json"
    assert wired["Properties"]["Parameters"]["DatabaseAppSecretArn"] == {
        "Fn::GetAtt": ["DataStack", "Outputs.DatabaseAppSecretArn"]
    }
    assert wired["DependsOn"] == ["ReleaseStack"]  # the app user exists first


def test_rotation_days_sets_the_schedule(tmp_path: Path) -> None:
    rotation = with_rotation_days(tmp_path, 7)["rotation.json"]["Resources"]
    rules = rotation["DatabaseAppSecretRotation"]["Properties"]["RotationRules"]
    assert rules == {"AutomaticallyAfterDays": 7}


def test_rotation_days_0_leaves_the_rotation_stack_out(tmp_path: Path) -> None:
    templates = with_rotation_days(tmp_path, 0)
    assert "rotation.json" not in templates
    assert "RotationStack" not in templates["root.json"]["Resources"]
    # The release phase still sets the app user.
    assert "ReleaseStack" in templates["root.json"]["Resources"]


def test_only_secrets_manager_of_this_account_may_invoke_it_for_the_app_secret(dev) -> None:
    (permission,) = resources_of_type(dev["rotation.json"], "AWS::Lambda::Permission").values()
    assert permission["Properties"] == {
        "FunctionName": {"Fn::GetAtt": ["Rotator", "Arn"]},
        "Action": "lambda:InvokeFunction",
        "Principal": "secretsmanager.amazonaws.com",
        "SourceAccount": {"Ref": "AWS::AccountId"},
        "SourceArn": APP_SECRET,
    }


def statements(role: dict[str, Any]) -> list[dict[str, Any]]:
    (policy,) = role["Properties"]["Policies"]
    return policy["PolicyDocument"]["Statement"]


def test_the_rotator_may_only_touch_the_app_secret_its_task_and_its_logs(dev) -> None:
    resources = dev["rotation.json"]["Resources"]
    allowed = {
        action: statement
        for statement in statements(resources["RotatorRole"])
        for action in statement["Action"]
    }
    for action in (
        "secretsmanager:DescribeSecret",
        "secretsmanager:GetSecretValue",
        "secretsmanager:PutSecretValue",
        "secretsmanager:UpdateSecretVersionStage",
    ):
        assert allowed[action]["Resource"] == [APP_SECRET]
    assert "secretsmanager:RotateSecret" not in allowed
    assert allowed["secretsmanager:GetRandomPassword"]["Resource"] == ["*"]  # no resource form
    stars = [a for a, s in allowed.items() if "*" in s["Resource"]]
    assert stars == ["secretsmanager:GetRandomPassword"]
    run = allowed["ecs:RunTask"]
    assert run["Resource"] == [{"Ref": "RotationTaskDefinition"}]
    assert run["Condition"] == {
        "StringEquals": {
            "ecs:cluster": {
                "Fn::Sub": "arn:${AWS::Partition}:ecs:${AWS::Region}:${AWS::AccountId}"
                ":cluster/${ClusterName}"
            }
        }
    }
    assert allowed["ecs:DescribeTasks"]["Condition"] == run["Condition"]
    passed = allowed["iam:PassRole"]
    assert passed["Resource"] == [
        {"Fn::GetAtt": ["RotationExecutionRole", "Arn"]},
        {"Fn::GetAtt": ["RotationTaskRole", "Arn"]},
    ]
    assert passed["Condition"] == {
        "StringEquals": {"iam:PassedToService": "ecs-tasks.amazonaws.com"}
    }
    assert allowed["logs:PutLogEvents"]["Resource"] == [{"Fn::GetAtt": ["RotatorLogGroup", "Arn"]}]
    assert "rotation/*" in json.dumps(allowed["logs:GetLogEvents"]["Resource"])
    assert resources["RotatorLogGroup"]["Properties"]["RetentionInDays"] == 7  # dev's days


def test_the_rotation_task_reads_only_the_two_secrets_and_pulls_nothing_private(dev) -> None:
    resources = dev["rotation.json"]["Resources"]
    allowed = {
        action: statement["Resource"]
        for statement in statements(resources["RotationExecutionRole"])
        for action in statement["Action"]
    }
    assert allowed["secretsmanager:GetSecretValue"] == [
        {"Ref": "DatabaseSecretArn"},
        APP_SECRET,
    ]
    assert not any(action.startswith("ecr:") for action in allowed)


def test_the_task_sets_the_pending_user_as_the_master_and_signs_in_as_it(dev) -> None:
    task = dev["rotation.json"]["Resources"]["RotationTaskDefinition"]["Properties"]
    assert task["Family"] == "example-dev-rotation"
    assert (task["Cpu"], task["Memory"]) == ("256", "512")
    (container,) = task["ContainerDefinitions"]
    assert container["Name"] == "database-user"
    assert container["Essential"] is True  # the task's only container
    secrets = {s["Name"]: s["ValueFrom"]["Fn::Sub"] for s in container["Secrets"]}
    assert secrets == {
        "APP_USERNAME": "${DatabaseAppSecretArn}:username:AWSPENDING:",
        "APP_PASSWORD": "${DatabaseAppSecretArn}:password:AWSPENDING:",
        "DB_NAME": "${DatabaseAppSecretArn}:dbname:AWSPENDING:",
        "MASTER_USERNAME": "${DatabaseSecretArn}:username::",
        "MASTER_PASSWORD": "${DatabaseSecretArn}:password::",
    }
    (script,) = container["Command"]
    assert script.startswith(USER_SETUP_SCRIPT)  # the release phase's very step
    assert "SELECT CURRENT_USER();" in script
    assert container["User"] == "999:999" and container["ReadonlyRootFilesystem"] is True
    assert container["LinuxParameters"]["Capabilities"]["Drop"] == ["ALL"]
    assert container["LogConfiguration"]["Options"]["awslogs-stream-prefix"] == "rotation"


def test_the_function_gets_the_task_and_the_data_stacks_password_rules(dev) -> None:
    function = dev["rotation.json"]["Resources"]["Rotator"]["Properties"]
    variables = function["Environment"]["Variables"]
    assert variables["TASK_DEFINITION"] == {"Ref": "RotationTaskDefinition"}
    assert variables["CONTAINER"] == "database-user"
    assert variables["USER_SUFFIX"] == "_clone"  # APP_app and APP_app_clone take turns
    assert variables["PASSWORD_LENGTH"] == "32"
    assert variables["EXCLUDED_CHARACTERS"] == "\"@/\\'`"
    assert "VpcConfig" not in function  # it calls AWS APIs only; the task reaches MySQL
    assert function["Timeout"] == 900


def test_the_release_step_still_sets_the_current_users_password(dev) -> None:
    release = dev["release-phase.json"]["Resources"]["ReleaseTaskDefinition"]["Properties"]
    step = next(c for c in release["ContainerDefinitions"] if c["Name"] == "database-user")
    secrets = {s["Name"]: s["ValueFrom"]["Fn::Sub"] for s in step["Secrets"]}
    assert secrets["APP_USERNAME"] == "${DatabaseAppSecretArn}:username::"
    assert step["Command"] == [USER_SETUP_SCRIPT]
