"""Root parameters that hold an environment's settings reach the stack on every update, and
the cache's node count and failover switch change one at a time: ElastiCache refuses to turn
failover on in the update that adds the first replica ("Replication group must have at least
one read replica to enable autofailover", cloudformation-coverage-roadmap#383) and to remove
the last replica while failover is on. The node count changes first when failover goes on,
failover first when it goes off; a follow-up change set sets the other."""

from __future__ import annotations

from factorstack.deploy.decide.follow_up import follow_up_lines, follow_up_values
from factorstack.deploy.decide.parameters import (
    first_values,
    needs_pair_from_children,
    pair_from_children,
    stack_parameters,
)
from factorstack.deploy.decide.stacks import Stack

PAIR = {"FactorstackFailoverAfterReplicas": {"failover": "CacheFailover", "nodes": "CacheNodes"}}


def root(nodes: int, failover: str, protection: str = "false") -> dict:
    """A root as stacks/root.py writes it for an app with a cache (build's values as Defaults)."""
    return {
        "Metadata": PAIR,
        "Parameters": {
            "ImageTag": {"Type": "String"},
            "CacheNodes": {"Type": "Number", "Default": nodes},
            "CacheFailover": {"Type": "String", "Default": failover},
            "DatabaseDeletionProtection": {"Type": "String", "Default": protection},
        },
    }


def deployed(nodes: str, failover: str, protection: str = "false") -> Stack:
    return Stack(
        "example-dev",
        "id",
        "UPDATE_COMPLETE",
        parameters={
            "ImageTag": "v1",
            "CacheNodes": nodes,
            "CacheFailover": failover,
            "DatabaseDeletionProtection": protection,
        },
    )


def passed(template: dict, stack: Stack | None) -> dict[str, object]:
    return {
        p["ParameterKey"]: p.get("ParameterValue", "previous")
        for p in stack_parameters(template, stack, None)
    }


def test_adding_the_first_replica_keeps_failover_off_until_the_follow_up() -> None:
    template, stack = root(2, "true"), deployed("1", "false")
    assert first_values(template, stack) == {"CacheFailover": "false"}
    assert passed(template, stack)["CacheNodes"] == "2"
    assert passed(template, stack)["CacheFailover"] == "false"
    follow_up = follow_up_values(template, first_values(template, stack))
    assert follow_up == {"CacheFailover": "true"}
    assert follow_up_lines(follow_up, template) == [
        "after this change set, a follow-up update sets CacheFailover to true (ElastiCache "
        "turns failover on only once a replica exists)"
    ]


def test_removing_the_last_replica_turns_failover_off_first() -> None:
    template, stack = root(1, "false"), deployed("3", "true")
    assert first_values(template, stack) == {"CacheNodes": "3"}
    assert passed(template, stack)["CacheNodes"] == "3"
    assert passed(template, stack)["CacheFailover"] == "false"
    follow_up = follow_up_values(template, first_values(template, stack))
    assert follow_up == {"CacheNodes": "1"}
    assert follow_up_lines(follow_up, template) == [
        "after this change set, a follow-up update sets CacheNodes to 1 (ElastiCache removes "
        "the last replica only once failover is off)"
    ]


def test_changes_elasticache_takes_in_one_update_need_no_follow_up() -> None:
    for template, stack in (
        (root(3, "true"), deployed("2", "true")),  # one more replica, failover stays on
        (root(2, "true"), deployed("3", "true")),  # one fewer, failover stays on
        (root(1, "false"), deployed("1", "false")),  # nothing changes
    ):
        assert first_values(template, stack) == {}
        assert passed(template, stack)["CacheNodes"] == str(
            template["Parameters"]["CacheNodes"]["Default"]
        )


def test_a_first_create_or_a_stack_from_before_the_pair_has_nothing_to_step_from() -> None:
    template = root(2, "true")
    assert first_values(template, None) == {}
    before = Stack("example-dev", "id", "UPDATE_COMPLETE", parameters={"ImageTag": "v1"})
    assert first_values(template, before) == {}
    assert "CacheFailover" not in passed(template, before)  # CloudFormation takes the Default


def test_turning_deletion_protection_off_reaches_the_stack() -> None:
    """It used to keep the deployed value (UsePreviousValue): protection stayed on."""
    template, stack = root(1, "false", protection="false"), deployed("1", "false", "true")
    assert passed(template, stack)["DatabaseDeletionProtection"] == "false"
    assert passed(template, stack)["ImageTag"] == "previous"  # no tag given: the deployed one


def test_a_follow_up_that_failed_is_finished_in_one_update() -> None:
    """The change set applied, its follow-up failed: the next deploy judges the stack as it is.
    The replica exists, so failover goes on at once; failover is off, so the replicas go."""
    grew = root(2, "true"), deployed("2", "false")
    shrank = root(1, "false"), deployed("3", "false")
    for template, stack in (grew, shrank):
        assert first_values(template, stack) == {}
    assert passed(*grew)["CacheFailover"] == "true"
    assert passed(*shrank)["CacheNodes"] == "1"


def test_a_stack_from_before_the_pair_is_judged_by_what_its_root_passed_the_data_stack() -> None:
    """Deployed before nodes and failover were root parameters: the old root passed the node
    count to the data stack as a literal, and failover was on exactly with a replica. Adding
    the first replica in the same deploy still keeps failover off until the follow-up."""
    template = root(2, "true")
    before = Stack("example-dev", "id", "UPDATE_COMPLETE", parameters={"ImageTag": "v1"})
    assert needs_pair_from_children(template, before)
    old_root = {
        "Resources": {
            "DataStack": {
                "Type": "AWS::CloudFormation::Stack",
                "Properties": {"Parameters": {"CacheNodes": "1", "VpcId": {"Ref": "X"}}},
            }
        }
    }
    judged = pair_from_children(template, before, old_root)
    assert dict(judged.parameters) == {
        "ImageTag": "v1",
        "CacheNodes": "1",
        "CacheFailover": "false",
    }
    first = first_values(template, judged)
    assert first == {"CacheFailover": "false"}
    chosen = {
        p["ParameterKey"]: p.get("ParameterValue", "previous")
        for p in stack_parameters(template, before, None, first=first)
    }
    # CacheNodes is new to the stack: CloudFormation takes its Default (2)
    assert chosen == {"CacheFailover": "false", "ImageTag": "previous"}
    assert follow_up_values(template, first) == {"CacheFailover": "true"}
    assert not needs_pair_from_children(template, deployed("1", "false"))
    assert not needs_pair_from_children(template, None)
