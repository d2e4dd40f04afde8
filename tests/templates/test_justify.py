"""stacks.common.justify: a policy finding accepted on the resource itself, with the reason in
the template where the policy gate (tools/policy) reads it, merged with Metadata already there."""

from __future__ import annotations

import pytest
from troposphere import Template, logs, rds

from factorstack.stacks.common import justify

RETENTION = "cloudwatch_log_group_retention_period_check"


def test_justify_writes_checkov_skips_with_comments_and_guard_rules_with_reasons() -> None:
    group = justify(
        logs.LogGroup("WebLogGroup", RetentionInDays=30),
        checkov={"CKV_AWS_158": "logs hold no secrets"},
        guard={RETENTION: "30 days suffice for an app's logs"},
    )
    template = Template()
    template.add_resource(group)
    assert template.to_dict()["Resources"]["WebLogGroup"]["Metadata"] == {
        "checkov": {"skip": [{"id": "CKV_AWS_158", "comment": "logs hold no secrets"}]},
        "guard": {
            "SuppressedRules": [RETENTION],
            "Reasons": {RETENTION: "30 days suffice for an app's logs"},
        },
    }


def test_justify_merges_with_cfn_lint_metadata_and_earlier_justifications() -> None:
    database = rds.DBInstance("Database")
    database.Metadata = {"cfn-lint": {"config": {"ignore_checks": ["E3691"]}}}
    justify(database, checkov={"CKV_AWS_157": "one zone in dev"}, guard={"a_rule": "why a"})
    justify(database, checkov={"CKV_AWS_118": "no monitoring"}, guard={"b_rule": "why b"})
    justify(database, checkov={"CKV_AWS_157": "one zone outside prod"})
    assert database.Metadata == {
        "cfn-lint": {"config": {"ignore_checks": ["E3691"]}},
        "checkov": {
            "skip": [
                {"id": "CKV_AWS_157", "comment": "one zone outside prod"},
                {"id": "CKV_AWS_118", "comment": "no monitoring"},
            ]
        },
        "guard": {
            "SuppressedRules": ["a_rule", "b_rule"],
            "Reasons": {"a_rule": "why a", "b_rule": "why b"},
        },
    }


def test_justify_refuses_a_justification_that_does_not_say_why() -> None:
    with pytest.raises(ValueError, match="justify CKV_AWS_158: say why"):
        justify(logs.LogGroup("WebLogGroup"), checkov={"CKV_AWS_158": " "})
