"""What a user relies on in the data tier: encrypted, private, reachable only from the tasks,
and never deleted with its data."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.templates.helpers import resources_of_type, templates_of

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
    assert props["EngineVersion"].count(".") == 2  # an exact version, not "8.0"
    assert props["StorageType"] == "gp3"
    assert props["AllocatedStorage"] == "20"
    assert props["MaxAllocatedStorage"] == 250
    assert props["DBName"] == "example"


def test_database_requires_tls(data_templates):
    group = data_templates["dev"]["Resources"]["DatabaseParameterGroup"]["Properties"]
    assert group["Parameters"] == {"require_secure_transport": "ON"}


def test_database_settings_follow_the_environment(data_templates):
    dev = data_templates["dev"]["Resources"]["Database"]["Properties"]
    prod = data_templates["prod"]["Resources"]["Database"]["Properties"]
    assert (dev["MultiAZ"], dev["DeletionProtection"], dev["BackupRetentionPeriod"]) == (
        False,
        False,
        1,
    )
    assert (prod["MultiAZ"], prod["DeletionProtection"], prod["BackupRetentionPeriod"]) == (
        True,
        True,
        14,
    )


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
def test_redis_is_encrypted_with_an_auth_token_and_snapshots(data_templates, env):
    groups = resources_of_type(data_templates[env], "AWS::ElastiCache::ReplicationGroup")
    assert list(groups) == ["Cache"]
    cache = groups["Cache"]
    props = cache["Properties"]
    assert props["AtRestEncryptionEnabled"] is True
    assert props["TransitEncryptionEnabled"] is True
    assert "resolve:secretsmanager:${Secret}:SecretString:token" in json.dumps(props["AuthToken"])
    assert cache["DeletionPolicy"] == cache["UpdateReplacePolicy"] == "Snapshot"
    assert props["SnapshotRetentionLimit"] >= 1


def test_redis_replicas_give_failover_only_where_configured(data_templates):
    dev = data_templates["dev"]["Resources"]["Cache"]["Properties"]
    prod = data_templates["prod"]["Resources"]["Cache"]["Properties"]
    assert (dev["NumCacheClusters"], dev["AutomaticFailoverEnabled"]) == (1, False)
    assert (prod["NumCacheClusters"], prod["AutomaticFailoverEnabled"]) == (2, True)
