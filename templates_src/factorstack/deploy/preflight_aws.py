"""The account preflight's AWS calls, each returning plain data.

An answer that means "missing" or "not readable" is data for preflight_rules; any other failure
is a real AWS failure and becomes one line through `translate` (exit 1). A secret's value is read
only inside `secret_keys`, reduced to its key names there, and never logged or kept.
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from factorstack.deploy.preflight_rules import (
    QuotaRead,
    QuotaSpec,
    SecretKeys,
    SecretStatus,
    keys_of,
)
from factorstack.deploy.session import DENIED_CODES, aws_errors, error_code, translate

GET_PARAMETERS_MAX = 10  # names per GetParameters call
SECRET_NOT_FOUND = "ResourceNotFoundException"
# The caller may not read (or decrypt) the value: the keys go unchecked, with a warning.
SECRET_UNREADABLE = DENIED_CODES | {"DecryptionFailure"}
CERTIFICATE_NOT_FOUND = frozenset({"ResourceNotFoundException", "InvalidArnException"})


def invalid_parameters(ssm: Any, arns: list[str]) -> set[str]:
    """The ARNs GetParameters lists as InvalidParameters (they do not exist)."""
    invalid: set[str] = set()
    for start in range(0, len(arns), GET_PARAMETERS_MAX):
        chunk = arns[start : start + GET_PARAMETERS_MAX]
        with aws_errors("checking SSM parameters (ssm get-parameters)"):
            invalid.update(ssm.get_parameters(Names=chunk).get("InvalidParameters") or [])
    return invalid


def secret_status(secretsmanager: Any, name: str) -> SecretStatus:
    """Whether the secret exists (DescribeSecret: metadata only, never the value)."""
    try:
        described = secretsmanager.describe_secret(SecretId=name)
    except ClientError as error:
        if error_code(error) == SECRET_NOT_FOUND:
            return SecretStatus(exists=False)
        raise translate(error, f"checking secret {name}") from None
    return SecretStatus(exists=True, scheduled_for_deletion="DeletedDate" in described)


def secret_keys(secretsmanager: Any, name: str) -> SecretKeys:
    """The key names of the secret's current JSON value; the value itself goes no further."""
    try:
        return keys_of(secretsmanager.get_secret_value(SecretId=name))
    except ClientError as error:
        code = error_code(error)
        if code in SECRET_UNREADABLE:
            return SecretKeys(shape="unreadable", unreadable_code=code)
        raise translate(error, f"reading the keys of secret {name}") from None


def certificate(acm: Any, arn: str) -> dict[str, Any] | None:
    """DescribeCertificate's Certificate, or None when there is no such certificate."""
    try:
        return dict(acm.describe_certificate(CertificateArn=arn)["Certificate"])
    except ClientError as error:
        if error_code(error) in CERTIFICATE_NOT_FOUND:
            return None
        raise translate(error, f"checking certificate {arn}") from None


def offered_db_versions(rds: Any, engine: str) -> list[str]:
    """Every available RDS version of the engine in the client's region."""
    with aws_errors(f"listing RDS {engine} versions (rds describe-db-engine-versions)"):
        pages = rds.get_paginator("describe_db_engine_versions").paginate(Engine=engine)
        return [v["EngineVersion"] for page in pages for v in page.get("DBEngineVersions", [])]


def offered_cache_versions(elasticache: Any, engine: str) -> list[str]:
    """Every ElastiCache version of the engine in the client's region."""
    doing = f"listing ElastiCache {engine} versions (elasticache describe-cache-engine-versions)"
    with aws_errors(doing):
        pages = elasticache.get_paginator("describe_cache_engine_versions").paginate(Engine=engine)
        return [v["EngineVersion"] for page in pages for v in page.get("CacheEngineVersions", [])]


def quota(service_quotas: Any, spec: QuotaSpec) -> QuotaRead:
    """The applied quota, or the error code that kept it from being read."""
    try:
        value = service_quotas.get_service_quota(
            ServiceCode=spec.service_code, QuotaCode=spec.quota_code
        )["Quota"].get("Value")
    except ClientError as error:
        return QuotaRead(error_code=error_code(error) or "error")
    return QuotaRead(value=None if value is None else float(value))


def vpc_count(ec2: Any) -> int:
    """VPCs in the client's region (the default VPC counts against the quota too)."""
    with aws_errors("counting VPCs (ec2 describe-vpcs)"):
        pages = ec2.get_paginator("describe_vpcs").paginate()
        return sum(len(page.get("Vpcs", [])) for page in pages)


def address_count(ec2: Any) -> int:
    """Elastic IP addresses allocated in the client's region."""
    with aws_errors("counting Elastic IPs (ec2 describe-addresses)"):
        return len(ec2.describe_addresses().get("Addresses", []))
