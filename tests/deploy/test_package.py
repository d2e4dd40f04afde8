"""Packaging: content-hash keys, skip what exists, rewrite TemplateURLs (Stubber S3)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from botocore.stub import ANY

from factorstack.deploy.package import (
    content_key,
    dump_template,
    package,
    packaged_line,
    template_url,
)
from factorstack.errors import DeployError, NotReady
from tests.support.aws_answers import client_error
from tests.support.stubbed_aws import stubbed

BUCKET = "example-artifacts"
CHILD = {"Resources": {"Queue": {"Type": "AWS::SQS::Queue"}}}
GRANDCHILD = {"Resources": {"Topic": {"Type": "AWS::SNS::Topic"}}}


def write(folder: Path, name: str, template: dict) -> None:
    (folder / name).write_text(json.dumps(template))


def nested(url: str) -> dict:
    return {"Type": "AWS::CloudFormation::Stack", "Properties": {"TemplateURL": url}}


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    write(
        tmp_path,
        "root.json",
        {"Resources": {"AStack": nested("a.json"), "BStack": nested("b.json")}},
    )
    write(tmp_path, "a.json", CHILD)
    write(tmp_path, "b.json", {"Resources": {"InnerStack": nested("inner.json")}})
    write(tmp_path, "inner.json", GRANDCHILD)
    return tmp_path


def test_url_shape() -> None:
    assert template_url("b", "eu-west-1", "templates/k.json") == (
        "https://b.s3.eu-west-1.amazonaws.com/templates/k.json"
    )
    assert template_url("b", "cn-north-1", "k").endswith(".amazonaws.com.cn/k")


def test_uploads_missing_keys_skips_existing_and_rewrites_urls(folder: Path) -> None:
    aws, stub = stubbed("s3")
    child_key = content_key(dump_template(CHILD))
    inner_key = content_key(dump_template(GRANDCHILD))
    with stub:
        # AStack (a.json): already uploaded by an earlier plan
        stub.add_response(
            "head_object", {"ContentLength": 10}, {"Bucket": BUCKET, "Key": child_key}
        )
        # BStack/InnerStack first (depth first), then b.json, then the root: all new
        stub.add_client_error("head_object", **client_error("404", "Not Found", 404))
        stub.add_response(
            "put_object",
            {},
            {"Bucket": BUCKET, "Key": inner_key, "Body": ANY, "ContentType": "application/json"},
        )
        stub.add_client_error("head_object", **client_error("404", "Not Found", 404))
        stub.add_response("put_object", {}, None)
        stub.add_client_error("head_object", **client_error("404", "Not Found", 404))
        stub.add_response("put_object", {}, None)
        lines: list[str] = []
        packaged = package(aws, BUCKET, folder, echo=lines.append)
        stub.assert_no_pending_responses()
    # 3 children + the root = 4 files, each uploaded or already there: the counts add up.
    assert lines == ["packaged 3 nested templates and the root: 3 uploaded, 1 already there"]
    assert packaged.skipped == [child_key]
    assert len(packaged.uploaded) == 3 and packaged.uploaded[0] == inner_key
    assert packaged.children == {
        "AStack": "a.json",
        "BStack": "b.json",
        "BStack/InnerStack": "inner.json",
    }
    root = json.loads(packaged.root_body)
    a_url = root["Resources"]["AStack"]["Properties"]["TemplateURL"]
    assert a_url == f"https://{BUCKET}.s3.eu-west-1.amazonaws.com/{child_key}"
    assert packaged.root_url.endswith(content_key(packaged.root_body))


def test_access_denied_on_upload_is_one_line(folder: Path) -> None:
    aws, stub = stubbed("s3")
    with stub:
        stub.add_client_error("head_object", **client_error("403", "Forbidden", 403))
        with pytest.raises(DeployError) as failed:
            package(aws, BUCKET, folder)
    assert failed.value.lines[0].startswith("uploading s3://example-artifacts/templates/")
    assert failed.value.lines[0].endswith(
        ": access denied; the deploying identity needs s3:ListBucket on "
        "arn:aws:s3:::example-artifacts (without it S3 answers 403 for a template not uploaded "
        "yet) and s3:GetObject and s3:PutObject on its objects"
    )


def test_missing_child_template_names_the_file(folder: Path) -> None:
    (folder / "a.json").unlink()
    with pytest.raises(NotReady, match="a.json: template is missing \\(run `make templates`\\)"):
        package(stubbed("s3")[0], BUCKET, folder)


def test_packaged_line_counts_add_up() -> None:
    assert packaged_line(7, 8, 0) == (
        "packaged 7 nested templates and the root: 8 uploaded, 0 already there"
    )
    assert packaged_line(1, 0, 2) == (
        "packaged 1 nested template and the root: 0 uploaded, 2 already there"
    )
