"""A change set that would replace a resource whose name the template fixes (an ECS service's
ServiceName) cannot be applied: CloudFormation creates the replacement first and the name is
taken. The plan refuses it up front, naming the resource, the property and the fix."""

from __future__ import annotations

import copy
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from factorstack.deploy.decide.named_replacement import named_replacements
from factorstack.deploy.decide.review import Row
from factorstack.deploy.plan import run_plan
from factorstack.deploy.present.plan_files import REFUSED, read_note
from factorstack.errors import GuardRefusal
from tests.support.deploying import context
from tests.support.fake_aws import FakeAws, change, change_set, stack, stack_id
from tests.support.fixture_build import FixtureProject
from tests.support.sample import REPO
from tests.support.templates import templates_of

STACK_NAME = "example-dev"
STACK = "AWS::CloudFormation::Stack"
SERVICE = "AWS::ECS::Service"


@pytest.fixture(scope="module")
def new() -> dict[str, dict[str, Any]]:
    """The sample dev's templates by stack path, as the plan reads them."""
    files = templates_of(REPO, "dev")
    tree = {"": files["root.json"]}
    for logical, body in files["root.json"]["Resources"].items():
        if body["Type"] == STACK:
            tree[logical] = files[body["Properties"]["TemplateURL"]]
    return tree


def row(logical: str, kind: str, replacement: str, *causes: str) -> Row:
    return Row(f"{STACK_NAME}/WorkerStack", logical, kind, "Modify", replacement, causes)


def test_replacing_a_named_service_is_refused_in_one_line(new: dict[str, Any]) -> None:
    rows = [row("WorkerService", SERVICE, "True", "LaunchType")]
    assert named_replacements(rows, new, STACK_NAME) == [
        "example-dev/WorkerStack: WorkerService (AWS::ECS::Service) would be replaced "
        "(because LaunchType changed), but its ServiceName is fixed and CloudFormation cannot "
        "replace a resource with a fixed name: the update would fail and roll back (revert "
        "that change, or remove the resource in one plan and add it back in the next)"
    ]


@pytest.mark.parametrize(
    "rows",
    [
        [row("WorkerService", SERVICE, "False", "CapacityProviderStrategy")],  # in place
        [row("WorkerTaskDefinition", "AWS::ECS::TaskDefinition", "True", "Cpu")],  # no name
        [Row(f"{STACK_NAME}/WorkerStack", "WorkerService", SERVICE, "Add", "")],
        [Row(f"{STACK_NAME}/WorkerStack", "WorkerService", SERVICE, "Remove", "")],
    ],
    ids=["update-in-place", "unnamed-replacement", "add", "remove"],
)
def test_what_cloudformation_can_do_passes(new: dict[str, Any], rows: list[Row]) -> None:
    assert named_replacements(rows, new, STACK_NAME) == []


def test_a_conditional_replacement_of_a_named_group_is_refused_too(new: dict[str, Any]) -> None:
    rows = [row("WorkerLogGroup", "AWS::Logs::LogGroup", "Conditional")]
    rows = [replace(rows[0], stack=f"{STACK_NAME}/ClusterStack")]
    [line] = named_replacements(rows, new, STACK_NAME)
    assert line.startswith(
        "example-dev/ClusterStack: WorkerLogGroup (AWS::Logs::LogGroup) would be replaced, "
        "but its LogGroupName is fixed"
    )


def test_a_plan_whose_change_set_replaces_a_named_service_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)
    monkeypatch.delenv("IMAGE_TAG", raising=False)
    project = FixtureProject(tmp_path / "repo")
    project.resources("process-web.json")["WebService"] = {
        "Type": SERVICE,
        "Properties": {
            "ServiceName": "web",
            "TaskDefinition": {"Ref": "WebTaskDefinition"},
            "CapacityProviderStrategy": [{"CapacityProvider": "FARGATE", "Weight": 1}],
        },
    }
    project.write()
    aws = deployed(project)
    aws.change_sets.append(
        change_set(
            "fs-dev-x",
            STACK_NAME,
            [change("WebStack", STACK, "Modify", "False", nested="web-change-set")],
        )
    )
    aws.nested_change_sets["web-change-set"] = replace(
        change_set(
            "nested",
            "example-dev-WebStack-1",
            [change("WebService", SERVICE, "Modify", "True", ("LaunchType",))],
        ),
        change_set_id="web-change-set",
    )
    ctx, _ = context(project.root, lambda _target: aws)
    with pytest.raises(GuardRefusal) as refused:
        run_plan(ctx, [])
    assert refused.value.lines[0] == "plan refused: this change set cannot be applied:"
    assert refused.value.lines[1].startswith(
        "example-dev/WebStack: WebService (AWS::ECS::Service) would be replaced (because "
        "LaunchType changed), but its ServiceName is fixed"
    )
    assert aws.executed == [] and not (project.folder / "plan.json").exists()
    note = read_note(project.folder)
    assert note is not None and note.outcome == REFUSED  # apply finds nothing to apply


def deployed(project: FixtureProject) -> FakeAws:
    """The fixture, bootstrapped and deployed: root, network, data and web stacks."""
    aws = FakeAws()
    aws.engine_versions = {"mysql": ["8.0.43"]}
    bucket = {"ArtifactsBucketName": "example-artifacts"}
    aws.stacks["example-bootstrap"] = stack("example-bootstrap", "CREATE_COMPLETE", outputs=bucket)
    aws.stacks[STACK_NAME] = stack(
        STACK_NAME,
        "UPDATE_COMPLETE",
        last_updated="2026-11-26T12:00:00+00:00",
        parameters={"ImageTag": "v1"},
        tags={"app": "example"},
    )
    aws.nested[STACK_NAME] = {"": STACK_NAME}
    aws.templates[STACK_NAME] = project.templates["root.json"]
    files = {
        "NetworkStack": "network.json",
        "DataStack": "data.json",
        "WebStack": "process-web.json",
    }
    for path, name in files.items():
        nested = f"example-dev-{path}-1"
        aws.stacks[nested] = stack(nested, "UPDATE_COMPLETE", parameters={"VpcId": "vpc-1"})
        aws.nested[STACK_NAME][path] = stack_id(nested)
        aws.templates[stack_id(nested)] = copy.deepcopy(project.templates[name])
    return aws
