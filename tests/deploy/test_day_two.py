"""The day-two commands (run, logs, status) against the fake gateway: what the user sees and
which exit code they get, and what was asked of AWS. The response shapes of the real gateway's
calls are proven in test_day_two_gateway.py."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from factorstack.cli import main
from factorstack.deploy import commands
from factorstack.deploy.context import Context
from factorstack.deploy.decide.log_events import (
    LogEvent,
    Seen,
    age,
    interleave,
    parse_since,
)
from factorstack.deploy.decide.services import (
    STARTED_BY,
    Service,
    TaskDefinition,
    TaskNetwork,
    TaskState,
    image_digest,
    image_tag,
)
from factorstack.deploy.decide.status import AlarmState, ScalingBounds
from factorstack.deploy.logs import run_logs
from factorstack.deploy.present.status import short_image
from factorstack.deploy.run import run_one_off
from factorstack.deploy.status import run_status
from factorstack.errors import DeployError, NotReady, UsageError
from tests.support.deploying import context
from tests.support.fake_aws import T0, FakeAws, stack
from tests.support.fixture_build import FixtureProject

CLUSTER = "example-dev-Cluster-1"
NOW = T0.timestamp()  # the fake wall clock: 2026-11-26 12:00:00 UTC
NOW_MS = int(NOW * 1000)
DIGEST = "sha256:" + "ab12" * 16
REGISTRY = "123456789012.dkr.ecr.eu-west-1.amazonaws.com"
NETWORK = TaskNetwork(("subnet-a", "subnet-b"), ("sg-tasks",))
GROUPS = {"web": "/example/dev/web-1a2b", "worker": "/example/dev/worker-1a2b"}


def task_definition(process: str, revision: int = 7) -> TaskDefinition:
    return TaskDefinition(
        arn=f"arn:aws:ecs:eu-west-1:123456789012:task-definition/example-dev-{process}:{revision}",
        container=process,
        image=f"{REGISTRY}/example/{process}@{DIGEST}",
        log_group=GROUPS.get(process),
        stream_prefix=process,
    )


def deployed_app(alarm_state: str = "OK") -> FakeAws:
    """dev deployed: web (load balanced, autoscaled, three alarms) and worker (a singleton)."""
    aws = FakeAws()
    aws.stacks["example-dev"] = stack(
        "example-dev",
        "UPDATE_COMPLETE",
        last_updated="2026-11-26T12:00:05+00:00",
        outputs={
            "ClusterName": CLUSTER,
            "AppUrl": "https://app.example.com",
            "ImageTag": "v42",
            "WebServiceName": "web",
            "WorkerServiceName": "worker",
            "LogGroupNames": ",".join(GROUPS.values()),
        },
    )
    web_alarms = ("web-ErrorRate", "web-Unhealthy", "web-TasksBelowDesired")
    definitions = {process: task_definition(process) for process in ("web", "worker")}
    aws.task_definitions = {d.arn: d for d in definitions.values()}
    aws.services_by_cluster[CLUSTER] = {
        "web": Service(
            "web", definitions["web"].arn, 2, 2, 0, "COMPLETED", "done", NETWORK, web_alarms
        ),
        "worker": Service(
            "worker", definitions["worker"].arn, 1, 0, 1, "IN_PROGRESS", "", NETWORK, ()
        ),
    }
    aws.alarms = {name: AlarmState(name, "OK") for name in web_alarms}
    aws.alarms["web-ErrorRate"] = AlarmState("web-ErrorRate", alarm_state, "5xx above 5 %")
    aws.scaling = {"web": ScalingBounds(1, 4)}
    return aws


@pytest.fixture
def project(tmp_path: Path) -> FixtureProject:
    built = FixtureProject(tmp_path / "repo")
    built.write()
    return built


def day_two(project: FixtureProject, aws: FakeAws) -> tuple[Context, object]:
    ctx, console = context(project.root, lambda _target: aws)
    ctx.notes = console  # the notes go to stderr; one recording keeps the order
    ctx.timing = replace(ctx.timing, now=lambda: NOW)
    return ctx, console


def text(console: object) -> str:
    return console.export_text()  # type: ignore[attr-defined,no-any-return]


def event(seconds_ago: float, message: str, stream: str, event_id: str = "") -> LogEvent:
    at = NOW_MS - int(seconds_ago * 1000)
    return LogEvent(at, message, stream, event_id or f"{stream}-{at}")


# --- run ------------------------------------------------------------------------------------


def test_run_follows_the_tasks_log_and_exits_with_its_containers_code(
    project: FixtureProject,
) -> None:
    aws = deployed_app()
    web = task_definition("web")
    aws.task_states = [
        TaskState("", "PROVISIONING"),
        TaskState("", "RUNNING"),
        TaskState("", "STOPPED", "Essential container in task exited", exit_code=3),
    ]
    aws.streams[(web.log_group or "", "web/web/task-1")] = [
        event(2, "Migration table not found.", ""),
        event(1, "1 pending migration", ""),
    ]
    ctx, console = day_two(project, aws)

    code = run_one_off(ctx, "web", ["php", "artisan", "migrate:status"])

    assert code == 3
    shown = text(console)
    assert "Migration table not found.\n1 pending migration\n" in shown
    assert "started task task-1 of web in dev" in shown
    assert "task task-1 stopped: exit code 3" in shown
    [started] = aws.started
    assert started.cluster == CLUSTER
    assert started.task_definition == web.arn  # the one the service runs
    assert started.container == "web"
    assert started.command == ("php", "artisan", "migrate:status")
    assert started.network == NETWORK  # the service's subnets and security group
    assert started.started_by == STARTED_BY == "factorstack-run"


def test_run_detach_prints_only_the_task_id(project: FixtureProject) -> None:
    aws = deployed_app()
    ctx, console = day_two(project, aws)
    assert run_one_off(ctx, "worker", ["php", "artisan", "about"], detach=True) == 0
    assert text(console) == "task-1\n"
    assert [s.container for s in aws.started] == ["worker"]


def test_a_task_that_stops_without_an_exit_code_fails_with_its_reason(
    project: FixtureProject,
) -> None:
    aws = deployed_app()
    aws.task_states = [
        TaskState(
            "",
            "STOPPED",
            "Task failed to start",
            container_reason="CannotPullContainerError: pull access denied",
        )
    ]
    ctx, _ = day_two(project, aws)
    with pytest.raises(DeployError) as failed:
        run_one_off(ctx, "web", ["true"])
    assert failed.value.exit_code == 1
    assert failed.value.lines == [
        "task task-1 stopped without an exit code: Task failed to start; "
        "CannotPullContainerError: pull access denied"
    ]


def test_run_gives_up_following_after_the_timeout_and_says_the_task_runs_on(
    project: FixtureProject,
) -> None:
    aws = deployed_app()
    aws.task_states = [TaskState("", "RUNNING")]
    ctx, _ = day_two(project, aws)
    ctx.timing = replace(ctx.timing, timeout=10.0, poll=2.0)
    with pytest.raises(DeployError, match="task task-1 still RUNNING after 10 s; it keeps running"):
        run_one_off(ctx, "web", ["sleep", "3600"])


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (
            ["run", "dev", "cron", "--", "php", "artisan", "about"],
            "no process 'cron' is deployed in dev (deployed: web, worker)",
        ),
        (["logs", "dev", "web", "cron"], "no process 'cron' is deployed in dev"),
        (["logs", "dev", "--since", "10 minutes"], "--since '10 minutes': give a positive"),
        (["logs", "dev", "web", "--since", "100000d"], "--since '100000d': at most 3653d"),
    ],
)
def test_an_unknown_process_is_one_line_and_exit_2(
    project: FixtureProject,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    argv: list[str],
    expected: str,
) -> None:
    aws = deployed_app()
    ctx, _ = day_two(project, aws)
    monkeypatch.setattr(commands, "_context", lambda args, poll=0.0: ctx)
    assert main([argv[0], "--root", str(project.root), *argv[1:]]) == 2
    err = capsys.readouterr().err
    assert err.startswith(expected) and err.count("\n") == 1
    assert aws.started == [] and aws.log_queries == []


@pytest.mark.parametrize(
    "argv", [["run", "dev", "web", "--", "true"], ["logs", "dev"], ["status", "dev"]]
)
def test_an_environment_that_is_not_deployed_is_one_line_and_exit_2(
    project: FixtureProject,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    argv: list[str],
) -> None:
    ctx, _ = day_two(project, FakeAws())  # an account without the stack
    monkeypatch.setattr(commands, "_context", lambda args, poll=0.0: ctx)
    assert main([argv[0], "--root", str(project.root), *argv[1:]]) == 2
    assert capsys.readouterr().err == (
        "environment dev is not deployed: there is no stack example-dev in its account and "
        "region (deploy it with `./deploy.sh dev`, then `./deploy.sh dev --apply`)\n"
    )


def test_run_refuses_a_stack_that_has_no_services_yet(project: FixtureProject) -> None:
    aws = FakeAws()
    aws.stacks["example-dev"] = stack("example-dev", "REVIEW_IN_PROGRESS")
    ctx, _ = day_two(project, aws)
    with pytest.raises(NotReady, match="stack example-dev is REVIEW_IN_PROGRESS and has no"):
        run_one_off(ctx, "web", ["true"])


def test_the_exit_code_of_the_command_is_the_cli_exit_code(
    project: FixtureProject, monkeypatch: pytest.MonkeyPatch
) -> None:
    aws = deployed_app()
    aws.task_states = [TaskState("", "STOPPED", exit_code=42)]
    ctx, _ = day_two(project, aws)
    monkeypatch.setattr(commands, "_context", lambda args, poll=0.0: ctx)
    argv = ["run", "dev", "web", "--root", str(project.root), "--", "php", "-r", "exit(42);"]
    assert main(argv) == 42
    assert aws.started[0].command == ("php", "-r", "exit(42);")


# --- logs -----------------------------------------------------------------------------------


def two_processes_logging(aws: FakeAws) -> None:
    aws.log_groups[GROUPS["web"]] = [
        event(3600, "an hour ago", "web/web/t1"),  # before --since 10m
        event(300, "GET / 200", "web/web/t1"),
        event(100, "GET /api 500", "web/web/t2"),
        event(400, "Migrated: 2026_11_26_create_orders", "release/web/t0"),
    ]
    aws.log_groups[GROUPS["worker"]] = [
        event(200, "Processing: App\\Jobs\\SendMail", "worker/worker/t3")
    ]


def test_logs_interleave_the_processes_by_time_with_the_process_in_front(
    project: FixtureProject,
) -> None:
    aws = deployed_app()
    two_processes_logging(aws)
    ctx, console = day_two(project, aws)

    assert run_logs(ctx, [], parse_since("10m")) == 4

    assert text(console).splitlines() == [
        "2026-11-26 11:53:20  release | Migrated: 2026_11_26_create_orders",
        "2026-11-26 11:55:00  web     | GET / 200",
        "2026-11-26 11:56:40  worker  | Processing: App\\Jobs\\SendMail",
        "2026-11-26 11:58:20  web     | GET /api 500",
    ]
    since = NOW_MS - 600_000
    assert sorted(aws.log_queries) == [
        (GROUPS["web"], since, None),
        (GROUPS["worker"], since, None),
    ]


def test_logs_of_one_process_with_a_filter(project: FixtureProject) -> None:
    aws = deployed_app()
    two_processes_logging(aws)
    ctx, console = day_two(project, aws)
    assert run_logs(ctx, ["web"], parse_since("2h"), pattern="500") == 1
    assert text(console) == "2026-11-26 11:58:20  web | GET /api 500\n"
    assert aws.log_queries == [(GROUPS["web"], NOW_MS - 7_200_000, "500")]


def test_logs_say_so_when_there_is_nothing(project: FixtureProject) -> None:
    ctx, console = day_two(project, deployed_app())
    assert run_logs(ctx, ["worker"], 30) == 0
    assert text(console) == "no log lines of worker in the last 30s\n"


def test_logs_follow_polls_until_interrupted_and_shows_each_line_once(
    project: FixtureProject,
) -> None:
    aws = deployed_app()
    aws.log_groups[GROUPS["web"]] = [event(5, "first", "web/web/t1")]
    ctx, console = day_two(project, aws)
    polls: list[float] = []

    def sleep(seconds: float) -> None:
        polls.append(seconds)
        if len(polls) == 1:  # a line arrives between two polls
            aws.log_groups[GROUPS["web"]].append(event(1, "second", "web/web/t1"))
        if len(polls) == 3:
            raise KeyboardInterrupt

    ctx.timing = replace(ctx.timing, sleep=sleep, poll=2.0)
    with pytest.raises(KeyboardInterrupt):
        run_logs(ctx, ["web"], 60, follow=True)
    lines = text(console).splitlines()
    assert [line.split("| ")[1] for line in lines] == ["first", "second"]
    assert polls == [2.0, 2.0, 2.0]
    assert len(aws.log_queries) == 3  # one per poll, none in between


def test_seen_moves_the_start_forward_and_forgets_old_ids() -> None:
    seen = Seen(start_ms=0)
    batch = interleave([("web", [LogEvent(100_000, "a", "web/web/1", "e1")])])
    assert seen.fresh(batch) == batch
    assert seen.fresh(batch) == []  # the same event polled again
    assert seen.start_ms == 100_000 - 30_000  # late events within 30 s are still fetched


@pytest.mark.parametrize(
    ("given", "seconds"), [("30s", 30), ("10m", 600), ("2h", 7200), ("1d", 86400), (" 5m ", 300)]
)
def test_since(given: str, seconds: int) -> None:
    assert parse_since(given) == seconds


def test_an_age_is_told_in_the_largest_unit() -> None:
    assert [age(s) for s in (30, 600, 7200, 86400, 90, 3630)] == [
        "30s",
        "10m",
        "2h",
        "1d",
        "90s",
        "3630s",
    ]


@pytest.mark.parametrize("given", ["", "10", "m", "0m", "1w", "-5m", "1.5h"])
def test_since_refuses_anything_else(given: str) -> None:
    with pytest.raises(UsageError):
        parse_since(given)


def test_since_reaches_back_at_most_ten_years() -> None:
    """CloudWatch Logs keeps nothing longer than 3653 days; further back than the epoch AWS
    refuses the start time with botocore's text (not: exit 1, two lines)."""
    assert parse_since("3653d") == 3653 * 86400
    for given in ("3654d", "87673h", "100000d", "99999999999999999999s"):
        with pytest.raises(UsageError) as refused:
            parse_since(given)
        assert refused.value.lines == [
            f"--since {given!r}: at most 3653d (10 years, the longest CloudWatch Logs keeps "
            "log events)"
        ]


# --- status ---------------------------------------------------------------------------------


def test_status_shows_the_stack_and_each_service(project: FixtureProject) -> None:
    ctx, console = day_two(project, deployed_app(alarm_state="ALARM"))
    run_status(ctx)
    shown = text(console)
    assert shown.splitlines()[:2] == [
        "example-dev (dev): UPDATE_COMPLETE, last updated 2026-11-26 12:00:05 UTC",
        "release v42, url https://app.example.com",
    ]
    rows = {line.split("│")[1].strip(): line for line in shown.splitlines() if "│" in line}
    cells = {name: [c.strip() for c in line.split("│")[2:-1]] for name, line in rows.items()}
    assert cells["web"] == [
        "2/2 running",
        "COMPLETED",
        f"example/web@{DIGEST[:19]}",
        "1-4",
        "ALARM: web-ErrorRate, 2 OK",
    ]
    assert cells["worker"] == [
        "0/1 running, 1 pending",
        "IN_PROGRESS",
        f"example/worker@{DIGEST[:19]}",
        "-",
        "-",
    ]


def test_status_json_has_stable_keys_for_machines(project: FixtureProject) -> None:
    ctx, console = day_two(project, deployed_app())
    run_status(ctx, as_json=True)
    data = json.loads(text(console))
    assert list(data) == [
        "version",
        "environment",
        "stack",
        "url",
        "release",
        "cluster",
        "services",
    ]
    assert data["stack"] == {
        "name": "example-dev",
        "status": "UPDATE_COMPLETE",
        "last_updated": "2026-11-26T12:00:05+00:00",
    }
    assert (data["url"], data["release"], data["cluster"]) == (
        "https://app.example.com",
        "v42",
        CLUSTER,
    )
    web, worker = data["services"]
    assert web == {
        "process": "web",
        "service": "web",
        "desired": 2,
        "running": 2,
        "pending": 0,
        "rollout_state": "COMPLETED",
        "rollout_reason": "done",
        "task_definition": task_definition("web").arn,
        "image": f"{REGISTRY}/example/web@{DIGEST}",
        "image_digest": DIGEST,
        "image_tag": None,
        "alarms": [
            {"name": "web-ErrorRate", "state": "OK", "reason": "5xx above 5 %"},
            {"name": "web-Unhealthy", "state": "OK", "reason": ""},
            {"name": "web-TasksBelowDesired", "state": "OK", "reason": ""},
        ],
        "scaling": {"min": 1, "max": 4},
    }
    assert (worker["process"], worker["scaling"], worker["alarms"]) == ("worker", None, [])


def test_status_of_a_stack_without_services_yet_shows_the_stack(project: FixtureProject) -> None:
    aws = FakeAws()
    aws.stacks["example-dev"] = stack(
        "example-dev", "ROLLBACK_COMPLETE", created="2026-11-26T11:00:00+00:00"
    )
    ctx, console = day_two(project, aws)
    status = run_status(ctx, as_json=True)
    assert status.services == ()
    data = json.loads(text(console))
    assert data["stack"]["status"] == "ROLLBACK_COMPLETE"
    assert data["stack"]["last_updated"] == "2026-11-26T11:00:00+00:00"  # never updated: created
    assert data["services"] == [] and data["cluster"] is None


def test_an_alarm_the_service_names_but_cloudwatch_lacks_reads_missing(
    project: FixtureProject,
) -> None:
    aws = deployed_app()
    del aws.alarms["web-Unhealthy"]
    ctx, console = day_two(project, aws)
    run_status(ctx, as_json=True)
    states = [a["state"] for a in json.loads(text(console))["services"][0]["alarms"]]
    assert states == ["OK", "MISSING", "OK"]


@pytest.mark.parametrize(
    ("image", "digest", "tag", "short"),
    [
        (f"{REGISTRY}/example/web@{DIGEST}", DIGEST, None, f"example/web@{DIGEST[:19]}"),
        (f"{REGISTRY}/example/web:v42", None, "v42", "example/web:v42"),
        ("localhost:5000/web:v1", None, "v1", "web:v1"),
        ("nginx", None, None, "nginx"),
    ],
)
def test_images_by_digest_or_tag(
    image: str, digest: str | None, tag: str | None, short: str
) -> None:
    assert (image_digest(image), image_tag(image), short_image(image)) == (digest, tag, short)
