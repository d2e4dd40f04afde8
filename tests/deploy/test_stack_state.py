"""CREATE or UPDATE from the stack's status, and what plan does with stuck stacks (Stubber on
the gateway's CloudFormation client)."""

from __future__ import annotations

import pytest

from factorstack.deploy.decide.stacks import Action, decide
from factorstack.deploy.flow import prepare_stack
from factorstack.errors import DeployError
from tests.support.aws_answers import client_error, stack
from tests.support.clock import FakeClock
from tests.support.stubbed_aws import stubbed

MISSING = client_error("ValidationError", "Stack with id example-dev does not exist")


@pytest.mark.parametrize(
    ("status", "action"),
    [
        (None, Action.CREATE),
        ("REVIEW_IN_PROGRESS", Action.CREATE),
        ("CREATE_COMPLETE", Action.UPDATE),
        ("UPDATE_COMPLETE", Action.UPDATE),
        ("UPDATE_ROLLBACK_COMPLETE", Action.UPDATE),
        ("IMPORT_COMPLETE", Action.UPDATE),
        ("ROLLBACK_COMPLETE", Action.RECREATE),
        ("UPDATE_IN_PROGRESS", Action.WAIT),
        ("CREATE_IN_PROGRESS", Action.WAIT),
        ("UPDATE_COMPLETE_CLEANUP_IN_PROGRESS", Action.WAIT),
        ("UPDATE_ROLLBACK_FAILED", Action.REFUSE),
        ("DELETE_FAILED", Action.REFUSE),
        ("ROLLBACK_FAILED", Action.REFUSE),
    ],
)
def test_decide(status: str | None, action: Action) -> None:
    assert decide(status, "example-dev").action is action


def test_update_rollback_failed_explains_continue_update_rollback() -> None:
    reason = decide("UPDATE_ROLLBACK_FAILED", "example-dev").reason
    assert "aws cloudformation continue-update-rollback --stack-name example-dev" in reason
    assert "--resources-to-skip" in reason


def test_absent_stack_is_created() -> None:
    aws, stub = stubbed("cloudformation")
    with stub:
        stub.add_client_error("describe_stacks", **MISSING)
        assert prepare_stack(aws, "example-dev", FakeClock().timing(), print) == ("CREATE", None)
        stub.assert_no_pending_responses()


def test_rollback_complete_is_deleted_then_created() -> None:
    aws, stub = stubbed("cloudformation")
    lines: list[str] = []
    with stub:
        stub.add_response("describe_stacks", stack("example-dev", "ROLLBACK_COMPLETE"))
        stub.add_response("delete_stack", {}, {"StackName": "example-dev"})
        stub.add_response("describe_stacks", stack("example-dev", "DELETE_IN_PROGRESS"))
        stub.add_client_error("describe_stacks", **MISSING)
        kind, current = prepare_stack(aws, "example-dev", FakeClock().timing(), lines.append)
        stub.assert_no_pending_responses()
    assert (kind, current) == ("CREATE", None)
    assert any("ROLLBACK_COMPLETE" in line and "deleting it" in line for line in lines)


def test_stack_in_progress_is_waited_for_then_updated() -> None:
    aws, stub = stubbed("cloudformation")
    clock = FakeClock()
    with stub:
        stub.add_response("describe_stacks", stack("example-dev", "UPDATE_IN_PROGRESS"))
        stub.add_response("describe_stacks", stack("example-dev", "UPDATE_IN_PROGRESS"))
        stub.add_response(
            "describe_stacks", stack("example-dev", "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS")
        )
        stub.add_response("describe_stacks", stack("example-dev", "UPDATE_COMPLETE"))
        kind, current = prepare_stack(aws, "example-dev", clock.timing(), print)
        stub.assert_no_pending_responses()
    assert kind == "UPDATE" and current is not None
    assert clock.sleeps == [5.0, 5.0]


def test_stack_in_progress_too_long_is_refused() -> None:
    aws, stub = stubbed("cloudformation")
    clock = FakeClock()
    with stub:
        for _ in range(4):
            stub.add_response("describe_stacks", stack("example-dev", "UPDATE_IN_PROGRESS"))
        with pytest.raises(DeployError, match="still UPDATE_IN_PROGRESS after 10 s"):
            prepare_stack(aws, "example-dev", clock.timing(timeout=10, poll=5), print)


def test_update_rollback_failed_is_refused() -> None:
    aws, stub = stubbed("cloudformation")
    with stub:
        stub.add_response("describe_stacks", stack("example-dev", "UPDATE_ROLLBACK_FAILED"))
        with pytest.raises(DeployError) as refused:
            prepare_stack(aws, "example-dev", FakeClock().timing(), print)
    assert refused.value.exit_code == 1
    assert "continue-update-rollback" in str(refused.value)


def test_a_poll_still_throttled_after_the_clients_retries_is_one_line() -> None:
    """The clients retry throttling themselves (standard mode); what reaches the poll loop is a
    failure like any other, not a status to poll again."""
    aws, stub = stubbed("cloudformation")
    with stub:
        stub.add_response("describe_stacks", stack("example-dev", "UPDATE_IN_PROGRESS"))
        stub.add_client_error("describe_stacks", **client_error("Throttling", "Rate exceeded"))
        with pytest.raises(DeployError) as failed:
            prepare_stack(aws, "example-dev", FakeClock().timing(), print)
    assert failed.value.lines == [
        "describing stack example-dev: AWS kept throttling requests; try again in a minute"
    ]
