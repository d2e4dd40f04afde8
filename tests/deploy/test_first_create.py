"""A first create that fails rolls back cleanly (ROLLBACK_COMPLETE): the database is created
without deletion protection, which a follow-up update turns on once the create succeeded.

AWS-shaped responses (Stubber): moto never produces rollbacks, nested change sets or stack
events. What the follow-up does, without shapes: test_outcomes.py (fake gateway).
"""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
from botocore.stub import ANY

from factorstack.deploy.apply import run_apply
from factorstack.deploy.decide.follow_up import (
    follow_up_parameters,
    follow_up_values,
    unexpected_rows,
)
from factorstack.deploy.decide.parameters import create_first_values, stack_parameters
from factorstack.deploy.decide.review import Row
from factorstack.deploy.decide.stacks import Stack
from factorstack.deploy.plan import run_plan
from factorstack.errors import DeployError
from tests.support import deploying
from tests.support.aws_answers import (
    change_set,
    client_error,
    event,
    resource_change,
    stack,
    stack_arn,
)
from tests.support.deploying import ROOT_CS, record
from tests.support.fixture_answers import (
    BOOTSTRAP,
    IDENTITY,
    STACK,
    stub_account_preflight,
    stub_image_present,
)
from tests.support.fixture_build import FixtureProject
from tests.support.stubbed_aws import Stubs

PROTECTION = "DatabaseDeletionProtection"
CREATE_FIRST = {"FactorstackCreateFirstWith": {PROTECTION: "false"}}


def protected_root() -> dict:
    """A root as stacks/root.py writes it for an environment with deletion protection."""
    return {
        "Metadata": copy.deepcopy(CREATE_FIRST),
        "Parameters": {
            "ImageTag": {"Type": "String"},
            PROTECTION: {"Type": "String", "AllowedValues": ["true", "false"], "Default": "true"},
        },
    }


def deployed(*keys: str) -> Stack:
    return Stack("example-dev", "id", "UPDATE_COMPLETE", parameters=dict.fromkeys(keys, "x"))


def test_a_first_create_passes_false_and_follows_up_with_the_environment_value() -> None:
    root = protected_root()
    assert create_first_values(root, None) == {PROTECTION: "false"}
    assert follow_up_values(root, create_first_values(root, None)) == {PROTECTION: "true"}
    assert stack_parameters(root, None, "v1") == [
        {"ParameterKey": PROTECTION, "ParameterValue": "false"},
        {"ParameterKey": "ImageTag", "ParameterValue": "v1"},
    ]


def test_an_update_sets_the_environment_value_and_needs_no_follow_up() -> None:
    root = protected_root()
    stack_now = deployed("ImageTag", PROTECTION)
    assert create_first_values(root, stack_now) == {}
    assert stack_parameters(root, stack_now, None) == [
        {"ParameterKey": PROTECTION, "ParameterValue": "true"},
        {"ParameterKey": "ImageTag", "UsePreviousValue": True},
    ]


def test_a_database_added_to_a_deployed_environment_is_created_unprotected_too() -> None:
    """Rolling back a failed update deletes what it created: the same reason applies."""
    root = protected_root()
    assert create_first_values(root, deployed("ImageTag")) == {PROTECTION: "false"}


def test_an_environment_without_protection_needs_no_follow_up() -> None:
    root = protected_root()
    root["Parameters"][PROTECTION]["Default"] = "false"
    del root["Metadata"]
    assert create_first_values(root, None) == {}
    assert stack_parameters(root, None, "v1") == [
        {"ParameterKey": "ImageTag", "ParameterValue": "v1"}
    ]


def test_follow_up_keeps_every_other_parameter() -> None:
    assert follow_up_parameters(
        ["DatabaseDeletionProtection", "ImageTag"], {PROTECTION: "true"}
    ) == [
        {"ParameterKey": PROTECTION, "ParameterValue": "true"},
        {"ParameterKey": "ImageTag", "UsePreviousValue": True},
    ]


def test_a_follow_up_may_only_modify_in_place() -> None:
    fine = Row("example-dev/DataStack", "Database", "AWS::RDS::DBInstance", "Modify", "False")
    replaced = Row("example-dev/DataStack", "Database", "AWS::RDS::DBInstance", "Modify", "True")
    added = Row("example-dev", "Extra", "AWS::SNS::Topic", "Add", "")
    assert unexpected_rows([fine]) == []
    assert unexpected_rows([fine, replaced, added]) == [replaced, added]


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> FixtureProject:
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)
    built = FixtureProject(tmp_path / "repo")
    root = built.templates["root.json"]
    root["Metadata"] = copy.deepcopy(CREATE_FIRST)
    root["Parameters"][PROTECTION] = protected_root()["Parameters"][PROTECTION]
    root["Resources"]["DataStack"]["Properties"]["Parameters"][PROTECTION] = {"Ref": PROTECTION}
    data = built.templates["data.json"]
    data["Parameters"][PROTECTION] = {"Type": "String"}
    data["Resources"]["Database"]["Properties"]["DeletionProtection"] = {"Ref": PROTECTION}
    built.write()
    return built


def write_create_plan(project: FixtureProject) -> None:
    plan = record(
        template_hashes=json.loads((project.folder / "manifest.json").read_text())["templates"],
        change_set_type="CREATE",
        stack_status="REVIEW_IN_PROGRESS",
        stack_last_updated=None,
        parameter_keys=[PROTECTION, "ImageTag"],
    )
    plan.follow_up = {PROTECTION: "true"}
    (project.folder / "plan.json").write_text(plan.to_json())


def test_a_failed_first_create_rolls_back_deleting_the_new_database(
    project: FixtureProject,
) -> None:
    """The create made the database, then a service failed: the rollback deletes the database
    (nothing protects it yet), the stack ends ROLLBACK_COMPLETE, apply names the real cause and
    never starts the follow-up."""
    write_create_plan(project)
    root_id, data_id = stack_arn("example-dev"), stack_arn("example-dev-DataStack-1")
    web_id = stack_arn("example-dev-WebStack-1")
    root_events = [  # newest first, as AWS returns them
        event("example-dev", "example-dev", STACK, "ROLLBACK_COMPLETE", 900, physical=root_id),
        event("example-dev", "DataStack", STACK, "DELETE_COMPLETE", 880, physical=data_id),
        event("example-dev", "WebStack", STACK, "DELETE_COMPLETE", 860, physical=web_id),
        event(
            "example-dev",
            "example-dev",
            STACK,
            "ROLLBACK_IN_PROGRESS",
            800,
            "The following resource(s) failed to create: [WebStack].",
            root_id,
        ),
        event(
            "example-dev",
            "WebStack",
            STACK,
            "CREATE_FAILED",
            790,
            "Embedded stack arn:aws:cloudformation:eu-west-1:123456789012:stack/"
            "example-dev-WebStack-1 was not successfully created: The following resource(s) "
            "failed to create: [WebService].",
            web_id,
        ),
        event("example-dev", "WebStack", STACK, "CREATE_IN_PROGRESS", 400, physical=web_id),
        event("example-dev", "DataStack", STACK, "CREATE_COMPLETE", 390, physical=data_id),
        event("example-dev", "DataStack", STACK, "CREATE_IN_PROGRESS", 10, physical=data_id),
        event(
            "example-dev", "example-dev", STACK, "CREATE_IN_PROGRESS", 1, "User Initiated", root_id
        ),
    ]
    data_events = [
        event(
            "example-dev-DataStack-1", "Database", "AWS::RDS::DBInstance", "DELETE_COMPLETE", 870
        ),
        event(
            "example-dev-DataStack-1", "Database", "AWS::RDS::DBInstance", "DELETE_IN_PROGRESS", 820
        ),
        event(
            "example-dev-DataStack-1", "Database", "AWS::RDS::DBInstance", "CREATE_COMPLETE", 380
        ),
    ]
    web_events = [
        event(
            "example-dev-WebStack-1",
            "WebService",
            "AWS::ECS::Service",
            "CREATE_FAILED",
            780,
            "Resource handler returned message: \"Error occurred during operation 'ECS "
            "Deployment Circuit Breaker was triggered'.\"",
        ),
    ]
    with Stubs() as stubs:
        add = stubs.cfn_stub.add_response
        stubs.sts_stub.add_response("get_caller_identity", IDENTITY)
        add("describe_stacks", stack("example-dev", "REVIEW_IN_PROGRESS"))
        add("describe_change_set", change_set("fs-dev-x", "example-dev", [], cs_id=ROOT_CS))
        add("list_stack_resources", {"StackResourceSummaries": []})  # nothing created yet
        add("describe_stack_events", {"StackEvents": []}, {"StackName": "example-dev"})
        add("execute_change_set", {}, {"ChangeSetName": ROOT_CS, "RetainExceptOnCreate": True})
        add("describe_stack_events", {"StackEvents": root_events}, {"StackName": "example-dev"})
        add("describe_stacks", stack("example-dev", "ROLLBACK_COMPLETE"))
        add("describe_stack_events", {"StackEvents": root_events}, {"StackName": "example-dev"})
        add("describe_stack_events", {"StackEvents": data_events}, {"StackName": data_id})
        add("describe_stack_events", {"StackEvents": web_events}, {"StackName": web_id})
        ctx, console = deploying.context(project.root, stubs.gateway)
        with pytest.raises(DeployError) as failed:
            run_apply(ctx)
        stubs.verify()  # and no follow-up call was made: the stubs hold no more answers
    message = str(failed.value)
    assert failed.value.exit_code == 1
    assert "ROLLBACK_COMPLETE" in message
    assert "WebService (AWS::ECS::Service) CREATE_FAILED" in message
    assert "Circuit Breaker" in message
    shown = console.export_text()
    assert "Database  DELETE_COMPLETE" in shown  # the new database did not block the rollback
    assert "follow-up" not in shown


def test_plan_of_a_new_environment_creates_the_database_unprotected_and_says_so(
    project: FixtureProject,
) -> None:
    creating = change_set(
        "fs-dev-x",
        "example-dev",
        [resource_change(name, STACK, "Add") for name in ("NetworkStack", "DataStack", "WebStack")],
        cs_id=ROOT_CS,
    )
    with Stubs() as stubs:
        add = stubs.cfn_stub.add_response
        stubs.sts_stub.add_response("get_caller_identity", IDENTITY)
        add("describe_stacks", BOOTSTRAP, {"StackName": "example-bootstrap"})
        stubs.cfn_stub.add_client_error(
            "describe_stacks",
            **client_error("ValidationError", "Stack with id example-dev does not exist"),
        )
        stub_image_present(stubs, "v1")
        stub_account_preflight(stubs, new_stack=True)
        for _ in range(4):
            stubs.s3_stub.add_response(
                "head_object", {"ContentLength": 1}, {"Bucket": "example-artifacts", "Key": ANY}
            )
        add(
            "create_change_set",
            {"Id": ROOT_CS},
            {
                "StackName": "example-dev",
                "ChangeSetName": ANY,
                "ChangeSetType": "CREATE",
                "TemplateURL": ANY,
                "Description": ANY,
                "Parameters": [
                    {"ParameterKey": PROTECTION, "ParameterValue": "false"},
                    {"ParameterKey": "ImageTag", "ParameterValue": "v1"},
                ],
                "Capabilities": ANY,
                "IncludeNestedStacks": True,
                "Tags": ANY,
            },
        )
        add("describe_change_set", creating, {"ChangeSetName": ROOT_CS})
        add("describe_stacks", stack("example-dev", "REVIEW_IN_PROGRESS"))
        ctx, console = deploying.context(project.root, stubs.gateway)
        outcome = run_plan(ctx, [], image_tag="v1")
        stubs.verify()
    assert outcome.record is not None and outcome.record.follow_up == {PROTECTION: "true"}
    line = (
        "after this change set, a follow-up update sets DatabaseDeletionProtection to true "
        "(created without it so that a failed create can roll back)"
    )
    assert line in console.export_text()
    assert line in (project.folder / "changeset.md").read_text()
    assert json.loads((project.folder / "plan.json").read_text())["follow_up"] == {
        PROTECTION: "true"
    }
