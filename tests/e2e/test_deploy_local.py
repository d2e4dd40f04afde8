"""End to end against a real moto server over HTTP: bootstrap, plan, apply, no-op, modify, guard."""

from __future__ import annotations

import json
from pathlib import Path

import boto3
import pytest
from rich.console import Console

from factorstack.deploy.apply import run_apply
from factorstack.deploy.bootstrap import run_bootstrap
from factorstack.deploy.context import Context, Timing
from factorstack.deploy.local.server import LocalAws
from factorstack.deploy.plan import run_plan
from factorstack.errors import EXIT_GUARD, DeployError, GuardRefusal, NotReady
from tests.support.fixture_build import REGION, FixtureProject, publish_fixture_images

FAST = Timing(timeout=30.0, poll=0.05)


def context(project: FixtureProject) -> tuple[Context, Console]:
    console = Console(record=True, width=200)
    ctx = Context(
        root=project.root,
        environment="dev",
        console=console,
        timing=FAST,
        change_set_timing=FAST,
    )
    return ctx, console


def deployed(project: FixtureProject) -> None:
    """Bootstrap, then plan and apply the fixture build from nothing."""
    ctx, _ = context(project)
    run_bootstrap(ctx)
    publish_fixture_images()
    assert run_plan(ctx, []).changed
    run_apply(ctx)


def cfn():
    return boto3.client("cloudformation", region_name=REGION)


def nested_stack(logical_id: str) -> dict:
    resources = cfn().list_stack_resources(StackName="example-dev")["StackResourceSummaries"]
    physical = next(
        r["PhysicalResourceId"] for r in resources if r["LogicalResourceId"] == logical_id
    )
    return cfn().describe_stacks(StackName=physical)["Stacks"][0]


def artifact_keys(bucket: str) -> set[str]:
    s3 = boto3.client("s3", region_name=REGION)
    return {o["Key"] for o in s3.list_objects_v2(Bucket=bucket).get("Contents", [])}


def bucket_name() -> str:
    stack = cfn().describe_stacks(StackName="example-bootstrap")["Stacks"][0]
    return next(
        o["OutputValue"] for o in stack["Outputs"] if o["OutputKey"] == "ArtifactsBucketName"
    )


def test_bootstrap_creates_bucket_and_repositories(local_aws: LocalAws, project: FixtureProject):
    project.templates["bootstrap.json"]["Description"] = "as built"
    project.write()
    ctx, console = context(project)
    stack = run_bootstrap(ctx)
    assert stack is not None and stack.status == "CREATE_COMPLETE"
    bucket = bucket_name()
    boto3.client("s3", region_name=REGION).head_bucket(Bucket=bucket)  # moto keeps no settings
    ecr = boto3.client("ecr", region_name=REGION)
    repo = ecr.describe_repositories(repositoryNames=["example/web"])["repositories"][0]
    assert repo["imageTagMutability"] == "IMMUTABLE"
    deployed = cfn().get_template(StackName="example-bootstrap")["TemplateBody"]
    assert deployed["Description"] == "as built"  # build/dev/bootstrap.json, not a new render
    # Bootstrapping again goes through the same change-set path and finds nothing to do.
    assert run_bootstrap(ctx) is None
    assert "bootstrap stack example-bootstrap is up to date" in console.export_text()


def test_plan_refuses_without_bootstrap(local_aws: LocalAws, project: FixtureProject):
    ctx, _ = context(project)
    with pytest.raises(NotReady, match="run `factorstack bootstrap dev` first"):
        run_plan(ctx, [])


def test_plan_and_apply_from_nothing_then_no_changes(local_aws: LocalAws, project: FixtureProject):
    ctx, console = context(project)
    run_bootstrap(ctx)
    publish_fixture_images()
    outcome = run_plan(ctx, [])
    assert outcome.changed and outcome.record is not None
    assert {(r["logical_id"], r["action"]) for r in outcome.record.rows} == {
        ("NetworkStack", "Add"),
        ("DataStack", "Add"),
        ("WebStack", "Add"),
    }
    plan = json.loads((project.folder / "plan.json").read_text())
    assert plan["change_set_type"] == "CREATE"
    assert plan["stack_status"] == "REVIEW_IN_PROGRESS"
    assert plan["template_hashes"]["root.json"]
    assert "| example-dev | DataStack |" in (project.folder / "changeset.md").read_text()

    stack = run_apply(ctx)
    assert stack.status == "CREATE_COMPLETE"
    outputs = stack.outputs
    assert outputs["VpcId"].startswith("vpc-")  # passed through Fn::GetAtt NetworkStack.Outputs
    assert "task-definition/example-dev-web" in outputs["TaskDefinition"]
    for logical_id in ("NetworkStack", "DataStack", "WebStack"):
        assert nested_stack(logical_id)["StackStatus"] == "CREATE_COMPLETE"
    assert not (project.folder / "plan.json").exists()  # a plan runs once

    again = run_plan(ctx, [])
    assert not again.changed
    assert "no changes: example-dev already matches build/dev" in console.export_text()
    assert not (project.folder / "plan.json").exists()
    assert "no changes" in (project.folder / "changeset.md").read_text()
    # the empty change set was deleted: nothing is left that someone could execute
    summaries = cfn().list_change_sets(StackName="example-dev").get("Summaries", [])
    assert summaries and {s["ExecutionStatus"] for s in summaries} == {"EXECUTE_COMPLETE"}


def test_changed_cpu_plans_modify_and_applies(local_aws: LocalAws, project: FixtureProject):
    deployed(project)
    bucket = bucket_name()
    before = artifact_keys(bucket)
    task = project.resources("process-web.json")["WebTaskDefinition"]["Properties"]
    task["Cpu"], task["Memory"] = "512", "1024"
    project.write()

    ctx, _ = context(project)
    outcome = run_plan(ctx, [])
    assert outcome.changed and outcome.record is not None
    assert [(r["logical_id"], r["action"]) for r in outcome.record.rows] == [("WebStack", "Modify")]
    # Only the changed child and the new root were uploaded; the others kept their keys.
    assert len(artifact_keys(bucket) - before) == 2
    run_apply(ctx)
    web = nested_stack("WebStack")
    body = cfn().get_template(StackName=web["StackName"])["TemplateBody"]
    assert body["Resources"]["WebTaskDefinition"]["Properties"]["Cpu"] == "512"


def test_unchanged_children_are_not_uploaded_again(local_aws: LocalAws, project: FixtureProject):
    deployed(project)
    bucket = bucket_name()
    before = artifact_keys(bucket)
    ctx, console = context(project)
    assert not run_plan(ctx, []).changed
    assert artifact_keys(bucket) == before
    packaged = "packaged 3 nested templates and the root: 0 uploaded, 4 already there"
    assert packaged in console.export_text()


def test_renamed_database_is_refused_offline_then_allowed(
    local_aws: LocalAws, project: FixtureProject
):
    deployed(project)
    project.resources("data.json")["Database"]["Properties"]["DBName"] = "renamed"
    project.write()

    ctx, _ = context(project)
    with pytest.raises(GuardRefusal) as refused:
        run_plan(ctx, [])
    assert refused.value.exit_code == EXIT_GUARD
    message = "\n".join(refused.value.lines)
    assert "example-dev/DataStack: Database (AWS::RDS::DBInstance)" in message
    assert "create-only DBName changed" in message
    assert "--allow-replace Database" in message
    assert not (project.folder / "plan.json").exists()
    # The refused change set is deleted so nobody executes it from the console by mistake.
    summaries = cfn().list_change_sets(StackName="example-dev").get("Summaries", [])
    assert all(s["ExecutionStatus"] != "AVAILABLE" for s in summaries)

    outcome = run_plan(ctx, ["Database"])
    assert outcome.changed and outcome.record is not None
    assert any("Database" in line for line in outcome.record.guard)
    before = nested_stack("DataStack")["StackId"]
    run_apply(ctx)
    after = nested_stack("DataStack")
    # updated in place, as AWS updates a nested stack (moto_gaps.py teaches moto so)
    assert (after["StackId"], after["StackStatus"]) == (before, "UPDATE_COMPLETE")


def test_removed_log_group_is_refused(local_aws: LocalAws, project: FixtureProject):
    deployed(project)
    del project.resources("process-web.json")["WebLogGroup"]
    project.write()
    ctx, _ = context(project)
    with pytest.raises(GuardRefusal, match="WebLogGroup"):
        run_plan(ctx, [])


def test_apply_refuses_when_stack_changed_since_plan(local_aws: LocalAws, project: FixtureProject):
    deployed(project)
    task = project.resources("process-web.json")["WebTaskDefinition"]["Properties"]
    task["Cpu"], task["Memory"] = "512", "1024"
    project.write()
    ctx, _ = context(project)
    run_plan(ctx, [])
    reviewed = (project.folder / "plan.json").read_text()
    # Meanwhile someone else deploys another change to the same stack.
    task["Cpu"], task["Memory"] = "1024", "2048"
    project.write()
    run_plan(ctx, [])
    run_apply(ctx)
    # The first plan's change set was made against a stack that no longer exists as reviewed.
    task["Cpu"], task["Memory"] = "512", "1024"
    project.write()
    (project.folder / "plan.json").write_text(reviewed)
    with pytest.raises(DeployError, match="changed since the plan: its status is UPDATE_COMPLETE"):
        run_apply(ctx)


def test_apply_refuses_when_change_set_is_gone(local_aws: LocalAws, project: FixtureProject):
    deployed(project)
    task = project.resources("process-web.json")["WebTaskDefinition"]["Properties"]
    task["Cpu"], task["Memory"] = "512", "1024"
    project.write()
    ctx, _ = context(project)
    record = run_plan(ctx, []).record
    assert record is not None
    cfn().delete_change_set(ChangeSetName=record.change_set_id)
    with pytest.raises(DeployError, match="no longer exists"):
        run_apply(ctx)


def test_build_older_than_config_is_refused(local_aws: LocalAws, project: FixtureProject):
    (project.root / "environments" / "dev.yaml").write_text('account: "123456789012"\n')
    ctx, _ = context(project)
    with pytest.raises(NotReady, match="make templates"):
        run_plan(ctx, [])


def test_wrong_account_is_refused(local_aws: LocalAws, project: FixtureProject):
    manifest_path = project.folder / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    manifest["account"] = "111111111111"
    manifest_path.write_text(json.dumps(manifest))
    ctx, _ = context(project)
    with pytest.raises(DeployError, match="wrong AWS account: credentials are for 123456789012"):
        run_plan(ctx, [])


def test_missing_build_is_refused(local_aws: LocalAws, tmp_path: Path):
    FixtureProject(tmp_path)  # app.yaml and environments/dev.yaml, nothing built
    ctx = Context(root=tmp_path, environment="dev", timing=FAST)
    with pytest.raises(NotReady, match="build for `dev` is missing"):
        run_plan(ctx, [])


def test_plan_refuses_when_an_image_is_not_in_ecr(local_aws: LocalAws, project: FixtureProject):
    ctx, _ = context(project)
    run_bootstrap(ctx)
    with pytest.raises(NotReady) as refused:
        run_plan(ctx, [], image_tag="v9")
    assert refused.value.lines == [
        "image example/web:v9 is not in ECR (123456789012.dkr.ecr.eu-west-1.amazonaws.com); "
        "publish it with `factorstack release dev --tag v9`"
    ]
    stacks = {summary["StackName"] for summary in cfn().list_stacks()["StackSummaries"]}
    assert stacks == {"example-bootstrap"}  # no change set, no stack for the app
    assert not (project.folder / "plan.json").exists()


def test_a_build_made_without_lint_is_refused(local_aws: LocalAws, project: FixtureProject):
    manifest_path = project.folder / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    manifest["linted_by"] = None
    manifest_path.write_text(json.dumps(manifest))
    ctx, _ = context(project)
    with pytest.raises(NotReady, match=r"built without cfn-lint \(--no-lint\)"):
        run_plan(ctx, [])
