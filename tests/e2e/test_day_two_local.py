"""The day-two commands on the local endpoint, against the REAL sample app deployed there:
`status` (table and JSON), `run --detach` and `run` (moto runs no container: its tasks stop at
once with exit code 0 and write no log), and `logs` over lines put into the log groups."""

from __future__ import annotations

import json
import time
from pathlib import Path

import boto3
import pytest

from factorstack.cli import main
from factorstack.deploy.run import run_one_off
from factorstack.release_record import read_release
from tests.support.fixture_build import dev_context

PROCESSES = ["web", "worker", "scheduler"]


def cli(capsys: pytest.CaptureFixture[str], *argv: str, root: Path) -> tuple[int, str, str]:
    code = main([argv[0], "--root", str(root), *argv[1:]])  # before a `--`
    out, err = capsys.readouterr()
    return code, out, err


def test_status_of_the_deployed_sample(
    deployed_sample: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = deployed_sample
    code, out, _ = cli(capsys, "status", "dev", root=root)
    assert code == 0
    assert out.startswith("example-dev (dev): CREATE_COMPLETE, last updated ")
    assert "release v1, url http://" in out
    for process in PROCESSES:
        assert f"│ {process} " in out

    code, out, _ = cli(capsys, "status", "dev", "--json", root=root)
    assert code == 0
    data = json.loads(out)
    assert data["release"] == "v1" and data["stack"]["status"] == "CREATE_COMPLETE"
    services = {row["process"]: row for row in data["services"]}
    assert list(services) == PROCESSES  # app.yaml's order
    digests = read_release(root, "dev", PROCESSES)
    assert digests is not None
    for process, row in services.items():
        assert row["image_digest"] == digests.digests()[process]  # what the release pinned
        assert row["rollout_state"] == "COMPLETED"
    assert services["web"]["scaling"] == {"min": 1, "max": 2}
    assert services["scheduler"]["scaling"] is None  # a singleton is never scaled
    assert len(services["web"]["alarms"]) == 3
    assert {a["state"] for a in services["web"]["alarms"]} == {"INSUFFICIENT_DATA"}


def test_run_starts_a_one_off_task_in_the_services_network(
    deployed_sample: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = deployed_sample
    argv = ["run", "dev", "web", "--detach", "--", "php", "artisan", "about"]
    code, out, err = cli(capsys, *argv, root=root)
    assert (code, err) == (0, ""), err
    task_id = out.strip()

    ecs = boto3.client("ecs")
    outputs = {
        o["OutputKey"]: o["OutputValue"]
        for o in boto3.client("cloudformation").describe_stacks(StackName="example-dev")["Stacks"][
            0
        ]["Outputs"]
    }
    cluster = outputs["ClusterName"]
    started = ecs.list_tasks(cluster=cluster, startedBy="factorstack-run")["taskArns"]
    assert [arn.rsplit("/", 1)[-1] for arn in started] == [task_id]
    [task] = ecs.describe_tasks(cluster=cluster, tasks=started)["tasks"]
    [web] = ecs.describe_services(cluster=cluster, services=["web"])["services"]
    assert task["taskDefinitionArn"] == web["taskDefinition"]
    assert task["overrides"]["containerOverrides"] == [
        {"name": "web", "command": ["php", "artisan", "about"]}
    ]
    assert task["launchType"] == "FARGATE"

    # Without --detach: followed until moto stops it, whose container exits 0.
    assert run_one_off(dev_context(root), "web", ["php", "artisan", "about"]) == 0
    notes = capsys.readouterr().err.splitlines()  # stderr: stdout is the task's own output
    assert notes[0].startswith("started task ") and " of web in dev; following its log" in notes[0]
    assert notes[-1].endswith("stopped: exit code 0")
    code, _, err = cli(capsys, "run", "dev", "cron", "--", "true", root=root)
    assert (code, err) == (
        2,
        "no process 'cron' is deployed in dev (deployed: web, worker, scheduler)\n",
    )


def test_logs_of_the_deployed_sample(
    deployed_sample: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = deployed_sample
    code, out, err = cli(capsys, "logs", "dev", root=root)
    assert (code, out) == (0, "")  # moto runs no task, so nothing logs
    assert err == "no log lines of web, worker, scheduler in the last 10m\n"

    # What awslogs would write: each process's group is found from its task definition.
    ecs, logs = boto3.client("ecs"), boto3.client("logs")
    now = int(time.time() * 1000)
    cluster = json.loads(cli(capsys, "status", "dev", "--json", root=root)[1])["cluster"]
    for offset, process in enumerate(["worker", "web"]):
        [service] = ecs.describe_services(cluster=cluster, services=[process])["services"]
        definition = ecs.describe_task_definition(taskDefinition=service["taskDefinition"])
        options = definition["taskDefinition"]["containerDefinitions"][0]["logConfiguration"][
            "options"
        ]
        group, stream = options["awslogs-group"], f"{process}/{process}/t{offset}"
        logs.create_log_stream(logGroupName=group, logStreamName=stream)
        logs.put_log_events(
            logGroupName=group,
            logStreamName=stream,
            logEvents=[
                {"timestamp": now - 60_000 + offset * 1000, "message": f"hello from {process}"}
            ],
        )

    code, out, _ = cli(capsys, "logs", "dev", "--since", "5m", root=root)
    assert code == 0
    cells = [line.split("  ", 1)[1].split(" | ", 1) for line in out.splitlines()]
    assert [(source.strip(), message) for source, message in cells] == [
        ("worker", "hello from worker"),
        ("web", "hello from web"),
    ]
    code, out, _ = cli(capsys, "logs", "dev", "web", "--since", "5m", root=root)
    assert out.splitlines()[0].endswith("web | hello from web")
