"""The account preflight: before anything is uploaded, refuse (exit 2) a build the account cannot
run, listing every problem at once.

Real AWS fails these only late: a missing SSM parameter or secret key makes every task fail
until the circuit breaker rolls the deploy back; a pending certificate, an engine version the
region does not offer or a full VPC / Elastic IP quota fails the create after many minutes.
What to check comes from the built templates (preflight_needs), the calls from preflight_aws,
the verdicts from preflight_rules.
"""

from __future__ import annotations

from collections.abc import Callable

from factorstack.build.manifest import Build
from factorstack.deploy import preflight_aws as aws
from factorstack.deploy.package import read_template
from factorstack.deploy.preflight_needs import Needs, needs_of
from factorstack.deploy.preflight_rules import (
    ELASTIC_IP_QUOTA,
    VPC_QUOTA,
    QuotaSpec,
    certificate_place_problem,
    certificate_problems,
    engine_problem,
    parameter_problems,
    quota_limit,
    quota_problem,
    secret_key_findings,
    secret_status_problem,
)
from factorstack.deploy.session import Clients
from factorstack.errors import NotReady

Warn = Callable[[str], None]


def build_needs(build: Build) -> Needs:
    """What the build's templates need from the account."""
    templates = {name: read_template(build.folder / name) for name in build.templates}
    return needs_of(templates, build.target)


def parameter_lines(clients: Clients, needs: Needs, region: str) -> list[str]:
    if not needs.parameters:
        return []
    invalid = aws.invalid_parameters(clients.ssm, list(needs.parameters))
    return parameter_problems(needs.parameters, invalid, region)


def secret_lines(clients: Clients, needs: Needs, region: str, warn: Warn) -> list[str]:
    problems: list[str] = []
    for name, keys in needs.secrets.items():
        missing = secret_status_problem(
            name, keys, aws.secret_status(clients.secretsmanager, name), region
        )
        if missing:
            problems.append(missing)
            continue
        if not keys:  # the whole secret is injected: existing is enough
            continue
        found, warnings = secret_key_findings(
            name, keys, aws.secret_keys(clients.secretsmanager, name)
        )
        problems += found
        for line in warnings:
            warn(line)
    return problems


def certificate_lines(clients: Clients, needs: Needs, build: Build) -> list[str]:
    env_file = f"environments/{build.environment}.yaml"
    problems: list[str] = []
    for arn in needs.certificates:
        misplaced = certificate_place_problem(
            arn, build.target.region, build.target.account, env_file
        )
        if misplaced:
            problems.append(misplaced)
            continue
        problems += certificate_problems(
            arn, aws.certificate(clients.acm, arn), needs.domain, env_file
        )
    return problems


def engine_lines(clients: Clients, needs: Needs, region: str) -> list[str]:
    offered: dict[tuple[str, str], list[str]] = {}
    problems: list[str] = []
    for use in needs.engines:
        key = (use.service, use.engine)
        if key not in offered:
            offered[key] = (
                aws.offered_db_versions(clients.rds, use.engine)
                if use.service == "rds"
                else aws.offered_cache_versions(clients.elasticache, use.engine)
            )
        problem = engine_problem(use, offered[key], region)
        if problem:
            problems.append(problem)
    return problems


def quota_lines(clients: Clients, needs: Needs, region: str, warn: Warn) -> list[str]:
    """Only for a new environment: an existing one already holds its VPC and addresses."""
    checks: list[tuple[QuotaSpec, int, Callable[[], int], str]] = [
        (VPC_QUOTA, needs.new_vpcs, lambda: aws.vpc_count(clients.ec2), "for this environment"),
        (
            ELASTIC_IP_QUOTA,
            needs.new_addresses,
            lambda: aws.address_count(clients.ec2),
            "for this environment's NAT gateways",
        ),
    ]
    problems: list[str] = []
    for spec, adding, count, purpose in checks:
        if adding == 0:
            continue
        limit, warning = quota_limit(spec, aws.quota(clients.service_quotas, spec))
        if warning:
            warn(warning)
        problem = quota_problem(spec, limit, count(), adding, region, purpose)
        if problem:
            problems.append(problem)
    return problems


def account_preflight(clients: Clients, build: Build, new_stack: bool, warn: Warn) -> None:
    """Refuse (exit 2, one line per problem) when the account lacks what the build needs."""
    needs = build_needs(build)
    region = build.target.region
    problems = [
        *parameter_lines(clients, needs, region),
        *secret_lines(clients, needs, region, warn),
        *certificate_lines(clients, needs, build),
        *engine_lines(clients, needs, region),
        *(quota_lines(clients, needs, region, warn) if new_stack else []),
    ]
    if problems:
        raise NotReady(*problems)
