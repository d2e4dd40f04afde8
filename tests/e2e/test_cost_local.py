"""The cost delta in a plan's review, end to end on the local endpoint: a first create shows the
new total, a cpu change shows its delta (terminal, changeset.md, plan.json), a change that
moves no cost says nothing. Offline by necessity (AWS_ENDPOINT_URL), so the shipped table."""

from __future__ import annotations

import json

from rich.console import Console

from factorstack.deploy.apply import run_apply
from factorstack.deploy.bootstrap import run_bootstrap
from factorstack.deploy.context import Context, Timing
from factorstack.deploy.local.server import LocalAws
from factorstack.deploy.plan import run_plan
from tests.support.fixture_build import FixtureProject, publish_fixture_images

FAST = Timing(timeout=30.0, poll=0.05)


def context(project: FixtureProject) -> tuple[Context, Console]:
    console = Console(record=True, width=200)
    ctx = Context(
        root=project.root, environment="dev", console=console, timing=FAST, change_set_timing=FAST
    )
    return ctx, console


def with_web_service(project: FixtureProject) -> None:
    """The fixture's web task definition, run by a one-task Fargate service."""
    web = project.resources("process-web.json")
    web["Cluster"] = {"Type": "AWS::ECS::Cluster", "Properties": {}}
    web["WebService"] = {
        "Type": "AWS::ECS::Service",
        "Properties": {
            "Cluster": {"Ref": "Cluster"},
            "ServiceName": "web",
            "TaskDefinition": {"Ref": "WebTaskDefinition"},
            "DesiredCount": 1,
            "LaunchType": "FARGATE",
        },
    }
    project.write()


def test_the_review_shows_the_cost_of_a_change(local_aws: LocalAws, project: FixtureProject):
    with_web_service(project)
    ctx, console = context(project)
    run_bootstrap(ctx)
    publish_fixture_images()
    first = run_plan(ctx, [])
    assert first.record is not None
    created = console.export_text()
    # web 9.01 + database 12.41 + 20 GB gp2 2.54 + secret 0.40 + two log groups 2 x 0.577
    assert "cost: monthly cost (new): $25.51/month; prices: shipped price table" in created
    assert first.record.cost is not None and first.record.cost["before_monthly_usd"] is None
    run_apply(ctx)

    task = project.resources("process-web.json")["WebTaskDefinition"]["Properties"]
    task["Cpu"], task["Memory"] = "512", "1024"
    project.write()
    ctx, console = context(project)
    outcome = run_plan(ctx, [])
    assert outcome.record is not None
    text = console.export_text()
    # 0.25 vCPU and 0.5 GB more for 730 hours: 7.39 + 1.62
    assert "cost: web cpu 256 → 512, memory 512 → 1024: +$9.01/month" in text
    assert "cost: monthly cost: $25.51 → $34.52 (+$9.01) at the minimum task counts" in text
    changeset = (project.folder / "changeset.md").read_text()
    assert "- cost: web cpu 256 → 512, memory 512 → 1024: +$9.01/month" in changeset
    plan = json.loads((project.folder / "plan.json").read_text())
    assert plan["cost"]["before_monthly_usd"] == 25.51
    assert plan["cost"]["after_monthly_usd"] == 34.52
    assert plan["cost"]["changes"] == [
        {
            "resource": "web",
            "change": "cpu 256 → 512, memory 512 → 1024",
            "monthly_usd": 9.01,
            "monthly_max_usd": 9.01,
            "tasks": [1, 1],
        }
    ]


def test_a_change_without_cost_says_nothing(local_aws: LocalAws, project: FixtureProject):
    with_web_service(project)
    ctx, _ = context(project)
    run_bootstrap(ctx)
    publish_fixture_images()
    run_plan(ctx, [])
    run_apply(ctx)

    project.resources("network.json")["FlowLogsLogGroup"]["Properties"]["LogGroupClass"] = (
        "STANDARD"
    )
    project.write()
    ctx, console = context(project)
    outcome = run_plan(ctx, [])
    assert outcome.changed and outcome.record is not None
    assert "cost:" not in console.export_text()
    assert "cost:" not in (project.folder / "changeset.md").read_text()
    assert json.loads((project.folder / "plan.json").read_text())["cost"] is None
