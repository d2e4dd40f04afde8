"""The real gateway on real botocore clients that a Stubber answers: the tests that prove
factorstack reads AWS's response shapes right (Stubber checks every response and request
against botocore's service model).

Every client is stubbed, so a call no test expected fails at once instead of reaching AWS.
"""

from __future__ import annotations

from typing import Any

from botocore.stub import Stubber

from factorstack.deploy.aws.gateway import Gateway
from factorstack.deploy.aws.session import Clients
from tests.support.aws_answers import REGION, client

SERVICES = {  # Clients field → botocore service name
    "cloudformation": "cloudformation",
    "s3": "s3",
    "sts": "sts",
    "ecr": "ecr",
    "ssm": "ssm",
    "secretsmanager": "secretsmanager",
    "acm": "acm",
    "rds": "rds",
    "elasticache": "elasticache",
    "ec2": "ec2",
    "service_quotas": "service-quotas",
    "iam": "iam",
    "ecs": "ecs",
    "logs": "logs",
    "cloudwatch": "cloudwatch",
    "application_autoscaling": "application-autoscaling",
}


class Stubs:
    """One stubbed client per service; `with Stubs() as stubs:` activates them all.

    `stubs.cfn_stub.add_response(...)` scripts CloudFormation, and likewise `s3_stub`,
    `sts_stub`, `ecr_stub`, `ssm_stub`, `secretsmanager_stub`, `acm_stub`, `rds_stub`,
    `elasticache_stub`, `ec2_stub`, `quotas_stub`, `iam_stub`, and for the day-two commands
    `ecs_stub`, `logs_stub`, `cloudwatch_stub`, `application_autoscaling_stub`.
    """

    def __init__(self, region: str = REGION, **given: Any) -> None:
        self.region = region
        made = {field: given.get(field) or client(service) for field, service in SERVICES.items()}
        self.clients = Clients(region=region, **made)
        self.stubbers = {field: Stubber(c) for field, c in made.items()}
        self.cfn = self.clients.cloudformation
        self.cfn_stub = self.stubbers["cloudformation"]
        self.quotas_stub = self.stubbers["service_quotas"]
        for field in SERVICES:
            if field not in {"cloudformation", "service_quotas"}:
                setattr(self, f"{field}_stub", self.stubbers[field])

    def gateway(self, _target: object = None) -> Gateway:
        """The gateway on these clients (usable as a Context's `gateway_for`)."""
        return Gateway(self.clients)

    def __enter__(self) -> Stubs:
        for stub in self.stubbers.values():
            stub.activate()
        return self

    def __exit__(self, *exc: object) -> None:
        for stub in self.stubbers.values():
            stub.deactivate()

    def verify(self) -> None:
        """Every scripted response was asked for."""
        for stub in self.stubbers.values():
            stub.assert_no_pending_responses()


def stubbed(service: str) -> tuple[Gateway, Stubber]:
    """A gateway whose every client is stubbed, and the Stubber of `service` (a Clients field),
    both inactive: `with stub:` activates that one (the others have no responses anyway)."""
    stubs = Stubs()
    for field, stub in stubs.stubbers.items():
        if field != service:
            stub.activate()
    return stubs.gateway(), stubs.stubbers[service]
