"""What the policy gate's fixes changed in the templates, and the justifications they carry.

Child templates are the same text in every environment, so a justification for a choice an
environment file may make (single-AZ, logs kept under a year, no certificate) is worded after
the setting that makes it and is the same everywhere; the gate judges each environment's
resolved view, where the rule fires only if that environment made the choice."""

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


@pytest.mark.parametrize("env", ["staging", "prod"])  # dev has no topic, so no key
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


def _same_everywhere(templates, file: str, resource: str) -> dict[str, Any]:
    """The resource's policy Metadata, asserted identical in every environment."""
    found = [templates[env][file]["Resources"][resource].get("Metadata") for env in ENVIRONMENTS]
    assert all(metadata == found[0] for metadata in found), f"{file} {resource}"
    return templates["prod"][file]["Resources"][resource]


def test_database_justifies_the_choices_by_the_settings_that_make_them(templates) -> None:
    database = _same_everywhere(templates, "data.json", "Database")
    assert "CKV_AWS_157" in checkov_ids(database)
    reasons = guard_rules(database)
    assert "database.multi_az" in reasons[MULTI_AZ]
    assert "database.backup_retention_days" in reasons[BACKUPS]
    # the choice itself is each environment's, as its resolved view shows
    multi_az = {env: templates[env]["data.json"]["Resources"]["Database"] for env in ENVIRONMENTS}
    assert [multi_az[e]["Properties"]["MultiAZ"] for e in ENVIRONMENTS] == [False, False, True]


def test_deletion_protection_reason_names_the_setting(templates) -> None:
    rule = "rds_instance_deletion_protection_enabled_check"
    reason = guard_rules(_same_everywhere(templates, "data.json", "Database"))[rule]
    assert "(deletion_protection)" in reason
    # the gate reads each environment's value: only dev's (off) needs the reason
    protection = [
        templates[env]["data.json"]["Resources"]["Database"]["Properties"]["DeletionProtection"]
        for env in ENVIRONMENTS
    ]
    assert protection == [False, True, True]


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_log_groups_justify_the_key_and_name_the_retention_setting(templates, env) -> None:
    groups = {
        name: resource
        for template in templates[env].values()
        for name, resource in resources_of_type(template, "AWS::Logs::LogGroup").items()
    }
    assert {"ReleaseRunnerLogGroup", "WebLogGroup", "FlowLogsLogGroup"} <= set(groups)
    for name, group in groups.items():
        assert "CKV_AWS_158" in checkov_ids(group), name
        assert LOG_KEY in guard_rules(group), name
        assert "log_retention_days" in guard_rules(group)[RETENTION], name
    days = groups["WebLogGroup"]["Properties"]["RetentionInDays"]
    assert days == model_of(REPO, env).log_retention_days  # the value is the environment's


def test_plain_http_is_justified_by_the_certificate_setting(templates) -> None:
    listener = _same_everywhere(templates, "cluster.json", "HttpListener")
    assert checkov_ids(listener) == {"CKV_AWS_2", "CKV_AWS_103"}
    reason = guard_rules(listener)["alb_http_to_https_redirection_check"]
    assert "certificate_arn" in reason
    edge = _same_everywhere(templates, "cluster.json", "LoadBalancerSecurityGroup")
    assert checkov_ids(edge) == {"CKV_AWS_260"}
    for env in ENVIRONMENTS:  # plain HTTP is served only where there is no certificate
        listener = templates[env]["cluster.json"]["Resources"]["HttpListener"]["Properties"]
        action = listener["DefaultActions"][0]["Type"]
        assert action == ("redirect" if model_of(REPO, env).https else "forward"), env


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


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_every_alarm_justifies_going_without_actions_by_the_setting_that_chooses_it(
    templates, env
) -> None:
    """CT.CLOUDWATCH.PR.1 wants an action on every alarm; an environment without an alarm topic
    (notify.topic: false, dev) has none, and the reason names that setting."""
    alarms = {
        name: alarm
        for template in templates[env].values()
        for name, alarm in resources_of_type(template, "AWS::CloudWatch::Alarm").items()
    }
    assert len(alarms) == 8
    for name, alarm in alarms.items():
        reason = guard_rules(alarm)["cloudwatch_alarm_action_check"]
        assert "notify.topic: false" in reason, name
