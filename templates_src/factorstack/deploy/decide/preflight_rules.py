"""What the account preflight's answers mean: pure functions from AWS-shaped data to lines.

Each problem is one line naming the thing and the fix; warnings say what could not be checked.
A secret's value never reaches this module: `keys_of` reduces it to its key names at once.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from factorstack.deploy.decide.preflight_needs import EngineUse

ISSUED = "ISSUED"
NEWEST_SHOWN = 5  # offered versions listed when a version is not offered


# The key a secret has unless its owner chose another (DescribeSecret then names no KmsKeyId).
MANAGED_SECRETS_KEY = "alias/aws/secretsmanager"


@dataclass(frozen=True)
class SecretStatus:
    """Whether a secret exists, from DescribeSecret (which never returns its value)."""

    exists: bool
    scheduled_for_deletion: bool = False
    # DescribeSecret's KmsKeyId: absent when Secrets Manager's own key (aws/secretsmanager)
    # encrypts the value, which is the only key the tasks' execution role may decrypt with.
    kms_key: str | None = None


@dataclass(frozen=True)
class SecretKeys:
    """What a secret's current value says about keys, never the value itself."""

    keys: frozenset[str] = frozenset()
    shape: str = "json"  # "json" (an object), "not-json", "binary" or "unreadable"
    unreadable_code: str = ""  # the AWS error code when the value could not be read


@dataclass(frozen=True)
class QuotaSpec:
    """A Service Quotas quota and the default AWS applies when none was raised."""

    service_code: str
    quota_code: str
    name: str
    default: int


@dataclass(frozen=True)
class QuotaRead:
    """A quota's value, or the error code that kept it from being read."""

    value: float | None = None
    error_code: str = ""


VPC_QUOTA = QuotaSpec("vpc", "L-F678F1CE", "VPCs per Region", 5)
ELASTIC_IP_QUOTA = QuotaSpec("ec2", "L-0263D0A3", "EC2-VPC Elastic IPs", 5)


def keys_of(response: dict[str, Any]) -> SecretKeys:
    """The top-level keys of a GetSecretValue response's JSON object (what ECS's `:KEY::` reads)."""
    if "SecretString" not in response:
        return SecretKeys(shape="binary")
    try:
        data = json.loads(response["SecretString"])
    except ValueError:
        return SecretKeys(shape="not-json")
    if not isinstance(data, dict):
        return SecretKeys(shape="not-json")
    return SecretKeys(keys=frozenset(str(key) for key in data))


def joined(names: frozenset[str] | set[str] | list[str]) -> str:
    return ", ".join(sorted(names))


def parameter_problems(parameters: dict[str, str], invalid: set[str], region: str) -> list[str]:
    """One line per parameter (ARN → name) that GetParameters reported as invalid."""
    return [
        f"SSM parameter {name} does not exist in {region} (create it, e.g. `aws ssm put-parameter"
        f" --region {region} --name {name} --type SecureString --value ...`)"
        for arn, name in parameters.items()
        if arn in invalid
    ]


def secret_status_problem(
    name: str, keys: frozenset[str], status: SecretStatus, region: str
) -> str | None:
    """The problem with a secret's existence, or None when it is there."""
    if not status.exists:
        content = f" holding the JSON keys {joined(keys)}" if keys else ""
        return (
            f"secret {name} does not exist in Secrets Manager in {region} "
            f"(create it{content}, e.g. `aws secretsmanager create-secret --region {region} "
            f"--name {name} --secret-string ...`)"
        )
    if status.scheduled_for_deletion:
        return (
            f"secret {name} is scheduled for deletion (restore it with "
            f"`aws secretsmanager restore-secret --region {region} --secret-id {name}`)"
        )
    if status.kms_key and not status.kms_key.endswith(MANAGED_SECRETS_KEY):
        return (
            f"secret {name} is encrypted with the KMS key {status.kms_key}, which the tasks' "
            "execution role may not decrypt with, so ECS would start no task (encrypt it with "
            f"Secrets Manager's own key: `aws secretsmanager update-secret --region {region} "
            f"--secret-id {name} --kms-key-id {MANAGED_SECRETS_KEY}`)"
        )
    return None


def secret_key_findings(
    name: str, wanted: frozenset[str], found: SecretKeys
) -> tuple[list[str], list[str]]:
    """(problems, warnings) about the JSON keys the tasks read from one secret."""
    if not wanted:
        return [], []
    if found.shape == "unreadable":
        return [], [
            f"warning: secret {name}: could not check its keys {joined(wanted)} (these "
            f"credentials may not read its value: {found.unreadable_code}); ECS starts no task "
            "if one is missing"
        ]
    if found.shape == "binary":
        return [
            f"secret {name} holds a binary value, so ECS cannot read its keys {joined(wanted)} "
            '(store a JSON SecretString such as {"KEY": "value"})'
        ], []
    if found.shape == "not-json":
        return [
            f"secret {name} is not a JSON object, so ECS cannot read its keys {joined(wanted)} "
            '(store it as {"KEY": "value", ...})'
        ], []
    missing = wanted - found.keys
    if not missing:
        return [], []
    noun, them = ("key", "it") if len(missing) == 1 else ("keys", "them")
    return [
        f"secret {name} has no {noun} {joined(missing)} (add {them} to the secret's JSON, "
        "or fix `key:` in app.yaml)"
    ], []


def arn_parts(arn: str) -> tuple[str, str, str] | None:
    """(service, region, account) of an ARN, or None when it is not one."""
    parts = arn.split(":", 5)
    if len(parts) != 6 or parts[0] != "arn":
        return None
    return parts[2], parts[3], parts[4]


def certificate_place_problem(arn: str, region: str, account: str, env_file: str) -> str | None:
    """A certificate the load balancer cannot use wherever it is: wrong ARN, region or account."""
    parts = arn_parts(arn)
    if parts is None or parts[0] != "acm" or ":certificate/" not in arn:
        return (
            f"certificate {arn} is not an ACM certificate ARN (fix certificate_arn in {env_file})"
        )
    if parts[1] != region:
        return (
            f"certificate {arn} is in {parts[1]}, not in {region} where the load balancer is "
            f"(request or import one in {region} and set certificate_arn in {env_file})"
        )
    if parts[2] != account:
        return (
            f"certificate {arn} belongs to account {parts[2]}, not {account} "
            f"(ACM certificates are not shared; use one of {account} in {env_file})"
        )
    return None


def covers(names: list[str], domain: str) -> bool:
    """True when one of a certificate's names matches the domain (a wildcard: one label)."""
    domain = domain.lower().rstrip(".")
    for name in (n.lower().rstrip(".") for n in names):
        if name == domain:
            return True
        if name.startswith("*.") and "." in domain and domain.split(".", 1)[1] == name[2:]:
            return True
    return False


def certificate_problems(
    arn: str, certificate: dict[str, Any] | None, domain: str | None, env_file: str
) -> list[str]:
    """Problems with a certificate DescribeCertificate returned (None: it does not exist)."""
    if certificate is None:
        return [f"certificate {arn} does not exist in ACM (check certificate_arn in {env_file})"]
    status = str(certificate.get("Status", "UNKNOWN"))
    if status != ISSUED:
        return [
            f"certificate {arn} is {status}, not {ISSUED} (the load balancer needs an issued "
            f"certificate: complete its validation in ACM, or set another in {env_file})"
        ]
    names = [str(certificate.get("DomainName", ""))]
    names += [str(n) for n in certificate.get("SubjectAlternativeNames") or []]
    if domain and not covers(names, domain):
        shown = joined({n for n in names if n})
        return [
            f"certificate {arn} does not cover {domain} (it covers {shown}; request one that "
            f"does, or change domain_name in {env_file})"
        ]
    return []


def version_key(version: str) -> tuple[tuple[int, str], ...]:
    """Sort key for versions such as 8.0.43 or 7.1 (numbers as numbers)."""
    return tuple((int(p), "") if p.isdigit() else (-1, p) for p in version.split("."))


def offers(offered: list[str], version: str) -> bool:
    """A version is offered when listed as it is, or as a prefix ("8.4" of "8.4.7")."""
    return any(v == version or v.startswith(version + ".") for v in offered)


def engine_problem(use: EngineUse, offered: list[str], region: str) -> str | None:
    """The problem when the region does not offer the engine version a template asks for."""
    if offers(offered, use.version):
        return None
    service = "RDS" if use.service == "rds" else "ElastiCache"
    newest = sorted(set(offered), key=version_key)[-NEWEST_SHOWN:]
    choice = (
        f"newest offered: {', '.join(newest)}"
        if newest
        else f"{service} offers no {use.engine} version there"
    )
    return (
        f"{use.logical_id}: {service} does not offer {use.engine} {use.version} in {region} "
        f"({choice}; change the engine version in app.yaml)"
    )


def number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


def quota_limit(spec: QuotaSpec, read: QuotaRead) -> tuple[float, str | None]:
    """The quota to compare with, and a warning when AWS's default had to stand in."""
    if read.value is not None:
        return read.value, None
    return float(spec.default), (
        f"warning: could not read the quota {spec.name} ({spec.service_code} {spec.quota_code}) "
        f"from Service Quotas ({read.error_code or 'no value'}); assuming AWS's default of "
        f"{spec.default}"
    )


def quota_problem(
    spec: QuotaSpec, limit: float, in_use: int, adding: int, region: str, purpose: str
) -> str | None:
    """The problem when what exists plus what this environment adds exceeds the quota."""
    if adding == 0 or in_use + adding <= limit:
        return None
    needed = in_use + adding
    return (
        f"quota {spec.name} ({spec.service_code} {spec.quota_code}) in {region}: {in_use} in use "
        f"+ {adding} {purpose} = {needed} > {number(limit)} (raise it to {needed} in the Service "
        f"Quotas console or with `aws service-quotas request-service-quota-increase --region "
        f"{region} --service-code {spec.service_code} --quota-code {spec.quota_code} "
        f"--desired-value {needed}`)"
    )


# Every region offers an account at least two zones; some offer only two (us-west-1 to most
# accounts), where a third subnet's `Fn::Select [2, Fn::GetAZs]` fails the network stack late.
ZONES_EVERY_REGION_OFFERS = 2


def zone_problem(needed: int, offered: list[str], region: str, env_file: str) -> str | None:
    """The network asks for more availability zones than the region offers this account."""
    if needed <= len(offered):
        return None
    names = ", ".join(sorted(offered)) or "none"
    return (
        f"{env_file}: network.availability_zones: {needed} zones, but {region} offers this "
        f"account {len(offered)} ({names}) (set availability_zones: {len(offered)}, or choose "
        "another region)"
    )
