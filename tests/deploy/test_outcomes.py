"""What plan, apply and the follow-up leave behind, against the fake gateway: which change sets
were deleted or executed, which files were written, what the user was told. The order of AWS
calls is the gateway's business; its response shapes are proven by the Stubber tests.
"""

from __future__ import annotations

import copy
import shutil
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from factorstack.deploy.apply import run_apply
from factorstack.deploy.follow_up import run_follow_up
from factorstack.deploy.plan import PlanOutcome, run_plan
from factorstack.deploy.present.plan_files import (
    APPLIED,
    UNCHANGED,
    PlanRecord,
    read_note,
    read_plan,
)
from factorstack.errors import DeployError, GuardRefusal, NotReady
from tests.support.deploying import context, record, write_plan_for
from tests.support.fake_aws import FakeAws, change, change_set, stack, stack_id
from tests.support.fixture_build import DATA, FixtureProject

STACK = "AWS::CloudFormation::Stack"
NO_CHANGES = (
    "The submitted information didn't contain changes. Submit different information to "
    "create a change set."
)
NESTED = {name: f"example-dev-{name}-1" for name in ("NetworkStack", "DataStack", "WebStack")}
DATA_CS = "data-change-set"
PROTECTION = "DatabaseDeletionProtection"


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> FixtureProject:
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)
    monkeypatch.delenv("IMAGE_TAG", raising=False)
    built = FixtureProject(tmp_path / "repo")
    built.write()
    return built


def deployed_account(project: FixtureProject, database_name: str = "example") -> FakeAws:
    """An account where the fixture is bootstrapped and deployed, its database named so."""
    aws = FakeAws()
    aws.engine_versions = {"mysql": ["8.0.43"]}
    bucket = {"ArtifactsBucketName": "example-artifacts"}
    aws.stacks["example-bootstrap"] = stack("example-bootstrap", "CREATE_COMPLETE", outputs=bucket)
    aws.stacks["example-dev"] = stack(
        "example-dev",
        "UPDATE_COMPLETE",
        last_updated="2026-11-26T12:00:00+00:00",
        parameters={"ImageTag": "v1"},
        tags={"app": "example"},
    )
    data = copy.deepcopy(DATA)
    data["Resources"]["Database"]["Properties"]["DBName"] = database_name
    files = {
        "NetworkStack": "network.json",
        "DataStack": "data.json",
        "WebStack": "process-web.json",
    }
    aws.nested["example-dev"] = {"": "example-dev"}
    aws.templates["example-dev"] = project.templates["root.json"]
    for path, name in NESTED.items():
        aws.stacks[name] = stack(name, "UPDATE_COMPLETE", parameters={"VpcId": "vpc-1"})
        aws.nested["example-dev"][path] = stack_id(name)
        aws.templates[stack_id(name)] = project.templates[files[path]]
    aws.templates[stack_id(NESTED["DataStack"])] = data
    return aws


def replacing_the_database(aws: FakeAws) -> None:
    """The next change set modifies DataStack, whose change set replaces the database."""
    aws.change_sets.append(
        change_set(
            "fs-dev-x",
            "example-dev",
            [change("DataStack", STACK, "Modify", "False", nested=DATA_CS)],
        )
    )
    aws.nested_change_sets[DATA_CS] = replace(
        change_set(
            "nested",
            NESTED["DataStack"],
            [
                change("Database", "AWS::RDS::DBInstance", "Modify", "True", ("DBName",)),
                change("DatabaseSecret", "AWS::SecretsManager::Secret", "Modify", "Conditional"),
            ],
        ),
        change_set_id=DATA_CS,
    )


def plan(project: FixtureProject, aws: FakeAws, *allowed: str) -> PlanOutcome:
    ctx, _ = context(project.root, lambda _target: aws)
    return run_plan(ctx, list(allowed))


# --- plan -----------------------------------------------------------------------------------


def test_a_change_set_without_changes_is_deleted_and_nothing_is_recorded(
    project: FixtureProject,
) -> None:
    aws = deployed_account(project)
    aws.change_sets.append(
        change_set("fs-dev-x", "example-dev", status="FAILED", reason=NO_CHANGES)
    )
    ctx, console = context(project.root, lambda _target: aws)
    assert run_plan(ctx, []) == PlanOutcome(changed=False)
    assert aws.deleted == list(aws.created)  # so nobody executes an empty change set
    assert not (project.folder / "plan.json").exists()
    assert "no changes: example-dev already matches build/dev" in console.export_text()
    assert "no changes" in (project.folder / "changeset.md").read_text()
    note = read_note(project.folder)
    assert note is not None and note.outcome == UNCHANGED


def test_an_update_that_aws_refuses_up_front_as_empty_is_no_change_either(
    project: FixtureProject,
) -> None:
    aws = deployed_account(project)
    aws.change_sets.append(None)  # create_change_set: "No updates are to be performed."
    assert not plan(project, aws).changed
    assert aws.deleted == [] and not (project.folder / "plan.json").exists()


def test_a_nested_replacement_is_refused_naming_resources_and_properties(
    project: FixtureProject, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    summary = tmp_path / "summary.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    aws = deployed_account(project, database_name="old_name")
    replacing_the_database(aws)
    ctx, console = context(project.root, lambda _target: aws)
    with pytest.raises(GuardRefusal) as refused:
        run_plan(ctx, [])
    lines = refused.value.lines
    assert refused.value.exit_code == 3
    assert lines[1] == (
        "  example-dev/DataStack: Database (AWS::RDS::DBInstance): replaced (Replacement True) "
        "by DBName; replaced (offline: create-only DBName changed)"
    )
    assert lines[2] == (
        "  example-dev/DataStack: DatabaseSecret (AWS::SecretsManager::Secret): "
        "replaced (Replacement Conditional)"
    )
    assert lines[-1].endswith("--allow-replace Database --allow-replace DatabaseSecret")
    assert aws.deleted == list(aws.created) and aws.executed == []  # nobody can execute it
    assert not (project.folder / "plan.json").exists()
    markdown = (project.folder / "changeset.md").read_text()
    assert (
        "| example-dev/DataStack | Database | AWS::RDS::DBInstance | Modify | True | DBName |"
        in markdown
    )
    assert "**refused**" in markdown
    assert summary.read_text().strip() == markdown.strip()
    assert "Database" in console.export_text()


def test_a_refused_plan_leaves_its_own_review_and_no_older_plan(project: FixtureProject) -> None:
    """The older plan is gone, so its table must go too: changeset.md shows the refusal."""
    write_plan_for(project.folder)
    (project.folder / "changeset.md").write_text("## the older plan's table\n")
    aws = deployed_account(project, database_name="old_name")
    replacing_the_database(aws)
    with pytest.raises(GuardRefusal):
        plan(project, aws)
    assert not (project.folder / "plan.json").exists()
    markdown = (project.folder / "changeset.md").read_text()
    assert "older plan" not in markdown and "**refused**" in markdown
    ctx, _ = context(project.root, lambda _target: aws)
    with pytest.raises(NotReady) as no_plan:
        run_apply(ctx)
    assert "was refused by the data-loss guard" in no_plan.value.lines[0]


def test_a_plan_that_fails_removes_the_older_plan_and_its_review(
    project: FixtureProject,
) -> None:
    write_plan_for(project.folder)
    (project.folder / "changeset.md").write_text("## the older plan's table\n")
    aws = deployed_account(project)
    del aws.stacks["example-bootstrap"]
    ctx, _ = context(project.root, lambda _target: aws)
    with pytest.raises(NotReady, match="no bootstrap stack"):
        run_plan(ctx, [])
    with pytest.raises(NotReady) as no_plan:
        run_apply(ctx)
    assert not (project.folder / "plan.json").exists()
    assert not (project.folder / "changeset.md").exists()
    assert "stopped before it recorded one" in no_plan.value.lines[0]


def test_a_missing_bootstrap_stack_is_one_line_and_exit_2(project: FixtureProject) -> None:
    aws = deployed_account(project)
    del aws.stacks["example-bootstrap"]
    with pytest.raises(NotReady) as raised:
        plan(project, aws)
    assert raised.value.exit_code == 2
    assert raised.value.lines == [
        "no bootstrap stack example-bootstrap in this account and region "
        "(run `factorstack bootstrap dev` first)"
    ]
    assert aws.requests == [] and aws.uploaded == []


def test_a_change_set_that_failed_is_exit_1_with_its_reason(project: FixtureProject) -> None:
    aws = deployed_account(project)
    reason = "Template error: instance of Fn::GetAtt references undefined resource Nope"
    aws.change_sets.append(change_set("fs-dev-x", "example-dev", status="FAILED", reason=reason))
    with pytest.raises(DeployError, match="references undefined resource Nope") as raised:
        plan(project, aws)
    assert raised.value.exit_code == 1
    assert not (project.folder / "plan.json").exists()


def test_an_allowed_replacement_is_recorded_without_parameter_values(
    project: FixtureProject,
) -> None:
    aws = deployed_account(project, database_name="old_name")
    replacing_the_database(aws)
    outcome = plan(project, aws, "Database", "DatabaseSecret")
    recorded = read_plan(project.folder, "dev")
    assert outcome.changed and recorded.change_set_id == next(iter(aws.created))
    assert recorded.nested_change_set_ids == {"example-dev/DataStack": DATA_CS}
    assert recorded.stack_status == "UPDATE_COMPLETE"
    assert recorded.parameter_keys == ["ImageTag"]
    assert len(recorded.guard) == 2
    assert aws.deleted == [] and aws.executed == []
    text = (project.folder / "plan.json").read_text()
    assert "v1" not in text and "not-a-real-password" not in text


def test_execute_does_not_print_the_apply_hint(project: FixtureProject) -> None:
    for applying, shown in ((True, "applying it now"), (False, "apply it with `./deploy.sh")):
        aws = deployed_account(project)
        aws.change_sets.append(
            change_set("fs-dev-x", "example-dev", [change("WebStack", STACK, "Modify", "False")])
        )
        ctx, console = context(project.root, lambda _target, aws=aws: aws)
        run_plan(ctx, [], applying=applying)
        text = console.export_text()
        assert shown in text
        assert ("--apply" in text) is not applying


# --- apply ----------------------------------------------------------------------------------


def planned(project: FixtureProject) -> FakeAws:
    """An account with a recorded plan that modifies WebStack."""
    aws = deployed_account(project)
    aws.change_sets.append(
        change_set("fs-dev-x", "example-dev", [change("WebStack", STACK, "Modify", "False")])
    )
    assert plan(project, aws).changed
    return aws


def test_apply_executes_exactly_the_recorded_change_set_once(project: FixtureProject) -> None:
    aws = planned(project)
    recorded = read_plan(project.folder, "dev")
    ctx, console = context(project.root, lambda _target: aws)
    final = run_apply(ctx)
    assert aws.executed == [recorded.change_set_id]
    assert final.status == "UPDATE_COMPLETE"
    assert "example-dev: UPDATE_COMPLETE" in console.export_text()
    assert not (project.folder / "plan.json").exists()
    note = read_note(project.folder)
    assert note is not None and note.outcome == APPLIED
    with pytest.raises(NotReady, match="was applied already"):
        run_apply(ctx)
    assert aws.executed == [recorded.change_set_id]


def test_apply_refuses_a_stack_that_moved_since_the_plan_and_keeps_the_plan(
    project: FixtureProject,
) -> None:
    aws = planned(project)
    aws.stacks["example-dev"] = replace(aws.stacks["example-dev"], status="UPDATE_IN_PROGRESS")
    ctx, _ = context(project.root, lambda _target: aws)
    with pytest.raises(DeployError, match="changed since the plan: its status is UPDATE_IN_PR"):
        run_apply(ctx)
    assert aws.executed == []
    assert (project.folder / "plan.json").exists()


def test_apply_refuses_a_change_set_that_is_gone(project: FixtureProject) -> None:
    aws = planned(project)
    aws.deleted.append(read_plan(project.folder, "dev").change_set_id)  # deleted in the console
    ctx, _ = context(project.root, lambda _target: aws)
    with pytest.raises(DeployError, match="no longer exists \\(plan again\\)"):
        run_apply(ctx)
    assert aws.executed == []


def test_apply_after_a_rebuild_says_the_plan_went_with_the_old_build(
    project: FixtureProject,
) -> None:
    aws = planned(project)
    # What `factorstack build` does when a template changed: a new build/dev replaces the old
    # one, plan.json included.
    shutil.rmtree(project.folder)
    project.resources("process-web.json")["WebTaskDefinition"]["Properties"]["Cpu"] = "512"
    project.write()
    ctx, _ = context(project.root, lambda _target: aws)
    with pytest.raises(NotReady) as no_plan:
        run_apply(ctx)
    (line,) = no_plan.value.lines
    assert line.startswith(f"{project.folder / 'plan.json'}: no plan to apply: build/dev was ")
    assert "rebuilt after the last plan (" in line
    assert line.endswith("(the templates changed; run `./deploy.sh dev` to plan them)")
    assert no_plan.value.exit_code == 2
    assert aws.executed == []


# --- the follow-up --------------------------------------------------------------------------


def follow_up_account(nested_changes: list[dict[str, Any]] | None) -> FakeAws:
    """An account whose next change set is the follow-up (None: it would change nothing)."""
    aws = FakeAws()
    aws.stacks["example-dev"] = stack("example-dev", "CREATE_COMPLETE", tags={"app": "example"})
    if nested_changes is None:
        aws.change_sets.append(None)
        return aws
    aws.change_sets.append(
        change_set(
            "fs-dev-x-follow-up",
            "example-dev",
            [change("DataStack", STACK, "Modify", "False", nested=DATA_CS)],
        )
    )
    nested = change_set("nested", NESTED["DataStack"], nested_changes)
    aws.nested_change_sets[DATA_CS] = replace(nested, change_set_id=DATA_CS)
    return aws


def protected_plan() -> PlanRecord:
    return record(parameter_keys=[PROTECTION, "ImageTag"], follow_up={PROTECTION: "true"})


def test_the_follow_up_turns_deletion_protection_on_in_place(project: FixtureProject) -> None:
    aws = follow_up_account([change("Database", "AWS::RDS::DBInstance", "Modify", "False")])
    ctx, console = context(project.root, lambda _target: aws)
    updated = run_follow_up(ctx, aws, protected_plan(), aws.stacks["example-dev"])
    assert updated is not None and updated.status == "UPDATE_COMPLETE"
    (request,) = aws.requests
    assert request.name == "fs-dev-x-follow-up" and request.change_set_type == "UPDATE"
    assert request.template_url == "https://b.s3.eu-west-1.amazonaws.com/k"
    assert request.parameters == [
        {"ParameterKey": PROTECTION, "ParameterValue": "true"},
        {"ParameterKey": "ImageTag", "UsePreviousValue": True},
    ]
    assert request.tags == {"app": "example"}
    assert aws.executed == list(aws.created)
    shown = console.export_text()
    assert "follow-up update of example-dev: DatabaseDeletionProtection=true" in shown
    assert "follow-up done: DatabaseDeletionProtection=true" in shown


def test_a_follow_up_that_would_replace_anything_is_deleted_not_executed(
    project: FixtureProject,
) -> None:
    replaced = change("Database", "AWS::RDS::DBInstance", "Modify", "True", ("DBName",))
    aws = follow_up_account([replaced])
    ctx, _ = context(project.root, lambda _target: aws)
    with pytest.raises(DeployError, match="would do more than set") as refused:
        run_follow_up(ctx, aws, protected_plan(), aws.stacks["example-dev"])
    assert "example-dev/DataStack/Database Modify" in str(refused.value)
    assert aws.deleted == list(aws.created) and aws.executed == []


def test_a_follow_up_the_stack_already_has_executes_nothing(project: FixtureProject) -> None:
    aws = follow_up_account(None)
    ctx, console = context(project.root, lambda _target: aws)
    assert run_follow_up(ctx, aws, protected_plan(), aws.stacks["example-dev"]) is None
    assert aws.executed == []
    assert "follow-up: example-dev already has DatabaseDeletionProtection=true" in (
        console.export_text()
    )


def test_a_plan_without_follow_up_values_needs_no_follow_up(project: FixtureProject) -> None:
    aws = FakeAws()
    ctx, _ = context(project.root, lambda _target: aws)
    assert run_follow_up(ctx, aws, record(), stack("example-dev", "UPDATE_COMPLETE")) is None
    assert aws.requests == []


# --- the release phase ---------------------------------------------------------------------------

FAILED_MIGRATION = (
    'release task exited 1; last log lines: {"level":"info","message":"migrating '
    '2026_11_26_add_orders"} | SQLSTATE[42S01]: Base table or view already exists: 1050 '
    "Table 'orders' already exists"
)


def test_a_failing_migration_fails_the_deploy_naming_its_exit_code_and_log(
    project: FixtureProject,
) -> None:
    """The release stack's custom resource answered FAILED with the task's exit code and log
    tail; CloudFormation rolled back before any service moved. apply shows that answer as the
    root cause, not the root's "Embedded stack ... was not successfully updated"."""
    from tests.support.fake_aws import Execution, event

    aws = planned(project)
    recorded = read_plan(project.folder, "dev")
    release = "example-dev-ReleaseStack-1"
    root_id = stack_id("example-dev")
    aws.executions[recorded.change_set_id] = Execution(
        final=stack("example-dev", "UPDATE_ROLLBACK_COMPLETE"),
        events={
            "example-dev": [
                event("example-dev", "example-dev", "UPDATE_ROLLBACK_COMPLETE", 400),
                event(
                    "example-dev",
                    "ReleaseStack",
                    "UPDATE_FAILED",
                    300,
                    f"Embedded stack {stack_id(release)} was not successfully updated. Currently "
                    "in UPDATE_ROLLBACK_IN_PROGRESS with reason: The following resource(s) "
                    "failed to update: [ReleasePhase].",
                    physical_id=stack_id(release),
                ),
                event(
                    "example-dev",
                    "ReleaseStack",
                    "UPDATE_IN_PROGRESS",
                    10,
                    physical_id=stack_id(release),
                ),
                event(
                    "example-dev",
                    "example-dev",
                    "UPDATE_IN_PROGRESS",
                    1,
                    "User Initiated",
                    physical_id=root_id,
                ),
            ],
            stack_id(release): [
                event(
                    release,
                    "ReleasePhase",
                    "UPDATE_FAILED",
                    290,
                    FAILED_MIGRATION,
                    resource_type="Custom::ReleasePhase",
                ),
                event(
                    release,
                    "ReleaseTaskDefinition",
                    "UPDATE_COMPLETE",
                    20,
                    resource_type="AWS::ECS::TaskDefinition",
                ),
            ],
        },
    )
    ctx, console = context(project.root, lambda _target: aws)
    with pytest.raises(DeployError) as failed:
        run_apply(ctx)
    message = str(failed.value)
    assert failed.value.exit_code == 1
    assert "UPDATE_ROLLBACK_COMPLETE" in message
    assert (
        "example-dev/ReleaseStack ReleasePhase (Custom::ReleasePhase) UPDATE_FAILED: "
        + FAILED_MIGRATION
    ) in message
