"""run_plan and run_apply against AWS-shaped responses: what only real CloudFormation produces."""

from __future__ import annotations

import copy
import json
import shutil
from datetime import datetime
from pathlib import Path

import boto3
import pytest
from botocore.stub import ANY, Stubber
from rich.console import Console

from factorstack.deploy.apply import check_executable, run_apply, stack_moved
from factorstack.deploy.context import Context
from factorstack.deploy.plan import run_plan, stack_parameters
from factorstack.deploy.plan_files import (
    APPLIED,
    PLANNING,
    RECORDED,
    REFUSED,
    UNCHANGED,
    PlanNote,
    PlanRecord,
    read_plan,
    why_no_plan,
)
from factorstack.deploy.session import Clients
from factorstack.errors import DeployError, GuardRefusal, NotReady, UsageError
from tests.deploy.aws_responses import (
    ACCOUNT,
    REGION,
    T0,
    change_set,
    change_set_arn,
    client,
    client_error,
    db_engine_versions,
    detail,
    event,
    resource_change,
    service_quota,
    stack,
    stack_arn,
    vpcs,
)
from tests.deploy.test_stack_state import FakeClock
from tests.e2e.fixture_build import DATA, FixtureProject

STACK = "AWS::CloudFormation::Stack"
ROOT_CS = change_set_arn("fs-dev-x")
DATA_CS = change_set_arn("example-dev-DataStack-1-fs-dev-x", "bbbb")
IDENTITY = {"UserId": "AIDA", "Account": ACCOUNT, "Arn": f"arn:aws:iam::{ACCOUNT}:user/ci"}
BOOTSTRAP = stack(
    "example-bootstrap",
    "CREATE_COMPLETE",
    Outputs=[{"OutputKey": "ArtifactsBucketName", "OutputValue": "example-artifacts"}],
)
DEPLOYED = stack(
    "example-dev",
    "UPDATE_COMPLETE",
    Parameters=[{"ParameterKey": "ImageTag", "ParameterValue": "v1"}],
)


class Stubs:
    def __init__(self) -> None:
        self.cfn, self.s3, self.sts = client("cloudformation"), client("s3"), client("sts")
        self.ecr = client("ecr")
        self.stubbers = [Stubber(self.cfn), Stubber(self.s3), Stubber(self.sts), Stubber(self.ecr)]
        self.cfn_stub, self.s3_stub, self.sts_stub, self.ecr_stub = self.stubbers
        # What the account preflight asks about the fixture build (a MySQL version; quotas).
        self.rds, self.ec2, self.quotas = client("rds"), client("ec2"), client("service-quotas")
        self.rds_stub, self.ec2_stub, self.quotas_stub = (
            Stubber(self.rds),
            Stubber(self.ec2),
            Stubber(self.quotas),
        )
        self.stubbers += [self.rds_stub, self.ec2_stub, self.quotas_stub]

    def clients(self, _target) -> Clients:
        return Clients(
            cloudformation=self.cfn,
            s3=self.s3,
            sts=self.sts,
            region=REGION,
            ecr=self.ecr,
            rds=self.rds,
            ec2=self.ec2,
            service_quotas=self.quotas,
        )

    def __enter__(self) -> Stubs:
        for stub in self.stubbers:
            stub.activate()
        return self

    def __exit__(self, *exc) -> None:
        for stub in self.stubbers:
            stub.deactivate()

    def verify(self) -> None:
        for stub in self.stubbers:
            stub.assert_no_pending_responses()


def context(project: FixtureProject, stubs: Stubs) -> tuple[Context, Console]:
    console = Console(record=True, width=200)
    clock = FakeClock()
    ctx = Context(
        root=project.root,
        environment="dev",
        console=console,
        timing=clock.timing(),
        change_set_timing=clock.timing(),
        clients_for=stubs.clients,
    )
    return ctx, console


def stub_image_present(stubs: Stubs, tag: str) -> None:
    """The image preflight finds the web image at the tag the stack will run."""
    stubs.ecr_stub.add_response(
        "describe_images",
        {"imageDetails": [{"imageDigest": "sha256:" + "a" * 64, "imageTags": [tag]}]},
        {"repositoryName": "example/web", "imageIds": [{"imageTag": tag}]},
    )


def stub_account_preflight(stubs: Stubs, new_stack: bool = False) -> None:
    """The fixture's MySQL version is offered; a new stack's VPC fits the quota."""
    stubs.rds_stub.add_response(
        "describe_db_engine_versions", db_engine_versions("mysql", "8.0.43"), {"Engine": "mysql"}
    )
    if new_stack:
        stubs.quotas_stub.add_response(
            "get_service_quota",
            service_quota("vpc", "L-F678F1CE", "VPCs per Region", 5.0),
            {"ServiceCode": "vpc", "QuotaCode": "L-F678F1CE"},
        )
        stubs.ec2_stub.add_response("describe_vpcs", vpcs(1), {})


def stub_until_change_set(stubs: Stubs, root_change_set: dict, image_tag: str = "v1") -> None:
    """Account check, bootstrap bucket, packaging (all present), stack state, change set."""
    stubs.sts_stub.add_response("get_caller_identity", IDENTITY)
    stubs.cfn_stub.add_response("describe_stacks", BOOTSTRAP, {"StackName": "example-bootstrap"})
    for _ in range(4):  # three children and the packaged root, all uploaded before
        stubs.s3_stub.add_response(
            "head_object", {"ContentLength": 1}, {"Bucket": "example-artifacts", "Key": ANY}
        )
    stubs.cfn_stub.add_response(
        "describe_stacks", copy.deepcopy(DEPLOYED), {"StackName": "example-dev"}
    )
    stub_image_present(stubs, image_tag)
    stub_account_preflight(stubs)
    stubs.cfn_stub.add_client_error(
        "describe_change_set", **client_error("ChangeSetNotFound", "ChangeSet does not exist", 404)
    )
    stubs.cfn_stub.add_response("create_change_set", {"Id": ROOT_CS}, None)
    stubs.cfn_stub.add_response("describe_change_set", root_change_set, {"ChangeSetName": ROOT_CS})


def stub_offline_guard(stubs: Stubs, project: FixtureProject, deployed_data: dict) -> None:
    """The deployed tree and templates the offline guard compares with build/dev."""
    nested = {
        "NetworkStack": "example-dev-NetworkStack-1",
        "DataStack": "example-dev-DataStack-1",
        "WebStack": "example-dev-WebStack-1",
    }
    summaries = [
        {
            "LogicalResourceId": logical,
            "PhysicalResourceId": stack_arn(physical),
            "ResourceType": STACK,
            "LastUpdatedTimestamp": DEPLOYED["Stacks"][0]["CreationTime"],
            "ResourceStatus": "UPDATE_COMPLETE",
        }
        for logical, physical in nested.items()
    ]
    add = stubs.cfn_stub.add_response
    add("list_stack_resources", {"StackResourceSummaries": summaries}, {"StackName": "example-dev"})
    for logical in ("WebStack", "DataStack", "NetworkStack"):  # depth-first pops the last
        add(
            "list_stack_resources",
            {"StackResourceSummaries": []},
            {"StackName": stack_arn(nested[logical])},
        )
    templates = {
        "": project.templates["root.json"],
        "DataStack": deployed_data,
        "NetworkStack": project.templates["network.json"],
        "WebStack": project.templates["process-web.json"],
    }
    for path in ("", "DataStack", "NetworkStack", "WebStack"):
        name = "example-dev" if not path else stack_arn(nested[path])
        add(
            "get_template",
            {"TemplateBody": json.dumps(templates[path]), "StagesAvailable": ["Original"]},
            {"StackName": name, "TemplateStage": "Original"},
        )


def replacing_root() -> dict:
    return change_set(
        "fs-dev-x",
        "example-dev",
        [resource_change("DataStack", STACK, "Modify", "False", nested=DATA_CS)],
        cs_id=ROOT_CS,
    )


def replacing_data() -> dict:
    return change_set(
        "example-dev-DataStack-1-fs-dev-x",
        "example-dev-DataStack-1",
        [
            resource_change(
                "Database", "AWS::RDS::DBInstance", "Modify", "True", [detail("DBName", "Always")]
            ),
            resource_change(
                "DatabaseSecret",
                "AWS::SecretsManager::Secret",
                "Modify",
                "Conditional",
                [detail("Name", "Conditionally", "Dynamic")],
            ),
        ],
        cs_id=DATA_CS,
        parent=ROOT_CS,
    )


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> FixtureProject:
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)
    monkeypatch.delenv("IMAGE_TAG", raising=False)
    built = FixtureProject(tmp_path / "repo")
    built.write()
    return built


def refuse_database_replacement(project: FixtureProject):
    """A plan that would replace the database, not allowed: the guard refuses it."""
    deployed_data = copy.deepcopy(DATA)
    deployed_data["Resources"]["Database"]["Properties"]["DBName"] = "old_name"
    with Stubs() as stubs:
        stub_until_change_set(stubs, replacing_root(), image_tag="v2")
        stubs.cfn_stub.add_response(
            "describe_change_set", replacing_data(), {"ChangeSetName": DATA_CS}
        )
        stub_offline_guard(stubs, project, deployed_data)
        stubs.cfn_stub.add_response("delete_change_set", {}, {"ChangeSetName": ROOT_CS})
        ctx, console = context(project, stubs)
        with pytest.raises(GuardRefusal) as refused:
            run_plan(ctx, [], image_tag="v2")
        stubs.verify()
    return refused.value, console


def test_nested_replacement_is_refused_naming_resources_and_properties(
    project: FixtureProject, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    summary = tmp_path / "summary.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    refusal, console = refuse_database_replacement(project)
    lines = refusal.lines
    assert refusal.exit_code == 3
    assert lines[1] == (
        "  example-dev/DataStack: Database (AWS::RDS::DBInstance): replaced (Replacement True) "
        "by DBName; replaced (offline: create-only DBName changed)"
    )
    assert lines[2] == (
        "  example-dev/DataStack: DatabaseSecret (AWS::SecretsManager::Secret): "
        "replaced (Replacement Conditional) by Name"
    )
    assert lines[-1].endswith("--allow-replace Database --allow-replace DatabaseSecret")
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
    write_plan_for(project)
    (project.folder / "changeset.md").write_text("## the older plan's table\n")
    refuse_database_replacement(project)
    assert not (project.folder / "plan.json").exists()
    markdown = (project.folder / "changeset.md").read_text()
    assert "older plan" not in markdown and "**refused**" in markdown
    with Stubs() as stubs, pytest.raises(NotReady) as no_plan:
        run_apply(context(project, stubs)[0])
    assert "was refused by the data-loss guard" in no_plan.value.lines[0]


def test_a_plan_that_fails_removes_the_older_plan_and_its_review(
    project: FixtureProject,
) -> None:
    write_plan_for(project)
    (project.folder / "changeset.md").write_text("## the older plan's table\n")
    with Stubs() as stubs:
        stubs.sts_stub.add_response("get_caller_identity", IDENTITY)
        stubs.cfn_stub.add_client_error(
            "describe_stacks",
            **client_error("ValidationError", "Stack with id example-bootstrap does not exist"),
        )
        ctx, _ = context(project, stubs)
        with pytest.raises(NotReady, match="no bootstrap stack"):
            run_plan(ctx, [])
        with pytest.raises(NotReady) as no_plan:
            run_apply(ctx)
    assert not (project.folder / "plan.json").exists()
    assert not (project.folder / "changeset.md").exists()
    assert "stopped before it recorded one" in no_plan.value.lines[0]


def test_apply_after_a_rebuild_says_the_plan_went_with_the_old_build(
    project: FixtureProject,
) -> None:
    plan_allowed_replacement(project)
    # What `factorstack build` does when a template changed: a new build/dev replaces the old
    # one, plan.json included.
    shutil.rmtree(project.folder)
    project.resources("process-web.json")["WebTaskDefinition"]["Properties"]["Cpu"] = "512"
    project.write()
    with Stubs() as stubs, pytest.raises(NotReady) as no_plan:
        run_apply(context(project, stubs)[0])
    (line,) = no_plan.value.lines
    assert line.startswith(f"{project.folder / 'plan.json'}: no plan to apply: build/dev was ")
    assert "rebuilt after the last plan (" in line
    assert line.endswith("(the templates changed; run `./deploy.sh dev` to plan them)")
    assert no_plan.value.exit_code == 2


def test_execute_does_not_print_the_apply_hint(project: FixtureProject) -> None:
    _, console = plan_allowed_replacement(project, applying=True)
    shown = console.export_text()
    assert "applying it now" in shown and "--apply" not in shown
    _, console = plan_allowed_replacement(project)
    assert "apply it with `./deploy.sh dev --apply`" in console.export_text()


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


def test_no_op_change_set_is_deleted_and_exits_clean(project: FixtureProject) -> None:
    no_op = change_set(
        "fs-dev-x",
        "example-dev",
        [],
        cs_id=ROOT_CS,
        status="FAILED",
        execution="UNAVAILABLE",
        reason="The submitted information didn't contain changes. Submit different information "
        "to create a change set.",
    )
    with Stubs() as stubs:
        stub_until_change_set(stubs, no_op)
        stubs.cfn_stub.add_response("delete_change_set", {}, {"ChangeSetName": ROOT_CS})
        ctx, console = context(project, stubs)
        assert not run_plan(ctx, []).changed
        stubs.verify()
    assert "no changes: example-dev already matches build/dev" in console.export_text()


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


def test_failed_change_set_is_exit_1_with_its_reason(project: FixtureProject) -> None:
    failed = change_set(
        "fs-dev-x",
        "example-dev",
        [],
        cs_id=ROOT_CS,
        status="FAILED",
        execution="UNAVAILABLE",
        reason="Template error: instance of Fn::GetAtt references undefined resource Nope",
    )
    with Stubs() as stubs:
        stub_until_change_set(stubs, failed)
        ctx, _ = context(project, stubs)
        with pytest.raises(DeployError, match="references undefined resource Nope") as raised:
            run_plan(ctx, [])
    assert raised.value.exit_code == 1


def test_missing_bootstrap_stack_is_one_line(project: FixtureProject) -> None:
    with Stubs() as stubs:
        stubs.sts_stub.add_response("get_caller_identity", IDENTITY)
        stubs.cfn_stub.add_client_error(
            "describe_stacks",
            **client_error("ValidationError", "Stack with id example-bootstrap does not exist"),
        )
        ctx, _ = context(project, stubs)
        with pytest.raises(NotReady) as raised:
            run_plan(ctx, [])
    assert raised.value.exit_code == 2
    assert raised.value.lines == [
        "no bootstrap stack example-bootstrap in this account and region "
        "(run `factorstack bootstrap dev` first)"
    ]


def test_parameters_prefer_given_then_previous_then_default() -> None:
    template = {
        "Parameters": {"ImageTag": {"Type": "String"}, "Other": {"Type": "String", "Default": "x"}}
    }
    deployed = {"Parameters": [{"ParameterKey": "ImageTag", "ParameterValue": "v1"}]}
    assert stack_parameters(template, deployed, "v2") == [
        {"ParameterKey": "ImageTag", "ParameterValue": "v2"}
    ]
    assert stack_parameters(template, deployed, None) == [
        {"ParameterKey": "ImageTag", "UsePreviousValue": True}
    ]
    with pytest.raises(UsageError, match="pass --image-tag TAG"):
        stack_parameters(template, None, None)


def record(**changes) -> PlanRecord:
    base = PlanRecord(
        stack_name="example-dev",
        stack_id=stack_arn("example-dev"),
        change_set_id=ROOT_CS,
        change_set_name="fs-dev-x",
        change_set_type="UPDATE",
        stack_status="UPDATE_COMPLETE",
        stack_last_updated="2026-11-26T12:00:00+00:00",
        template_url="https://b.s3.eu-west-1.amazonaws.com/k",
        template_hashes={},
        nested_change_set_ids={},
        counts={"Modify": 1},
        rows=[],
        console_link="",
    )
    for key, value in changes.items():
        setattr(base, key, value)
    return base


def test_stack_moved() -> None:
    from datetime import UTC

    same = {
        "StackStatus": "UPDATE_COMPLETE",
        "LastUpdatedTime": datetime(2026, 11, 26, 12, tzinfo=UTC),
    }
    assert stack_moved(record(), same) is None
    later = dict(same, LastUpdatedTime=datetime(2026, 11, 26, 13, tzinfo=UTC))
    assert "updated at 2026-11-26T13:00:00+00:00" in (stack_moved(record(), later) or "")
    busy = dict(same, StackStatus="UPDATE_IN_PROGRESS")
    assert "UPDATE_IN_PROGRESS" in (stack_moved(record(), busy) or "")
    assert "gone" in (stack_moved(record(), None) or "")


def test_check_executable() -> None:
    with pytest.raises(DeployError, match="no longer exists"):
        check_executable(record(), None)
    executed = {"Status": "CREATE_COMPLETE", "ExecutionStatus": "EXECUTE_COMPLETE"}
    with pytest.raises(DeployError, match="ExecutionStatus EXECUTE_COMPLETE"):
        check_executable(record(), executed)
    check_executable(record(), {"Status": "CREATE_COMPLETE", "ExecutionStatus": "AVAILABLE"})


def write_plan_for(project: FixtureProject, **changes) -> None:
    rec = record(
        template_hashes=json.loads((project.folder / "manifest.json").read_text())["templates"],
        **changes,
    )
    (project.folder / "plan.json").write_text(rec.to_json())


def failing_apply(project: FixtureProject) -> DeployError:
    """Apply a plan whose update fails deep in DataStack; return the error apply raised.

    Before executing, each deployed stack's newest event is noted: the root's last update and an
    OLD failure in DataStack from an earlier deploy, which must never be shown or blamed.
    """
    write_plan_for(project, stack_last_updated=None)
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
    write_plan_for(project, stack_last_updated=None)
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


def test_image_preflight_names_the_registry_of_a_china_region() -> None:
    from factorstack.build.manifest import Build
    from factorstack.deploy.plan import check_images
    from factorstack.deploy.session import AwsTarget

    ecr = boto3.client(
        "ecr",
        region_name="cn-north-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
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
    clients = Clients(cloudformation=None, s3=None, sts=None, region="cn-north-1", ecr=ecr)
    with Stubber(ecr) as stub:
        stub.add_client_error(
            "describe_images", **client_error("ImageNotFoundException", "no such image")
        )
        with pytest.raises(NotReady) as refused:
            check_images(clients, build, None, "v1")
    assert f"({ACCOUNT}.dkr.ecr.cn-north-1.amazonaws.com.cn)" in refused.value.lines[0]
