"""The rotation Lambdas of the database secrets, as Secrets Manager drives them: one call per
step, AWS answers shaped like the documented ones (Stubber). What a user relies on: the app
user's pending version names the other user with a fresh password and keeps the connection
keys; the master's keeps its name with a fresh password; the database is changed only through
each one's rotation task; a failing task fails the rotation with its exit code and log lines;
once the app user's new version is current every service starts a new deployment (never after
the master's); and a repeated step changes nothing."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from botocore.stub import Stubber

from factorstack_lambda import master_rotation, rotation, rotation_steps

REGION = "eu-west-1"
ACCOUNT = "123456789012"
SECRET = f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:DatabaseAppSecret-AbCdEf"
CURRENT = "11111111-1111-4111-8111-111111111111"
TOKEN = "22222222-2222-4222-8222-222222222222"
CLUSTER = "example-dev-cluster"
TASK_DEFINITION = f"arn:aws:ecs:{REGION}:{ACCOUNT}:task-definition/example-dev-rotation:3"
TASK = f"arn:aws:ecs:{REGION}:{ACCOUNT}:task/{CLUSTER}/0123456789abcdef0123456789abcdef"
LOG_GROUP = "/example/dev/web-1a2b3c4d"
RUN_TASK = {  # RunTask's arguments, as the rotation stack writes them
    "cluster": CLUSTER,
    "taskDefinition": TASK_DEFINITION,
    "launchType": "FARGATE",
    "startedBy": "factorstack-rotation",
    "networkConfiguration": {
        "awsvpcConfiguration": {"subnets": ["subnet-1", "subnet-2"], "securityGroups": ["sg-1"]}
    },
}
PASSWORD_RULES = {"PasswordLength": 32, "ExcludeCharacters": "\"@/\\'`"}
SERVICES = ("web", "worker")
ENVIRONMENT = {  # what the rotation stack gives the app user's function
    "RUN_TASK": json.dumps(RUN_TASK),
    "CONTAINER": "database-user",
    "LOG_GROUP": LOG_GROUP,
    "STREAMS": "rotation/database-user/",
    "PASSWORD_RULES": json.dumps(PASSWORD_RULES),
    "CLUSTER": CLUSTER,
    "SERVICES": ",".join(SERVICES),
    "USER_SUFFIX": "_clone",
}
CURRENT_VALUE = {
    "username": "example_app",
    "password": "old-password",
    "dbname": "example",
    "engine": "mysql",
    "host": "example-dev.abc.eu-west-1.rds.amazonaws.com",
    "port": 3306,
    "dbInstanceIdentifier": "example-dev-db",
}


class Clients:
    """Real botocore clients answered by Stubbers, handed out by a patched boto3.client."""

    def __init__(self) -> None:
        self.clients = {
            name: boto3.client(
                name,
                region_name=REGION,
                aws_access_key_id="testing",
                aws_secret_access_key="testing",
            )
            for name in ("secretsmanager", "ecs", "logs")
        }
        self.stubs = {name: Stubber(client) for name, client in self.clients.items()}
        for stub in self.stubs.values():
            stub.activate()

    def verify(self) -> None:
        for stub in self.stubs.values():
            stub.assert_no_pending_responses()


class Context:
    def __init__(self, remaining_ms: int = 800_000) -> None:
        self.remaining_ms = remaining_ms

    def get_remaining_time_in_millis(self) -> int:
        return self.remaining_ms


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Clients:
    clients = Clients()
    monkeypatch.setattr(boto3, "client", lambda name, *a, **k: clients.clients[name])
    monkeypatch.setattr(rotation_steps.time, "sleep", lambda seconds: None)
    for name, value in ENVIRONMENT.items():
        monkeypatch.setenv(name, value)
    return clients


def event(step: str) -> dict[str, Any]:
    return {"Step": step, "SecretId": SECRET, "ClientRequestToken": TOKEN}


def versions(aws: Clients, stages: dict[str, list[str]]) -> None:
    aws.stubs["secretsmanager"].add_response(
        "describe_secret",
        {
            "ARN": SECRET,
            "Name": "DatabaseAppSecret",
            "RotationEnabled": True,
            "VersionIdsToStages": stages,
        },
        {"SecretId": SECRET},
    )


PENDING = {CURRENT: ["AWSCURRENT"], TOKEN: ["AWSPENDING"]}


def current_value(aws: Clients, value: dict[str, Any]) -> None:
    aws.stubs["secretsmanager"].add_response(
        "get_secret_value",
        {
            "ARN": SECRET,
            "Name": "DatabaseAppSecret",
            "VersionId": CURRENT,
            "SecretString": json.dumps(value),
            "VersionStages": ["AWSCURRENT"],
        },
        {"SecretId": SECRET, "VersionStage": "AWSCURRENT"},
    )


def no_pending_value_yet(aws: Clients) -> None:
    aws.stubs["secretsmanager"].add_client_error(
        "get_secret_value",
        service_error_code="ResourceNotFoundException",
        service_message="Secrets Manager can't find the specified secret value for VersionId",
        expected_params={"SecretId": SECRET, "VersionId": TOKEN, "VersionStage": "AWSPENDING"},
    )


def create_puts(aws: Clients, current: dict[str, Any], username: str) -> None:
    versions(aws, PENDING)
    no_pending_value_yet(aws)
    current_value(aws, current)
    aws.stubs["secretsmanager"].add_response(
        "get_random_password",
        {"RandomPassword": "N3w-Pa55word;with#signs(32chars)"},
        PASSWORD_RULES,
    )
    aws.stubs["secretsmanager"].add_response(
        "put_secret_value",
        {
            "ARN": SECRET,
            "Name": "DatabaseAppSecret",
            "VersionId": TOKEN,
            "VersionStages": ["AWSPENDING"],
        },
        {
            "SecretId": SECRET,
            "ClientRequestToken": TOKEN,
            "SecretString": json.dumps(
                {**current, "username": username, "password": "N3w-Pa55word;with#signs(32chars)"}
            ),
            "VersionStages": ["AWSPENDING"],
        },
    )


def test_create_names_the_clone_user_with_a_new_password_and_keeps_the_other_keys(aws) -> None:
    create_puts(aws, CURRENT_VALUE, username="example_app_clone")
    assert rotation.handler(event("createSecret"), Context()) == "pending for example_app_clone"
    aws.verify()


def test_create_after_the_clone_turns_back_to_the_first_user(aws) -> None:
    clone = {**CURRENT_VALUE, "username": "example_app_clone"}
    create_puts(aws, clone, username="example_app")
    assert rotation.handler(event("createSecret"), Context()) == "pending for example_app"
    aws.verify()


def test_create_again_leaves_an_existing_pending_version_alone(aws) -> None:
    versions(aws, PENDING)
    aws.stubs["secretsmanager"].add_response(
        "get_secret_value",
        {"ARN": SECRET, "VersionId": TOKEN, "SecretString": "{}", "VersionStages": ["AWSPENDING"]},
        {"SecretId": SECRET, "VersionId": TOKEN, "VersionStage": "AWSPENDING"},
    )
    assert rotation.handler(event("createSecret"), Context()) == "already pending"
    aws.verify()  # no new password, no put


def run_task_answers(aws: Clients, exit_code: int | None, stopped_reason: str = "") -> None:
    versions(aws, PENDING)
    aws.stubs["ecs"].add_response(
        "run_task",
        {"tasks": [{"taskArn": TASK, "lastStatus": "PROVISIONING"}], "failures": []},
        RUN_TASK,
    )
    aws.stubs["ecs"].add_response(
        "describe_tasks",
        {"tasks": [{"taskArn": TASK, "lastStatus": "RUNNING", "containers": []}]},
        {"cluster": CLUSTER, "tasks": [TASK]},
    )
    container: dict[str, Any] = {"name": "database-user", "lastStatus": "STOPPED"}
    if exit_code is not None:
        container["exitCode"] = exit_code
    aws.stubs["ecs"].add_response(
        "describe_tasks",
        {
            "tasks": [
                {
                    "taskArn": TASK,
                    "lastStatus": "STOPPED",
                    "containers": [container],
                    "stoppedReason": stopped_reason or "Essential container in task exited",
                }
            ]
        },
        {"cluster": CLUSTER, "tasks": [TASK]},
    )


def test_set_runs_the_rotation_task_and_waits_for_it(aws) -> None:
    run_task_answers(aws, exit_code=0)
    assert rotation.handler(event("setSecret"), Context()) == "user set"
    aws.verify()


def test_set_fails_with_the_steps_exit_code_and_last_log_lines(aws) -> None:
    run_task_answers(aws, exit_code=1)
    aws.stubs["logs"].add_response(
        "get_log_events",
        {
            "events": [
                {"timestamp": 1, "message": "ERROR 1045 (28000): Access denied\n"},
                {"timestamp": 2, "message": "for user 'app'@'10.0.3.7'"},
            ]
        },
        {
            "logGroupName": LOG_GROUP,
            "logStreamName": "rotation/database-user/0123456789abcdef0123456789abcdef",
            "limit": 20,
        },
    )
    with pytest.raises(RuntimeError) as failed:
        rotation.handler(event("setSecret"), Context())
    assert str(failed.value) == (
        "database-user step exited 1; last log lines: ERROR 1045 (28000): Access denied | "
        "for user 'app'@'10.0.3.7'"
    )
    aws.verify()


def test_a_task_that_never_ran_its_step_fails_with_the_stop_reason(aws) -> None:
    run_task_answers(aws, exit_code=None, stopped_reason="CannotPullContainerError: timeout")
    aws.stubs["logs"].add_client_error(
        "get_log_events", service_error_code="ResourceNotFoundException"
    )
    with pytest.raises(RuntimeError, match="database-user step stopped: CannotPullContainer"):
        rotation.handler(event("setSecret"), Context())


def test_a_task_that_runs_past_the_lambdas_time_is_stopped(aws) -> None:
    versions(aws, PENDING)
    aws.stubs["ecs"].add_response("run_task", {"tasks": [{"taskArn": TASK}], "failures": []})
    aws.stubs["ecs"].add_response(
        "describe_tasks", {"tasks": [{"taskArn": TASK, "lastStatus": "RUNNING"}]}
    )
    aws.stubs["ecs"].add_response(
        "stop_task",
        {"task": {"taskArn": TASK}},
        {"cluster": CLUSTER, "task": TASK, "reason": "rotation timed out"},
    )
    with pytest.raises(RuntimeError, match="ran out of time"):
        rotation.handler(event("setSecret"), Context(remaining_ms=10_000))
    aws.verify()


def test_test_step_does_nothing_because_set_signed_in_as_the_user(aws) -> None:
    versions(aws, PENDING)
    assert rotation.handler(event("testSecret"), Context()) == "tested by setSecret"
    aws.verify()  # no task, no secret read


def stage_moves(aws: Clients) -> None:
    versions(aws, {**PENDING, "00000000-0000-4000-8000-000000000000": ["AWSPREVIOUS"]})
    aws.stubs["secretsmanager"].add_response(
        "update_secret_version_stage",
        {"ARN": SECRET, "Name": "DatabaseAppSecret"},
        {
            "SecretId": SECRET,
            "VersionStage": "AWSCURRENT",
            "MoveToVersionId": TOKEN,
            "RemoveFromVersionId": CURRENT,
        },
    )


def test_finish_moves_the_current_stage_then_redeploys_every_service(aws) -> None:
    stage_moves(aws)
    for service in SERVICES:
        aws.stubs["ecs"].add_response(
            "update_service",
            {"service": {"serviceName": service, "clusterArn": CLUSTER}},
            {"cluster": CLUSTER, "service": service, "forceNewDeployment": True},
        )
    assert rotation.handler(event("finishSecret"), Context()) == "finished, redeployed"
    aws.verify()  # the stage moved first: Stubber answers in the order the calls are made


def test_no_service_restarts_before_the_new_version_is_current(aws) -> None:
    for step in ("createSecret", "setSecret", "testSecret"):
        versions(aws, {TOKEN: ["AWSCURRENT", "AWSPENDING"]})
        assert rotation.handler(event(step), Context()) == "already current"
    versions(aws, PENDING)
    assert rotation.handler(event("testSecret"), Context()) == "tested by setSecret"
    aws.verify()  # no update_service was stubbed: any call would have failed the test


def test_a_failed_stage_move_restarts_nothing(aws) -> None:
    versions(aws, PENDING)
    aws.stubs["secretsmanager"].add_client_error(
        "update_secret_version_stage", service_error_code="InvalidRequestException"
    )
    with pytest.raises(ClientError, match="InvalidRequestException"):
        rotation.handler(event("finishSecret"), Context())
    aws.verify()


@pytest.mark.parametrize("step", ["createSecret", "setSecret", "finishSecret"])
def test_a_version_already_current_is_left_alone(aws, step) -> None:
    versions(aws, {TOKEN: ["AWSCURRENT", "AWSPENDING"]})
    assert rotation.handler(event(step), Context()) == "already current"
    aws.verify()


def test_a_version_that_is_not_pending_is_refused(aws) -> None:
    versions(aws, {CURRENT: ["AWSCURRENT"], TOKEN: ["AWSPREVIOUS"]})
    with pytest.raises(ValueError, match="is not pending"):
        rotation.handler(event("setSecret"), Context())


def test_the_inlined_handler_is_the_same_code_under_lambdas_4_kb() -> None:
    from factorstack.limits import MAX_INLINE_LAMBDA_CODE_BYTES, WARN_FRACTION
    from factorstack.stacks.release_phase import handler_source
    from factorstack.stacks.rotation import HANDLER_MODULE

    inlined = handler_source(HANDLER_MODULE)
    # under the build's warning line too, so a build stays quiet
    assert len(inlined.encode()) <= MAX_INLINE_LAMBDA_CODE_BYTES * WARN_FRACTION
    namespace: dict[str, Any] = {}
    exec(compile(inlined, "index.py", "exec"), namespace)  # valid Python on its own
    assert callable(namespace["handler"])
    assert '"""' not in inlined and "#" not in inlined


# The master's secret: one user, its password changed in place by its own task.

MASTER_SECRET = f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:DatabaseSecret-GhIjKl"
MASTER_TASK_DEFINITION = (
    f"arn:aws:ecs:{REGION}:{ACCOUNT}:task-definition/example-dev-masterrotation:2"
)
MASTER_ENVIRONMENT = {  # what the rotation stack gives the master's function: no services
    "RUN_TASK": json.dumps({**RUN_TASK, "taskDefinition": MASTER_TASK_DEFINITION}),
    "CONTAINER": "database-master",
    "LOG_GROUP": LOG_GROUP,
    "STREAMS": "rotation/database-master/",
    "PASSWORD_RULES": json.dumps(PASSWORD_RULES),
}
MASTER_VALUE = {**CURRENT_VALUE, "username": "admin", "password": "old-master-password"}


@pytest.fixture
def master(aws: Clients, monkeypatch: pytest.MonkeyPatch) -> Clients:
    for name in ENVIRONMENT:
        monkeypatch.delenv(name)
    for name, value in MASTER_ENVIRONMENT.items():
        monkeypatch.setenv(name, value)
    return aws


def master_event(step: str) -> dict[str, Any]:
    return {"Step": step, "SecretId": MASTER_SECRET, "ClientRequestToken": TOKEN}


def master_versions(aws: Clients, stages: dict[str, list[str]]) -> None:
    aws.stubs["secretsmanager"].add_response(
        "describe_secret",
        {"ARN": MASTER_SECRET, "Name": "DatabaseSecret", "VersionIdsToStages": stages},
        {"SecretId": MASTER_SECRET},
    )


def test_master_create_keeps_the_username_with_a_new_password(master) -> None:
    sm = master.stubs["secretsmanager"]
    master_versions(master, PENDING)
    sm.add_client_error(
        "get_secret_value",
        service_error_code="ResourceNotFoundException",
        expected_params={
            "SecretId": MASTER_SECRET,
            "VersionId": TOKEN,
            "VersionStage": "AWSPENDING",
        },
    )
    sm.add_response(
        "get_secret_value",
        {"ARN": MASTER_SECRET, "VersionId": CURRENT, "SecretString": json.dumps(MASTER_VALUE)},
        {"SecretId": MASTER_SECRET, "VersionStage": "AWSCURRENT"},
    )
    sm.add_response("get_random_password", {"RandomPassword": "Fresh-master;pass#word(32char)"})
    sm.add_response(
        "put_secret_value",
        {"ARN": MASTER_SECRET, "VersionId": TOKEN},
        {
            "SecretId": MASTER_SECRET,
            "ClientRequestToken": TOKEN,
            "SecretString": json.dumps(
                {**MASTER_VALUE, "password": "Fresh-master;pass#word(32char)"}
            ),
            "VersionStages": ["AWSPENDING"],
        },
    )
    assert master_rotation.handler(master_event("createSecret"), Context()) == "pending for admin"
    master.verify()


def test_master_set_runs_the_master_task_and_reads_its_log_on_failure(master) -> None:
    master_versions(master, PENDING)
    master.stubs["ecs"].add_response(
        "run_task",
        {"tasks": [{"taskArn": TASK}], "failures": []},
        {**RUN_TASK, "taskDefinition": MASTER_TASK_DEFINITION},
    )
    stopped = {"name": "database-master", "lastStatus": "STOPPED", "exitCode": 1}
    master.stubs["ecs"].add_response(
        "describe_tasks",
        {"tasks": [{"taskArn": TASK, "lastStatus": "STOPPED", "containers": [stopped]}]},
        {"cluster": CLUSTER, "tasks": [TASK]},
    )
    master.stubs["logs"].add_response(
        "get_log_events",
        {"events": [{"timestamp": 1, "message": "ERROR 1045 (28000): Access denied"}]},
        {
            "logGroupName": LOG_GROUP,
            "logStreamName": "rotation/database-master/0123456789abcdef0123456789abcdef",
            "limit": 20,
        },
    )
    with pytest.raises(RuntimeError, match="^database-master step exited 1; last log lines: ERROR"):
        master_rotation.handler(master_event("setSecret"), Context())
    master.verify()


def test_master_finish_moves_the_stage_and_restarts_no_service(master) -> None:
    master_versions(master, PENDING)
    master.stubs["secretsmanager"].add_response(
        "update_secret_version_stage",
        {"ARN": MASTER_SECRET},
        {
            "SecretId": MASTER_SECRET,
            "VersionStage": "AWSCURRENT",
            "MoveToVersionId": TOKEN,
            "RemoveFromVersionId": CURRENT,
        },
    )
    assert master_rotation.handler(master_event("finishSecret"), Context()) == "finished"
    master.verify()  # no update_service stubbed: a call would have failed


def test_the_master_task_changes_its_own_password_and_signs_in_with_it() -> None:
    from factorstack.stacks.rotation import MASTER_SCRIPT

    pending_first = MASTER_SCRIPT.index('options "$PENDING_PASSWORD"')
    alter = MASTER_SCRIPT.index("ALTER USER CURRENT_USER() IDENTIFIED BY")
    current = MASTER_SCRIPT.index('options "$MASTER_PASSWORD"')
    # a retry that finds the new password already set stops before changing anything
    assert pending_first < MASTER_SCRIPT.index("exit 0") < current < alter
    assert MASTER_SCRIPT.rindex('options "$PENDING_PASSWORD"') > alter
    assert "SELECT CURRENT_USER();" in MASTER_SCRIPT[alter:]


@pytest.mark.parametrize("module", ["rotation.py", "master_rotation.py"])
def test_each_inlined_handler_is_one_file_under_lambdas_4_kb(module: str) -> None:
    from factorstack.limits import MAX_INLINE_LAMBDA_CODE_BYTES, WARN_FRACTION
    from factorstack.stacks.release_phase import handler_source

    inlined = handler_source(module)
    assert len(inlined.encode()) <= MAX_INLINE_LAMBDA_CODE_BYTES * WARN_FRACTION
    assert "factorstack_lambda" not in inlined  # the shared steps are inlined, not imported
    assert inlined.count("import boto3") == 1
    namespace: dict[str, Any] = {}
    exec(compile(inlined, "index.py", "exec"), namespace)
    assert callable(namespace["handler"]) and callable(namespace["rotate"])
