"""What the Stubber answers for the fixture project (tests/support/fixture_build.py): its
bootstrap stack, its deployed root, its images and account, and a change set that replaces its
database. Each answer is shaped like AWS's and checked against botocore's model by Stubber.
"""

from __future__ import annotations

import copy
import json

from botocore.stub import ANY

from tests.support.aws_answers import (
    ACCOUNT,
    change_set,
    change_set_arn,
    client_error,
    db_engine_versions,
    detail,
    resource_change,
    service_quota,
    stack,
    stack_arn,
    vpcs,
)
from tests.support.deploying import ROOT_CS
from tests.support.fixture_build import FixtureProject
from tests.support.stubbed_aws import Stubs

STACK = "AWS::CloudFormation::Stack"
DATA_CS = change_set_arn("example-dev-DataStack-1-fs-dev-x", "bbbb")
IDENTITY = {"UserId": "AIDA", "Account": ACCOUNT, "Arn": f"arn:aws:iam::{ACCOUNT}:user/ci"}
BOOTSTRAP = stack(
    "example-bootstrap",
    "CREATE_COMPLETE",
    Outputs=[{"OutputKey": "ArtifactsBucketName", "OutputValue": "example-artifacts"}],
)
DEPLOYED = stack(
    "example-dev",
    "UPDATE_COMPLETE",
    Parameters=[{"ParameterKey": "ImageTag", "ParameterValue": "v1"}],
)


def stub_image_present(stubs: Stubs, tag: str) -> None:
    """The image preflight finds the web image at the tag the stack will run."""
    stubs.ecr_stub.add_response(
        "describe_images",
        {"imageDetails": [{"imageDigest": "sha256:" + "a" * 64, "imageTags": [tag]}]},
        {"repositoryName": "example/web", "imageIds": [{"imageTag": tag}]},
    )


def stub_account_preflight(stubs: Stubs, new_stack: bool = False) -> None:
    """The fixture's MySQL version is offered; a new stack's VPC fits the quota."""
    stubs.rds_stub.add_response(
        "describe_db_engine_versions", db_engine_versions("mysql", "8.0.43"), {"Engine": "mysql"}
    )
    if new_stack:
        stubs.quotas_stub.add_response(
            "get_service_quota",
            service_quota("vpc", "L-F678F1CE", "VPCs per Region", 5.0),
            {"ServiceCode": "vpc", "QuotaCode": "L-F678F1CE"},
        )
        stubs.ec2_stub.add_response("describe_vpcs", vpcs(1), {})


def stub_until_change_set(stubs: Stubs, root_change_set: dict, image_tag: str = "v1") -> None:
    """Account check, bootstrap bucket, packaging (all present), stack state, change set."""
    stubs.sts_stub.add_response("get_caller_identity", IDENTITY)
    stubs.cfn_stub.add_response("describe_stacks", BOOTSTRAP, {"StackName": "example-bootstrap"})
    for _ in range(4):  # three children and the packaged root, all uploaded before
        stubs.s3_stub.add_response(
            "head_object", {"ContentLength": 1}, {"Bucket": "example-artifacts", "Key": ANY}
        )
    stubs.cfn_stub.add_response(
        "describe_stacks", copy.deepcopy(DEPLOYED), {"StackName": "example-dev"}
    )
    stub_image_present(stubs, image_tag)
    stub_account_preflight(stubs)
    stubs.cfn_stub.add_client_error(
        "describe_change_set", **client_error("ChangeSetNotFound", "ChangeSet does not exist", 404)
    )
    stubs.cfn_stub.add_response("create_change_set", {"Id": ROOT_CS}, None)
    stubs.cfn_stub.add_response("describe_change_set", root_change_set, {"ChangeSetName": ROOT_CS})


def stub_offline_guard(stubs: Stubs, project: FixtureProject, deployed_data: dict) -> None:
    """The deployed tree and templates the offline guard compares with build/dev."""
    nested = {
        "NetworkStack": "example-dev-NetworkStack-1",
        "DataStack": "example-dev-DataStack-1",
        "WebStack": "example-dev-WebStack-1",
    }
    summaries = [
        {
            "LogicalResourceId": logical,
            "PhysicalResourceId": stack_arn(physical),
            "ResourceType": STACK,
            "LastUpdatedTimestamp": DEPLOYED["Stacks"][0]["CreationTime"],
            "ResourceStatus": "UPDATE_COMPLETE",
        }
        for logical, physical in nested.items()
    ]
    add = stubs.cfn_stub.add_response
    add("list_stack_resources", {"StackResourceSummaries": summaries}, {"StackName": "example-dev"})
    for logical in ("WebStack", "DataStack", "NetworkStack"):  # depth-first pops the last
        add(
            "list_stack_resources",
            {"StackResourceSummaries": []},
            {"StackName": stack_arn(nested[logical])},
        )
    templates = {
        "": project.templates["root.json"],
        "DataStack": deployed_data,
        "NetworkStack": project.templates["network.json"],
        "WebStack": project.templates["process-web.json"],
    }
    for path in ("", "DataStack", "NetworkStack", "WebStack"):
        name = "example-dev" if not path else stack_arn(nested[path])
        add(
            "get_template",
            {"TemplateBody": json.dumps(templates[path]), "StagesAvailable": ["Original"]},
            {"StackName": name, "TemplateStage": "Original"},
        )


def replacing_root() -> dict:
    return change_set(
        "fs-dev-x",
        "example-dev",
        [resource_change("DataStack", STACK, "Modify", "False", nested=DATA_CS)],
        cs_id=ROOT_CS,
    )


def replacing_data() -> dict:
    return change_set(
        "example-dev-DataStack-1-fs-dev-x",
        "example-dev-DataStack-1",
        [
            resource_change(
                "Database", "AWS::RDS::DBInstance", "Modify", "True", [detail("DBName", "Always")]
            ),
            resource_change(
                "DatabaseSecret",
                "AWS::SecretsManager::Secret",
                "Modify",
                "Conditional",
                [detail("Name", "Conditionally", "Dynamic")],
            ),
        ],
        cs_id=DATA_CS,
        parent=ROOT_CS,
    )
