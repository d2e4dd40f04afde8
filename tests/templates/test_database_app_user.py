"""The app does not run as the database master: every long-running process reads the app user's
secret only, and only the release task reads the master's, in a first step that creates or
updates the app user before the release command runs (issues 8 and 9)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.support.sample import edit_yaml
from tests.support.templates import templates_of

REPO = Path(__file__).resolve().parents[2]
PROCESSES = {"web": "Web", "worker": "Worker", "scheduler": "Scheduler"}


@pytest.fixture(scope="module")
def dev() -> dict[str, dict[str, Any]]:
    return templates_of(REPO, "dev")


def secret_reads(template: dict[str, Any], role: str) -> list[Any]:
    (policy,) = template["Resources"][role]["Properties"]["Policies"]
    return [
        resource
        for statement in policy["PolicyDocument"]["Statement"]
        if statement["Action"] == ["secretsmanager:GetSecretValue"]
        for resource in statement["Resource"]
    ]


@pytest.mark.parametrize("process", PROCESSES)
def test_processes_read_only_the_app_users_secret(dev, process) -> None:
    template = dev[f"process-{process}.json"]
    stem = PROCESSES[process]
    reads = secret_reads(template, f"{stem}ExecutionRole")
    assert {"Ref": "DatabaseAppSecretArn"} in reads
    assert {"Ref": "DatabaseSecretArn"} not in reads
    assert "DatabaseSecretArn" not in template["Parameters"]
    (container,) = template["Resources"][f"{stem}TaskDefinition"]["Properties"][
        "ContainerDefinitions"
    ]
    database = {
        s["Name"]: s["ValueFrom"] for s in container["Secrets"] if s["Name"].startswith("DB_")
    }
    assert database == {
        "DB_DATABASE": {"Fn::Sub": "${DatabaseAppSecretArn}:dbname::"},
        "DB_PASSWORD": {"Fn::Sub": "${DatabaseAppSecretArn}:password::"},
        "DB_USERNAME": {"Fn::Sub": "${DatabaseAppSecretArn}:username::"},
    }


def test_the_root_passes_the_master_secret_to_the_release_stack_only(dev) -> None:
    stacks = dev["root.json"]["Resources"]
    for name, stack in stacks.items():
        if stack["Type"] != "AWS::CloudFormation::Stack":
            continue
        passed = (stack["Properties"].get("Parameters") or {}).get("DatabaseSecretArn")
        if name in ("ReleaseStack", "RotationStack"):  # the two tasks that set the app user
            assert passed == {"Fn::GetAtt": ["DataStack", "Outputs.DatabaseSecretArn"]}
        else:
            assert passed is None, name


def test_the_release_task_sets_up_the_app_user_first_then_migrates_as_it(dev) -> None:
    release = dev["release-phase.json"]["Resources"]
    task = release["ReleaseTaskDefinition"]["Properties"]
    setup, command = task["ContainerDefinitions"]
    assert (setup["Name"], setup["Essential"]) == ("database-user", False)
    assert (command["Name"], command["Essential"]) == ("web", True)
    assert command["DependsOn"] == [{"ContainerName": "database-user", "Condition": "SUCCESS"}]
    assert setup["Image"] == "public.ecr.aws/docker/library/mysql:8.4"
    assert {s["Name"]: s["ValueFrom"] for s in setup["Secrets"]} == {
        "APP_PASSWORD": {"Fn::Sub": "${DatabaseAppSecretArn}:password::"},
        "APP_USERNAME": {"Fn::Sub": "${DatabaseAppSecretArn}:username::"},
        "DB_NAME": {"Fn::Sub": "${DatabaseAppSecretArn}:dbname::"},
        "MASTER_PASSWORD": {"Fn::Sub": "${DatabaseSecretArn}:password::"},
        "MASTER_USERNAME": {"Fn::Sub": "${DatabaseSecretArn}:username::"},
    }
    assert {e["Name"]: e["Value"] for e in setup["Environment"]} == {
        "DB_HOST": {"Ref": "DatabaseHost"},
        "DB_PORT": {"Ref": "DatabasePort"},
        "TMPDIR": "/var/lib/mysql",  # where the client's option file lives for a moment
    }
    assert "ssl-mode=REQUIRED" in setup["Command"][0]  # in the client's option file
    # hardened like every container: not root, read-only root, no capabilities, one scratch dir.
    # Fargate gives a bind mount the image's owner and mode only at a path the image declares a
    # VOLUME: in the mysql image that is /var/lib/mysql (user 999 may write it), never /tmp.
    assert setup["User"] == "999:999" and setup["ReadonlyRootFilesystem"] is True
    assert setup["LinuxParameters"]["Capabilities"] == {"Drop": ["ALL"]}
    assert setup["MountPoints"] == [
        {"ContainerPath": "/var/lib/mysql", "ReadOnly": False, "SourceVolume": "database-user-tmp"}
    ]
    assert {"Name": "database-user-tmp"} in task["Volumes"]
    assert setup["LogConfiguration"]["Options"]["awslogs-stream-prefix"] == "release"
    # its execution role reads both secrets, each once
    reads = secret_reads(dev["release-phase.json"], "ReleaseExecutionRole")
    assert reads.count({"Ref": "DatabaseSecretArn"}) == 1
    assert reads.count({"Ref": "DatabaseAppSecretArn"}) == 1


def test_the_custom_resource_runs_again_when_the_app_secret_is_regenerated(sample_root) -> None:
    before = templates_of(sample_root, "dev")["release-phase.json"]["Resources"]["ReleasePhase"]
    props = before["Properties"]
    assert props["Steps"] == ["database-user", "web"]
    assert props["Container"] == "web"
    edit_yaml(sample_root / "app.yaml", lambda app: app["database"].update(app_username="shop"))
    after = templates_of(sample_root, "dev")["release-phase.json"]["Resources"]["ReleasePhase"]
    assert after["Properties"]["AppSecretVersion"] != props["AppSecretVersion"]


def test_a_database_without_release_still_runs_the_user_setup_step_alone(sample_root) -> None:
    """A user without migrations still needs the app user before the services start."""
    edit_yaml(sample_root / "app.yaml", lambda app: app.pop("release"))
    templates = templates_of(sample_root, "dev")
    release = templates["release-phase.json"]["Resources"]
    (setup,) = release["ReleaseTaskDefinition"]["Properties"]["ContainerDefinitions"]
    assert setup["Name"] == "database-user"
    props = release["ReleasePhase"]["Properties"]
    assert props["Steps"] == ["database-user"] and "Container" not in props
    assert secret_reads(templates["release-phase.json"], "ReleaseExecutionRole") == [
        {"Ref": "DatabaseSecretArn"},
        {"Ref": "DatabaseAppSecretArn"},
    ]
    root = templates["root.json"]["Resources"]
    for name in ("WebStack", "WorkerStack", "SchedulerStack"):
        assert root[name]["DependsOn"] == ["ReleaseStack"]


def test_the_client_image_can_be_pinned_by_digest(sample_root) -> None:
    pinned = "public.ecr.aws/docker/library/mysql:8.4@sha256:" + "a" * 64
    edit_yaml(sample_root / "app.yaml", lambda app: app["database"].update(client_image=pinned))
    release = templates_of(sample_root, "dev")["release-phase.json"]["Resources"]
    setup = release["ReleaseTaskDefinition"]["Properties"]["ContainerDefinitions"][0]
    assert setup["Image"] == pinned
