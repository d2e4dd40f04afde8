"""What a user relies on in the data tier: encrypted, private, reachable only from the tasks,
and never deleted with its data."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.support.sample import edit_yaml
from tests.support.templates import raw_templates_of, resources_of_type, templates_of

ENVIRONMENTS = ["dev", "staging", "prod"]


@pytest.fixture(scope="module")
def data_templates() -> dict[str, dict]:
    repo = Path(__file__).resolve().parents[2]
    return {env: templates_of(repo, env)["data.json"] for env in ENVIRONMENTS}


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_database_is_encrypted_private_and_snapshotted(data_templates, env):
    database = data_templates[env]["Resources"]["Database"]
    props = database["Properties"]
    assert database["Type"] == "AWS::RDS::DBInstance"
    assert database["DeletionPolicy"] == "Snapshot"
    assert database["UpdateReplacePolicy"] == "Snapshot"
    assert props["StorageEncrypted"] is True
    assert props["PubliclyAccessible"] is False
    assert props["EnableIAMDatabaseAuthentication"] is True
    assert props["Engine"] == "mysql"
    # The LTS major version: RDS applies minor upgrades without drift, never Extended Support.
    assert props["EngineVersion"] == "8.4"
    assert props["EngineLifecycleSupport"] == "open-source-rds-extended-support-disabled"
    assert props["StorageType"] == "gp3"
    assert props["AllocatedStorage"] == "20"
    assert props["MaxAllocatedStorage"] == 250
    assert props["DBName"] == "example"


def test_database_requires_tls_and_logs_slow_queries_to_a_file_rds_exports(data_templates):
    """`1`, the value RDS stores for ON; without log_output FILE the exported slow query log
    stays empty."""
    group = data_templates["dev"]["Resources"]["DatabaseParameterGroup"]["Properties"]
    assert group["Parameters"] == {
        "require_secure_transport": "1",
        "slow_query_log": "1",
        "long_query_time": "2",
        "log_output": "FILE",
    }
    assert group["Family"] == "mysql8.4"


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_database_exports_its_error_and_slow_query_logs(data_templates, env):
    props = data_templates[env]["Resources"]["Database"]["Properties"]
    assert props["EnableCloudwatchLogsExports"] == ["error", "slowquery"]


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_enhanced_monitoring_through_a_role_only_rds_monitoring_assumes(data_templates, env):
    resources = data_templates[env]["Resources"]
    props = resources["Database"]["Properties"]
    assert props["MonitoringInterval"] == 60
    assert props["MonitoringRoleArn"] == {"Fn::GetAtt": ["DatabaseMonitoringRole", "Arn"]}
    role = resources["DatabaseMonitoringRole"]["Properties"]
    assert role["AssumeRolePolicyDocument"]["Statement"] == [
        {
            "Action": ["sts:AssumeRole"],
            "Effect": "Allow",
            "Principal": {"Service": "monitoring.rds.amazonaws.com"},
        }
    ]
    assert role["ManagedPolicyArns"] == [
        {
            "Fn::Sub": "arn:${AWS::Partition}:iam::aws:policy/service-role/"
            "AmazonRDSEnhancedMonitoringRole"
        }
    ]
    assert "Policies" not in role


def test_enhanced_monitoring_off_leaves_no_role_and_says_0(sample_root):
    """0 is stated, not left out: on an update the RDS handler sends only properties that are
    there, so a left-out interval would keep the database's old one (billed, with its role
    gone)."""
    edit_yaml(
        sample_root / "environments/dev.yaml",
        lambda env: env["database"].update(monitoring_interval_seconds=0),
    )
    resources = templates_of(sample_root, "dev")["data.json"]["Resources"]
    assert "DatabaseMonitoringRole" not in resources
    props = resources["Database"]["Properties"]
    assert props["MonitoringInterval"] == 0 and "MonitoringRoleArn" not in props


def test_the_app_user_has_a_generated_secret_of_its_own(data_templates):
    """Processes read this one; the master's stays with the release phase's user-setup step."""
    resources = data_templates["dev"]["Resources"]
    secret = resources["DatabaseAppSecret"]
    generate = secret["Properties"]["GenerateSecretString"]
    assert json.loads(generate["SecretStringTemplate"]) == {
        "dbname": "example",
        "username": "example_app",
    }
    master = resources["DatabaseSecret"]["Properties"]["GenerateSecretString"]
    for same in ("GenerateStringKey", "PasswordLength", "ExcludeCharacters"):
        assert generate[same] == master[same]
    assert (secret["DeletionPolicy"], secret["UpdateReplacePolicy"]) == (
        "RetainExceptOnCreate",
        "Retain",
    )
    # host, port and engine join it from the database, as they join the master's
    assert resources["DatabaseAppSecretAttachment"]["Properties"] == {
        "SecretId": {"Ref": "DatabaseAppSecret"},
        "TargetId": {"Ref": "Database"},
        "TargetType": "AWS::RDS::DBInstance",
    }
    outputs = data_templates["dev"]["Outputs"]
    assert outputs["DatabaseAppSecretArn"]["Value"] == {"Ref": "DatabaseAppSecret"}
    assert outputs["DatabaseSecretArn"]["Value"] == {"Ref": "DatabaseSecret"}


def test_an_exact_engine_version_keeps_cfn_lint_version_check(sample_root):
    edit_yaml(sample_root / "app.yaml", lambda app: app["database"].update(engine_version="8.4.7"))
    database = templates_of(sample_root, "dev")["data.json"]["Resources"]["Database"]
    assert database["Properties"]["EngineVersion"] == "8.4.7"
    # E3691 is waived only for a major-version prefix
    assert "cfn-lint" not in database.get("Metadata", {})


def test_extended_support_is_billed_only_when_asked_for(sample_root):
    edit_yaml(
        sample_root / "app.yaml",
        lambda app: app["database"].update(engine_version="8.0", extended_support=True),
    )
    data = templates_of(sample_root, "dev")["data.json"]["Resources"]
    assert data["Database"]["Properties"]["EngineLifecycleSupport"] == (
        "open-source-rds-extended-support"
    )
    assert data["DatabaseParameterGroup"]["Properties"]["Family"] == "mysql8.0"


def test_database_settings_follow_the_environment(data_templates):
    dev = data_templates["dev"]["Resources"]["Database"]["Properties"]
    prod = data_templates["prod"]["Resources"]["Database"]["Properties"]
    assert (dev["MultiAZ"], dev["BackupRetentionPeriod"]) == (False, 1)
    assert (prod["MultiAZ"], prod["BackupRetentionPeriod"]) == (True, 14)


@pytest.mark.parametrize(("env", "wanted"), [("dev", "false"), ("prod", "true")])
def test_deletion_protection_arrives_from_the_root_and_is_off_on_first_create(env, wanted):
    """The root's parameter carries the environment's value; its metadata tells deploy to
    create the database without protection (a failed create can roll back) and follow up."""
    repo = Path(__file__).resolve().parents[2]
    templates = templates_of(repo, env)
    data = raw_templates_of(repo, env)["data.json"]
    assert data["Resources"]["Database"]["Properties"]["DeletionProtection"] == {
        "Ref": "DatabaseDeletionProtection"
    }
    # the environment's view: the value the root's parameter holds
    resolved = templates["data.json"]["Resources"]["Database"]["Properties"]
    assert resolved["DeletionProtection"] is (wanted == "true")
    root = templates["root.json"]
    assert root["Parameters"]["DatabaseDeletionProtection"]["Default"] == wanted
    passed = root["Resources"]["DataStack"]["Properties"]["Parameters"]
    assert passed["DatabaseDeletionProtection"] == {"Ref": "DatabaseDeletionProtection"}
    create_first = (root.get("Metadata") or {}).get("FactorstackCreateFirstWith") or {}
    # other resources (the load balancer) may be created unprotected first too
    assert create_first.get("DatabaseDeletionProtection") == ("false" if wanted == "true" else None)


@pytest.mark.parametrize(
    ("group", "port"), [("DatabaseSecurityGroup", 3306), ("CacheSecurityGroup", 6379)]
)
def test_data_security_groups_admit_only_the_tasks_on_their_port(data_templates, group, port):
    rules = data_templates["prod"]["Resources"][group]["Properties"]["SecurityGroupIngress"]
    assert rules == [
        {
            "Description": rules[0]["Description"],
            "FromPort": port,
            "IpProtocol": "tcp",
            "SourceSecurityGroupId": {"Ref": "ServiceSecurityGroupId"},
            "ToPort": port,
        }
    ]


@pytest.mark.parametrize("env", ENVIRONMENTS)
@pytest.mark.parametrize("group", ["DatabaseSecurityGroup", "CacheSecurityGroup"])
def test_data_security_groups_send_nothing_out(data_templates, env, group):
    """Inline egress replaces the default allow-all; its one rule matches nothing (ICMP type 252
    code 86 to the broadcast address). Replies to the tasks flow anyway: groups are stateful."""
    rules = data_templates[env]["Resources"][group]["Properties"]["SecurityGroupEgress"]
    assert rules == [
        {
            "CidrIp": "255.255.255.255/32",
            "Description": "Disallow all traffic",
            "FromPort": 252,
            "IpProtocol": "icmp",
            "ToPort": 86,
        }
    ]


@pytest.mark.parametrize(
    ("rule", "group", "port", "service"),
    [
        ("ServiceEgressToDatabase", "DatabaseSecurityGroup", 3306, "MySQL"),
        ("ServiceEgressToCache", "CacheSecurityGroup", 6379, "Valkey"),
    ],
)
def test_tasks_reach_each_data_service_on_its_port_only(data_templates, rule, group, port, service):
    """The tasks' group (from the cluster stack) gets one rule out per data service, here,
    where the data group is known; the cluster stack allows only HTTPS out."""
    resource = data_templates["prod"]["Resources"][rule]
    assert resource["Type"] == "AWS::EC2::SecurityGroupEgress"
    assert resource["Properties"] == {
        "Description": f"app tasks to {service} only",
        "DestinationSecurityGroupId": {"Ref": group},
        "FromPort": port,
        "GroupId": {"Ref": "ServiceSecurityGroupId"},
        "IpProtocol": "tcp",
        "ToPort": port,
    }


def test_without_a_cache_the_tasks_get_no_way_to_one(sample_root):
    def drop_cache(app: dict) -> None:
        del app["cache"]
        for name in ("CACHE_DRIVER", "REDIS_HOST", "REDIS_PORT", "REDIS_PASSWORD", "REDIS_SCHEME"):
            del app["environment"][name]

    edit_yaml(sample_root / "app.yaml", drop_cache)
    egress = resources_of_type(
        templates_of(sample_root, "dev")["data.json"], "AWS::EC2::SecurityGroupEgress"
    )
    assert list(egress) == ["ServiceEgressToDatabase"]


def test_data_tier_lives_in_the_isolated_subnets(data_templates):
    resources = data_templates["dev"]["Resources"]
    for name in ("DatabaseSubnetGroup", "CacheSubnetGroup"):
        subnets = resources[name]["Properties"]["SubnetIds"]
        assert subnets == {"Fn::Split": [",", {"Ref": "IsolatedSubnetIds"}]}


def test_generated_database_secret_holds_username_and_dbname(data_templates):
    secret = data_templates["dev"]["Resources"]["DatabaseSecret"]
    generate = secret["Properties"]["GenerateSecretString"]
    assert json.loads(generate["SecretStringTemplate"]) == {"dbname": "example", "username": "app"}
    assert generate["GenerateStringKey"] == "password"
    assert (secret["DeletionPolicy"], secret["UpdateReplacePolicy"]) == (
        "RetainExceptOnCreate",
        "Retain",
    )
    attachment = data_templates["dev"]["Resources"]["DatabaseSecretAttachment"]["Properties"]
    assert attachment == {
        "SecretId": {"Ref": "DatabaseSecret"},
        "TargetId": {"Ref": "Database"},
        "TargetType": "AWS::RDS::DBInstance",
    }


def test_master_credentials_come_from_the_secret_never_the_template(data_templates):
    props = data_templates["dev"]["Resources"]["Database"]["Properties"]
    assert "resolve:secretsmanager:${Secret}:SecretString:password" in json.dumps(
        props["MasterUserPassword"]
    )
    assert "resolve:secretsmanager" in json.dumps(props["MasterUsername"])


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_cache_is_valkey_encrypted_with_an_auth_token_and_snapshots(data_templates, env):
    groups = resources_of_type(data_templates[env], "AWS::ElastiCache::ReplicationGroup")
    assert list(groups) == ["Cache"]
    cache = groups["Cache"]
    props = cache["Properties"]
    assert (props["Engine"], props["EngineVersion"]) == ("valkey", "8.2")
    assert props["AtRestEncryptionEnabled"] is True
    assert props["TransitEncryptionEnabled"] is True
    assert "resolve:secretsmanager:${Secret}:SecretString:token" in json.dumps(props["AuthToken"])
    assert cache["DeletionPolicy"] == cache["UpdateReplacePolicy"] == "Snapshot"
    assert props["SnapshotRetentionLimit"] >= 1


def test_redis_stays_available_by_name(sample_root):
    edit_yaml(sample_root / "app.yaml", lambda app: app.update(cache={"engine": "redis"}))
    props = templates_of(sample_root, "dev")["data.json"]["Resources"]["Cache"]["Properties"]
    assert (props["Engine"], props["EngineVersion"]) == ("redis", "7.1")


def test_cache_replicas_give_failover_only_where_configured(data_templates):
    dev = data_templates["dev"]["Resources"]["Cache"]["Properties"]
    prod = data_templates["prod"]["Resources"]["Cache"]["Properties"]
    assert (dev["NumCacheClusters"], dev["AutomaticFailoverEnabled"]) == (1, False)
    assert (prod["NumCacheClusters"], prod["AutomaticFailoverEnabled"]) == (2, True)
