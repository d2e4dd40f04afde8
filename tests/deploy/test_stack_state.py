"""CREATE or UPDATE from the stack's status, and what plan does with stuck stacks (Stubber)."""

from __future__ import annotations

import pytest
from botocore.stub import Stubber

from factorstack.deploy.stack_state import Action, Timing, decide, prepare_stack
from factorstack.errors import DeployError
from tests.deploy.aws_responses import client, client_error, stack


class FakeClock:
    """A clock that advances only when the code under test sleeps."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds

    def timing(self, timeout: float = 60.0, poll: float = 5.0) -> Timing:
        return Timing(timeout=timeout, poll=poll, sleep=self.sleep, clock=lambda: self.now)


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
    cfn = client("cloudformation")
    with Stubber(cfn) as stub:
        stub.add_client_error("describe_stacks", **MISSING)
        assert prepare_stack(cfn, "example-dev", FakeClock().timing(), print) == ("CREATE", None)
        stub.assert_no_pending_responses()


def test_rollback_complete_is_deleted_then_created() -> None:
    cfn = client("cloudformation")
    lines: list[str] = []
    with Stubber(cfn) as stub:
        stub.add_response("describe_stacks", stack("example-dev", "ROLLBACK_COMPLETE"))
        stub.add_response("delete_stack", {}, {"StackName": "example-dev"})
        stub.add_response("describe_stacks", stack("example-dev", "DELETE_IN_PROGRESS"))
        stub.add_client_error("describe_stacks", **MISSING)
        kind, current = prepare_stack(cfn, "example-dev", FakeClock().timing(), lines.append)
        stub.assert_no_pending_responses()
    assert (kind, current) == ("CREATE", None)
    assert any("ROLLBACK_COMPLETE" in line and "deleting it" in line for line in lines)


def test_stack_in_progress_is_waited_for_then_updated() -> None:
    cfn = client("cloudformation")
    clock = FakeClock()
    with Stubber(cfn) as stub:
        stub.add_response("describe_stacks", stack("example-dev", "UPDATE_IN_PROGRESS"))
        stub.add_response("describe_stacks", stack("example-dev", "UPDATE_IN_PROGRESS"))
        stub.add_response(
            "describe_stacks", stack("example-dev", "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS")
        )
        stub.add_response("describe_stacks", stack("example-dev", "UPDATE_COMPLETE"))
        kind, current = prepare_stack(cfn, "example-dev", clock.timing(), print)
        stub.assert_no_pending_responses()
    assert kind == "UPDATE" and current is not None
    assert clock.sleeps == [5.0, 5.0]


def test_stack_in_progress_too_long_is_refused() -> None:
    cfn = client("cloudformation")
    clock = FakeClock()
    with Stubber(cfn) as stub:
        for _ in range(4):
            stub.add_response("describe_stacks", stack("example-dev", "UPDATE_IN_PROGRESS"))
        with pytest.raises(DeployError, match="still UPDATE_IN_PROGRESS after 10 s"):
            prepare_stack(cfn, "example-dev", clock.timing(timeout=10, poll=5), print)


def test_update_rollback_failed_is_refused() -> None:
    cfn = client("cloudformation")
    with Stubber(cfn) as stub:
        stub.add_response("describe_stacks", stack("example-dev", "UPDATE_ROLLBACK_FAILED"))
        with pytest.raises(DeployError) as refused:
            prepare_stack(cfn, "example-dev", FakeClock().timing(), print)
    assert refused.value.exit_code == 1
    assert "continue-update-rollback" in str(refused.value)


def test_throttled_poll_is_asked_again() -> None:
    cfn = client("cloudformation")
    clock = FakeClock()
    with Stubber(cfn) as stub:
        stub.add_response("describe_stacks", stack("example-dev", "UPDATE_IN_PROGRESS"))
        stub.add_client_error("describe_stacks", **client_error("Throttling", "Rate exceeded"))
        stub.add_response("describe_stacks", stack("example-dev", "UPDATE_COMPLETE"))
        kind, _ = prepare_stack(cfn, "example-dev", clock.timing(), print)
        stub.assert_no_pending_responses()
    assert kind == "UPDATE"
