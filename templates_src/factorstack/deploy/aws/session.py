"""Opening AWS clients, and turning AWS failures into one-line errors.

boto3's standard credential chain is used (environment, AWS_PROFILE, an environment file's
profile or role). `AWS_ENDPOINT_URL` is honoured by botocore itself, so the same commands run
against a local endpoint.

Throttling is handled here and only here: every client uses botocore's standard retry mode,
which backs off and retries each throttled call (up to RETRY_CONFIG's attempts). A call still
throttled after that is a failure like any other, and `translate` says so in one line; no
polling loop second-guesses it.
"""

from __future__ import annotations

import getpass
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import urlparse

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

# Hosts of an AWS_ENDPOINT_URL that is this machine (`make local-aws`).
LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})

if TYPE_CHECKING:  # the boto3-stubs client types; nothing of them is needed at run time
    from mypy_boto3_acm import ACMClient
    from mypy_boto3_application_autoscaling import ApplicationAutoScalingClient
    from mypy_boto3_cloudformation import CloudFormationClient
    from mypy_boto3_cloudwatch import CloudWatchClient
    from mypy_boto3_ec2 import EC2Client
    from mypy_boto3_ecr import ECRClient
    from mypy_boto3_ecs import ECSClient
    from mypy_boto3_elasticache import ElastiCacheClient
    from mypy_boto3_iam import IAMClient
    from mypy_boto3_logs import CloudWatchLogsClient
    from mypy_boto3_rds import RDSClient
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_secretsmanager import SecretsManagerClient
    from mypy_boto3_service_quotas import ServiceQuotasClient
    from mypy_boto3_ssm import SSMClient
    from mypy_boto3_sts import STSClient

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
    """One client per AWS service deploy uses; only the gateway calls them.

    Tests build this with botocore Stubbers activated on real clients.
    """

    cloudformation: CloudFormationClient
    s3: S3Client
    sts: STSClient
    ecr: ECRClient
    ssm: SSMClient
    secretsmanager: SecretsManagerClient
    acm: ACMClient
    rds: RDSClient
    elasticache: ElastiCacheClient
    ec2: EC2Client
    service_quotas: ServiceQuotasClient
    iam: IAMClient
    ecs: ECSClient  # the day-two commands: status, run, logs
    logs: CloudWatchLogsClient
    cloudwatch: CloudWatchClient
    application_autoscaling: ApplicationAutoScalingClient
    region: str


def error_code(error: ClientError) -> str:
    """The AWS error code of a ClientError ('' when AWS sent none)."""
    return str(error.response.get("Error", {}).get("Code", ""))


def error_message(error: ClientError) -> str:
    """The AWS error message of a ClientError, on one line."""
    return " ".join(str(error.response.get("Error", {}).get("Message", "")).split())


def translate(error: Exception, doing: str) -> DeployError:
    """One line a user can act on, chosen by the error's kind or code, never a traceback."""
    if isinstance(error, ClientError):
        return DeployError(f"{doing}: {answer_text(error)}")
    return DeployError(f"{doing}: {local_text(error)}")


def answer_text(error: ClientError) -> str:
    """What AWS answered, by its error code."""
    code = error_code(error)
    message = error_message(error)
    if code in EXPIRED_CODES:
        return f"AWS credentials have expired (log in again): {message}"
    if code in DENIED_CODES:
        return f"access denied: {message}"
    if code in INVALID_KEY_CODES:
        return f"AWS rejected the credentials ({code}): {message}"
    if code in THROTTLE_CODES:  # what is left after the clients' own retries gave up
        return "AWS kept throttling requests; try again in a minute"
    return f"AWS error {code}: {message}"


def local_text(error: Exception) -> str:
    """What went wrong before AWS could answer: credentials, profile, region, network."""
    if isinstance(error, NoCredentialsError | PartialCredentialsError):
        return (
            "no AWS credentials found "
            "(set AWS_PROFILE or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, or run `aws sso login`)"
        )
    if isinstance(error, TokenRetrievalError):
        return "AWS SSO session expired (run `aws sso login` again)"
    if isinstance(error, ProfileNotFound):
        return f"{error} (check AWS_PROFILE or the environment file)"
    if isinstance(error, NoRegionError):
        return "no AWS region (set it in the environment file)"
    if isinstance(error, EndpointConnectionError):
        return f"cannot reach AWS: {error} (check AWS_ENDPOINT_URL)"
    if isinstance(error, ResponseParserError):
        first = str(error).splitlines()[0] if str(error) else "unreadable response"
        return f"the AWS endpoint sent an unreadable response ({first})"
    return str(error)


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


def assume_role(sts: STSClient, role_arn: str, region: str) -> boto3.Session:
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
    region, config = target.region, RETRY_CONFIG
    if target.role_arn:
        sts = session.client("sts", region_name=region, config=config)
        session = assume_role(sts, target.role_arn, region)
    return Clients(
        cloudformation=session.client("cloudformation", region_name=region, config=config),
        s3=session.client("s3", region_name=region, config=config),
        sts=session.client("sts", region_name=region, config=config),
        ecr=session.client("ecr", region_name=region, config=config),
        ssm=session.client("ssm", region_name=region, config=config),
        secretsmanager=session.client("secretsmanager", region_name=region, config=config),
        acm=session.client("acm", region_name=region, config=config),
        rds=session.client("rds", region_name=region, config=config),
        elasticache=session.client("elasticache", region_name=region, config=config),
        ec2=session.client("ec2", region_name=region, config=config),
        service_quotas=session.client("service-quotas", region_name=region, config=config),
        iam=session.client("iam", region_name=region, config=config),
        ecs=session.client("ecs", region_name=region, config=config),
        logs=session.client("logs", region_name=region, config=config),
        cloudwatch=session.client("cloudwatch", region_name=region, config=config),
        application_autoscaling=session.client(
            "application-autoscaling", region_name=region, config=config
        ),
        region=region,
    )


def caller_account(sts: STSClient) -> str:
    """The account the credentials belong to."""
    with aws_errors("checking the AWS account (sts get-caller-identity)"):
        return str(sts.get_caller_identity()["Account"])


def check_account(actual: str, expected: str) -> str:
    """Refuse unless the caller's credentials belong to the environment's account. On a local
    endpoint the account is the server's MOTO_ACCOUNT_ID, so that is the fix to name."""
    if actual != expected:
        endpoint = os.environ.get("AWS_ENDPOINT_URL", "")
        fix = (
            f"restart the local endpoint as that account: MOTO_ACCOUNT_ID={expected} make local-aws"
            if urlparse(endpoint).hostname in LOCAL_HOSTS
            else "switch AWS_PROFILE or fix `account` in the environment file"
        )
        raise DeployError(
            f"wrong AWS account: credentials are for {actual}, the environment deploys to "
            f"{expected} ({fix})"
        )
    return actual
