"""E9007 (S3 lifecycle days at least 1) and E9008 (an instance waiting for a cfn-signal must
send it): each fires on what AWS would refuse or wait on, and stays quiet on the real
templates' shape."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from factorstack.lint import lint_templates

SIGNAL = "/opt/aws/bin/cfn-signal --stack ${AWS::StackName} --resource Nat --region ${AWS::Region}"


def _found(tmp_path: Path, rule: str, resources: dict[str, Any]) -> list[str]:
    path = tmp_path / "t.json"
    body = {"AWSTemplateFormatVersion": "2010-09-09", "Resources": resources}
    path.write_text(json.dumps(body, indent=2))
    return [f.message for f in lint_templates([path], ["eu-west-1"]) if f.rule == rule]


def _bucket(expiration: Any, noncurrent: Any) -> dict[str, Any]:
    return {
        "Logs": {
            "Type": "AWS::S3::Bucket",
            "DeletionPolicy": "Retain",
            "UpdateReplacePolicy": "Retain",
            "Properties": {
                "VersioningConfiguration": {"Status": "Enabled"},
                "LifecycleConfiguration": {
                    "Rules": [
                        {
                            "Status": "Enabled",
                            "ExpirationInDays": expiration,
                            "NoncurrentVersionExpiration": {"NoncurrentDays": noncurrent},
                        }
                    ]
                },
            },
        }
    }


def _instance(user_data: Any) -> dict[str, Any]:
    properties: dict[str, Any] = {"ImageId": "ami-0123456789abcdef0", "InstanceType": "t4g.nano"}
    if user_data is not None:
        properties["UserData"] = user_data
    return {
        "Nat": {
            "Type": "AWS::EC2::Instance",
            "CreationPolicy": {"ResourceSignal": {"Count": 1, "Timeout": "PT15M"}},
            "Properties": properties,
        }
    }


def test_e9007_flags_zero_lifecycle_days(tmp_path: Path) -> None:
    assert sorted(_found(tmp_path, "E9007", _bucket(0, 0))) == [
        "Logs: lifecycle rule 1 ExpirationInDays must be at least 1 (S3 refuses 0)",
        "Logs: lifecycle rule 1 NoncurrentVersionExpiration.NoncurrentDays must be at least 1 "
        "(S3 refuses 0)",
    ]


def test_e9007_accepts_one_day(tmp_path: Path) -> None:
    assert _found(tmp_path, "E9007", _bucket(6, 1)) == []


def test_e9008_flags_an_instance_that_never_signals(tmp_path: Path) -> None:
    assert _found(tmp_path, "E9008", _instance(None)) == [
        "Nat: waits for a cfn-signal (CreationPolicy.ResourceSignal) but has no UserData to send it"
    ]
    other = {"Fn::Base64": {"Fn::Sub": SIGNAL.replace("--resource Nat", "--resource Other")}}
    assert _found(tmp_path, "E9008", _instance(other)) == [
        "Nat: waits for a cfn-signal (CreationPolicy.ResourceSignal) but its UserData never "
        "signals Nat"
    ]


def test_e9008_accepts_an_instance_that_signals_itself(tmp_path: Path) -> None:
    script = f'#!/bin/bash\nsignal() {{ {SIGNAL} --exit-code "$1"; }}\nsignal 0\n'
    assert _found(tmp_path, "E9008", _instance({"Fn::Base64": {"Fn::Sub": script}})) == []
