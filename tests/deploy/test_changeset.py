"""Change-set naming, creating and waiting, and what a FAILED status means (Stubber on the
gateway's CloudFormation client)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from botocore.stub import ANY

from factorstack.deploy.aws.change_sets import CAPABILITIES, change_set_from_api
from factorstack.deploy.decide.change_sets import (
    ChangeSet,
    ChangeSetRequest,
    Revision,
    change_set_description,
    change_set_name,
    check_created,
    is_no_op,
)
from factorstack.deploy.flow import create_change_set, wait_for_change_set
from factorstack.errors import DeployError
from tests.support.aws_answers import change_set, change_set_arn, client_error
from tests.support.clock import FakeClock
from tests.support.stubbed_aws import stubbed

NO_CHANGES = (
    "The submitted information didn't contain changes. Submit different information to "
    "create a change set."
)
WHEN = datetime(2026, 11, 26, 9, 5, 7, tzinfo=UTC)


def test_name_from_commit_or_time() -> None:
    commit = "0123456789abcdef0123456789abcdef01234567"
    assert change_set_name("dev", Revision(commit, "ana", WHEN)) == "fs-dev-0123456789ab"
    assert change_set_name("dev", Revision(None, "ana", WHEN)) == "fs-dev-20261126T090507Z"
    assert change_set_name("my_env", Revision(None, "ana", WHEN)).startswith("fs-my-env-")


def test_description_names_commit_user_and_time() -> None:
    text = change_set_description(Revision("abc" * 13 + "a", "ana", WHEN))
    assert text == f"factorstack: commit {'abc' * 13}a, by ana, at 2026-11-26T09:05:07Z"


def status(status: str, reason: str = "") -> ChangeSet:
    return ChangeSet("id", "fs-dev-x", "stack-id", "example-dev", status, reason)


def test_no_op_detection() -> None:
    assert is_no_op(status("FAILED", NO_CHANGES))
    assert is_no_op(status("FAILED", "No updates are to be performed."))
    assert not is_no_op(status("CREATE_COMPLETE"))
    assert not is_no_op(status("FAILED", "Template format error"))


def test_failed_change_set_that_is_not_a_no_op_is_an_error() -> None:
    failed = change_set_from_api(
        [
            change_set(
                "fs-dev-x",
                "example-dev",
                [],
                status="FAILED",
                execution="UNAVAILABLE",
                reason="Parameters: [DatabaseName] must have values",
            )
        ]
    )
    with pytest.raises(
        DeployError, match="failed: Parameters: \\[DatabaseName\\] must have values"
    ):
        check_created(failed)
    check_created(status("FAILED", NO_CHANGES))  # not an error


def request(kind: str = "UPDATE", stack_exists: bool = True) -> ChangeSetRequest:
    return ChangeSetRequest(
        stack_name="example-dev",
        name="fs-dev-0123456789ab",
        change_set_type=kind,
        template_url="https://bucket.s3.eu-west-1.amazonaws.com/templates/abc.json",
        description="factorstack: test",
        parameters=[{"ParameterKey": "ImageTag", "UsePreviousValue": True}],
        tags={"app": "example", "environment": "dev", "commit": "0123"},
        stack_exists=stack_exists,
    )


def test_create_sends_nested_stacks_capabilities_and_tags_and_waits() -> None:
    aws, stub = stubbed("cloudformation")
    arn = change_set_arn("fs-dev-0123456789ab")
    clock = FakeClock()
    with stub:
        stub.add_client_error(
            "describe_change_set",
            **client_error(
                "ChangeSetNotFound", "ChangeSet [fs-dev-0123456789ab] does not exist", 404
            ),
        )
        stub.add_response(
            "create_change_set",
            {
                "Id": arn,
                "StackId": "arn:aws:cloudformation:eu-west-1:123456789012:stack/example-dev/x",
            },
            {
                "StackName": "example-dev",
                "ChangeSetName": "fs-dev-0123456789ab",
                "ChangeSetType": "UPDATE",
                "TemplateURL": "https://bucket.s3.eu-west-1.amazonaws.com/templates/abc.json",
                "Description": "factorstack: test",
                "Parameters": [{"ParameterKey": "ImageTag", "UsePreviousValue": True}],
                "Capabilities": CAPABILITIES,
                "IncludeNestedStacks": True,
                "Tags": [
                    {"Key": "app", "Value": "example"},
                    {"Key": "commit", "Value": "0123"},
                    {"Key": "environment", "Value": "dev"},
                ],
            },
        )
        pending = change_set(
            "fs-dev-0123456789ab", "example-dev", [], cs_id=arn, status="CREATE_PENDING"
        )
        stub.add_response("describe_change_set", pending, {"ChangeSetName": arn})
        stub.add_response("describe_change_set", pending, {"ChangeSetName": arn})
        done = change_set("fs-dev-0123456789ab", "example-dev", [], cs_id=arn)
        stub.add_response("describe_change_set", done, {"ChangeSetName": arn})
        result = create_change_set(aws, request(), clock.timing(poll=2), print)
        stub.assert_no_pending_responses()
    assert result is not None and result.status == "CREATE_COMPLETE"
    assert clock.sleeps == [2, 2]  # pending twice: asked again after each


def test_replanning_the_same_commit_replaces_the_old_change_set() -> None:
    aws, stub = stubbed("cloudformation")
    old = change_set_arn("fs-dev-0123456789ab", "0000")
    new = change_set_arn("fs-dev-0123456789ab", "1111")
    with stub:
        stub.add_response(
            "describe_change_set", change_set("fs-dev-0123456789ab", "example-dev", [], cs_id=old)
        )
        stub.add_response("delete_change_set", {}, {"ChangeSetName": old})
        stub.add_response("create_change_set", {"Id": new}, None)
        stub.add_response(
            "describe_change_set",
            change_set("fs-dev-0123456789ab", "example-dev", [], cs_id=new),
            {"ChangeSetName": new},
        )
        create_change_set(aws, request(), FakeClock().timing(), print)
        stub.assert_no_pending_responses()


def test_a_create_on_a_stack_in_review_replaces_the_old_change_set_too() -> None:
    """REVIEW_IN_PROGRESS: the stack exists, so a same-name change set from an earlier run of
    the same commit is deleted first (else create_change_set: AlreadyExistsException)."""
    aws, stub = stubbed("cloudformation")
    old = change_set_arn("fs-dev-0123456789ab", "0000")
    new = change_set_arn("fs-dev-0123456789ab", "1111")
    with stub:
        stub.add_response(
            "describe_change_set",
            change_set("fs-dev-0123456789ab", "example-dev", [], cs_id=old),
            {"StackName": "example-dev", "ChangeSetName": "fs-dev-0123456789ab"},
        )
        stub.add_response("delete_change_set", {}, {"ChangeSetName": old})
        stub.add_response("create_change_set", {"Id": new}, None)
        stub.add_response(
            "describe_change_set",
            change_set("fs-dev-0123456789ab", "example-dev", [], cs_id=new),
            {"ChangeSetName": new},
        )
        create_change_set(aws, request("CREATE", stack_exists=True), FakeClock().timing(), print)
        stub.assert_no_pending_responses()


def test_a_create_of_a_new_stack_looks_for_no_old_change_set() -> None:
    aws, stub = stubbed("cloudformation")
    new = change_set_arn("fs-dev-0123456789ab", "1111")
    with stub:
        stub.add_response("create_change_set", {"Id": new}, None)
        stub.add_response(
            "describe_change_set",
            change_set("fs-dev-0123456789ab", "example-dev", [], cs_id=new),
            {"ChangeSetName": new},
        )
        create_change_set(aws, request("CREATE", stack_exists=False), FakeClock().timing(), print)
        stub.assert_no_pending_responses()


def test_waiting_for_a_change_set_times_out() -> None:
    aws, stub = stubbed("cloudformation")
    arn = change_set_arn("x")
    with stub:
        for _ in range(3):
            stub.add_response(
                "describe_change_set",
                change_set("x", "example-dev", [], cs_id=arn, status="CREATE_IN_PROGRESS"),
                {"ChangeSetName": ANY},
            )
        with pytest.raises(DeployError, match="still CREATE_IN_PROGRESS"):
            wait_for_change_set(aws, arn, FakeClock().timing(timeout=4, poll=2))


def test_a_change_set_spread_over_pages_is_read_whole() -> None:
    aws, stub = stubbed("cloudformation")
    arn = change_set_arn("x")
    first = change_set("x", "example-dev", [], cs_id=arn)
    first["Changes"] = [{"Type": "Resource", "ResourceChange": {"LogicalResourceId": "A"}}]
    first["NextToken"] = "page2"
    second = change_set("x", "example-dev", [], cs_id=arn)
    second["Changes"] = [{"Type": "Resource", "ResourceChange": {"LogicalResourceId": "B"}}]
    with stub:
        stub.add_response("describe_change_set", first, {"ChangeSetName": arn})
        stub.add_response(
            "describe_change_set", second, {"ChangeSetName": arn, "NextToken": "page2"}
        )
        read = aws.describe_change_set(arn)
    assert [c["ResourceChange"]["LogicalResourceId"] for c in read.changes] == ["A", "B"]


def test_an_update_aws_refuses_as_empty_creates_nothing_to_delete() -> None:
    """create_change_set itself may answer "No updates are to be performed": no change set."""
    aws, stub = stubbed("cloudformation")
    with stub:
        stub.add_client_error(
            "describe_change_set",
            **client_error("ChangeSetNotFound", "ChangeSet [fs-dev-0123456789ab] does not exist"),
        )
        stub.add_client_error(
            "create_change_set",
            **client_error("ValidationError", "No updates are to be performed."),
        )
        assert create_change_set(aws, request(), FakeClock().timing(), print) is None
        stub.assert_no_pending_responses()


def test_a_change_set_without_changes_is_deleted() -> None:
    aws, stub = stubbed("cloudformation")
    arn = change_set_arn("fs-dev-0123456789ab")
    empty = change_set(
        "fs-dev-0123456789ab",
        "example-dev",
        [],
        cs_id=arn,
        status="FAILED",
        execution="UNAVAILABLE",
        reason=NO_CHANGES,
    )
    with stub:
        stub.add_response("create_change_set", {"Id": arn}, None)
        stub.add_response("describe_change_set", empty, {"ChangeSetName": arn})
        stub.add_response("delete_change_set", {}, {"ChangeSetName": arn})
        made = create_change_set(aws, request("CREATE", False), FakeClock().timing(), print)
        stub.assert_no_pending_responses()
    assert made is None
