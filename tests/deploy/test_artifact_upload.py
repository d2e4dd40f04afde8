"""Uploading a packaged template: once per content key, and a refusal that names the rights."""

from __future__ import annotations

import pytest

from factorstack.errors import EXIT_FAILURE, DeployError
from tests.support.stubbed_aws import stubbed

BUCKET, KEY = "example-artifacts", "templates/0123abcd.json"
HEAD = {"Bucket": BUCKET, "Key": KEY}


def test_a_key_that_is_there_is_not_uploaded_again() -> None:
    gateway, stub = stubbed("s3")
    stub.add_response("head_object", {"ContentLength": 2}, HEAD)
    with stub:
        assert gateway.upload_once(BUCKET, KEY, b"{}") is False
    stub.assert_no_pending_responses()


def test_a_missing_key_is_uploaded() -> None:
    gateway, stub = stubbed("s3")
    stub.add_client_error("head_object", "404", "Not Found", 404, expected_params=HEAD)
    stub.add_response("put_object", {}, {**HEAD, "Body": b"{}", "ContentType": "application/json"})
    with stub:
        assert gateway.upload_once(BUCKET, KEY, b"{}") is True
    stub.assert_no_pending_responses()


def test_forbidden_names_list_bucket_the_right_s3_needs_to_say_404() -> None:
    gateway, stub = stubbed("s3")
    stub.add_client_error("head_object", "403", "Forbidden", 403, expected_params=HEAD)
    with stub, pytest.raises(DeployError) as refused:
        gateway.upload_once(BUCKET, KEY, b"{}")
    error = refused.value
    assert error.exit_code == EXIT_FAILURE
    assert error.lines == [
        f"uploading s3://{BUCKET}/{KEY}: access denied; the deploying identity needs "
        f"s3:ListBucket on arn:aws:s3:::{BUCKET} (without it S3 answers 403 for a template "
        "not uploaded yet) and s3:GetObject and s3:PutObject on its objects"
    ]
