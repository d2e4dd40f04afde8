"""factorstack's own cfn-lint rules (E9001-E9003) fire on what AWS refuses and stay quiet on the
fixed templates, through the very lint_templates call the build makes.

Every broken/fixed template is linted in one module-wide call: cfn-lint's start-up is the cost.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import setuptools

from factorstack import lint as lint_module
from factorstack.cli import main
from factorstack.lint import LintFinding, lint_templates, own_rules_id
from factorstack.lint_rules import RULES
from factorstack.lint_rules.fargate_stop_window import job_timeout
from factorstack.lint_rules.values import known_text
from factorstack.stacks import root as root_module

REPO = Path(__file__).resolve().parents[2]
REGION = "eu-west-1"
OWN_RULE_IDS = {rule.id for rule in RULES}


def _rule(properties: dict[str, Any]) -> dict[str, Any]:
    """A valid CIDR rule around `properties`."""
    base = {"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "CidrIp": "10.0.0.0/16"}
    return {**base, **properties}


def _security_groups(ingress: str, egress: str, reference: str, sub: str) -> dict[str, Any]:
    return {
        "Group": {
            "Type": "AWS::EC2::SecurityGroup",
            "Properties": {
                "GroupDescription": "app tasks",
                "VpcId": "vpc-12345678",
                "SecurityGroupIngress": [_rule({"Description": ingress})],
                "SecurityGroupEgress": [_rule({"Description": egress})],
            },
        },
        "FromGroup": {
            "Type": "AWS::EC2::SecurityGroupIngress",
            "Properties": {
                "GroupId": {"Ref": "Group"},
                "IpProtocol": "tcp",
                "FromPort": 80,
                "ToPort": 80,
                "SourceSecurityGroupId": {"Ref": "Group"},
                "Description": reference,
            },
        },
        "ToAnywhere": {
            "Type": "AWS::EC2::SecurityGroupEgress",
            "Properties": {
                "GroupId": {"Ref": "Group"},
                "IpProtocol": "tcp",
                "FromPort": 443,
                "ToPort": 443,
                "CidrIp": "0.0.0.0/0",
                "Description": {"Fn::Sub": sub},
            },
        },
    }


def _task_definition(
    container: dict[str, Any], compatibilities: tuple[str, ...] = ("FARGATE",)
) -> dict[str, Any]:
    properties: dict[str, Any] = {
        "RequiresCompatibilities": list(compatibilities),
        "NetworkMode": "awsvpc",
        "Cpu": "256",
        "Memory": "512",
        "ContainerDefinitions": [
            {"Name": "worker", "Image": "nginx", "Essential": True} | container
        ],
    }
    return {"Type": "AWS::ECS::TaskDefinition", "Properties": properties}


def _stop_window(
    worker: dict[str, Any], shell: dict[str, Any], default: dict[str, Any]
) -> dict[str, Any]:
    return {
        "Worker": _task_definition(worker),
        "ShellWorker": _task_definition(shell),
        "DefaultWindow": _task_definition(default),
    }


def _names(
    family: str, service: str, balancer: str, target_group: str, db_name: str, group_id: str
) -> dict[str, Any]:
    return {
        "TaskFamily": {
            "Type": "AWS::ECS::TaskDefinition",
            "Properties": _task_definition({"StopTimeout": 60})["Properties"] | {"Family": family},
        },
        "Service": {
            "Type": "AWS::ECS::Service",
            "Properties": {
                "ServiceName": service,
                "TaskDefinition": {"Ref": "TaskFamily"},
                "LaunchType": "FARGATE",
                "NetworkConfiguration": {"AwsvpcConfiguration": {"Subnets": ["subnet-12345678"]}},
            },
        },
        "Balancer": {
            "Type": "AWS::ElasticLoadBalancingV2::LoadBalancer",
            "Properties": {"Name": balancer, "Subnets": ["subnet-12345678", "subnet-87654321"]},
        },
        "Targets": {
            "Type": "AWS::ElasticLoadBalancingV2::TargetGroup",
            "Properties": {
                "Name": target_group,
                "Port": 80,
                "Protocol": "HTTP",
                "TargetType": "ip",
                "VpcId": "vpc-12345678",
            },
        },
        "Database": {
            "Type": "AWS::RDS::DBInstance",
            "DeletionPolicy": "Snapshot",
            "UpdateReplacePolicy": "Snapshot",
            "Properties": {
                "Engine": "mysql",
                "EngineVersion": "8.4.7",
                "DBInstanceClass": "db.t4g.micro",
                "AllocatedStorage": "20",
                "BackupRetentionPeriod": 7,
                "StorageEncrypted": True,
                "DBName": db_name,
                "MasterUsername": "admin",
                "ManageMasterUserPassword": True,
            },
        },
        "Cache": {
            "Type": "AWS::ElastiCache::ReplicationGroup",
            "DeletionPolicy": "Snapshot",
            "UpdateReplacePolicy": "Snapshot",
            "Properties": {
                "ReplicationGroupId": group_id,
                "ReplicationGroupDescription": "cache",
                "Engine": "valkey",
                "CacheNodeType": "cache.t4g.micro",
                "NumCacheClusters": 1,
                "TransitEncryptionEnabled": True,
                "SnapshotRetentionLimit": 1,
            },
        },
    }


TIMEOUT_300 = ["php", "artisan", "queue:work", "--timeout=300"]
TEMPLATES: dict[str, dict[str, Any]] = {
    "e9001-broken": _security_groups(
        ingress="web's ingress",  # the apostrophe of cfn-lint#173
        egress="x" * 256,
        reference="from the app & the workers",  # `&`: fine for a CIDR, not for a group
        sub="to ${AWS::Region}'s endpoints",
    ),
    "e9001-fixed": _security_groups(
        ingress="web ingress (HTTPS) from the VPC: ok #1",
        egress="x" * 255,
        reference="from the app and the workers",
        sub="to ${AWS::Region} endpoints & mirrors",
    ),
    "e9002-broken": _stop_window(
        worker={"StopTimeout": 120, "Command": TIMEOUT_300},
        shell={"StopTimeout": 120, "Command": ["sh", "-c", "php artisan queue:work --timeout 120"]},
        default={"Command": ["node", "worker.js", "--timeout", "45"]},  # unset: 30 s
    ),
    "e9002-fixed": _stop_window(
        worker={"StopTimeout": 120, "Command": ["php", "artisan", "queue:work", "--timeout=90"]},
        shell={"StopTimeout": 120, "Command": ["sh", "-c", "php artisan queue:work --timeout 110"]},
        default={"Command": ["node", "worker.js", "--timeout", "20"]},
    ),
    "e9002-range": {"Worker": _task_definition({"StopTimeout": 150})},
    "e9002-not-fargate": {
        "Worker": _task_definition(
            {"StopTimeout": 300, "Memory": 512, "Command": TIMEOUT_300}, compatibilities=("EC2",)
        )
    },
    "e9003-broken": _names(
        family="example dev worker",
        service="web.app",
        balancer="internal-example-dev",
        target_group="example-dev-web-",
        db_name="1example",
        group_id="example--dev",
    ),
    "e9003-fixed": _names(
        family="example-dev-worker",
        service="web_app",
        balancer="example-dev",
        target_group="example-dev-web",
        db_name="example_1",
        group_id="example-dev",
    ),
}


def _write(folder: Path, name: str, resources: dict[str, Any]) -> Path:
    path = folder / f"{name}.json"
    body = {"AWSTemplateFormatVersion": "2010-09-09", "Resources": resources}
    path.write_text(json.dumps(body, indent=2))
    return path


@pytest.fixture(scope="module")
def findings(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[LintFinding]]:
    """Every template above, linted in one call; findings by template name."""
    folder = tmp_path_factory.mktemp("lint-rules")
    paths = {name: _write(folder, name, resources) for name, resources in TEMPLATES.items()}
    found = lint_templates(list(paths.values()), [REGION])
    return {name: [f for f in found if f.file == str(path)] for name, path in paths.items()}


def _own(found: list[LintFinding]) -> list[tuple[str, str]]:
    return [(f.rule, f.message) for f in found if f.rule in OWN_RULE_IDS]


def test_rules_are_e9xxx_with_documented_ids_and_sources():
    assert [rule.id for rule in RULES] == [f"E900{n}" for n in range(1, 10)] + [
        "E9010",
        "E9011",
        "E9012",
    ]
    for rule in RULES:
        assert rule.shortdesc and rule.description
        assert rule.source_url.startswith("https://docs.aws.amazon.com/")


def test_e9001_flags_each_description_ec2_would_refuse(findings):
    found = _own(findings["e9001-broken"])
    assert [rule for rule, _ in found] == ["E9001"] * 4
    messages = " | ".join(message for _, message in found)
    assert '"web\'s ingress"' in messages and '("\'")' in messages
    assert "256 characters long" in messages
    assert "('&')" in messages  # a rule naming a security group: UserIdGroupPair's set
    assert "'s endpoints" in messages  # the literal part of an Fn::Sub


def test_e9001_points_at_the_description_line(findings):
    (ingress,) = [f for f in findings["e9001-broken"] if "web's" in f.message]
    lines = Path(ingress.file).read_text().splitlines()
    assert "web's ingress" in lines[ingress.line - 1]


def test_e9001_accepts_the_fixed_descriptions(findings):
    assert _own(findings["e9001-fixed"]) == []


def test_e9002_flags_job_timeouts_not_below_the_stop_window(findings):
    found = _own(findings["e9002-broken"])
    assert [rule for rule, _ in found] == ["E9002"] * 3
    worker, shell, default = (message for _, message in found)
    assert "'worker'" in worker and "--timeout=300" in worker and "120 s" in worker
    assert "set --timeout below 120" in worker
    assert "--timeout=120" in shell  # equal is too long: the job must end before SIGKILL
    assert "--timeout=45" in default and "30 s" in default and "Fargate's default" in default


def test_e9002_flags_a_stop_timeout_outside_fargates_range(findings):
    assert _own(findings["e9002-range"]) == [
        ("E9002", "Container 'worker': StopTimeout 150 is outside Fargate's 2-120 s range")
    ]


def test_e9002_accepts_the_fixed_workers_and_ignores_ec2_tasks(findings):
    assert _own(findings["e9002-fixed"]) == []
    assert _own(findings["e9002-not-fargate"]) == []


def test_e9003_flags_names_the_services_refuse(findings):
    found = _own(findings["e9003-broken"])
    assert {rule for rule, _ in found} == {"E9003"}
    messages = "\n".join(message for _, message in found)
    assert "Family 'example dev worker' has ' '" in messages
    assert "ServiceName 'web.app' has '.'" in messages
    assert "must not begin with 'internal-'" in messages
    assert "TargetGroup Name 'example-dev-web-' must not begin or end with a hyphen" in messages
    assert "DBName '1example' must begin with a letter" in messages
    assert "ReplicationGroupId 'example--dev' must not contain two consecutive hyphens" in (
        messages
    )


def test_e9003_accepts_the_fixed_names(findings):
    assert _own(findings["e9003-fixed"]) == []


def test_fixed_templates_have_no_finding_at_all(findings):
    """The fixed variants are valid templates, so a finding there is a rule's false alarm."""
    for name in ("e9001-fixed", "e9002-fixed", "e9003-fixed"):
        assert findings[name] == [], name


@pytest.mark.parametrize(
    ("command", "seconds"),
    [
        (["php", "artisan", "queue:work", "--timeout=90"], 90),
        (["php", "artisan", "queue:work", "--timeout", "90", "--tries=3"], 90),
        (["sh", "-c", "php artisan queue:work --timeout 60 && true"], 60),
        (["php", "artisan", "queue:work", "--timeout-ms=90"], None),
        (["php", "artisan", "schedule:run"], None),
        ({"Ref": "Command"}, None),
    ],
)
def test_job_timeout_reads_both_flag_forms(command, seconds):
    assert job_timeout(command) == seconds


def test_known_text_keeps_only_what_is_certain():
    sub = known_text({"Fn::Sub": "a ${Name} b ${!Literal}"})
    assert sub is not None and sub.fragments == ("a ", " b ${Literal}") and not sub.exact
    join = known_text({"Fn::Join": ["-", ["x", {"Ref": "P"}, "y"]]})
    assert join is not None and sorted(join.fragments) == ["-", "-", "x", "y"]
    assert known_text({"Ref": "P"}) is None


def test_the_rules_ship_with_the_package():
    """setup.cfg's `packages = find:` under templates_src: the package a wheel would hold."""
    assert "factorstack.lint_rules" in setuptools.find_packages(REPO / "templates_src")


def test_own_rules_id_changes_with_any_rule_source(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """What a build manifest can record so that a changed rule re-lints unchanged templates."""
    copy = tmp_path / "lint_rules"
    copy.mkdir()
    for source in lint_module.RULES_FOLDER.glob("*.py"):
        (copy / source.name).write_bytes(source.read_bytes())
    monkeypatch.setattr(lint_module, "RULES_FOLDER", copy)
    before = own_rules_id()
    assert before == own_rules_id() and before.startswith("factorstack-rules ")
    with (copy / "resource_names.py").open("a") as source:
        source.write("# a changed rule\n")
    assert own_rules_id() != before


def test_factorstack_build_fails_on_a_rule_with_exit_1_and_its_id(
    sample_root: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
):
    """A stack builder that produces a too-long job timeout: the build refuses it (and the rest
    of the sample's dev environment is clean under the new rules)."""
    original = root_module.build_process

    def long_jobs(model, process, sources):  # noqa: ANN001, ANN202 - the builder's signature
        built = original(model, process, sources)
        if process.name == "worker":
            task = built.template.resources[f"{process.logical}TaskDefinition"]
            task.ContainerDefinitions[0].Command = TIMEOUT_300
        return built

    monkeypatch.setattr(root_module, "build_process", long_jobs)
    assert main(["--root", str(sample_root), "build", "dev"]) == 1
    err = capsys.readouterr().err
    finding_lines = [line for line in err.splitlines() if ".json:" in line]
    assert finding_lines, err
    assert all(" E9002 " in line and "process-worker.json" in line for line in finding_lines), err
    assert "--timeout=300" in err
    assert not (sample_root / "build/dev").exists()  # nothing written: the build was refused
