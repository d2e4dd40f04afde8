"""The release phase's custom-resource handler, as Lambda runs it: AWS answers shaped like the
documented ones (Stubber), CloudFormation's response URL served on 127.0.0.1."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from factorstack_lambda import release_phase

REGION = "eu-west-1"
ACCOUNT = "123456789012"
CLUSTER = "example-dev-cluster"
TASK_DEFINITION = f"arn:aws:ecs:{REGION}:{ACCOUNT}:task-definition/example-dev-release:7"
TASK = f"arn:aws:ecs:{REGION}:{ACCOUNT}:task/{CLUSTER}/0123456789abcdef0123456789abcdef"
STACK_ID = f"arn:aws:cloudformation:{REGION}:{ACCOUNT}:stack/example-dev-ReleaseStack-1/uuid"
FUNCTION = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:example-dev-ReleaseRunner"
PROPERTIES = {
    "ServiceToken": FUNCTION,
    "Cluster": CLUSTER,
    "TaskDefinition": TASK_DEFINITION,
    "Container": "web",
    "Steps": ["database-user", "web"],  # the app's database user first, then the release
    "AppSecretVersion": "288a04e0affe81be",
    "Subnets": ["subnet-1", "subnet-2"],
    "SecurityGroup": "sg-1",
    "LogGroup": "/example/dev/web-1a2b3c4d",
    "StreamPrefix": "release",
    "TimeoutSeconds": "900",  # CloudFormation passes every property as a string
}


class Responses:
    """CloudFormation's pre-signed response URL, played by a server on 127.0.0.1."""

    def __init__(self) -> None:
        self.bodies: list[dict[str, Any]] = []
        received = self.bodies

        class Handler(BaseHTTPRequestHandler):
            def do_PUT(self) -> None:  # noqa: N802 - http.server's naming
                length = int(self.headers["Content-Length"])
                received.append(json.loads(self.rfile.read(length)))
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = HTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.url = f"http://127.0.0.1:{self.server.server_port}/response?signature=x"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


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
            for name in ("cloudformation", "ecs", "logs", "lambda")
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
        self.invoked_function_arn = FUNCTION

    def get_remaining_time_in_millis(self) -> int:
        return self.remaining_ms


@pytest.fixture
def responses() -> Iterator[Responses]:
    served = Responses()
    yield served
    served.close()


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Clients:
    clients = Clients()
    monkeypatch.setattr(boto3, "client", lambda name, *a, **k: clients.clients[name])
    monkeypatch.setattr(release_phase.time, "sleep", lambda seconds: None)
    return clients


def event(request: str, responses: Responses, **extra: Any) -> dict[str, Any]:
    return {
        "RequestType": request,
        "ServiceToken": FUNCTION,
        "ResponseURL": responses.url,
        "StackId": STACK_ID,
        "RequestId": "request-1",
        "LogicalResourceId": "ReleasePhase",
        "ResourceType": "Custom::ReleasePhase",
        "ResourceProperties": dict(PROPERTIES),
        **extra,
    }


def stack_status(aws: Clients, status: str) -> None:
    aws.stubs["cloudformation"].add_response(
        "describe_stacks",
        {
            "Stacks": [
                {
                    "StackId": STACK_ID,
                    "StackName": "example-dev-ReleaseStack-1",
                    "CreationTime": "2026-11-26T12:00:00Z",
                    "StackStatus": status,
                }
            ]
        },
        {"StackName": STACK_ID},
    )


def task_started(aws: Clients) -> None:
    aws.stubs["ecs"].add_response(
        "run_task",
        {"tasks": [{"taskArn": TASK, "lastStatus": "PROVISIONING"}], "failures": []},
        {
            "cluster": CLUSTER,
            "taskDefinition": TASK_DEFINITION,
            "launchType": "FARGATE",
            "startedBy": "factorstack",
            "networkConfiguration": {
                "awsvpcConfiguration": {
                    "subnets": ["subnet-1", "subnet-2"],
                    "securityGroups": ["sg-1"],
                }
            },
        },
    )


def task_is(
    aws: Clients, status: str, setup: dict[str, Any] | None = None, **container: Any
) -> None:
    """The task as DescribeTasks shows it; the user-setup step exited 0 unless `setup` says
    otherwise (or the task is still running)."""
    if setup is None:
        setup = {"exitCode": 0} if status == "STOPPED" else {}
    task: dict[str, Any] = {
        "taskArn": TASK,
        "lastStatus": status,
        "containers": [
            {"name": "database-user", "lastStatus": status, **setup},
            {"name": "web", "lastStatus": status, **container},
        ],
    }
    if status == "STOPPED":
        task["stoppedReason"] = "Essential container in task exited"
    aws.stubs["ecs"].add_response(
        "describe_tasks", {"tasks": [task], "failures": []}, {"cluster": CLUSTER, "tasks": [TASK]}
    )


def log_lines(aws: Clients, *lines: str, container: str = "web") -> None:
    aws.stubs["logs"].add_response(
        "get_log_events",
        {"events": [{"timestamp": 1, "message": line, "ingestionTime": 2} for line in lines]},
        {
            "logGroupName": PROPERTIES["LogGroup"],
            "logStreamName": f"release/{container}/0123456789abcdef0123456789abcdef",
            "limit": 20,
        },
    )


def test_create_runs_the_release_task_once_and_answers_success(aws, responses) -> None:
    stack_status(aws, "CREATE_IN_PROGRESS")
    task_started(aws)
    task_is(aws, "RUNNING")
    task_is(aws, "STOPPED", exitCode=0)
    assert release_phase.handler(event("Create", responses), Context()) == "SUCCESS"
    aws.verify()
    (answer,) = responses.bodies
    assert answer == {
        "Status": "SUCCESS",
        "Reason": "release task exited 0",
        "PhysicalResourceId": TASK_DEFINITION,
        "StackId": STACK_ID,
        "RequestId": "request-1",
        "LogicalResourceId": "ReleasePhase",
    }


def test_a_failing_migration_fails_the_deploy_with_its_exit_code_and_log(aws, responses) -> None:
    stack_status(aws, "UPDATE_IN_PROGRESS")
    task_started(aws)
    task_is(aws, "STOPPED", exitCode=1)
    log_lines(
        aws,
        '{"level":"info","message":"migrating 2026_11_26_add_orders"}',
        "SQLSTATE[42S01]: Base table or view already exists: 1050 Table 'orders' exists\n",
    )
    update = event("Update", responses, OldResourceProperties=dict(PROPERTIES))
    assert release_phase.handler(update, Context()) == "FAILED"
    aws.verify()
    (answer,) = responses.bodies
    assert answer["Status"] == "FAILED"
    assert answer["Reason"] == (
        'release task exited 1; last log lines: {"level":"info","message":"migrating '
        '2026_11_26_add_orders"} | SQLSTATE[42S01]: Base table or view already exists: 1050 '
        "Table 'orders' exists"
    )


def test_a_failing_database_user_step_fails_the_deploy_with_its_own_code_and_log(
    aws, responses
) -> None:
    """The release command never starts (it waits for SUCCESS): the step's failure is the root
    cause, read from the step's own log stream."""
    stack_status(aws, "CREATE_IN_PROGRESS")
    task_started(aws)
    task_is(
        aws,
        "STOPPED",
        setup={"exitCode": 1},
        reason="dependency condition SUCCESS of container database-user not met",
    )
    log_lines(
        aws,
        "ERROR 2026 (HY000): SSL connection error: error:0A000086",
        container="database-user",
    )
    assert release_phase.handler(event("Create", responses), Context()) == "FAILED"
    aws.verify()
    assert responses.bodies[0]["Reason"] == (
        "database-user step exited 1; last log lines: ERROR 2026 (HY000): SSL connection "
        "error: error:0A000086"
    )


def test_a_database_user_step_that_never_ran_says_why(aws, responses) -> None:
    stack_status(aws, "CREATE_IN_PROGRESS")
    task_started(aws)
    task_is(
        aws,
        "STOPPED",
        setup={"reason": "CannotPullContainerError: public.ecr.aws/docker/library/mysql:8.4"},
    )
    log_lines(aws, container="database-user")
    assert release_phase.handler(event("Create", responses), Context()) == "FAILED"
    assert responses.bodies[0]["Reason"] == (
        "database-user step stopped with no exit code: CannotPullContainerError: "
        "public.ecr.aws/docker/library/mysql:8.4; last log lines: (none)"
    )


def test_without_a_release_command_the_database_user_step_alone_decides(aws, responses) -> None:
    stack_status(aws, "CREATE_IN_PROGRESS")
    task_started(aws)
    aws.stubs["ecs"].add_response(
        "describe_tasks",
        {
            "tasks": [
                {
                    "taskArn": TASK,
                    "lastStatus": "STOPPED",
                    "containers": [{"name": "database-user", "exitCode": 0}],
                }
            ],
            "failures": [],
        },
        {"cluster": CLUSTER, "tasks": [TASK]},
    )
    alone = event("Create", responses)
    del alone["ResourceProperties"]["Container"]
    alone["ResourceProperties"]["Steps"] = ["database-user"]
    assert release_phase.handler(alone, Context()) == "SUCCESS"
    aws.verify()


def test_a_task_that_never_ran_says_why(aws, responses) -> None:
    stack_status(aws, "CREATE_IN_PROGRESS")
    task_started(aws)
    task_is(aws, "STOPPED", reason="CannotPullContainerError: pull image manifest has been retried")
    log_lines(aws)
    assert release_phase.handler(event("Create", responses), Context()) == "FAILED"
    assert responses.bodies[0]["Reason"] == (
        "release task stopped with no exit code: CannotPullContainerError: pull image manifest "
        "has been retried; last log lines: (none)"
    )


def test_a_task_that_did_not_start_fails_at_once(aws, responses) -> None:
    stack_status(aws, "CREATE_IN_PROGRESS")
    aws.stubs["ecs"].add_response(
        "run_task", {"tasks": [], "failures": [{"arn": TASK_DEFINITION, "reason": "MISSING"}]}
    )
    assert release_phase.handler(event("Create", responses), Context()) == "FAILED"
    assert responses.bodies[0]["Reason"].startswith(
        "release phase: the release task did not start: "
    )
    assert "MISSING" in responses.bodies[0]["Reason"]


def test_delete_runs_nothing(aws, responses) -> None:
    assert release_phase.handler(event("Delete", responses), Context()) == "SUCCESS"
    aws.verify()  # not even the stack's status was read
    assert responses.bodies[0]["Reason"] == "nothing to run"


def test_a_rollback_never_re_runs_the_old_release_command(aws, responses) -> None:
    stack_status(aws, "UPDATE_ROLLBACK_IN_PROGRESS")
    update = event("Update", responses, OldResourceProperties=dict(PROPERTIES))
    assert release_phase.handler(update, Context()) == "SUCCESS"
    aws.verify()  # no run_task was stubbed: calling it would have failed
    assert responses.bodies[0]["Reason"] == "nothing to run"


def test_near_lambdas_time_limit_the_wait_is_handed_to_a_new_invocation(aws, responses) -> None:
    stack_status(aws, "UPDATE_IN_PROGRESS")
    task_started(aws)
    task_is(aws, "RUNNING")
    handed: dict[str, Any] = {}

    def hand_over(params: dict[str, Any], **_: Any) -> None:
        handed.update(json.loads(params["Payload"]))

    aws.clients["lambda"].meta.events.register("before-parameter-build.lambda.Invoke", hand_over)
    aws.stubs["lambda"].add_response("invoke", {"StatusCode": 202})
    assert release_phase.handler(event("Update", responses), Context(remaining_ms=30_000)) is None
    aws.verify()
    assert responses.bodies == []  # CloudFormation keeps waiting for the next invocation
    assert handed["TaskArn"] == TASK and handed["Deadline"] > 0

    # The next invocation carries on with the same task: no second run_task.
    stack_status(aws, "UPDATE_IN_PROGRESS")
    task_is(aws, "STOPPED", exitCode=0)
    assert release_phase.handler(handed, Context()) == "SUCCESS"
    aws.verify()


def test_a_release_that_runs_over_its_time_is_stopped_and_fails(aws, responses) -> None:
    stack_status(aws, "UPDATE_IN_PROGRESS")
    overdue = event("Update", responses, TaskArn=TASK, Deadline=0)
    task_is(aws, "RUNNING")
    aws.stubs["ecs"].add_response(
        "stop_task",
        {"task": {"taskArn": TASK}},
        {"cluster": CLUSTER, "task": TASK, "reason": "timed out"},
    )
    assert release_phase.handler(overdue, Context()) == "FAILED"
    aws.verify()
    assert responses.bodies[0]["Reason"] == "release task ran over 900 s"


def test_the_inlined_handler_is_the_same_code_under_lambdas_4_kb() -> None:
    from factorstack.limits import MAX_INLINE_LAMBDA_CODE_BYTES
    from factorstack.stacks.release_phase import handler_source

    inlined = handler_source()
    assert len(inlined.encode()) <= MAX_INLINE_LAMBDA_CODE_BYTES
    namespace: dict[str, Any] = {}
    exec(compile(inlined, "index.py", "exec"), namespace)  # it is valid Python on its own
    assert callable(namespace["handler"])
    assert '"""' not in inlined and "#" not in inlined.replace("'#'", "")
