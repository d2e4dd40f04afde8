"""Rotation of the database secrets in the templates: a schedule on the app secret and one on the
master's, every `database.rotation_days`, none at 0; per secret a Lambda that may touch only
that secret, its task definition in that cluster and its own logs (the app user's may also
restart exactly the app's services); Secrets Manager may invoke each only for its secret in
this account; the app task reads the app secret's pending version, the master task the
master's current and pending ones."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from factorstack.stacks.release_phase import USER_SETUP_SCRIPT
from factorstack.stacks.rotation import MASTER_SCRIPT
from tests.support.sample import copy_sample, edit_yaml
from tests.support.templates import resources_of_type, templates_of

REPO = Path(__file__).resolve().parents[2]
APP_SECRET = {"Ref": "DatabaseAppSecretArn"}
MASTER_SECRET = {"Ref": "DatabaseSecretArn"}

TASK_DEFINITION_ARN = "arn:${AWS::Partition}:ecs:${AWS::Region}:${AWS::AccountId}:task-definition"


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
    schedules = resources_of_type(dev["rotation.json"], "AWS::SecretsManager::RotationSchedule")
    assert sorted(schedules) == ["DatabaseAppSecretRotation", "DatabaseSecretRotation"]
    rotation = resources["DatabaseAppSecretRotation"]
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
    permission = dev["rotation.json"]["Resources"]["RotatorInvokedBySecretsManager"]
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
    assert run["Resource"] == [{"Fn::Sub": f"{TASK_DEFINITION_ARN}/example-dev-rotation:*"}]
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
    run_task = variables["RUN_TASK"]["Fn::Sub"]
    assert run_task[1]["TaskDefinition"] == {"Ref": "RotationTaskDefinition"}
    assert json.loads(run_task[0].replace("${SubnetList}", "subnet-1")) == {
        "cluster": "${ClusterName}",
        "taskDefinition": "${TaskDefinition}",
        "launchType": "FARGATE",
        "startedBy": "factorstack-rotation",
        "networkConfiguration": {
            "awsvpcConfiguration": {
                "subnets": ["subnet-1"],
                "securityGroups": ["${ServiceSecurityGroupId}"],
            }
        },
    }
    # "a,b" becomes a","b inside the quotes: a JSON list of every subnet
    assert run_task[1]["SubnetList"] == {
        "Fn::Join": ['","', {"Fn::Split": [",", {"Ref": "PrivateSubnetIds"}]}]
    }
    assert variables["CONTAINER"] == "database-user"
    assert variables["STREAMS"] == "rotation/database-user/"
    assert variables["USER_SUFFIX"] == "_clone"  # APP_app and APP_app_clone take turns
    assert json.loads(variables["PASSWORD_RULES"]) == {
        "PasswordLength": 32,
        "ExcludeCharacters": "\"@/\\'`",
    }
    assert variables["SERVICES"] == "web,worker,scheduler"  # every process is a service
    assert variables["CLUSTER"] == {"Ref": "ClusterName"}
    assert "VpcConfig" not in function  # it calls AWS APIs only; the task reaches MySQL
    assert function["Timeout"] == 900


def test_the_release_step_still_sets_the_current_users_password(dev) -> None:
    release = dev["release-phase.json"]["Resources"]["ReleaseTaskDefinition"]["Properties"]
    step = next(c for c in release["ContainerDefinitions"] if c["Name"] == "database-user")
    secrets = {s["Name"]: s["ValueFrom"]["Fn::Sub"] for s in step["Secrets"]}
    assert secrets["APP_USERNAME"] == "${DatabaseAppSecretArn}:username::"
    assert step["Command"] == [USER_SETUP_SCRIPT]


def test_the_master_secret_rotates_on_the_same_schedule_never_during_a_deploy(dev) -> None:
    resources = dev["rotation.json"]["Resources"]
    rotation = resources["DatabaseSecretRotation"]
    assert rotation["Properties"] == {
        "SecretId": MASTER_SECRET,
        "RotationLambdaARN": {"Fn::GetAtt": ["MasterRotator", "Arn"]},
        "RotationRules": {"AutomaticallyAfterDays": 30},
        "RotateImmediatelyOnUpdate": False,
    }
    assert rotation["DependsOn"] == ["MasterRotatorInvokedBySecretsManager"]
    permission = resources["MasterRotatorInvokedBySecretsManager"]["Properties"]
    assert permission["FunctionName"] == {"Fn::GetAtt": ["MasterRotator", "Arn"]}
    assert permission["SourceArn"] == MASTER_SECRET
    assert permission["SourceAccount"] == {"Ref": "AWS::AccountId"}


def test_rotation_days_sets_both_schedules(tmp_path: Path) -> None:
    rotation = with_rotation_days(tmp_path, 7)["rotation.json"]["Resources"]
    for schedule in ("DatabaseAppSecretRotation", "DatabaseSecretRotation"):
        assert rotation[schedule]["Properties"]["RotationRules"] == {"AutomaticallyAfterDays": 7}


def test_the_master_rotator_may_only_touch_the_master_secret_and_its_own_task(dev) -> None:
    resources = dev["rotation.json"]["Resources"]
    allowed = {
        action: statement
        for statement in statements(resources["MasterRotatorRole"])
        for action in statement["Action"]
    }
    for action in (
        "secretsmanager:DescribeSecret",
        "secretsmanager:GetSecretValue",
        "secretsmanager:PutSecretValue",
        "secretsmanager:UpdateSecretVersionStage",
    ):
        assert allowed[action]["Resource"] == [MASTER_SECRET]
    assert allowed["ecs:RunTask"]["Resource"] == [
        {"Fn::Sub": f"{TASK_DEFINITION_ARN}/example-dev-masterrotation:*"}
    ]
    assert "ecs:UpdateService" not in allowed  # a master rotation restarts nothing
    assert not any(
        "rds:" in action or action == "secretsmanager:RotateSecret" for action in allowed
    )
    stars = [a for a, s in allowed.items() if "*" in s["Resource"]]
    assert stars == ["secretsmanager:GetRandomPassword"]
    assert allowed["logs:PutLogEvents"]["Resource"] == [
        {"Fn::GetAtt": ["MasterRotatorLogGroup", "Arn"]}
    ]
    variables = resources["MasterRotator"]["Properties"]["Environment"]["Variables"]
    assert variables["RUN_TASK"]["Fn::Sub"][1]["TaskDefinition"] == {
        "Ref": "MasterRotationTaskDefinition"
    }
    assert variables["CONTAINER"] == "database-master"
    assert "SERVICES" not in variables and "USER_SUFFIX" not in variables


def test_the_app_rotator_may_restart_exactly_the_apps_services(dev) -> None:
    allowed = {
        action: statement
        for statement in statements(dev["rotation.json"]["Resources"]["RotatorRole"])
        for action in statement["Action"]
    }
    service = "arn:${AWS::Partition}:ecs:${AWS::Region}:${AWS::AccountId}:service/${ClusterName}"
    assert allowed["ecs:UpdateService"]["Resource"] == [
        {"Fn::Sub": f"{service}/{name}"} for name in ("web", "worker", "scheduler")
    ]
    services = {
        resource["Properties"]["ServiceName"]
        for name, template in dev.items()
        for resource in resources_of_type(template, "AWS::ECS::Service").values()
    }
    assert services == {"web", "worker", "scheduler"}  # the names those ARNs rely on


def test_the_master_task_reads_the_masters_current_and_pending_passwords(dev) -> None:
    resources = dev["rotation.json"]["Resources"]
    task = resources["MasterRotationTaskDefinition"]["Properties"]
    (container,) = task["ContainerDefinitions"]
    assert container["Name"] == "database-master"
    assert container["Essential"] is True
    secrets = {s["Name"]: s["ValueFrom"]["Fn::Sub"] for s in container["Secrets"]}
    assert secrets == {
        "MASTER_USERNAME": "${DatabaseSecretArn}:username::",
        "MASTER_PASSWORD": "${DatabaseSecretArn}:password::",
        "PENDING_PASSWORD": "${DatabaseSecretArn}:password:AWSPENDING:",
    }
    assert container["Command"] == [MASTER_SCRIPT]
    assert "ALTER USER CURRENT_USER() IDENTIFIED BY" in MASTER_SCRIPT
    assert container["User"] == "999:999" and container["ReadonlyRootFilesystem"] is True
    assert container["LogConfiguration"]["Options"]["awslogs-stream-prefix"] == "rotation"
    # the same roles as the app task: they read the master secret, pass to ECS only
    assert task["ExecutionRoleArn"] == {"Fn::GetAtt": ["RotationExecutionRole", "Arn"]}
