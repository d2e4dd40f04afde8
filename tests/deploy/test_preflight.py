"""The account preflight against AWS-shaped responses: exact lines, exit 2, warnings that go on,
quotas only for a new environment, and never a secret's value in any output."""

from __future__ import annotations

import copy
import json
import logging
from pathlib import Path
from typing import Any

import pytest
from botocore.stub import Stubber

from factorstack.build.manifest import AwsTarget, Build
from factorstack.deploy.decide.preflight_needs import EngineUse, needs_of
from factorstack.deploy.decide.preflight_rules import (
    SecretKeys,
    SecretStatus,
    covers,
    keys_of,
    offers,
    secret_key_findings,
    secret_status_problem,
)
from factorstack.deploy.preflight import account_preflight
from factorstack.errors import DeployError, NotReady
from tests.support import deploying
from tests.support.aws_answers import (
    ACCOUNT,
    REGION,
    addresses,
    cache_engine_versions,
    certificate,
    certificate_arn,
    client_error,
    db_engine_versions,
    describe_secret,
    get_parameters,
    secret_value,
    service_quota,
    ssm_arn,
    vpcs,
)
from tests.support.stubbed_aws import Stubs

# A value that must never leave the preflight: asserted absent from every output.
SECRET_VALUE = "sk_live_51DoNotPrintThis"
STRIPE_JSON = json.dumps({"STRIPE_KEY": SECRET_VALUE, "STRIPE_SECRET": SECRET_VALUE + "-2"})
CERT = certificate_arn()
TARGET = AwsTarget(account=ACCOUNT, region=REGION)
SUB = "Fn::Sub"


def _secret(name: str, value_from: Any) -> dict[str, Any]:
    return {"Name": name, "ValueFrom": value_from}


PROCESS: dict[str, Any] = {
    "Resources": {
        "WebTaskDefinition": {
            "Type": "AWS::ECS::TaskDefinition",
            "Properties": {
                "ContainerDefinitions": [
                    {
                        "Name": "web",
                        "Secrets": [
                            _secret(
                                "APP_URL",
                                {
                                    SUB: "arn:${AWS::Partition}:ssm:${AWS::Region}:"
                                    "${AWS::AccountId}:parameter/APP_URL"
                                },
                            ),
                            _secret("DB_PASSWORD", {SUB: "${DatabaseSecretArn}:password::"}),
                            _secret(
                                "STRIPE_KEY",
                                {
                                    SUB: "arn:${AWS::Partition}:secretsmanager:${AWS::Region}:"
                                    "${AWS::AccountId}:secret:STRIPE:STRIPE_KEY::"
                                },
                            ),
                            _secret(
                                "STRIPE_SECRET",
                                {
                                    SUB: "arn:${AWS::Partition}:secretsmanager:${AWS::Region}:"
                                    "${AWS::AccountId}:secret:STRIPE:STRIPE_SECRET::"
                                },
                            ),
                        ],
                    }
                ]
            },
        }
    }
}

CLUSTER: dict[str, Any] = {
    "Resources": {
        "HttpsListener": {
            "Type": "AWS::ElasticLoadBalancingV2::Listener",
            "Properties": {"Certificates": [{"CertificateArn": CERT}], "Port": 443},
        },
        "HttpListener": {"Type": "AWS::ElasticLoadBalancingV2::Listener", "Properties": {}},
    },
    "Outputs": {"AppUrl": {"Value": "https://app.example.com"}},
}

DATA: dict[str, Any] = {
    "Resources": {
        "Database": {
            "Type": "AWS::RDS::DBInstance",
            "Properties": {"Engine": "mysql", "EngineVersion": "8.4"},
        },
        "Cache": {
            "Type": "AWS::ElastiCache::ReplicationGroup",
            "Properties": {"Engine": "valkey", "EngineVersion": "8.0"},
        },
    }
}

NETWORK: dict[str, Any] = {
    "Resources": {
        "Vpc": {"Type": "AWS::EC2::VPC", "Properties": {"CidrBlock": "10.0.0.0/16"}},
        **{
            f"Nat{i}Address": {"Type": "AWS::EC2::EIP", "Properties": {"Domain": "vpc"}}
            for i in (1, 2)
        },
        **{
            f"Nat{i}": {
                "Type": "AWS::EC2::NatGateway",
                "Properties": {"AllocationId": {"Fn::GetAtt": [f"Nat{i}Address", "AllocationId"]}},
            }
            for i in (1, 2)
        },
    }
}

TEMPLATES = {
    "root.json": {"Resources": {}},
    "process-web.json": PROCESS,
    "cluster.json": CLUSTER,
    "data.json": DATA,
    "network.json": NETWORK,
}


class Preflight:
    """The preflight's clients, each stubbed; `run` returns the warnings it printed."""

    SERVICES = ("ssm", "secretsmanager", "acm", "rds", "elasticache", "ec2", "service-quotas")

    def __init__(self, folder: Path, templates: dict[str, dict[str, Any]]) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        for name, template in templates.items():
            (folder / name).write_text(json.dumps(template))
        self.build = Build(
            folder=folder,
            app="example",
            environment="dev",
            stack_name="example-dev",
            target=TARGET,
            config_sha256="",
            processes=("web",),
            templates={name: "" for name in templates},
        )
        self.all = Stubs().__enter__()  # every client stubbed: an unexpected call fails
        self.stubs = {
            service: self.all.stubbers[service.replace("-", "_")] for service in self.SERVICES
        }
        self.printed: list[str] = []

    def __getattr__(self, service: str) -> Stubber:
        return self.stubs[service.replace("_", "-")]

    def run(self, new_stack: bool = False) -> list[str]:
        account_preflight(self.all.gateway(), self.build, new_stack, self.printed.append)
        self.all.verify()
        return self.printed


PARTS = frozenset({"parameters", "secrets", "certificate", "engines"})


def all_present(
    preflight: Preflight, stripe: str = STRIPE_JSON, parts: frozenset[str] = PARTS
) -> None:
    """Lookups answered as for a healthy account, for the given parts of the preflight."""
    if "parameters" in parts:
        preflight.ssm.add_response(
            "get_parameters", get_parameters(["APP_URL"], []), {"Names": [ssm_arn("APP_URL")]}
        )
    if "secrets" in parts:
        preflight.secretsmanager.add_response(
            "describe_secret", describe_secret("STRIPE"), {"SecretId": "STRIPE"}
        )
        preflight.secretsmanager.add_response(
            "get_secret_value", secret_value("STRIPE", stripe), {"SecretId": "STRIPE"}
        )
    if "certificate" in parts:
        preflight.acm.add_response(
            "describe_certificate",
            certificate(CERT, "ISSUED", "example.com", ["example.com", "*.example.com"]),
            {"CertificateArn": CERT},
        )
    if "engines" in parts:
        preflight.rds.add_response(
            "describe_db_engine_versions",
            db_engine_versions("mysql", "8.0.44", "8.4.6", "8.4.7"),
            {"Engine": "mysql"},
        )
        preflight.elasticache.add_response(
            "describe_cache_engine_versions",
            cache_engine_versions("valkey", "7.2", "8.0", "8.1"),
            {"Engine": "valkey"},
        )


def all_but(preflight: Preflight, *parts: str) -> None:
    all_present(preflight, parts=PARTS - set(parts))


def quotas(preflight: Preflight, vpc_quota: float, in_use_vpcs: int, eips: int) -> None:
    preflight.service_quotas.add_response(
        "get_service_quota",
        service_quota("vpc", "L-F678F1CE", "VPCs per Region", vpc_quota),
        {"ServiceCode": "vpc", "QuotaCode": "L-F678F1CE"},
    )
    preflight.ec2.add_response("describe_vpcs", vpcs(in_use_vpcs), {})
    preflight.service_quotas.add_response(
        "get_service_quota",
        service_quota("ec2", "L-0263D0A3", "EC2-VPC Elastic IPs", 5.0),
        {"ServiceCode": "ec2", "QuotaCode": "L-0263D0A3"},
    )
    preflight.ec2.add_response("describe_addresses", addresses(eips), {})


@pytest.fixture
def preflight(tmp_path: Path) -> Preflight:
    return Preflight(tmp_path / "build" / "dev", copy.deepcopy(TEMPLATES))


def refusal(preflight: Preflight, new_stack: bool = False) -> NotReady:
    with pytest.raises(NotReady) as refused:
        preflight.run(new_stack)
    assert refused.value.exit_code == 2
    return refused.value


def assert_no_secret_value(*texts: str) -> None:
    for text in texts:
        assert SECRET_VALUE not in text


# --- what to check, from the built templates -------------------------------------------------


def test_needs_come_from_the_built_templates() -> None:
    needs = needs_of(TEMPLATES, TARGET)
    assert needs.parameters == {ssm_arn("APP_URL"): "APP_URL"}
    # The generated database secret (`${DatabaseSecretArn}`) is not the account's to hold yet.
    assert needs.secrets == {"STRIPE": frozenset({"STRIPE_KEY", "STRIPE_SECRET"})}
    assert needs.certificates == (CERT,)
    assert needs.domain == "app.example.com"
    assert needs.engines == (
        EngineUse("Database", "AWS::RDS::DBInstance", "mysql", "8.4"),
        EngineUse("Cache", "AWS::ElastiCache::ReplicationGroup", "valkey", "8.0"),
    )
    assert (needs.new_vpcs, needs.new_addresses) == (1, 2)


def test_needs_of_hierarchical_parameters_whole_secrets_and_a_redis_default() -> None:
    value_froms = [
        "arn:aws:ssm:eu-west-1:123456789012:parameter/app/prod/url",
        {
            SUB: [
                "arn:${AWS::Partition}:secretsmanager:${AWS::Region}:${AWS::AccountId}:secret:X",
                {},
            ]
        },
        {"Ref": "SomethingElse"},
    ]
    template = {
        "Resources": {
            "Task": {
                "Type": "AWS::ECS::TaskDefinition",
                "Properties": {
                    "ContainerDefinitions": [
                        {"Secrets": [_secret(f"V{i}", v) for i, v in enumerate(value_froms)]}
                    ]
                },
            },
            "Cache": {
                "Type": "AWS::ElastiCache::ReplicationGroup",
                "Properties": {"EngineVersion": "7.1"},
            },
            "Unpinned": {"Type": "AWS::RDS::DBInstance", "Properties": {"Engine": "mysql"}},
        },
        "Outputs": {"AppUrl": {"Value": {SUB: "http://${LoadBalancer.DNSName}"}}},
    }
    needs = needs_of({"t.json": template}, TARGET)
    assert list(needs.parameters.values()) == ["/app/prod/url"]
    assert needs.secrets == {"X": frozenset()}
    assert [(e.engine, e.version) for e in needs.engines] == [("redis", "7.1")]
    assert needs.domain is None and needs.certificates == ()


# --- the whole preflight, stubbed ------------------------------------------------------------


def test_a_healthy_existing_environment_passes_without_quota_lookups(preflight: Preflight) -> None:
    all_present(preflight)
    assert preflight.run(new_stack=False) == []  # ec2 and service-quotas were never asked


def test_missing_parameter_and_secret_are_listed_at_once(preflight: Preflight) -> None:
    preflight.ssm.add_response(
        "get_parameters", get_parameters([], [ssm_arn("APP_URL")]), {"Names": [ssm_arn("APP_URL")]}
    )
    preflight.secretsmanager.add_client_error(
        "describe_secret",
        **client_error(
            "ResourceNotFoundException", "Secrets Manager can't find the specified secret."
        ),
        expected_params={"SecretId": "STRIPE"},
    )
    all_but(preflight, "parameters", "secrets")
    assert refusal(preflight).lines == [
        "SSM parameter APP_URL does not exist in eu-west-1 (create it, e.g. `aws ssm "
        "put-parameter --region eu-west-1 --name APP_URL --type SecureString --value ...`)",
        "secret STRIPE does not exist in Secrets Manager in eu-west-1 (create it holding the "
        "JSON keys STRIPE_KEY, STRIPE_SECRET, e.g. `aws secretsmanager create-secret --region "
        "eu-west-1 --name STRIPE --secret-string ...`)",
    ]


def test_a_secret_without_a_key_names_the_key_and_never_its_values(
    preflight: Preflight, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    all_present(preflight, stripe=json.dumps({"STRIPE_KEY": SECRET_VALUE}))
    refused = refusal(preflight)
    assert refused.lines == [
        "secret STRIPE has no key STRIPE_SECRET (add it to the secret's JSON, or fix `key:` "
        "in app.yaml)"
    ]
    assert_no_secret_value(str(refused), *preflight.printed, caplog.text)


def test_access_denied_on_a_secret_value_warns_and_goes_on(
    preflight: Preflight, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    all_but(preflight, "secrets")
    stub = preflight.secretsmanager  # the secret exists; its value may not be read
    stub.add_response("describe_secret", describe_secret("STRIPE"), {"SecretId": "STRIPE"})
    stub.add_client_error(
        "get_secret_value",
        **client_error(
            "AccessDeniedException",
            "User: arn:aws:sts::123456789012:assumed-role/deploy/ci is not authorized to "
            "perform: secretsmanager:GetSecretValue on resource: STRIPE",
        ),
        expected_params={"SecretId": "STRIPE"},
    )
    assert preflight.run() == [
        "warning: secret STRIPE: could not check its keys STRIPE_KEY, STRIPE_SECRET (these "
        "credentials may not read its value: AccessDeniedException); ECS starts no task if one "
        "is missing"
    ]


@pytest.mark.parametrize(
    ("status", "arn", "answer", "line"),
    [
        (
            "pending",
            CERT,
            certificate(CERT, "PENDING_VALIDATION", "app.example.com"),
            f"certificate {CERT} is PENDING_VALIDATION, not ISSUED (the load balancer needs an "
            "issued certificate: complete its validation in ACM, or set another in "
            "environments/dev.yaml)",
        ),
        (
            "not found",
            CERT,
            None,
            f"certificate {CERT} does not exist in ACM (check certificate_arn in "
            "environments/dev.yaml)",
        ),
        (
            "another domain",
            CERT,
            certificate(CERT, "ISSUED", "example.com", ["example.com", "*.other.example"]),
            f"certificate {CERT} does not cover app.example.com (it covers *.other.example, "
            "example.com; request one that does, or change domain_name in environments/dev.yaml)",
        ),
        (
            "wrong region",
            certificate_arn("us-east-1"),
            "no call",
            f"certificate {certificate_arn('us-east-1')} is in us-east-1, not in eu-west-1 where "
            "the load balancer is (request or import one in eu-west-1 and set certificate_arn in "
            "environments/dev.yaml)",
        ),
    ],
    ids=["pending", "not-found", "another-domain", "wrong-region"],
)
def test_certificate_problems(
    tmp_path: Path, status: str, arn: str, answer: dict[str, Any] | str | None, line: str
) -> None:
    templates = copy.deepcopy(TEMPLATES)
    listener = templates["cluster.json"]["Resources"]["HttpsListener"]["Properties"]
    listener["Certificates"] = [{"CertificateArn": arn}]
    preflight = Preflight(tmp_path / "build" / "dev", templates)
    all_but(preflight, "certificate")
    if answer is None:
        preflight.acm.add_client_error(
            "describe_certificate",
            **client_error("ResourceNotFoundException", f"Could not find certificate {arn}."),
            expected_params={"CertificateArn": arn},
        )
    elif isinstance(answer, dict):
        preflight.acm.add_response("describe_certificate", answer, {"CertificateArn": arn})
    assert refusal(preflight).lines == [line]


def test_an_engine_version_the_region_does_not_offer(preflight: Preflight) -> None:
    all_but(preflight, "engines")
    preflight.rds.add_response(
        "describe_db_engine_versions",
        db_engine_versions("mysql", "8.0.41", "8.0.42", "8.0.43", "8.0.44", "8.0.45", "8.0.9"),
        {"Engine": "mysql"},
    )
    preflight.elasticache.add_response(
        "describe_cache_engine_versions", cache_engine_versions("valkey"), {"Engine": "valkey"}
    )
    assert refusal(preflight).lines == [
        "Database: RDS does not offer mysql 8.4 in eu-west-1 (newest offered: 8.0.41, 8.0.42, "
        "8.0.43, 8.0.44, 8.0.45; change the engine version in app.yaml)",
        "Cache: ElastiCache does not offer valkey 8.0 in eu-west-1 (ElastiCache offers no "
        "valkey version there; change the engine version in app.yaml)",
    ]


def test_a_new_environment_that_fits_its_quotas_passes(preflight: Preflight) -> None:
    all_present(preflight)
    quotas(preflight, vpc_quota=5.0, in_use_vpcs=4, eips=3)  # 4 + 1 <= 5, 3 + 2 <= 5
    assert preflight.run(new_stack=True) == []


def test_a_new_environment_over_its_vpc_and_elastic_ip_quotas(preflight: Preflight) -> None:
    all_present(preflight)
    quotas(preflight, vpc_quota=5.0, in_use_vpcs=5, eips=4)
    assert refusal(preflight, new_stack=True).lines == [
        "quota VPCs per Region (vpc L-F678F1CE) in eu-west-1: 5 in use + 1 for this environment "
        "= 6 > 5 (raise it to 6 in the Service Quotas console or with `aws service-quotas "
        "request-service-quota-increase --region eu-west-1 --service-code vpc --quota-code "
        "L-F678F1CE --desired-value 6`)",
        "quota EC2-VPC Elastic IPs (ec2 L-0263D0A3) in eu-west-1: 4 in use + 2 for this "
        "environment's NAT gateways = 6 > 5 (raise it to 6 in the Service Quotas console or with "
        "`aws service-quotas request-service-quota-increase --region eu-west-1 --service-code ec2 "
        "--quota-code L-0263D0A3 --desired-value 6`)",
    ]


def test_an_unreadable_quota_falls_back_to_the_default_with_a_warning(
    preflight: Preflight,
) -> None:
    all_present(preflight)
    preflight.service_quotas.add_client_error(
        "get_service_quota",
        **client_error("AccessDeniedException", "not authorized: servicequotas:GetServiceQuota"),
        expected_params={"ServiceCode": "vpc", "QuotaCode": "L-F678F1CE"},
    )
    preflight.ec2.add_response("describe_vpcs", vpcs(5), {})
    preflight.service_quotas.add_client_error(
        "get_service_quota",
        **client_error("NoSuchResourceException", "The request failed because ..."),
        expected_params={"ServiceCode": "ec2", "QuotaCode": "L-0263D0A3"},
    )
    preflight.ec2.add_response("describe_addresses", addresses(0), {})
    refused = refusal(preflight, new_stack=True)
    assert [line.split(" (")[0] for line in refused.lines] == [
        "quota VPCs per Region"  # the default 5 stood in: 5 + 1 > 5
    ]
    assert "= 6 > 5" in refused.lines[0]
    assert preflight.printed == [
        "warning: could not read the quota VPCs per Region (vpc L-F678F1CE) from Service Quotas "
        "(AccessDeniedException); assuming AWS's default of 5",
        "warning: could not read the quota EC2-VPC Elastic IPs (ec2 L-0263D0A3) from Service "
        "Quotas (NoSuchResourceException); assuming AWS's default of 5",
    ]


def test_a_real_aws_failure_is_one_line_and_exit_1(preflight: Preflight) -> None:
    preflight.ssm.add_client_error(
        "get_parameters",
        **client_error("AccessDeniedException", "not authorized to perform: ssm:GetParameters"),
    )
    with pytest.raises(DeployError) as failed:
        preflight.run()
    assert failed.value.exit_code == 1
    assert failed.value.lines == [
        "checking SSM parameters (ssm get-parameters): access denied: not authorized to "
        "perform: ssm:GetParameters"
    ]


# --- what an answer means --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("names", "domain", "covered"),
    [
        (["example.com"], "example.com", True),
        (["example.com", "*.example.com"], "app.example.com", True),
        (["*.example.com"], "APP.Example.com.", True),
        (["*.example.com"], "example.com", False),
        (["*.example.com"], "a.b.example.com", False),
        (["example.com"], "app.example.com", False),
    ],
)
def test_covers(names: list[str], domain: str, covered: bool) -> None:
    assert covers(names, domain) is covered


@pytest.mark.parametrize(
    ("version", "covered"),
    [("8.4", True), ("8.4.7", True), ("8", True), ("8.4.1", False), ("8.0.4", False)],
)
def test_a_version_prefix_is_offered_when_a_listed_version_starts_with_it(
    version: str, covered: bool
) -> None:
    assert offers(["8.0.44", "8.4.7"], version) is covered


@pytest.mark.parametrize(
    ("response", "expected"),
    [
        (
            {"SecretString": STRIPE_JSON},
            SecretKeys(keys=frozenset({"STRIPE_KEY", "STRIPE_SECRET"})),
        ),
        ({"SecretString": SECRET_VALUE}, SecretKeys(shape="not-json")),
        ({"SecretString": json.dumps([SECRET_VALUE])}, SecretKeys(shape="not-json")),
        ({"SecretBinary": b"\x00\x01"}, SecretKeys(shape="binary")),
    ],
)
def test_keys_of_keeps_key_names_only(response: dict[str, Any], expected: SecretKeys) -> None:
    found = keys_of(response)
    assert found == expected
    assert_no_secret_value(repr(found))


def test_secret_shapes_ecs_cannot_read_keys_from() -> None:
    wanted = frozenset({"A"})
    assert secret_key_findings("S", wanted, SecretKeys(shape="not-json"))[0] == [
        'secret S is not a JSON object, so ECS cannot read its keys A (store it as {"KEY": '
        '"value", ...})'
    ]
    assert secret_key_findings("S", wanted, SecretKeys(shape="binary"))[0] == [
        "secret S holds a binary value, so ECS cannot read its keys A (store a JSON "
        'SecretString such as {"KEY": "value"})'
    ]
    assert secret_key_findings("S", frozenset(), SecretKeys(shape="binary")) == ([], [])


def test_a_secret_scheduled_for_deletion(preflight: Preflight) -> None:
    all_but(preflight, "secrets")
    preflight.secretsmanager.add_response(
        "describe_secret", describe_secret("STRIPE", deleted=True), {"SecretId": "STRIPE"}
    )
    assert refusal(preflight).lines == [
        "secret STRIPE is scheduled for deletion (restore it with `aws secretsmanager "
        "restore-secret --region eu-west-1 --secret-id STRIPE`)"
    ]


CUSTOMER_KEY = "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"


def test_a_secret_under_a_customer_managed_key_is_refused(preflight: Preflight) -> None:
    all_but(preflight, "secrets")
    preflight.secretsmanager.add_response(
        "describe_secret", describe_secret("STRIPE", kms_key=CUSTOMER_KEY), {"SecretId": "STRIPE"}
    )
    assert refusal(preflight).lines == [
        f"secret STRIPE is encrypted with the KMS key {CUSTOMER_KEY}, which the tasks' execution "
        "role may not decrypt with, so ECS would start no task (encrypt it with Secrets "
        "Manager's own key: `aws secretsmanager update-secret --region eu-west-1 --secret-id "
        "STRIPE --kms-key-id alias/aws/secretsmanager`)"
    ]


def test_secrets_managers_own_key_named_is_fine() -> None:
    named = SecretStatus(exists=True, kms_key="alias/aws/secretsmanager")
    assert secret_status_problem("STRIPE", frozenset(), named, "eu-west-1") is None


# --- where plan runs it -----------------------------------------------------------------------


def test_plan_stops_before_uploading_or_creating_a_change_set(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from factorstack.deploy.plan import run_plan
    from tests.support.fixture_answers import BOOTSTRAP, DEPLOYED, IDENTITY, stub_image_present
    from tests.support.fixture_build import FixtureProject

    monkeypatch.delenv("IMAGE_TAG", raising=False)
    project = FixtureProject(tmp_path / "repo")
    project.write()
    with Stubs() as stubs:
        stubs.sts_stub.add_response("get_caller_identity", IDENTITY)
        add = stubs.cfn_stub.add_response
        add("describe_stacks", BOOTSTRAP, {"StackName": "example-bootstrap"})
        add("describe_stacks", copy.deepcopy(DEPLOYED), {"StackName": "example-dev"})
        stub_image_present(stubs, "v1")
        stubs.rds_stub.add_response(
            "describe_db_engine_versions",
            db_engine_versions("mysql", "8.0.44"),
            {"Engine": "mysql"},
        )
        ctx, _ = deploying.context(project.root, stubs.gateway)
        with pytest.raises(NotReady) as refused:  # S3 and create_change_set have no answers
            run_plan(ctx, [])
        stubs.verify()
    assert refused.value.lines == [
        "Database: RDS does not offer mysql 8.0.43 in eu-west-1 (newest offered: 8.0.44; "
        "change the engine version in app.yaml)"
    ]


def _network(zones: int) -> dict[str, Any]:
    subnet = "AWS::EC2::Subnet"
    return {
        "Resources": {
            f"Public{index + 1}Subnet": {
                "Type": subnet,
                "Properties": {
                    "VpcId": "vpc-1",
                    "CidrBlock": f"10.0.{index}.0/24",
                    "AvailabilityZone": {"Fn::Select": [index, {"Fn::GetAZs": ""}]},
                },
            }
            for index in range(zones)
        }
    }


def _zones_answer(*names: str) -> dict[str, Any]:
    return {
        "AvailabilityZones": [
            {"ZoneName": name, "State": "available", "ZoneType": "availability-zone"}
            for name in names
        ]
    }


ZONE_FILTERS = {
    "Filters": [
        {"Name": "state", "Values": ["available"]},
        {"Name": "zone-type", "Values": ["availability-zone"]},
    ]
}


def test_three_zones_in_a_region_that_offers_two_is_refused(tmp_path: Path) -> None:
    """Fn::Select [2, Fn::GetAZs] would fail the network stack minutes into the deploy."""
    preflight = Preflight(tmp_path / "build" / "dev", {"network.json": _network(3)})
    preflight.ec2.add_response(
        "describe_availability_zones", _zones_answer("us-west-1a", "us-west-1c"), ZONE_FILTERS
    )
    assert refusal(preflight).lines == [
        f"environments/dev.yaml: network.availability_zones: 3 zones, but {REGION} offers this "
        "account 2 (us-west-1a, us-west-1c) (set availability_zones: 2, or choose another region)"
    ]


def test_three_zones_where_three_are_offered_pass_and_two_are_never_asked(tmp_path: Path) -> None:
    three = Preflight(tmp_path / "a" / "dev", {"network.json": _network(3)})
    three.ec2.add_response(
        "describe_availability_zones", _zones_answer("r-1a", "r-1b", "r-1c"), ZONE_FILTERS
    )
    assert three.run() == []
    two = Preflight(tmp_path / "b" / "dev", {"network.json": _network(2)})
    assert two.run() == []  # every region offers two: no call (the stubs refuse any)
