"""cluster.json is one text for every environment: what an environment file chooses (certificate,
domain, web ACL, retention, the region's log writer, its own name) arrives from root.json as a
nested-stack parameter, and conditions decide what exists."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.support.sample import edit_yaml
from tests.support.templates import raw_templates_of, templates_of

REPO = Path(__file__).resolve().parents[2]
ENVIRONMENTS = ("dev", "staging", "prod")
PROD_CERTIFICATE = (
    "arn:aws:acm:eu-west-1:333333333333:certificate/6a1d2c3e-4b5f-4a7e-8c9d-0e1f2a3b4c5d"
)
CHOICES = (
    "EnvironmentName",
    "CertificateArn",
    "DomainName",
    "WebAclRateLimit",
    "LogRetentionDays",
    "AccessLogExpirationDays",
    "LogWriterAccount",
)


@pytest.fixture(scope="module")
def raw() -> dict[str, dict[str, dict[str, Any]]]:
    return {env: raw_templates_of(REPO, env) for env in ENVIRONMENTS}


@pytest.fixture(scope="module")
def resolved() -> dict[str, dict[str, dict[str, Any]]]:
    return {env: templates_of(REPO, env) for env in ENVIRONMENTS}


def _passed(templates: dict[str, dict[str, Any]]) -> dict[str, Any]:
    return templates["root.json"]["Resources"]["ClusterStack"]["Properties"]["Parameters"]


def test_the_root_passes_each_environments_own_values(raw) -> None:
    dev, prod = _passed(raw["dev"]), _passed(raw["prod"])
    assert {k: dev[k] for k in CHOICES} == {
        "EnvironmentName": "dev",
        "CertificateArn": "",
        "DomainName": "",
        "WebAclRateLimit": "0",
        "LogRetentionDays": "7",
        "AccessLogExpirationDays": "6",  # 7 days: 6 current, then 1 noncurrent
        "LogWriterAccount": "156460612806",  # eu-west-1's Elastic Load Balancing account
    }
    assert {k: prod[k] for k in CHOICES} == {
        "EnvironmentName": "prod",
        "CertificateArn": PROD_CERTIFICATE,
        "DomainName": "example.com",
        "WebAclRateLimit": "2000",
        "LogRetentionDays": "365",
        "AccessLogExpirationDays": "364",
        "LogWriterAccount": "156460612806",
    }


def test_the_shared_text_names_no_environment_and_holds_none_of_its_values(raw) -> None:
    text = json.dumps(raw["prod"]["cluster.json"])
    for value in (
        PROD_CERTIFICATE,
        "example.com",
        "/example/prod/",
        "example prod",
        "156460612806",
    ):
        assert value not in text
    assert raw["prod"]["cluster.json"]["Description"] == (
        "example: ECS cluster, load balancer, task security group, logs"
    )


@pytest.mark.parametrize(
    ("resource", "condition"),
    [
        ("HttpsListener", "HasCertificate"),
        ("WebAcl", "HasWebAcl"),
        ("WebAclAssociation", "HasWebAcl"),
    ],
)
def test_what_one_environment_has_is_in_the_shared_text_behind_its_condition(
    raw, resolved, resource: str, condition: str
) -> None:
    assert raw["dev"]["cluster.json"]["Resources"][resource]["Condition"] == condition
    assert resource not in resolved["dev"]["cluster.json"]["Resources"]
    assert "Condition" not in resolved["prod"]["cluster.json"]["Resources"][resource]


def test_conditions_are_computed_from_settings_never_from_a_name(raw) -> None:
    conditions = raw["dev"]["cluster.json"]["Conditions"]
    assert conditions["HasCertificate"] == {
        "Fn::Not": [{"Fn::Equals": [{"Ref": "CertificateArn"}, ""]}]
    }
    assert conditions["HasWebAcl"] == {
        "Fn::Not": [{"Fn::Equals": [{"Ref": "WebAclRateLimit"}, "0"]}]
    }
    assert "EnvironmentName" not in json.dumps(conditions)


def test_http_redirects_only_where_there_is_a_certificate(resolved) -> None:
    def actions(env: str) -> list[str]:
        listener = resolved[env]["cluster.json"]["Resources"]["HttpListener"]["Properties"]
        return [action["Type"] for action in listener["DefaultActions"]]

    assert actions("dev") == ["forward"]
    assert actions("staging") == actions("prod") == ["redirect"]


def test_the_rate_limit_and_the_days_reach_the_resources_as_numbers(resolved) -> None:
    cluster = resolved["prod"]["cluster.json"]["Resources"]
    statement = cluster["WebAcl"]["Properties"]["Rules"][0]["Statement"]["RateBasedStatement"]
    assert statement["Limit"] == 2000
    assert cluster["WebLogGroup"]["Properties"]["RetentionInDays"] == 365
    (rule,) = cluster["AccessLogsBucket"]["Properties"]["LifecycleConfiguration"]["Rules"]
    assert rule["ExpirationInDays"] == 364


def test_settings_cloudformation_checks_before_it_touches_a_resource(raw) -> None:
    """cfn-lint checked the literal values; now CloudFormation checks what the root passes
    before the cluster stack touches any of its resources."""
    parameters = raw["dev"]["cluster.json"]["Parameters"]
    assert parameters["AccessLogExpirationDays"]["MinValue"] == 1  # S3 refuses 0 days
    assert parameters["WebAclRateLimit"]["MaxValue"] == 2_000_000_000  # AWS WAF's maximum
    assert parameters["LogWriterAccount"]["AllowedPattern"] == r"^(\d{12})?$"


def test_the_app_url_follows_domain_and_certificate(sample_root: Path) -> None:
    """A domain without a certificate is served over plain HTTP at that domain."""
    edit_yaml(
        sample_root / "environments/dev.yaml", lambda d: d.update(domain_name="dev.example.com")
    )
    outputs = templates_of(sample_root, "dev")["cluster.json"]["Outputs"]
    assert outputs["AppUrl"]["Value"] == "http://dev.example.com"


def test_a_region_without_an_elb_account_changes_a_value_not_the_text(sample_root: Path) -> None:
    before = raw_templates_of(sample_root, "dev")["cluster.json"]
    edit_yaml(sample_root / "environments/dev.yaml", lambda d: d.update(region="eu-central-2"))
    after = raw_templates_of(sample_root, "dev")
    assert after["cluster.json"] == before
    assert _passed(after)["LogWriterAccount"] == ""


def test_an_app_without_a_web_process_declares_only_what_it_uses(sample_root: Path) -> None:
    """No load balancer: no certificate, domain or web ACL settings (unused ones would be
    cfn-lint warnings)."""

    def drop_web(app: dict[str, Any]) -> None:
        del app["processes"]["web"]
        app["release"]["process"] = "worker"

    edit_yaml(sample_root / "app.yaml", drop_web)
    for env in ("dev", "staging", "prod"):
        edit_yaml(sample_root / f"environments/{env}.yaml", lambda d: d["processes"].pop("web"))
    cluster = raw_templates_of(sample_root, "prod")["cluster.json"]
    assert set(cluster["Parameters"]) == {
        "VpcId",
        "PublicSubnetIds",
        "EnvironmentName",
        "LogRetentionDays",
    }
    assert "Conditions" not in cluster


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_every_parameter_a_child_declares_is_what_the_root_passes(raw, env: str) -> None:
    templates = raw[env]
    stacks = {
        resource["Properties"]["TemplateURL"]: resource["Properties"].get("Parameters", {})
        for resource in templates["root.json"]["Resources"].values()
        if resource["Type"] == "AWS::CloudFormation::Stack"
    }
    for name, passed in stacks.items():
        assert set(templates[name].get("Parameters", {})) == set(passed), name
