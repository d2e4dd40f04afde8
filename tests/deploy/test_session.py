"""One clear line for each credential and account problem; retries and endpoint settings."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from botocore.exceptions import ClientError, NoCredentialsError
from botocore.retries.standard import ThrottledRetryableChecker
from botocore.stub import ANY, Stubber

from factorstack.build.manifest import AwsTarget
from factorstack.deploy.aws.session import (
    RETRY_CONFIG,
    THROTTLE_CODES,
    assume_role,
    aws_errors,
    check_account,
    open_clients,
    translate,
)
from factorstack.errors import DeployError
from tests.support.aws_answers import client, client_error
from tests.support.stubbed_aws import stubbed


def error(code: str, message: str) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": message}}, "CreateChangeSet")


@pytest.mark.parametrize(
    ("raised", "expected"),
    [
        (NoCredentialsError(), "plan: no AWS credentials found (set AWS_PROFILE"),
        (
            error("ExpiredToken", "The security token included in the request is expired"),
            "plan: AWS credentials have expired (log in again)",
        ),
        (
            error(
                "AccessDenied",
                "User: arn:aws:iam::1:user/x is not authorized to perform: "
                "cloudformation:CreateChangeSet",
            ),
            "plan: access denied: User: arn:aws:iam::1:user/x is not authorized",
        ),
        (
            error("InvalidClientTokenId", "The security token is invalid."),
            "plan: AWS rejected the credentials (InvalidClientTokenId)",
        ),
        (error("Throttling", "Rate exceeded"), "plan: AWS kept throttling requests"),
        (
            error("ValidationError", "Template format error:\n  bad"),
            "plan: AWS error ValidationError: Template format error: bad",
        ),
    ],
)
def test_translate_is_one_line(raised: Exception, expected: str) -> None:
    translated = translate(raised, "plan")
    assert isinstance(translated, DeployError) and translated.exit_code == 1
    assert len(translated.lines) == 1 and translated.lines[0].startswith(expected)


def test_aws_errors_wraps_botocore_failures() -> None:
    with pytest.raises(DeployError, match="reading: access denied"), aws_errors("reading"):
        raise error("AccessDeniedException", "no")


def test_wrong_account_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    aws, stub = stubbed("sts")
    identity = {
        "UserId": "AIDA",
        "Account": "999999999999",
        "Arn": "arn:aws:iam::999999999999:user/x",
    }
    with stub:
        stub.add_response("get_caller_identity", identity)
        with pytest.raises(DeployError) as refused:
            aws.check_account("123456789012")
    assert refused.value.lines == [
        "wrong AWS account: credentials are for 999999999999, the environment deploys to "
        "123456789012 (switch AWS_PROFILE or fix `account` in the environment file)"
    ]


def test_wrong_account_on_the_local_endpoint_names_moto_account_id(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:5000")
    with pytest.raises(DeployError) as refused:
        check_account("123456789012", "111111111111")
    assert refused.value.lines == [
        "wrong AWS account: credentials are for 123456789012, the environment deploys to "
        "111111111111 (restart the local endpoint as that account: "
        "MOTO_ACCOUNT_ID=111111111111 make local-aws)"
    ]


def test_expired_token_on_the_account_check() -> None:
    aws, stub = stubbed("sts")
    with stub:
        stub.add_client_error(
            "get_caller_identity", **client_error("ExpiredToken", "The token is expired", 403)
        )
        with pytest.raises(DeployError, match="credentials have expired"):
            aws.check_account("123456789012")


def test_clients_use_standard_retries_the_region_and_aws_endpoint_url(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:4999")
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    clients = open_clients(AwsTarget(account="123456789012", region="eu-west-1"))
    config = clients.cloudformation.meta.config
    assert config.retries["mode"] == "standard"
    assert clients.iam.meta.config.retries == RETRY_CONFIG.retries  # every client, not some
    assert clients.cloudformation.meta.region_name == "eu-west-1"
    assert clients.s3.meta.endpoint_url == "http://127.0.0.1:4999"


def test_unknown_profile_is_one_line(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    with pytest.raises(DeployError, match="could not be found"):
        open_clients(AwsTarget(account="1", region="eu-west-1", profile="nope"))


def test_role_from_the_environment_file_is_assumed() -> None:
    from datetime import UTC, datetime

    sts = client("sts")
    role = "arn:aws:iam::123456789012:role/deployer"
    credentials = {
        "AccessKeyId": "ASIAEXAMPLEEXAMPLE00",
        "SecretAccessKey": "secret-from-sts",
        "SessionToken": "token-from-sts",
        "Expiration": datetime(2026, 11, 26, 13, tzinfo=UTC),
    }
    with Stubber(sts) as stub:
        stub.add_response(
            "assume_role",
            {"Credentials": credentials},
            {"RoleArn": role, "RoleSessionName": ANY},
        )
        session = assume_role(sts, role, "eu-west-1")
    frozen = session.get_credentials().get_frozen_credentials()
    assert (frozen.access_key, frozen.token) == ("ASIAEXAMPLEEXAMPLE00", "token-from-sts")
    assert session.region_name == "eu-west-1"


def test_role_that_cannot_be_assumed_is_one_line() -> None:
    sts = client("sts")
    with Stubber(sts) as stub:
        stub.add_client_error(
            "assume_role",
            **client_error("AccessDenied", "not authorized to perform sts:AssumeRole"),
        )
        with pytest.raises(DeployError) as refused:
            assume_role(sts, "arn:aws:iam::1:role/x", "eu-west-1")
    assert refused.value.lines == [
        "assuming role arn:aws:iam::1:role/x: access denied: "
        "not authorized to perform sts:AssumeRole"
    ]


def test_throttling_is_retried_by_the_clients_and_only_by_them() -> None:
    """The one throttling mechanism: botocore's standard retry mode treats every code that
    `translate` calls throttling as retryable, so a throttled call is retried (with backoff)
    before deploy sees it; what deploy sees is a failure, said in one line."""
    checker = ThrottledRetryableChecker()
    for code in THROTTLE_CODES:
        assert checker.is_retryable(SimpleNamespace(get_error_code=lambda code=code: code))
    assert RETRY_CONFIG.retries["mode"] == "standard"
    assert RETRY_CONFIG.retries["total_max_attempts"] > 3  # more patient than botocore's default
