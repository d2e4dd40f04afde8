"""The day-two gateway calls on Stubber-driven clients: each request is the one AWS documents,
and answers shaped like AWS's (botocore checks both against the service models) are read
right: ECS services, task definitions and tasks, CloudWatch Logs, alarms, scaling targets."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from factorstack.deploy.decide.log_events import LogEvent
from factorstack.deploy.decide.services import (
    OneOff,
    Service,
    TaskDefinition,
    TaskNetwork,
    TaskState,
)
from factorstack.deploy.decide.status import AlarmState, ScalingBounds
from factorstack.deploy.status import run_status
from factorstack.errors import DeployError
from tests.support.aws_answers import (
    ACCOUNT,
    CLUSTER,
    T0,
    client_error,
    ecs_service,
    ecs_task,
    ecs_task_definition,
    filtered_events,
    metric_alarm,
    scalable_target,
    stack,
    task_arn,
    task_definition_arn,
)
from tests.support.deploying import context
from tests.support.fixture_build import FixtureProject
from tests.support.stubbed_aws import Stubs

WEB_TD = task_definition_arn("example-dev-web")
GROUP = "/example/dev/web-1a2b"
IMAGE = f"{ACCOUNT}.dkr.ecr.eu-west-1.amazonaws.com/example/web@sha256:" + "c" * 64
T0_MS = int(T0.timestamp() * 1000)


def test_services_are_read_in_chunks_of_ten_and_missing_ones_left_out() -> None:
    names = [f"svc{index}" for index in range(11)]
    with Stubs() as stubs:
        first = {
            "services": [ecs_service("svc0", WEB_TD, (3, 2, 1), "IN_PROGRESS", ["a1", "a2"])],
            "failures": [
                {
                    "arn": f"arn:aws:ecs:eu-west-1:{ACCOUNT}:service/{CLUSTER}/svc1",
                    "reason": "MISSING",
                }
            ],
        }
        stubs.ecs_stub.add_response(
            "describe_services", first, {"cluster": CLUSTER, "services": names[:10]}
        )
        stubs.ecs_stub.add_response(
            "describe_services",
            {"services": [ecs_service("svc10", WEB_TD)], "failures": []},
            {"cluster": CLUSTER, "services": names[10:]},
        )
        found = stubs.gateway().services(CLUSTER, names)
        stubs.verify()
    assert list(found) == ["svc0", "svc10"]
    assert found["svc0"] == Service(
        name="svc0",
        task_definition=WEB_TD,
        desired=3,
        running=2,
        pending=1,
        rollout_state="IN_PROGRESS",  # the PRIMARY deployment's, not the one it replaces
        rollout_reason="ECS deployment ecs-svc/1111 in_progress.",
        network=TaskNetwork(("subnet-0a1", "subnet-0b2"), ("sg-0tasks",), "DISABLED"),
        alarm_names=("a1", "a2"),
    )


def test_a_task_definition_gives_its_container_image_and_awslogs_target() -> None:
    with Stubs() as stubs:
        stubs.ecs_stub.add_response(
            "describe_task_definition",
            ecs_task_definition("example-dev-web", "web", IMAGE, GROUP),
            {"taskDefinition": WEB_TD},
        )
        found = stubs.gateway().task_definition(WEB_TD)
    assert found == TaskDefinition(WEB_TD, "web", IMAGE, GROUP, "web")
    assert found.log_stream(task_arn("abc123")) == "web/web/abc123"


def test_the_processs_own_container_is_chosen_by_its_name() -> None:
    answer = ecs_task_definition("example-dev-web", "web", IMAGE, GROUP)
    containers = answer["taskDefinition"]["containerDefinitions"]
    containers.insert(0, {**containers[0], "name": "log-router", "image": "fluent-bit:3"})
    with Stubs() as stubs:
        stubs.ecs_stub.add_response("describe_task_definition", answer)
        stubs.ecs_stub.add_response("describe_task_definition", answer)
        gateway = stubs.gateway()
        assert gateway.task_definition(WEB_TD, "web").image == IMAGE
        assert gateway.task_definition(WEB_TD).container == "log-router"  # no name: the first


ONE_OFF = OneOff(
    cluster=CLUSTER,
    task_definition=WEB_TD,
    container="web",
    command=("php", "artisan", "migrate:status"),
    network=TaskNetwork(("subnet-0a1", "subnet-0b2"), ("sg-0tasks",)),
)
RUN_TASK_REQUEST: dict[str, Any] = {
    "cluster": CLUSTER,
    "taskDefinition": WEB_TD,
    "launchType": "FARGATE",
    "count": 1,
    "startedBy": "factorstack-run",
    "networkConfiguration": {
        "awsvpcConfiguration": {
            "subnets": ["subnet-0a1", "subnet-0b2"],
            "securityGroups": ["sg-0tasks"],
            "assignPublicIp": "DISABLED",
        }
    },
    "overrides": {
        "containerOverrides": [{"name": "web", "command": ["php", "artisan", "migrate:status"]}]
    },
    "enableECSManagedTags": True,
    "propagateTags": "TASK_DEFINITION",
}


def test_run_task_starts_one_fargate_task_with_the_command_overridden() -> None:
    with Stubs() as stubs:
        started = {"tasks": [ecs_task("abc123", "example-dev-web", "web", "PROVISIONING")]}
        stubs.ecs_stub.add_response("run_task", started, RUN_TASK_REQUEST)
        assert stubs.gateway().run_task(ONE_OFF) == task_arn("abc123")
        stubs.verify()


def test_run_task_that_starts_nothing_says_why_in_one_line() -> None:
    with Stubs() as stubs:
        refused = {
            "tasks": [],
            "failures": [{"arn": WEB_TD, "reason": "RESOURCE:ENI", "detail": "no free ENI"}],
        }
        stubs.ecs_stub.add_response("run_task", refused, RUN_TASK_REQUEST)
        with pytest.raises(DeployError) as failed:
            stubs.gateway().run_task(ONE_OFF)
    assert failed.value.lines == [f"ECS started no task of {WEB_TD}: RESOURCE:ENI no free ENI"]


def test_a_stopped_task_gives_its_containers_exit_code() -> None:
    with Stubs() as stubs:
        stopped = ecs_task(
            "abc123", "example-dev-web", "web", "STOPPED", 3, "Essential container in task exited"
        )
        stubs.ecs_stub.add_response(
            "describe_tasks",
            {"tasks": [stopped]},
            {"cluster": CLUSTER, "tasks": [task_arn("abc123")]},
        )
        found = stubs.gateway().task(CLUSTER, task_arn("abc123"), "web")
    assert found == TaskState(
        task_arn("abc123"), "STOPPED", "Essential container in task exited", 3, None
    )


def test_a_task_that_never_ran_has_no_exit_code_but_reasons_and_a_gone_one_is_none() -> None:
    with Stubs() as stubs:
        failed = ecs_task(
            "abc123",
            "example-dev-web",
            "web",
            "STOPPED",
            stopped_reason="Task failed to start",
            container_reason="CannotPullContainerError: pull access denied",
        )
        stubs.ecs_stub.add_response("describe_tasks", {"tasks": [failed]})
        stubs.ecs_stub.add_response(
            "describe_tasks",
            {"tasks": [], "failures": [{"arn": task_arn("gone"), "reason": "MISSING"}]},
        )
        gateway = stubs.gateway()
        found = gateway.task(CLUSTER, task_arn("abc123"), "web")
        assert gateway.task(CLUSTER, task_arn("gone"), "web") is None
    assert found is not None and found.exit_code is None
    assert found.container_reason == "CannotPullContainerError: pull access denied"


def test_log_events_read_every_page_with_the_filter() -> None:
    query = {"logGroupName": GROUP, "startTime": T0_MS, "filterPattern": "ERROR"}
    with Stubs() as stubs:
        stubs.logs_stub.add_response(
            "filter_log_events",
            {"events": filtered_events(GROUP, (1, "web/web/t1", "ERROR one\n")), "nextToken": "p2"},
            query,
        )
        stubs.logs_stub.add_response(
            "filter_log_events",
            {"events": filtered_events(GROUP, (2, "web/web/t2", "ERROR two"))},
            {**query, "nextToken": "p2"},
        )
        found = stubs.gateway().log_events(GROUP, T0_MS, pattern="ERROR")
        stubs.verify()
    assert [(e.timestamp - T0_MS, e.stream, e.message) for e in found] == [
        (1000, "web/web/t1", "ERROR one"),  # the trailing newline awslogs keeps is dropped
        (2000, "web/web/t2", "ERROR two"),
    ]
    assert all(e.event_id for e in found)


def test_log_events_of_a_missing_group_are_none() -> None:
    with Stubs() as stubs:
        stubs.logs_stub.add_client_error(
            "filter_log_events",
            **client_error("ResourceNotFoundException", "The specified log group does not exist."),
        )
        assert stubs.gateway().log_events(GROUP, T0_MS) == []


def test_a_task_stream_is_read_on_from_its_token_and_is_empty_until_it_exists() -> None:
    stream = "web/web/abc123"
    request = {"logGroupName": GROUP, "logStreamName": stream, "startFromHead": True}
    line = {"timestamp": T0_MS, "message": "Application In Production\n", "ingestionTime": T0_MS}
    with Stubs() as stubs:
        stubs.logs_stub.add_client_error(
            "get_log_events",
            **client_error("ResourceNotFoundException", "The specified log stream does not exist."),
        )
        stubs.logs_stub.add_response(
            "get_log_events",
            {"events": [line], "nextForwardToken": "f/1", "nextBackwardToken": "b/0"},
            request,
        )
        stubs.logs_stub.add_response(
            "get_log_events",
            {"events": [], "nextForwardToken": "f/1", "nextBackwardToken": "b/1"},
            {**request, "nextToken": "f/1"},
        )
        gateway = stubs.gateway()
        assert gateway.stream_events(GROUP, stream, None) == ([], None)  # not written yet
        events, token = gateway.stream_events(GROUP, stream, None)
        stubs.verify()
    assert events == [LogEvent(T0_MS, "Application In Production", stream)]
    assert token == "f/1"


def test_alarm_states_and_scaling_bounds() -> None:
    with Stubs() as stubs:
        stubs.cloudwatch_stub.add_response(
            "describe_alarms",
            {"MetricAlarms": [metric_alarm("a1", "ALARM"), metric_alarm("a2", "OK", "fine")]},
            {"AlarmNames": ["a1", "a2"], "AlarmTypes": ["MetricAlarm", "CompositeAlarm"]},
        )
        stubs.application_autoscaling_stub.add_response(
            "describe_scalable_targets",
            {"ScalableTargets": [scalable_target(CLUSTER, "web", 1, 4)]},
            {
                "ServiceNamespace": "ecs",
                "ResourceIds": [f"service/{CLUSTER}/web", f"service/{CLUSTER}/scheduler"],
                "ScalableDimension": "ecs:service:DesiredCount",
            },
        )
        gateway = stubs.gateway()
        alarms = gateway.alarm_states(["a1", "a2"])
        bounds = gateway.scaling_bounds(CLUSTER, ["web", "scheduler"])
        stubs.verify()
    assert alarms == {
        "a1": AlarmState("a1", "ALARM", "Threshold Crossed"),
        "a2": AlarmState("a2", "OK", "fine"),
    }
    assert bounds == {"web": ScalingBounds(1, 4)}  # the singleton has no scalable target


def test_an_ecs_failure_is_one_line_saying_what_was_asked() -> None:
    with Stubs() as stubs:
        stubs.ecs_stub.add_client_error(
            "describe_services",
            **client_error(
                "AccessDeniedException", "not authorized to perform ecs:DescribeServices"
            ),
        )
        with pytest.raises(DeployError) as failed:
            stubs.gateway().services(CLUSTER, ["web"])
    assert failed.value.lines == [
        f"describing the ECS services of cluster {CLUSTER}: access denied: "
        "not authorized to perform ecs:DescribeServices"
    ]


def test_status_end_to_end_on_aws_shaped_answers(tmp_path: Path) -> None:
    project = FixtureProject(tmp_path / "repo")
    project.write()
    outputs = {
        "ClusterName": CLUSTER,
        "AppUrl": "https://app.example.com",
        "ImageTag": "v42",
        "WebServiceName": "web",
    }
    with Stubs() as stubs:
        stubs.sts_stub.add_response(
            "get_caller_identity",
            {"UserId": "AIDA", "Account": ACCOUNT, "Arn": f"arn:aws:iam::{ACCOUNT}:user/dev"},
        )
        stubs.cfn_stub.add_response(
            "describe_stacks",
            stack(
                "example-dev",
                "UPDATE_COMPLETE",
                LastUpdatedTime=T0,
                Outputs=[{"OutputKey": k, "OutputValue": v} for k, v in outputs.items()],
            ),
            {"StackName": "example-dev"},
        )
        stubs.ecs_stub.add_response(
            "describe_services", {"services": [ecs_service("web", WEB_TD, alarms=["a1"])]}
        )
        stubs.ecs_stub.add_response(
            "describe_task_definition", ecs_task_definition("example-dev-web", "web", IMAGE, GROUP)
        )
        stubs.cloudwatch_stub.add_response(
            "describe_alarms", {"MetricAlarms": [metric_alarm("a1", "OK")]}
        )
        stubs.application_autoscaling_stub.add_response(
            "describe_scalable_targets",
            {"ScalableTargets": [scalable_target(CLUSTER, "web", 1, 4)]},
        )
        ctx, console = context(project.root, stubs.gateway)
        run_status(ctx, as_json=True)
        stubs.verify()
    data = json.loads(console.export_text())
    assert data["stack"]["last_updated"] == T0.isoformat()
    [web] = data["services"]
    assert (web["running"], web["rollout_state"], web["image"], web["scaling"]) == (
        2,
        "COMPLETED",
        IMAGE,
        {"min": 1, "max": 4},
    )
    assert web["alarms"] == [{"name": "a1", "state": "OK", "reason": "Threshold Crossed"}]
