"""E9010: a value the root passes a nested stack is a CloudFormation parameter value, at most
4,096 bytes; the build's lint says so before CloudFormation refuses the nested stack."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from factorstack.lint import lint_templates
from factorstack.lint_rules.parameter_values import MAX_PARAMETER_VALUE_BYTES

CHILD = {
    "AWSTemplateFormatVersion": "2010-09-09",
    "Parameters": {"VariableNote": {"Type": "String"}},
    "Resources": {
        "Topic": {"Type": "AWS::SNS::Topic", "Properties": {"DisplayName": {"Ref": "VariableNote"}}}
    },
}


def _root(value: str) -> dict:
    return {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Resources": {
            "ChildStack": {
                "Type": "AWS::CloudFormation::Stack",
                "Properties": {"TemplateURL": "child.json", "Parameters": {"VariableNote": value}},
            }
        },
    }


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("x" * MAX_PARAMETER_VALUE_BYTES, []),
        (
            "é" * 2049,  # 4,098 bytes in UTF-8, 2,049 characters
            [
                "Parameter VariableNote: its value is 4098 bytes, over CloudFormation's 4096 "
                "(shorten it, or read it from SSM or Secrets Manager)"
            ],
        ),
    ],
)
def test_a_passed_value_over_4096_bytes_is_a_finding(tmp_path: Path, value, expected) -> None:
    (tmp_path / "child.json").write_text(json.dumps(CHILD))
    root = tmp_path / "root.json"
    root.write_text(json.dumps(_root(value)))
    found = [f for f in lint_templates([root], ["eu-west-1"]) if f.rule == "E9010"]
    assert [f.message for f in found] == expected
