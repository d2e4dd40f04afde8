"""E9004: access logs only to an SSE-S3 bucket whose policy exists first, under a valid prefix."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from factorstack.lint import lint_templates


def _resources(*, algorithm: str, depends: bool, prefix: str) -> dict[str, Any]:
    balancer: dict[str, Any] = {
        "Type": "AWS::ElasticLoadBalancingV2::LoadBalancer",
        "Properties": {
            "Subnets": ["subnet-1", "subnet-2"],
            "LoadBalancerAttributes": [
                {"Key": "access_logs.s3.enabled", "Value": "true"},
                {"Key": "access_logs.s3.bucket", "Value": {"Ref": "Logs"}},
                {"Key": "access_logs.s3.prefix", "Value": prefix},
            ],
        },
    }
    if depends:
        balancer["DependsOn"] = ["LogsPolicy"]
    return {
        "Logs": {
            "Type": "AWS::S3::Bucket",
            "DeletionPolicy": "Retain",
            "UpdateReplacePolicy": "Retain",
            "Properties": {
                "BucketEncryption": {
                    "ServerSideEncryptionConfiguration": [
                        {"ServerSideEncryptionByDefault": {"SSEAlgorithm": algorithm}}
                    ]
                }
            },
        },
        "LogsPolicy": {
            "Type": "AWS::S3::BucketPolicy",
            "Properties": {
                "Bucket": {"Ref": "Logs"},
                "PolicyDocument": {
                    "Statement": [
                        {
                            "Effect": "Allow",
                            "Principal": {"AWS": "arn:aws:iam::156460612806:root"},
                            "Action": "s3:PutObject",
                            "Resource": {"Fn::Sub": "${Logs.Arn}/*"},
                        }
                    ]
                },
            },
        },
        "Balancer": balancer,
    }


def _e9004(tmp_path: Path, **case: Any) -> list[str]:
    path = tmp_path / "t.json"
    body = {"AWSTemplateFormatVersion": "2010-09-09", "Resources": _resources(**case)}
    path.write_text(json.dumps(body, indent=2))
    return [f.message for f in lint_templates([path], ["eu-west-1"]) if f.rule == "E9004"]


def test_e9004_flags_kms_bucket_missing_dependency_and_awslogs_prefix(tmp_path: Path):
    found = _e9004(tmp_path, algorithm="aws:kms", depends=False, prefix="lb/AWSLogs")
    assert sorted(found) == [
        "Balancer: access logs support SSE-S3 only, Logs uses SSE-KMS",
        "Balancer: must DependsOn the bucket policy of Logs (ELB tests its write access when "
        "access logging is turned on)",
        "Balancer: the access log prefix contains AWSLogs",
    ]


def test_e9004_accepts_an_sse_s3_bucket_whose_policy_comes_first(tmp_path: Path):
    assert _e9004(tmp_path, algorithm="AES256", depends=True, prefix="load-balancer") == []
