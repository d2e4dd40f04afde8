"""data.json is one text for every environment: the root passes each environment's sizes,
counts and retention, and the descriptions resolve to exactly the text each environment had
(a security group's GroupDescription and a parameter group's Description are create-only: new
text would replace them, and the database with its parameter group would be modified)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.support.sample import edit_yaml
from tests.support.templates import raw_templates_of, templates_of

REPO = Path(__file__).resolve().parents[2]
STATEFUL = ("Database", "Cache", "DatabaseSecret", "DatabaseAppSecret", "CacheSecret")


def _passed(root: Path, env: str) -> dict[str, object]:
    resource = raw_templates_of(root, env)["root.json"]["Resources"]["DataStack"]
    return resource["Properties"]["Parameters"]


@pytest.mark.parametrize(
    ("env", "wanted"),
    [
        (
            "dev",
            {
                "EnvironmentName": "dev",
                "DatabaseInstanceClass": "db.t4g.micro",
                "DatabaseMultiAZ": "false",
                "DatabaseBackupRetentionDays": "1",
                "DatabaseAllocatedStorage": "20",
                "DatabaseMaxAllocatedStorage": "250",
                "DatabaseMonitoringInterval": "60",
                "CacheNodeType": "cache.t4g.micro",
                "CacheSnapshotRetentionDays": "1",
            },
        ),
        (
            "prod",
            {
                "EnvironmentName": "prod",
                "DatabaseInstanceClass": "db.m7g.large",
                "DatabaseMultiAZ": "true",
                "DatabaseBackupRetentionDays": "14",
                "DatabaseAllocatedStorage": "20",
                "DatabaseMaxAllocatedStorage": "250",
                "DatabaseMonitoringInterval": "60",
                "CacheNodeType": "cache.m7g.large",
                "CacheSnapshotRetentionDays": "7",
            },
        ),
    ],
)
def test_the_root_passes_each_environments_data_choices(env, wanted) -> None:
    passed = _passed(REPO, env)
    assert {name: passed[name] for name in wanted} == wanted


@pytest.mark.parametrize(("env", "nodes", "failover"), [("dev", 1, "false"), ("prod", 2, "true")])
def test_the_caches_nodes_and_failover_are_root_parameters(env, nodes, failover) -> None:
    """Deploy may change one before the other (ElastiCache refuses both in one update), so
    both are root parameters whose Defaults are the environment's values, named as a pair."""
    root = raw_templates_of(REPO, env)["root.json"]
    assert root["Parameters"]["CacheNodes"]["Default"] == nodes
    assert root["Parameters"]["CacheFailover"]["Default"] == failover
    assert root["Metadata"]["FactorstackFailoverAfterReplicas"] == {
        "failover": "CacheFailover",
        "nodes": "CacheNodes",
    }
    passed = _passed(REPO, env)
    assert passed["CacheNodes"] == {"Ref": "CacheNodes"}
    assert passed["CacheFailover"] == {"Ref": "CacheFailover"}


@pytest.mark.parametrize(
    ("env", "instance", "nodes", "failover"),
    [("dev", "db.t4g.micro", 1, False), ("staging", "db.t4g.small", 2, True)],
)
def test_the_resolved_view_carries_the_environments_values(env, instance, nodes, failover):
    resources = templates_of(REPO, env)["data.json"]["Resources"]
    assert resources["Database"]["Properties"]["DBInstanceClass"] == instance
    cache = resources["Cache"]["Properties"]
    assert (cache["NumCacheClusters"], cache["AutomaticFailoverEnabled"]) == (nodes, failover)
    assert cache["MultiAZEnabled"] is failover


@pytest.mark.parametrize(
    ("resource", "field", "text"),
    [
        ("DatabaseSecurityGroup", "GroupDescription", "example {env} MySQL"),
        ("CacheSecurityGroup", "GroupDescription", "example {env} Valkey"),
        (
            "DatabaseParameterGroup",
            "Description",
            "example {env}: TLS required, slow queries logged",
        ),
        ("DatabaseSubnetGroup", "DBSubnetGroupDescription", "example {env} isolated subnets"),
        ("CacheSubnetGroup", "Description", "example {env} isolated subnets"),
        ("DatabaseSecret", "Description", "example {env} database master credentials"),
        (
            "DatabaseAppSecret",
            "Description",
            "example {env} database app user credentials (its own schema only)",
        ),
        ("CacheSecret", "Description", "example {env} cache auth token"),
        ("Cache", "ReplicationGroupDescription", "example {env} Valkey"),
    ],
)
@pytest.mark.parametrize("env", ["dev", "staging", "prod"])
def test_descriptions_resolve_to_the_text_each_environment_deployed(env, resource, field, text):
    """The shared text names no environment; each resolves to its own, unchanged, text."""
    raw = raw_templates_of(REPO, env)["data.json"]["Resources"][resource]["Properties"][field]
    assert "${EnvironmentName}" in json.dumps(raw) and env not in json.dumps(raw)
    resolved = templates_of(REPO, env)["data.json"]["Resources"][resource]["Properties"][field]
    assert resolved == text.format(env=env)


def test_the_database_and_cache_are_never_conditional() -> None:
    """A condition that turned false would delete them; their policies stay as they were."""
    resources = raw_templates_of(REPO, "dev")["data.json"]["Resources"]
    for name in STATEFUL:
        assert "Condition" not in resources[name], name
    for name in ("Database", "Cache"):
        policies = (resources[name]["DeletionPolicy"], resources[name]["UpdateReplacePolicy"])
        assert policies == ("Snapshot", "Snapshot")


def test_the_failover_parameter_decides_failover_in_the_shared_text() -> None:
    data = raw_templates_of(REPO, "prod")["data.json"]
    cache = data["Resources"]["Cache"]["Properties"]
    assert cache["NumCacheClusters"] == {"Ref": "CacheNodes"}
    assert cache["AutomaticFailoverEnabled"] == {"Fn::If": ["CacheReplicated", True, False]}
    assert cache["MultiAZEnabled"] == {"Fn::If": ["CacheReplicated", True, False]}
    assert data["Conditions"]["CacheReplicated"] == {
        "Fn::Equals": [{"Ref": "CacheFailover"}, "true"]
    }


def test_monitoring_off_keeps_the_role_in_the_shared_text_under_its_condition(sample_root):
    """The role exists where monitoring is on; with interval 0 the same text leaves it out."""
    edit_yaml(
        sample_root / "environments/dev.yaml",
        lambda env: env["database"].update(monitoring_interval_seconds=0),
    )
    raw = raw_templates_of(sample_root, "dev")
    role = raw["data.json"]["Resources"]["DatabaseMonitoringRole"]
    assert role["Condition"] == "DatabaseMonitoringOn"
    assert (
        raw["root.json"]["Resources"]["DataStack"]["Properties"]["Parameters"][
            "DatabaseMonitoringInterval"
        ]
        == "0"
    )
    assert (
        "DatabaseMonitoringRole" not in templates_of(sample_root, "dev")["data.json"]["Resources"]
    )
    assert "DatabaseMonitoringRole" in templates_of(sample_root, "prod")["data.json"]["Resources"]


def test_an_environment_files_data_choices_change_only_the_root(sample_root):
    """Every database and cache setting moved: data.json keeps its text, root.json does not."""
    before = raw_templates_of(sample_root, "dev")

    def resize(env: dict) -> None:
        env["database"].update(
            instance_class="db.r7g.large",
            multi_az=True,
            backup_retention_days=30,
            allocated_storage_gb=100,
            max_allocated_storage_gb=500,
            monitoring_interval_seconds=15,
        )
        env["cache"].update(node_type="cache.r7g.large", replicas=2, snapshot_retention_days=5)

    edit_yaml(sample_root / "environments/dev.yaml", resize)
    after = raw_templates_of(sample_root, "dev")
    assert after["data.json"] == before["data.json"]
    assert after["root.json"] != before["root.json"]
    database = templates_of(sample_root, "dev")["data.json"]["Resources"]["Database"]
    props = database["Properties"]
    assert (props["DBInstanceClass"], props["MultiAZ"], props["BackupRetentionPeriod"]) == (
        "db.r7g.large",
        True,
        30,
    )
    assert (props["AllocatedStorage"], props["MaxAllocatedStorage"]) == ("100", 500)
    assert props["MonitoringInterval"] == 15


def test_the_template_description_names_no_environment() -> None:
    assert raw_templates_of(REPO, "prod")["data.json"]["Description"] == (
        "example: database and cache, isolated"
    )


@pytest.mark.parametrize("replicas", [0, 1, 5])
def test_failover_only_with_a_replica_to_fail_over_to(sample_root, replicas):
    """ElastiCache refuses automatic failover or Multi-AZ with a single node."""
    edit_yaml(
        sample_root / "environments/dev.yaml",
        lambda env: env["cache"].update(replicas=replicas),
    )
    cache = templates_of(sample_root, "dev")["data.json"]["Resources"]["Cache"]["Properties"]
    assert cache["NumCacheClusters"] == 1 + replicas
    assert cache["AutomaticFailoverEnabled"] is cache["MultiAZEnabled"] is (replicas > 0)
