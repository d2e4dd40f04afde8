"""run_plan and run_apply against AWS-shaped responses (Stubber on the gateway's clients): the
shapes only real CloudFormation produces. Outcomes without shapes: test_outcomes.py (fake).
"""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from botocore.stub import ANY

from factorstack.build.manifest import AwsTarget, Build
from factorstack.deploy.apply import run_apply
from factorstack.deploy.aws.change_sets import change_set_from_api
from factorstack.deploy.context import Context
from factorstack.deploy.decide.change_sets import check_executable
from factorstack.deploy.decide.parameters import stack_parameters
from factorstack.deploy.decide.stacks import Stack, stack_moved
from factorstack.deploy.plan import check_images, run_plan
from factorstack.deploy.present.plan_files import (
    APPLIED,
    PLANNING,
    RECORDED,
    REFUSED,
    UNCHANGED,
    PlanNote,
    read_plan,
    why_no_plan,
)
from factorstack.errors import DeployError, NotReady, UsageError
from tests.support import deploying
from tests.support.aws_answers import (
    ACCOUNT,
    T0,
    change_set,
    change_set_arn,
    client,
    client_error,
    event,
    resource_change,
    stack,
    stack_arn,
)
from tests.support.deploying import ROOT_CS, write_plan_for
from tests.support.fixture_answers import (
    BOOTSTRAP,
    DATA_CS,
    DEPLOYED,
    IDENTITY,
    STACK,
    replacing_data,
    replacing_root,
    stub_account_preflight,
    stub_image_present,
    stub_offline_guard,
    stub_until_change_set,
)
from tests.support.fixture_build import DATA, FixtureProject
from tests.support.stubbed_aws import Stubs, stubbed


def context(project: FixtureProject, stubs: Stubs) -> tuple[Context, object]:
    return deploying.context(project.root, stubs.gateway)


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> FixtureProject:
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)
    monkeypatch.delenv("IMAGE_TAG", raising=False)
    built = FixtureProject(tmp_path / "repo")
    built.write()
    return built


NOTED = {"root.json": "aaa"}


@pytest.mark.parametrize(
    ("note", "templates", "expected"),
    [
        (None, NOTED, "no plan to apply (run `./deploy.sh dev` first)"),
        (
            PlanNote(RECORDED, NOTED, "T"),
            {"root.json": "bbb"},
            "no plan to apply: build/dev was rebuilt after the last plan (T), and the rebuild "
            "replaced it (the templates changed; run `./deploy.sh dev` to plan them)",
        ),
        (
            PlanNote(APPLIED, NOTED, "T"),
            NOTED,
            "no plan to apply: the last plan (T) was applied already (a change set runs once; "
            "run `./deploy.sh dev`)",
        ),
        (
            PlanNote(UNCHANGED, NOTED, "T"),
            NOTED,
            "no plan to apply: the last plan (T) found no changes: the stack already matches "
            "the build",
        ),
        (
            PlanNote(REFUSED, NOTED, "T"),
            NOTED,
            "no plan to apply: the last plan (T) was refused by the data-loss guard (see "
            "changeset.md; plan again with --allow-replace ID for each resource, if intended)",
        ),
        (
            PlanNote(PLANNING, NOTED, "T"),
            NOTED,
            "no plan to apply: the last plan (T) stopped before it recorded one (see its error, "
            "then run `./deploy.sh dev`)",
        ),
    ],
)
def test_why_no_plan_tells_each_ending_apart(note, templates, expected) -> None:
    assert why_no_plan(note, templates, "dev") == expected


def plan_allowed_replacement(project: FixtureProject, applying: bool = False):
    """A plan that replaces the database, allowed: it records plan.json."""
    deployed_data = copy.deepcopy(DATA)
    deployed_data["Resources"]["Database"]["Properties"]["DBName"] = "old_name"
    with Stubs() as stubs:
        stub_until_change_set(stubs, replacing_root())
        stubs.cfn_stub.add_response(
            "describe_change_set", replacing_data(), {"ChangeSetName": DATA_CS}
        )
        stub_offline_guard(stubs, project, deployed_data)
        stubs.cfn_stub.add_response(
            "describe_stacks", copy.deepcopy(DEPLOYED), {"StackName": "example-dev"}
        )
        ctx, console = context(project, stubs)
        outcome = run_plan(ctx, ["Database", "DatabaseSecret"], applying=applying)
        stubs.verify()
    return outcome, console


def test_allowed_replacement_records_the_plan(project: FixtureProject) -> None:
    outcome, console = plan_allowed_replacement(project)
    record = read_plan(project.folder, "dev")
    assert outcome.changed and record.change_set_id == ROOT_CS
    assert record.nested_change_set_ids == {"example-dev/DataStack": DATA_CS}
    assert record.stack_status == "UPDATE_COMPLETE"
    assert record.parameter_keys == ["ImageTag"]
    assert len(record.guard) == 2
    text = (project.folder / "plan.json").read_text()
    assert "v1" not in text and "not-a-real-password" not in text  # never parameter values


def test_replanning_a_create_that_was_never_applied_replaces_its_change_set(
    project: FixtureProject,
) -> None:
    """A CI plan job re-run: the stack sits in REVIEW_IN_PROGRESS holding the change set of the
    same commit from the first run; it is deleted and created again, not AlreadyExists."""
    reviewing = stack("example-dev", "REVIEW_IN_PROGRESS")
    old_cs = change_set_arn("fs-dev-x", "0000")
    creating = change_set(
        "fs-dev-x",
        "example-dev",
        [resource_change("NetworkStack", STACK, "Add")],
        cs_id=ROOT_CS,
    )
    with Stubs() as stubs:
        stubs.sts_stub.add_response("get_caller_identity", IDENTITY)
        add = stubs.cfn_stub.add_response
        add("describe_stacks", BOOTSTRAP, {"StackName": "example-bootstrap"})
        for _ in range(4):
            stubs.s3_stub.add_response(
                "head_object", {"ContentLength": 1}, {"Bucket": "example-artifacts", "Key": ANY}
            )
        add("describe_stacks", copy.deepcopy(reviewing), {"StackName": "example-dev"})
        stub_image_present(stubs, "v1")
        stub_account_preflight(stubs, new_stack=True)
        add(
            "describe_change_set",
            change_set("fs-dev-x", "example-dev", [], cs_id=old_cs),
            {"StackName": "example-dev", "ChangeSetName": ANY},
        )
        add("delete_change_set", {}, {"ChangeSetName": old_cs})
        add("create_change_set", {"Id": ROOT_CS}, None)
        add("describe_change_set", creating, {"ChangeSetName": ROOT_CS})
        add("describe_stacks", copy.deepcopy(reviewing), {"StackName": "example-dev"})
        ctx, _ = context(project, stubs)
        outcome = run_plan(ctx, [], image_tag="v1")
        stubs.verify()
    assert outcome.changed and outcome.record is not None
    assert outcome.record.change_set_type == "CREATE"
    assert outcome.record.change_set_id == ROOT_CS


def test_parameters_prefer_given_then_previous_then_default() -> None:
    template = {
        "Parameters": {"ImageTag": {"Type": "String"}, "Other": {"Type": "String", "Default": "x"}}
    }
    deployed = Stack("example-dev", "id", "UPDATE_COMPLETE", parameters={"ImageTag": "v1"})
    assert stack_parameters(template, deployed, "v2") == [
        {"ParameterKey": "ImageTag", "ParameterValue": "v2"}
    ]
    assert stack_parameters(template, deployed, None) == [
        {"ParameterKey": "ImageTag", "UsePreviousValue": True}
    ]
    with pytest.raises(UsageError, match="pass --image-tag TAG"):
        stack_parameters(template, None, None)


def test_stack_moved() -> None:
    seen = ("UPDATE_COMPLETE", "2026-11-26T12:00:00+00:00")
    same = Stack("example-dev", "id", "UPDATE_COMPLETE", "2026-11-26T12:00:00+00:00")
    assert stack_moved(*seen, same) is None
    later = Stack("example-dev", "id", "UPDATE_COMPLETE", "2026-11-26T13:00:00+00:00")
    assert "updated at 2026-11-26T13:00:00+00:00" in (stack_moved(*seen, later) or "")
    busy = Stack("example-dev", "id", "UPDATE_IN_PROGRESS", "2026-11-26T12:00:00+00:00")
    assert "UPDATE_IN_PROGRESS" in (stack_moved(*seen, busy) or "")
    assert "gone" in (stack_moved(*seen, None) or "")


def test_a_stack_updated_at_the_same_moment_reads_the_same_as_the_plan_saw_it() -> None:
    """plan.json keeps describe_stacks' LastUpdatedTime as ISO text; apply compares text."""
    gateway, stub = stubbed("cloudformation")
    updated = datetime(2026, 11, 26, 12, tzinfo=UTC)
    with stub:
        stub.add_response(
            "describe_stacks", stack("example-dev", "UPDATE_COMPLETE", LastUpdatedTime=updated)
        )
        now = gateway.describe_stack("example-dev")
    assert stack_moved("UPDATE_COMPLETE", "2026-11-26T12:00:00+00:00", now) is None


def test_check_executable() -> None:
    with pytest.raises(DeployError, match="no longer exists"):
        check_executable("fs-dev-x", None)
    executed = change_set_from_api(
        [change_set("fs-dev-x", "example-dev", [], cs_id=ROOT_CS, execution="EXECUTE_COMPLETE")]
    )
    with pytest.raises(DeployError, match="ExecutionStatus EXECUTE_COMPLETE"):
        check_executable("fs-dev-x", executed)
    available = change_set_from_api([change_set("fs-dev-x", "example-dev", [], cs_id=ROOT_CS)])
    check_executable("fs-dev-x", available)


def failing_apply(project: FixtureProject) -> DeployError:
    """Apply a plan whose update fails deep in DataStack; return the error apply raised.

    Before executing, each deployed stack's newest event is noted: the root's last update and an
    OLD failure in DataStack from an earlier deploy, which must never be shown or blamed.
    """
    write_plan_for(project.folder, stack_last_updated=None)
    data_arn = stack_arn("example-dev-DataStack-1")
    earlier_root = event("example-dev", "example-dev", STACK, "UPDATE_COMPLETE", 100)
    earlier_failure = event(
        "example-dev-DataStack-1",
        "Database",
        "AWS::RDS::DBInstance",
        "UPDATE_FAILED",
        90,
        "an earlier deploy's failure",
    )
    root_events = [
        event(
            "example-dev",
            "example-dev",
            STACK,
            "UPDATE_ROLLBACK_COMPLETE",
            9000,
            physical=stack_arn("example-dev"),
        ),
        event(
            "example-dev",
            "DataStack",
            STACK,
            "UPDATE_FAILED",
            8990,
            "Embedded stack was not successfully updated. Currently in UPDATE_ROLLBACK_IN_PROGRESS",
            data_arn,
        ),
        event(
            "example-dev",
            "example-dev",
            STACK,
            "UPDATE_IN_PROGRESS",
            8900,
            "User Initiated",
            stack_arn("example-dev"),
        ),
        earlier_root,
    ]
    data_events = [
        event(
            "example-dev-DataStack-1",
            "Database",
            "AWS::RDS::DBInstance",
            "UPDATE_FAILED",
            8980,
            "You can't modify the storage of a DB instance more than once every 6 hours",
        ),
        earlier_failure,
    ]
    data_stack = {
        "LogicalResourceId": "DataStack",
        "PhysicalResourceId": data_arn,
        "ResourceType": STACK,
        "LastUpdatedTimestamp": T0,
        "ResourceStatus": "UPDATE_COMPLETE",
    }
    with Stubs() as stubs:
        add = stubs.cfn_stub.add_response
        stubs.sts_stub.add_response("get_caller_identity", IDENTITY)
        add("describe_stacks", copy.deepcopy(DEPLOYED))
        add("describe_change_set", change_set("fs-dev-x", "example-dev", [], cs_id=ROOT_CS))
        # the baseline: each deployed stack's newest event before executing
        add("list_stack_resources", {"StackResourceSummaries": [data_stack]})
        add("list_stack_resources", {"StackResourceSummaries": []}, {"StackName": data_arn})
        add("describe_stack_events", {"StackEvents": [earlier_root]}, {"StackName": "example-dev"})
        add("describe_stack_events", {"StackEvents": [earlier_failure]}, {"StackName": data_arn})
        add(
            "execute_change_set",
            {},
            {"ChangeSetName": ROOT_CS, "RetainExceptOnCreate": True},
        )
        add("describe_stack_events", {"StackEvents": root_events})
        add("describe_stacks", stack("example-dev", "UPDATE_ROLLBACK_COMPLETE"))
        add("describe_stack_events", {"StackEvents": root_events})
        add("describe_stack_events", {"StackEvents": data_events}, {"StackName": data_arn})
        ctx, console = context(project, stubs)
        with pytest.raises(DeployError) as failed:
            run_apply(ctx)
        stubs.verify()
    shown = console.export_text()
    assert "User Initiated" in shown  # the deploy's first event
    assert "earlier deploy" not in shown
    assert not (project.folder / "plan.json").exists()
    return failed.value


def test_apply_follows_a_failure_into_the_nested_stack(project: FixtureProject) -> None:
    failed = failing_apply(project)
    assert failed.exit_code == 1
    assert "root cause: example-dev/DataStack Database (AWS::RDS::DBInstance) UPDATE_FAILED" in str(
        failed
    )
    assert "more than once every 6 hours" in str(failed)


def test_an_aws_error_before_execute_keeps_the_plan(project: FixtureProject) -> None:
    """Nothing ran, so the reviewed plan must still be there to apply once AWS answers."""
    write_plan_for(project.folder, stack_last_updated=None)
    with Stubs() as stubs:
        add = stubs.cfn_stub.add_response
        stubs.sts_stub.add_response("get_caller_identity", IDENTITY)
        add("describe_stacks", copy.deepcopy(DEPLOYED))
        add("describe_change_set", change_set("fs-dev-x", "example-dev", [], cs_id=ROOT_CS))
        stubs.cfn_stub.add_client_error(
            "list_stack_resources", **client_error("AccessDenied", "not allowed", 403)
        )
        ctx, _ = context(project, stubs)
        with pytest.raises(DeployError):
            run_apply(ctx)
        stubs.verify()
    assert (project.folder / "plan.json").exists()


def test_apply_without_plan_is_a_usage_error(project: FixtureProject) -> None:
    with Stubs() as stubs:
        ctx, _ = context(project, stubs)
        with pytest.raises(NotReady, match="no plan to apply") as raised:
            run_apply(ctx)
    assert raised.value.exit_code == 2


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("[]", "a JSON array, not an object"),
        ('"x"', "a JSON string, not an object"),
        ("null", "a JSON null, not an object"),
    ],
)
def test_a_plan_that_is_no_json_object_is_unreadable(
    project: FixtureProject, text: str, why: str
) -> None:
    """Valid JSON, but not a plan: one line, exit 2 (not: AttributeError), nothing asked of
    AWS (the stubs answer nothing)."""
    (project.folder / "plan.json").write_text(text)
    with Stubs() as stubs:
        ctx, _ = context(project, stubs)
        with pytest.raises(NotReady) as raised:
            run_apply(ctx)
    assert raised.value.exit_code == 2
    assert raised.value.lines == [
        f"{project.folder / 'plan.json'}: unreadable plan: {why} (plan again)"
    ]


@pytest.mark.parametrize(
    ("field", "value", "why"),
    [
        ("change_set_id", 5, "change_set_id: input should be a valid string"),
        ("stack_status", ["x"], "stack_status: input should be a valid string"),
        ("counts", {"Add": "3"}, "counts.Add: input should be a valid integer"),
        ("guard", "Database", "guard: input should be a valid array"),
    ],
)
def test_a_plan_field_of_another_type_is_unreadable(
    project: FixtureProject, field: str, value: object, why: str
) -> None:
    """A field of the wrong type never reaches AWS (the stubs answer nothing)."""
    written = write_plan_for(project.folder)
    assert read_plan(project.folder, "dev") == written  # as plan writes it: readable
    path = project.folder / "plan.json"
    data = json.loads(path.read_text())
    data[field] = value
    path.write_text(json.dumps(data))
    with Stubs() as stubs:
        ctx, _ = context(project, stubs)
        with pytest.raises(NotReady) as raised:
            run_apply(ctx)
    assert raised.value.lines == [f"{path}: unreadable plan: {why} (plan again)"]


def test_image_preflight_names_the_registry_of_a_china_region() -> None:
    build = Build(
        folder=Path("build/dev"),
        app="example",
        environment="dev",
        stack_name="example-dev",
        target=AwsTarget(account=ACCOUNT, region="cn-north-1"),
        config_sha256="",
        processes=("web",),
        templates={},
    )
    with Stubs(region="cn-north-1", ecr=client("ecr", "cn-north-1")) as stubs:
        stubs.ecr_stub.add_client_error(
            "describe_images", **client_error("ImageNotFoundException", "no such image")
        )
        with pytest.raises(NotReady) as refused:
            check_images(stubs.gateway(), build, None, "v1")
    assert f"({ACCOUNT}.dkr.ecr.cn-north-1.amazonaws.com.cn)" in refused.value.lines[0]
