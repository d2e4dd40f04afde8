"""What the policy gate's fixes changed in the templates, and the justifications each environment
carries: a justification only where it is true (prod chooses Multi-AZ, a year of logs, HTTPS and
a week of backups, so it justifies less than dev)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from factorstack.stacks.bootstrap import create_template as bootstrap_template
from factorstack.stacks.release_phase import USER_SETUP, USER_SETUP_MEMORY_MIB
from tests.support.templates import model_of, resources_of_type, templates_of

ENVIRONMENTS = ["dev", "staging", "prod"]
REPO = Path(__file__).resolve().parents[2]
MULTI_AZ = "rds_instance_multi_az_support_check"
BACKUPS = "rds_instance_backup_enabled_check"
RETENTION = "cloudwatch_log_group_retention_period_check"
LOG_KEY = "cloudwatch_log_group_encrypted_check"
TLS_ONLY = {"Bool": {"aws:SecureTransport": "false"}}


@pytest.fixture(scope="module")
def templates() -> dict[str, dict[str, dict[str, Any]]]:
    return {env: templates_of(REPO, env) for env in ENVIRONMENTS}


def checkov_ids(resource: dict[str, Any]) -> set[str]:
    return {skip["id"] for skip in resource.get("Metadata", {}).get("checkov", {}).get("skip", [])}


def guard_rules(resource: dict[str, Any]) -> dict[str, str]:
    """Suppressed Guard rule → its reason."""
    guard = resource.get("Metadata", {}).get("guard", {})
    assert set(guard.get("SuppressedRules", [])) == set(guard.get("Reasons", {}))
    return dict(guard.get("Reasons", {}))


def bootstrap() -> dict[str, Any]:
    return bootstrap_template("example", ["web", "worker"]).to_dict()


# --- fixes -----------------------------------------------------------------------------------


def _tls_statement(policy: dict[str, Any], bucket: str) -> dict[str, Any]:
    (statement,) = [s for s in policy["PolicyDocument"]["Statement"] if s["Effect"] == "Deny"]
    assert statement["Principal"] == "*"
    assert statement["Action"] == ["s3:*"]
    bucket_arn = {"Fn::GetAtt": [bucket, "Arn"]}
    assert statement["Resource"] == [bucket_arn, {"Fn::Join": ["", [bucket_arn, "/*"]]}]
    return statement


def test_artifacts_bucket_policy_denies_plain_http_in_the_form_control_tower_reads() -> None:
    policy = bootstrap()["Resources"]["ArtifactsBucketPolicy"]["Properties"]
    assert _tls_statement(policy, "ArtifactsBucket")["Condition"] == TLS_ONLY


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_access_log_bucket_policy_denies_plain_http_in_the_form_control_tower_reads(
    templates, env
) -> None:
    policy = templates[env]["cluster.json"]["Resources"]["AccessLogsBucketPolicy"]["Properties"]
    assert _tls_statement(policy, "AccessLogsBucket")["Condition"] == TLS_ONLY


def test_artifacts_bucket_encrypts_with_the_aws_managed_s3_key_and_a_bucket_key() -> None:
    bucket = bootstrap()["Resources"]["ArtifactsBucket"]
    (rule,) = bucket["Properties"]["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert rule["ServerSideEncryptionByDefault"] == {"SSEAlgorithm": "aws:kms"}  # aws/s3
    assert rule["BucketKeyEnabled"] is True
    assert bucket["DeletionPolicy"] == "Retain"


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_access_log_bucket_keeps_sse_s3_which_is_all_elb_writes_to(templates, env) -> None:
    bucket = templates[env]["cluster.json"]["Resources"]["AccessLogsBucket"]
    (rule,) = bucket["Properties"]["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert rule["ServerSideEncryptionByDefault"] == {"SSEAlgorithm": "AES256"}
    assert "s3_bucket_default_encryption_kms_check" in guard_rules(bucket)


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_alarm_topic_key_lets_only_aws_services_create_grants(templates, env) -> None:
    key = templates[env]["alerts.json"]["Resources"]["AlarmTopicKey"]["Properties"]
    statements = key["KeyPolicy"]["Statement"]
    assert {
        "Sid": "GrantsOnlyForAwsServices",
        "Effect": "Deny",
        "Principal": "*",
        "Action": ["kms:CreateGrant"],
        "Resource": ["*"],
        "Condition": {
            "BoolIfExists": {
                "kms:GrantIsForAWSResource": "false",
                "aws:PrincipalIsAWSService": "false",
            }
        },
    } in statements
    # The account still administers the key and CloudWatch still encrypts with it.
    sids = [s.get("Sid") for s in statements]
    assert sids[:2] == ["AccountAdministersKey", "CloudWatchPublishesAlarms"]


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_every_container_has_a_memory_hard_limit_within_its_task(templates, env) -> None:
    seen = 0
    for template in templates[env].values():
        for definition in resources_of_type(template, "AWS::ECS::TaskDefinition").values():
            props = definition["Properties"]
            task_memory = int(props["Memory"])
            containers = props["ContainerDefinitions"]
            # ECS counts MemoryReservation (else Memory) against the task's memory.
            reserved = sum(c.get("MemoryReservation", c["Memory"]) for c in containers)
            assert reserved <= task_memory
            for container in containers:
                assert 4 <= container["Memory"] <= task_memory
                seen += 1
    assert seen >= 5  # web, worker, scheduler, and the release task's two containers


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_process_container_may_use_all_of_its_tasks_memory(templates, env) -> None:
    model = model_of(REPO, env)
    for process in model.processes:
        template = templates[env][f"process-{process.name}.json"]
        props = template["Resources"][f"{process.logical}TaskDefinition"]["Properties"]
        (container,) = props["ContainerDefinitions"]
        assert container["Memory"] == process.memory == int(props["Memory"])


def test_release_command_reserves_what_the_user_setup_step_leaves(templates) -> None:
    """The step runs first and exits; the command may then use the whole task."""
    props = templates["prod"]["release-phase.json"]["Resources"]["ReleaseTaskDefinition"]
    props = props["Properties"]
    setup, command = props["ContainerDefinitions"]
    task_memory = int(props["Memory"])
    assert setup["Name"] == USER_SETUP
    assert setup["Memory"] == USER_SETUP_MEMORY_MIB
    assert command["Memory"] == task_memory
    assert command["MemoryReservation"] == task_memory - USER_SETUP_MEMORY_MIB
    assert command["DependsOn"] == [{"ContainerName": USER_SETUP, "Condition": "SUCCESS"}]


# --- justifications that follow the environment file ------------------------------------------


def test_database_justifies_single_az_and_short_backups_only_where_chosen(templates) -> None:
    database = {env: templates[env]["data.json"]["Resources"]["Database"] for env in ENVIRONMENTS}
    assert "CKV_AWS_157" in checkov_ids(database["dev"])
    assert {MULTI_AZ, BACKUPS} <= set(guard_rules(database["dev"]))
    assert MULTI_AZ in guard_rules(database["staging"])
    assert BACKUPS not in guard_rules(database["staging"])  # 7 days
    assert "CKV_AWS_157" not in checkov_ids(database["prod"])
    assert not {MULTI_AZ, BACKUPS} & set(guard_rules(database["prod"]))
    assert "keeps 1 day(s)" in guard_rules(database["dev"])[BACKUPS]


def test_deletion_protection_reason_says_what_the_environment_chose(templates) -> None:
    rule = "rds_instance_deletion_protection_enabled_check"
    dev = guard_rules(templates["dev"]["data.json"]["Resources"]["Database"])[rule]
    prod = guard_rules(templates["prod"]["data.json"]["Resources"]["Database"])[rule]
    assert "turns it off" in dev
    assert "turns it on" in prod
    assert "Ref" in prod


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_log_groups_justify_the_key_always_and_retention_only_under_a_year(templates, env) -> None:
    model = model_of(REPO, env)
    groups = {
        name: resource
        for template in templates[env].values()
        for name, resource in resources_of_type(template, "AWS::Logs::LogGroup").items()
    }
    assert {"ReleaseRunnerLogGroup", "WebLogGroup", "FlowLogsLogGroup"} <= set(groups)
    for name, group in groups.items():
        days = group["Properties"].get("RetentionInDays")
        assert "CKV_AWS_158" in checkov_ids(group), name
        assert LOG_KEY in guard_rules(group), name
        short = days is not None and days < 365
        assert (RETENTION in guard_rules(group)) == short, name
    if model.log_retention_days < 365:
        reason = guard_rules(groups["ReleaseRunnerLogGroup"])[RETENTION]
        assert f"keeps these logs {model.log_retention_days} days" in reason


def test_plain_http_is_justified_only_where_there_is_no_certificate(templates) -> None:
    for env in ENVIRONMENTS:
        resources = templates[env]["cluster.json"]["Resources"]
        listener = resources["HttpListener"]
        port_80 = checkov_ids(resources["LoadBalancerSecurityGroup"])
        assert port_80 == {"CKV_AWS_260"}
        if model_of(REPO, env).https:
            assert "Metadata" not in listener or not checkov_ids(listener)
        else:
            assert checkov_ids(listener) == {"CKV_AWS_2", "CKV_AWS_103"}
            assert set(guard_rules(listener)) == {"alb_http_to_https_redirection_check"}
    prod_reason = templates["prod"]["cluster.json"]["Resources"]["LoadBalancerSecurityGroup"]
    assert "redirect to HTTPS" in prod_reason["Metadata"]["checkov"]["skip"][0]["comment"]


def test_release_runner_justifies_staying_outside_the_vpc(templates) -> None:
    runner = templates["dev"]["release-phase.json"]["Resources"]["ReleaseRunner"]
    assert "VpcConfig" not in runner["Properties"]
    assert checkov_ids(runner) == {"CKV_AWS_115", "CKV_AWS_116", "CKV_AWS_117"}
    assert set(guard_rules(runner)) == {"lambda_inside_vpc_check"}


def test_ecr_repositories_justify_aes256_because_kms_would_replace_them() -> None:
    resources = bootstrap()["Resources"]
    for name in ("WebRepository", "WorkerRepository"):
        assert "EncryptionConfiguration" not in resources[name]["Properties"]
        (skip,) = resources[name]["Metadata"]["checkov"]["skip"]
        assert skip["id"] == "CKV_AWS_136"
        assert "create-only" in skip["comment"]


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_every_generated_secret_justifies_the_aws_managed_key(templates, env) -> None:
    secrets = resources_of_type(templates[env]["data.json"], "AWS::SecretsManager::Secret")
    assert {"DatabaseSecret", "DatabaseAppSecret", "CacheSecret"} <= set(secrets)
    for secret in secrets.values():
        assert "KmsKeyId" not in secret["Properties"]
        assert checkov_ids(secret) == {"CKV_AWS_149"}
