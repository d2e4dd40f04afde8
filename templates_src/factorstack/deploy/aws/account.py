"""The account preflight's lookups: SSM parameters, secrets, certificates, engine versions,
quotas and what the region already holds.

An answer that means "missing" or "not readable" is data for decide/preflight_rules.py; any
other failure is a real AWS failure and becomes one line (exit 1). A secret's value is read only
inside `secret_keys`, reduced to its key names there, and never logged or kept.
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from factorstack.deploy.aws.session import DENIED_CODES, Clients, aws_errors, error_code
from factorstack.deploy.decide.preflight_rules import (
    QuotaRead,
    QuotaSpec,
    SecretKeys,
    SecretStatus,
    keys_of,
)

GET_PARAMETERS_MAX = 10  # names per GetParameters call
SECRET_NOT_FOUND = "ResourceNotFoundException"
# The caller may not read (or decrypt) the value: the keys go unchecked, with a warning.
SECRET_UNREADABLE = DENIED_CODES | {"DecryptionFailure"}
CERTIFICATE_NOT_FOUND = frozenset({"ResourceNotFoundException", "InvalidArnException"})


class AccountCalls:
    """The gateway's calls for the account preflight."""

    clients: Clients

    def invalid_parameters(self, arns: list[str]) -> set[str]:
        """The ARNs GetParameters lists as InvalidParameters (they do not exist)."""
        invalid: set[str] = set()
        for start in range(0, len(arns), GET_PARAMETERS_MAX):
            chunk = arns[start : start + GET_PARAMETERS_MAX]
            with aws_errors("checking SSM parameters (ssm get-parameters)"):
                answer = self.clients.ssm.get_parameters(Names=chunk)
            invalid.update(answer.get("InvalidParameters") or [])
        return invalid

    def public_parameter(self, name: str) -> str:
        """The current value of an SSM parameter, such as AWS's public one naming the newest
        Amazon Linux image (deploy pins it as a root parameter)."""
        with aws_errors(f"reading SSM parameter {name} (ssm get-parameter)"):
            answer = self.clients.ssm.get_parameter(Name=name)
        return str(answer["Parameter"]["Value"])

    def secret_status(self, name: str) -> SecretStatus:
        """Whether the secret exists (DescribeSecret: metadata only, never the value)."""
        with aws_errors(f"checking secret {name}"):
            try:
                described = self.clients.secretsmanager.describe_secret(SecretId=name)
            except ClientError as error:
                if error_code(error) == SECRET_NOT_FOUND:
                    return SecretStatus(exists=False)
                raise
        return SecretStatus(
            exists=True,
            scheduled_for_deletion="DeletedDate" in described,
            kms_key=described.get("KmsKeyId"),
        )

    def secret_keys(self, name: str) -> SecretKeys:
        """The key names of the secret's current JSON value; the value itself goes no further."""
        with aws_errors(f"reading the keys of secret {name}"):
            try:
                value: Any = self.clients.secretsmanager.get_secret_value(SecretId=name)
            except ClientError as error:
                code = error_code(error)
                if code in SECRET_UNREADABLE:
                    return SecretKeys(shape="unreadable", unreadable_code=code)
                raise
        return keys_of(value)

    def certificate(self, arn: str) -> dict[str, Any] | None:
        """DescribeCertificate's Certificate, or None when there is no such certificate."""
        with aws_errors(f"checking certificate {arn}"):
            try:
                found = self.clients.acm.describe_certificate(CertificateArn=arn)
            except ClientError as error:
                if error_code(error) in CERTIFICATE_NOT_FOUND:
                    return None
                raise
        return dict(found["Certificate"])

    def offered_db_versions(self, engine: str) -> list[str]:
        """Every available RDS version of the engine in the client's region."""
        with aws_errors(f"listing RDS {engine} versions (rds describe-db-engine-versions)"):
            pages = self.clients.rds.get_paginator("describe_db_engine_versions")
            return [
                v.get("EngineVersion", "")
                for page in pages.paginate(Engine=engine)
                for v in page.get("DBEngineVersions", [])
            ]

    def offered_cache_versions(self, engine: str) -> list[str]:
        """Every ElastiCache version of the engine in the client's region."""
        doing = (
            f"listing ElastiCache {engine} versions (elasticache describe-cache-engine-versions)"
        )
        with aws_errors(doing):
            pages = self.clients.elasticache.get_paginator("describe_cache_engine_versions")
            return [
                v.get("EngineVersion", "")
                for page in pages.paginate(Engine=engine)
                for v in page.get("CacheEngineVersions", [])
            ]

    def quota(self, spec: QuotaSpec) -> QuotaRead:
        """The applied quota, or the error code that kept it from being read."""
        with aws_errors(f"reading the quota {spec.name} (service-quotas get-service-quota)"):
            try:
                value = self.clients.service_quotas.get_service_quota(
                    ServiceCode=spec.service_code, QuotaCode=spec.quota_code
                )["Quota"].get("Value")
            except ClientError as error:
                return QuotaRead(error_code=error_code(error) or "error")
        return QuotaRead(value=None if value is None else float(value))

    def vpc_count(self) -> int:
        """VPCs in the client's region (the default VPC counts against the quota too)."""
        with aws_errors("counting VPCs (ec2 describe-vpcs)"):
            pages = self.clients.ec2.get_paginator("describe_vpcs").paginate()
            return sum(len(page.get("Vpcs", [])) for page in pages)

    def available_zones(self) -> list[str]:
        """The availability zones (not Local or Wavelength Zones) open to this account."""
        with aws_errors("listing availability zones (ec2 describe-availability-zones)"):
            answer = self.clients.ec2.describe_availability_zones(
                Filters=[
                    {"Name": "state", "Values": ["available"]},
                    {"Name": "zone-type", "Values": ["availability-zone"]},
                ]
            )
            return [zone["ZoneName"] for zone in answer.get("AvailabilityZones", [])]

    def address_count(self) -> int:
        """Elastic IP addresses allocated in the client's region."""
        with aws_errors("counting Elastic IPs (ec2 describe-addresses)"):
            return len(self.clients.ec2.describe_addresses().get("Addresses", []))
