"""The release phase in the templates: present when app.yaml has `release:`, ordered before every
service, running the named process's image with the release command, least privilege."""

from __future__ import annotations

import json
from pathlib import Path

from factorstack.build import build
from tests.support.sample import edit_yaml
from tests.support.templates import resources_of_type, templates_of

REPO = Path(__file__).resolve().parents[2]


def test_every_service_waits_for_the_release_phase() -> None:
    root = templates_of(REPO, "dev")["root.json"]["Resources"]
    assert root["ReleaseStack"]["Properties"]["TemplateURL"] == "release-phase.json"
    for name in ("WebStack", "WorkerStack", "SchedulerStack"):
        assert root[name]["DependsOn"] == ["ReleaseStack"]
    # after the data tier: it reads the database's outputs
    passed = json.dumps(root["ReleaseStack"]["Properties"]["Parameters"])
    assert '"DataStack", "Outputs.DatabaseSecretArn"' in passed


def test_the_release_task_runs_the_web_image_with_the_release_command() -> None:
    templates = templates_of(REPO, "dev")
    release = templates["release-phase.json"]["Resources"]
    task = release["ReleaseTaskDefinition"]["Properties"]
    container = task["ContainerDefinitions"][-1]  # after the database user step
    assert task["Family"] == "example-dev-release"
    assert container["Command"] == ["php", "artisan", "migrate", "--force"]
    assert "PortMappings" not in container
    web = templates["process-web.json"]["Resources"]["WebTaskDefinition"]["Properties"]
    (web_container,) = web["ContainerDefinitions"]
    assert container["Image"] == web_container["Image"]
    assert container["Secrets"] == web_container["Secrets"]
    assert container["Environment"] == web_container["Environment"]
    assert container["LogConfiguration"]["Options"]["awslogs-stream-prefix"] == "release"


def test_the_custom_resource_hands_the_handler_what_it_reads() -> None:
    release = templates_of(REPO, "dev")["release-phase.json"]["Resources"]
    phase = release["ReleasePhase"]
    assert phase["Type"] == "Custom::ReleasePhase"
    props = phase["Properties"]
    assert props["ServiceToken"] == {"Fn::GetAtt": ["ReleaseRunner", "Arn"]}
    assert props["TaskDefinition"] == {"Ref": "ReleaseTaskDefinition"}
    assert props["TimeoutSeconds"] == 15 * 60
    assert props["ServiceTimeout"] == 15 * 60 + 300  # CloudFormation outwaits the task
    assert (props["Container"], props["StreamPrefix"]) == ("web", "release")
    assert phase["DependsOn"] == ["ReleaseRunnerHandOver"]
    runner = release["ReleaseRunner"]["Properties"]
    assert runner["Timeout"] == 900 and runner["Handler"] == "index.handler"
    assert "def handler(event, context):" in runner["Code"]["ZipFile"]


TASK_DEFINITION_ARN = "arn:${AWS::Partition}:ecs:${AWS::Region}:${AWS::AccountId}:task-definition"


def test_the_runner_may_only_run_this_task_and_read_its_own_log_stream() -> None:
    release = templates_of(REPO, "dev")["release-phase.json"]["Resources"]
    (policy,) = release["ReleaseRunnerRole"]["Properties"]["Policies"]
    statements = {tuple(s["Action"]): s for s in policy["PolicyDocument"]["Statement"]}
    # The family, any revision: a release's new revision must not change the grant in the
    # update whose Lambda then runs it (IAM changes take a while to be seen).
    family = release["ReleaseTaskDefinition"]["Properties"]["Family"]
    assert family == "example-dev-release"
    assert statements[("ecs:RunTask",)]["Resource"] == [
        {"Fn::Sub": f"{TASK_DEFINITION_ARN}/{family}:*"}
    ]
    assert statements[("iam:PassRole",)]["Resource"] == [
        {"Fn::GetAtt": ["ReleaseExecutionRole", "Arn"]},
        {"Fn::GetAtt": ["ReleaseTaskRole", "Arn"]},
    ]
    logs = json.dumps(statements[("logs:GetLogEvents",)]["Resource"])
    assert ":log-stream:release/*" in logs
    assert statements[("cloudformation:DescribeStacks",)]["Resource"] == [{"Ref": "AWS::StackId"}]
    assert all(r != "*" for s in statements.values() for r in s["Resource"])
    hand_over = release["ReleaseRunnerHandOver"]["Properties"]["PolicyDocument"]["Statement"]
    assert hand_over == [
        {
            "Action": ["lambda:InvokeFunction"],
            "Effect": "Allow",
            "Resource": [{"Fn::GetAtt": ["ReleaseRunner", "Arn"]}],
        }
    ]


def test_without_release_or_database_there_is_no_release_stack(sample_root: Path) -> None:
    def drop_release_and_database(app: dict) -> None:
        app.pop("release")
        app.pop("database")
        for name in [n for n in app["environment"] if n.startswith("DB_")]:
            del app["environment"][name]

    edit_yaml(sample_root / "app.yaml", drop_release_and_database)
    templates = templates_of(sample_root, "dev")
    assert "release-phase.json" not in templates
    for stack in resources_of_type(templates["root.json"], "AWS::CloudFormation::Stack").values():
        assert "DependsOn" not in stack


def test_a_release_in_an_unknown_process_is_one_line(sample_root: Path, capsys) -> None:
    from factorstack.cli import main

    edit_yaml(sample_root / "app.yaml", lambda app: app["release"].update(process="migrator"))
    assert main(["build", "dev", "--root", str(sample_root), "--no-lint"]) == 2
    assert capsys.readouterr().err.strip() == (
        "app.yaml: release.process: 'migrator' is not a process (use scheduler, web or worker)"
    )


def test_the_release_stack_is_cfn_lint_clean(sample_root: Path) -> None:
    report = build(sample_root, ["dev"])
    assert "release-phase.json" in report.environments[0].files
