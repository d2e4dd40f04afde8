"""The bootstrap stack's template: what it promises, and cfn-lint clean."""

from __future__ import annotations

import json

from factorstack.limits import fits_inline
from factorstack.stacks.bootstrap import (
    BUCKET_OUTPUT,
    create_bucket_template,
    create_template,
    repository_logical_id,
)


def rendered() -> dict:
    return json.loads(create_template("example", ["web", "queue-worker"], keep_images=10).to_json())


def test_bucket_is_private_encrypted_versioned_and_expires_old_versions() -> None:
    bucket = rendered()["Resources"]["ArtifactsBucket"]
    props = bucket["Properties"]
    assert bucket["DeletionPolicy"] == "Retain"
    rule = props["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]
    assert rule["ServerSideEncryptionByDefault"]["SSEAlgorithm"] == "aws:kms"  # the aws/s3 key
    assert set(props["PublicAccessBlockConfiguration"].values()) == {True}
    assert len(props["PublicAccessBlockConfiguration"]) == 4
    assert props["OwnershipControls"]["Rules"] == [{"ObjectOwnership": "BucketOwnerEnforced"}]
    assert props["VersioningConfiguration"] == {"Status": "Enabled"}
    [lifecycle] = props["LifecycleConfiguration"]["Rules"]
    assert lifecycle["NoncurrentVersionExpiration"] == {"NoncurrentDays": 30}


def test_bucket_policy_denies_plain_http() -> None:
    policy = rendered()["Resources"]["ArtifactsBucketPolicy"]["Properties"]
    [statement] = policy["PolicyDocument"]["Statement"]
    assert statement["Effect"] == "Deny"
    assert statement["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    bucket_arn = {"Fn::GetAtt": ["ArtifactsBucket", "Arn"]}
    assert {"Fn::Join": ["", [bucket_arn, "/*"]]} in statement["Resource"]
    assert "arn:aws:" not in json.dumps(policy)


def test_one_immutable_scanned_repository_per_process() -> None:
    resources = rendered()["Resources"]
    assert repository_logical_id("queue-worker") == "QueueWorkerRepository"
    for process in ("web", "queue-worker"):
        props = resources[repository_logical_id(process)]["Properties"]
        assert props["RepositoryName"] == f"example/{process}"
        assert props["ImageTagMutability"] == "IMMUTABLE"
        assert props["ImageScanningConfiguration"] == {"ScanOnPush": True}
        policy = json.loads(props["LifecyclePolicy"]["LifecyclePolicyText"])
        assert policy["rules"][0]["selection"]["countNumber"] == 10


def test_outputs_bucket_name() -> None:
    outputs = rendered()["Outputs"]
    assert outputs[BUCKET_OUTPUT]["Value"] == {"Ref": "ArtifactsBucket"}


def test_cfn_lint_clean_including_informational_rules() -> None:
    from cfnlint.api import ManualArgs, lint

    text = create_template("example", ["web", "worker"]).to_json()
    config = ManualArgs(include_checks=["I"], regions=["eu-west-1"])
    assert [str(f) for f in lint(text, config=config)] == []


def test_bucket_only_template_holds_the_full_templates_bucket_byte_for_byte() -> None:
    """Step one of a large first bootstrap creates the bucket from this template; step two's
    update to the full template must find the same logical ids with the same properties, so
    CloudFormation neither modifies nor replaces the bucket (nor its policy) between them."""
    full = json.loads(create_template("example", [f"w{i}" for i in range(40)]).to_json())
    alone = json.loads(create_bucket_template("example").to_json())
    assert set(alone["Resources"]) == {"ArtifactsBucket", "ArtifactsBucketPolicy"}
    for logical_id, resource in alone["Resources"].items():
        assert json.dumps(resource, sort_keys=True) == json.dumps(
            full["Resources"][logical_id], sort_keys=True
        )
    assert alone["Outputs"] == {BUCKET_OUTPUT: full["Outputs"][BUCKET_OUTPUT]}


def test_bucket_only_template_is_small_enough_to_send_inline_and_lint_clean() -> None:
    from cfnlint.api import ManualArgs, lint

    text = create_bucket_template("a-rather-long-application-name").to_json()
    assert fits_inline(len(text.encode()))
    config = ManualArgs(include_checks=["I"], regions=["eu-west-1"])
    assert [str(f) for f in lint(text, config=config)] == []
