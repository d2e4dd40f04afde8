"""The one thin place that opens AWS clients and turns AWS failures into one-line errors.

boto3's standard credential chain is used (environment, AWS_PROFILE, an environment file's
profile or role). `AWS_ENDPOINT_URL` is honoured by botocore itself, so the same commands run
against a local endpoint. Retries use botocore's standard mode, which backs off on throttling.
"""

from __future__ import annotations

import getpass
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    EndpointConnectionError,
    NoCredentialsError,
    NoRegionError,
    PartialCredentialsError,
    ProfileNotFound,
    TokenRetrievalError,
)
from botocore.parsers import ResponseParserError

from factorstack.build.manifest import AwsTarget
from factorstack.errors import DeployError

RETRY_CONFIG = Config(retries={"mode": "standard", "max_attempts": 8})

EXPIRED_CODES = frozenset({"ExpiredToken", "ExpiredTokenException", "RequestExpired"})
# S3 HEAD requests have no body, so their error code is the bare HTTP status.
DENIED_CODES = frozenset({"AccessDenied", "AccessDeniedException", "UnauthorizedOperation", "403"})
THROTTLE_CODES = frozenset(
    {"Throttling", "ThrottlingException", "TooManyRequestsException", "RequestLimitExceeded"}
)
INVALID_KEY_CODES = frozenset(
    {"InvalidClientTokenId", "SignatureDoesNotMatch", "UnrecognizedClientException"}
)


@dataclass(frozen=True)
class Clients:
    """The AWS clients deploy uses; tests build this with stubbed clients."""

    cloudformation: Any
    s3: Any
    sts: Any
    region: str
    ecr: Any = None  # only release and the image preflight use it
    # The account preflight and bootstrap's service-linked roles; None in tests that need none.
    ssm: Any = None
    secretsmanager: Any = None
    acm: Any = None
    rds: Any = None
    elasticache: Any = None
    ec2: Any = None
    service_quotas: Any = None
    iam: Any = None


def error_code(error: ClientError) -> str:
    """The AWS error code of a ClientError ('' when AWS sent none)."""
    return str(error.response.get("Error", {}).get("Code", ""))


def error_message(error: ClientError) -> str:
    """The AWS error message of a ClientError, on one line."""
    return " ".join(str(error.response.get("Error", {}).get("Message", "")).split())


def is_throttling(error: ClientError) -> bool:
    """True when AWS asked us to slow down; polling loops just try again later."""
    return error_code(error) in THROTTLE_CODES


def translate(error: Exception, doing: str) -> DeployError:
    """One line a user can act on, chosen by the error's code, never a traceback."""
    if isinstance(error, NoCredentialsError | PartialCredentialsError):
        return DeployError(
            f"{doing}: no AWS credentials found "
            "(set AWS_PROFILE or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, or run `aws sso login`)"
        )
    if isinstance(error, TokenRetrievalError):
        return DeployError(f"{doing}: AWS SSO session expired (run `aws sso login` again)")
    if isinstance(error, ProfileNotFound):
        return DeployError(f"{doing}: {error} (check AWS_PROFILE or the environment file)")
    if isinstance(error, NoRegionError):
        return DeployError(f"{doing}: no AWS region (set it in the environment file)")
    if isinstance(error, EndpointConnectionError):
        return DeployError(f"{doing}: cannot reach AWS: {error} (check AWS_ENDPOINT_URL)")
    if isinstance(error, ResponseParserError):
        first = str(error).splitlines()[0] if str(error) else "unreadable response"
        return DeployError(f"{doing}: the AWS endpoint sent an unreadable response ({first})")
    if isinstance(error, ClientError):
        code = error_code(error)
        message = error_message(error)
        if code in EXPIRED_CODES:
            return DeployError(f"{doing}: AWS credentials have expired (log in again): {message}")
        if code in DENIED_CODES:
            return DeployError(f"{doing}: access denied: {message}")
        if code in INVALID_KEY_CODES:
            return DeployError(f"{doing}: AWS rejected the credentials ({code}): {message}")
        if code in THROTTLE_CODES:
            return DeployError(f"{doing}: AWS kept throttling requests; try again in a minute")
        return DeployError(f"{doing}: AWS error {code}: {message}")
    return DeployError(f"{doing}: {error}")


@contextmanager
def aws_errors(doing: str) -> Iterator[None]:
    """Turn any botocore failure inside the block into a one-line DeployError."""
    try:
        yield
    except (ClientError, BotoCoreError, ResponseParserError) as error:
        raise translate(error, doing) from None


def session_name() -> str:
    """A RoleSessionName naming the local user, so CloudTrail shows who deployed."""
    user = "".join(c for c in getpass.getuser() if c.isalnum() or c in "+=,.@-") or "user"
    return f"factorstack-{user}"[:64]


def assume_role(sts: Any, role_arn: str, region: str) -> boto3.Session:
    """A session with the role's temporary credentials (one hour: plenty for one deploy)."""
    with aws_errors(f"assuming role {role_arn}"):
        credentials = sts.assume_role(RoleArn=role_arn, RoleSessionName=session_name())[
            "Credentials"
        ]
    return boto3.Session(
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=credentials["SessionToken"],
        region_name=region,
    )


def open_clients(target: AwsTarget) -> Clients:
    """Clients for the target's region, with its profile or role when the environment names one."""
    try:
        session = boto3.Session(profile_name=target.profile, region_name=target.region)
    except BotoCoreError as error:
        raise translate(error, "opening an AWS session") from None
    if target.role_arn:
        sts = session.client("sts", region_name=target.region, config=RETRY_CONFIG)
        session = assume_role(sts, target.role_arn, target.region)

    def client(service: str) -> Any:
        return session.client(service, region_name=target.region, config=RETRY_CONFIG)

    return Clients(
        cloudformation=client("cloudformation"),
        s3=client("s3"),
        sts=client("sts"),
        region=target.region,
        ecr=client("ecr"),
        ssm=client("ssm"),
        secretsmanager=client("secretsmanager"),
        acm=client("acm"),
        rds=client("rds"),
        elasticache=client("elasticache"),
        ec2=client("ec2"),
        service_quotas=client("service-quotas"),
        iam=client("iam"),
    )


def check_account(sts: Any, expected: str) -> str:
    """Refuse unless the caller's credentials belong to the environment's account."""
    with aws_errors("checking the AWS account (sts get-caller-identity)"):
        actual = str(sts.get_caller_identity()["Account"])
    if actual != expected:
        raise DeployError(
            f"wrong AWS account: credentials are for {actual}, the environment deploys to "
            f"{expected} (switch AWS_PROFILE or fix `account` in the environment file)"
        )
    return actual
