"""Following a failure into nested stacks to its root cause (AWS-shaped events, Stubber on the
gateway's CloudFormation client)."""

from __future__ import annotations

import pytest

from factorstack.deploy.aws.events import event_from_api
from factorstack.deploy.decide.events import root_cause
from factorstack.deploy.execute import EventStream, newest_event_ids, wait_for_stack
from factorstack.errors import DeployError
from tests.support.aws_answers import T0, event, stack, stack_arn
from tests.support.clock import FakeClock
from tests.support.stubbed_aws import stubbed

STACK = "AWS::CloudFormation::Stack"
DATA = "example-dev-DataStack-1AB2C3"
DATA_ARN = stack_arn(DATA)

# describe_stack_events returns newest first.
ROOT_EVENTS = [
    event(
        "example-dev",
        "example-dev",
        STACK,
        "ROLLBACK_COMPLETE",
        60,
        physical=stack_arn("example-dev"),
    ),
    event(
        "example-dev",
        "example-dev",
        STACK,
        "ROLLBACK_IN_PROGRESS",
        40,
        "The following resource(s) failed to create: [DataStack].",
        stack_arn("example-dev"),
    ),
    event(
        "example-dev",
        "DataStack",
        STACK,
        "CREATE_FAILED",
        35,
        "Embedded stack arn:aws:cloudformation:... was not successfully created: "
        "The following resource(s) failed to create: [Database].",
        DATA_ARN,
    ),
    event("example-dev", "NetworkStack", STACK, "CREATE_COMPLETE", 20),
    event("example-dev", "DataStack", STACK, "CREATE_IN_PROGRESS", 5, physical=DATA_ARN),
    event(
        "example-dev",
        "example-dev",
        STACK,
        "CREATE_IN_PROGRESS",
        1,
        "User Initiated",
        stack_arn("example-dev"),
    ),
]
DATA_EVENTS = [
    event(
        DATA,
        DATA,
        STACK,
        "CREATE_FAILED",
        34,
        "The following resource(s) failed to create: [Database].",
        DATA_ARN,
    ),
    event(
        DATA,
        "DatabaseSecret",
        "AWS::SecretsManager::Secret",
        "CREATE_FAILED",
        33,
        "Resource creation cancelled",
    ),
    event(
        DATA,
        "Database",
        "AWS::RDS::DBInstance",
        "CREATE_FAILED",
        30,
        "Cannot find version 8.0.99 for mysql (Service: Rds, Status Code: 400)",
    ),
    event(DATA, "Database", "AWS::RDS::DBInstance", "CREATE_IN_PROGRESS", 10),
    event(DATA, DATA, STACK, "CREATE_IN_PROGRESS", 6, "User Initiated", DATA_ARN),
]


def test_root_cause_skips_embedded_stack_messages_and_cancellations() -> None:
    events = [event_from_api(e, "example-dev") for e in ROOT_EVENTS] + [
        event_from_api(e, "example-dev/DataStack") for e in DATA_EVENTS
    ]
    cause = root_cause(events)
    assert cause is not None
    assert (cause.stack, cause.logical_id) == ("example-dev/DataStack", "Database")
    assert cause.reason.startswith("Cannot find version 8.0.99")


def test_root_cause_falls_back_to_embedded_message_when_that_is_all() -> None:
    events = [event_from_api(e, "example-dev") for e in ROOT_EVENTS]
    cause = root_cause(events)
    assert cause is not None and cause.reason.startswith("Embedded stack")
    assert root_cause([]) is None


def test_wait_streams_nested_events_and_reports_the_deep_root_cause() -> None:
    aws, stub = stubbed("cloudformation")
    lines: list[str] = []
    stream = EventStream(aws, "example-dev")
    with stub:
        # first poll: the stack is running; the nested stack is discovered from root events
        stub.add_response("describe_stack_events", {"StackEvents": ROOT_EVENTS[4:]})
        stub.add_response("describe_stacks", stack("example-dev", "CREATE_IN_PROGRESS"))
        # second poll: root failed; the nested stack's events are read too
        stub.add_response("describe_stack_events", {"StackEvents": ROOT_EVENTS})
        stub.add_response("describe_stack_events", {"StackEvents": DATA_EVENTS})
        stub.add_response("describe_stacks", stack("example-dev", "ROLLBACK_COMPLETE"))
        # final drain, including NetworkStack, discovered from the second batch of root events
        stub.add_response("describe_stack_events", {"StackEvents": ROOT_EVENTS})
        stub.add_response("describe_stack_events", {"StackEvents": DATA_EVENTS})
        stub.add_response(
            "describe_stack_events",
            {"StackEvents": []},
            {"StackName": "NetworkStack-physical"},
        )
        with pytest.raises(DeployError) as failed:
            wait_for_stack(aws, "example-dev", stream, FakeClock().timing(), lines.append)
        stub.assert_no_pending_responses()
    assert failed.value.exit_code == 1
    message = str(failed.value)
    assert message.startswith("deploy of example-dev failed (ROLLBACK_COMPLETE); root cause: ")
    assert "example-dev/DataStack Database (AWS::RDS::DBInstance) CREATE_FAILED" in message
    assert "Cannot find version 8.0.99 for mysql" in message
    assert any("example-dev/DataStack  Database  CREATE_FAILED" in line for line in lines)
    assert len(lines) == len(ROOT_EVENTS) + len(DATA_EVENTS)  # each event printed once


def test_events_before_the_operation_are_not_shown() -> None:
    aws, stub = stubbed("cloudformation")
    # the newest event before executing was NetworkStack's, at 20 s
    stream = EventStream(aws, "example-dev", {"example-dev": ROOT_EVENTS[3]["EventId"]})
    with stub:
        stub.add_response("describe_stack_events", {"StackEvents": ROOT_EVENTS})
        fresh = stream.poll()
    assert [e.status for e in fresh] == [
        "CREATE_FAILED",
        "ROLLBACK_IN_PROGRESS",
        "ROLLBACK_COMPLETE",
    ]


def test_events_are_told_apart_by_id_not_by_any_clock() -> None:
    """AWS's timestamps may be hours behind the local clock: every event after the baseline
    counts, and the baseline is found across pages."""
    aws, stub = stubbed("cloudformation")
    old = event("example-dev", "example-dev", STACK, "UPDATE_COMPLETE", -7200)
    stream = EventStream(aws, "example-dev", {"example-dev": old["EventId"]})
    with stub:
        stub.add_response(
            "describe_stack_events", {"StackEvents": ROOT_EVENTS[:3], "NextToken": "page2"}
        )
        stub.add_response(
            "describe_stack_events",
            {"StackEvents": [*ROOT_EVENTS[3:], old]},
            {"StackName": "example-dev", "NextToken": "page2"},
        )
        fresh = stream.poll()
        stub.assert_no_pending_responses()
    assert len(fresh) == len(ROOT_EVENTS)
    assert fresh[0].status == "CREATE_IN_PROGRESS" and fresh[0].reason == "User Initiated"


def test_newest_event_ids_note_each_deployed_stack_before_executing() -> None:
    aws, stub = stubbed("cloudformation")
    nested = {
        "LogicalResourceId": "DataStack",
        "PhysicalResourceId": DATA_ARN,
        "ResourceType": STACK,
        "LastUpdatedTimestamp": T0,
        "ResourceStatus": "UPDATE_COMPLETE",
    }
    with stub:
        stub.add_response(
            "list_stack_resources",
            {"StackResourceSummaries": [nested]},
            {"StackName": "example-dev"},
        )
        stub.add_response(
            "list_stack_resources", {"StackResourceSummaries": []}, {"StackName": DATA_ARN}
        )
        stub.add_response(
            "describe_stack_events", {"StackEvents": ROOT_EVENTS}, {"StackName": "example-dev"}
        )
        stub.add_response("describe_stack_events", {"StackEvents": []}, {"StackName": DATA_ARN})
        baseline = newest_event_ids(aws, "example-dev")
        stub.assert_no_pending_responses()
    assert baseline == {"example-dev": ROOT_EVENTS[0]["EventId"]}  # DataStack: no events yet


def test_success_returns_the_stack_with_its_outputs() -> None:
    aws, stub = stubbed("cloudformation")
    stream = EventStream(aws, "example-dev")
    done = stack(
        "example-dev",
        "UPDATE_COMPLETE",
        Outputs=[{"OutputKey": "Url", "OutputValue": "http://example"}],
    )
    with stub:
        stub.add_response("describe_stack_events", {"StackEvents": []})
        stub.add_response("describe_stacks", stack("example-dev", "UPDATE_IN_PROGRESS"))
        stub.add_response("describe_stack_events", {"StackEvents": []})
        stub.add_response("describe_stacks", done)
        stub.add_response("describe_stack_events", {"StackEvents": []})
        result = wait_for_stack(aws, "example-dev", stream, FakeClock().timing(), print)
        stub.assert_no_pending_responses()
    assert result.outputs == {"Url": "http://example"}


def test_a_replaced_nested_stack_has_no_events_instead_of_failing_the_watch() -> None:
    aws, stub = stubbed("cloudformation")
    stream = EventStream(aws, "example-dev")
    stream.stacks[DATA_ARN] = "example-dev/DataStack"
    with stub:
        stub.add_response("describe_stack_events", {"StackEvents": ROOT_EVENTS[3:]})
        stub.add_client_error(
            "describe_stack_events",
            service_error_code="ValidationError",
            service_message=f"Stack [{DATA_ARN}] does not exist",
        )
        fresh = stream.poll()
        stub.assert_no_pending_responses()
    assert len(fresh) == len(ROOT_EVENTS[3:])


def test_wait_times_out() -> None:
    aws, stub = stubbed("cloudformation")
    stream = EventStream(aws, "example-dev")
    with stub:
        for _ in range(3):
            stub.add_response("describe_stack_events", {"StackEvents": []})
            stub.add_response("describe_stacks", stack("example-dev", "UPDATE_IN_PROGRESS"))
        with pytest.raises(DeployError, match="still UPDATE_IN_PROGRESS after 10 s"):
            wait_for_stack(aws, "example-dev", stream, FakeClock().timing(timeout=10), print)
