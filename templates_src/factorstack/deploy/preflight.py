"""The account preflight: before anything is uploaded, refuse (exit 2) a build the account cannot
run, listing every problem at once.

Real AWS fails these only late: a missing SSM parameter or secret key makes every task fail
until the circuit breaker rolls the deploy back; a pending certificate, an engine version the
region does not offer or a full VPC / Elastic IP quota fails the create after many minutes.
What to check comes from the built templates (decide/preflight_needs.py), the answers from the
gateway (aws/account.py), the verdicts from decide/preflight_rules.py.
"""

from __future__ import annotations

from collections.abc import Callable

from factorstack.build.manifest import Build
from factorstack.build.resolve import resolve_set
from factorstack.deploy.aws.gateway import Gateway
from factorstack.deploy.decide.preflight_needs import Needs, needs_of
from factorstack.deploy.decide.preflight_rules import (
    ELASTIC_IP_QUOTA,
    VPC_QUOTA,
    ZONES_EVERY_REGION_OFFERS,
    QuotaSpec,
    certificate_place_problem,
    certificate_problems,
    engine_problem,
    parameter_problems,
    quota_limit,
    quota_problem,
    secret_key_findings,
    secret_status_problem,
    zone_problem,
)
from factorstack.deploy.package import read_template
from factorstack.errors import NotReady

Warn = Callable[[str], None]


def build_needs(build: Build) -> Needs:
    """What the build's templates need from the account, each child read with the values this
    environment's root passes it (a certificate or an Elastic IP may exist in some
    environments only)."""
    templates = {name: read_template(build.folder / name) for name in build.templates}
    return needs_of(resolve_set(templates), build.target)


def parameter_lines(aws: Gateway, needs: Needs, region: str) -> list[str]:
    if not needs.parameters:
        return []
    invalid = aws.invalid_parameters(list(needs.parameters))
    return parameter_problems(needs.parameters, invalid, region)


def secret_lines(aws: Gateway, needs: Needs, region: str, warn: Warn) -> list[str]:
    problems: list[str] = []
    for name, keys in needs.secrets.items():
        missing = secret_status_problem(name, keys, aws.secret_status(name), region)
        if missing:
            problems.append(missing)
            continue
        if not keys:  # the whole secret is injected: existing is enough
            continue
        found, warnings = secret_key_findings(name, keys, aws.secret_keys(name))
        problems += found
        for line in warnings:
            warn(line)
    return problems


def certificate_lines(aws: Gateway, needs: Needs, build: Build) -> list[str]:
    env_file = f"environments/{build.environment}.yaml"
    problems: list[str] = []
    for arn in needs.certificates:
        misplaced = certificate_place_problem(
            arn, build.target.region, build.target.account, env_file
        )
        if misplaced:
            problems.append(misplaced)
            continue
        problems += certificate_problems(arn, aws.certificate(arn), needs.domain, env_file)
    return problems


def engine_lines(aws: Gateway, needs: Needs, region: str) -> list[str]:
    offered: dict[tuple[str, str], list[str]] = {}
    problems: list[str] = []
    for use in needs.engines:
        key = (use.service, use.engine)
        if key not in offered:
            offered[key] = (
                aws.offered_db_versions(use.engine)
                if use.service == "rds"
                else aws.offered_cache_versions(use.engine)
            )
        problem = engine_problem(use, offered[key], region)
        if problem:
            problems.append(problem)
    return problems


def quota_lines(aws: Gateway, needs: Needs, region: str, warn: Warn) -> list[str]:
    """Only for a new environment: an existing one already holds its VPC and addresses."""
    checks: list[tuple[QuotaSpec, int, Callable[[], int], str]] = [
        (VPC_QUOTA, needs.new_vpcs, aws.vpc_count, "for this environment"),
        (
            ELASTIC_IP_QUOTA,
            needs.new_addresses,
            aws.address_count,
            "for this environment's NAT gateways",
        ),
    ]
    problems: list[str] = []
    for spec, adding, count, purpose in checks:
        if adding == 0:
            continue
        limit, warning = quota_limit(spec, aws.quota(spec))
        if warning:
            warn(warning)
        problem = quota_problem(spec, limit, count(), adding, region, purpose)
        if problem:
            problems.append(problem)
    return problems


def zone_lines(aws: Gateway, needs: Needs, build: Build) -> list[str]:
    """Only when the network takes more zones than every region offers (a third)."""
    if needs.zones <= ZONES_EVERY_REGION_OFFERS:
        return []
    env_file = f"environments/{build.environment}.yaml"
    problem = zone_problem(needs.zones, aws.available_zones(), build.target.region, env_file)
    return [problem] if problem else []


def account_preflight(aws: Gateway, build: Build, new_stack: bool, warn: Warn) -> None:
    """Refuse (exit 2, one line per problem) when the account lacks what the build needs."""
    needs = build_needs(build)
    region = build.target.region
    problems = [
        *parameter_lines(aws, needs, region),
        *secret_lines(aws, needs, region, warn),
        *certificate_lines(aws, needs, build),
        *engine_lines(aws, needs, region),
        *zone_lines(aws, needs, build),
        *(quota_lines(aws, needs, region, warn) if new_stack else []),
    ]
    if problems:
        raise NotReady(*problems)
