"""One review over nested change sets, and the guard's decisions on it (AWS-shaped responses)."""

from __future__ import annotations

import copy

import pytest

from factorstack.deploy.aws.change_sets import change_set_from_api
from factorstack.deploy.decide import guard
from factorstack.deploy.decide.review import walk
from factorstack.deploy.flow import review_change_set
from factorstack.deploy.present.review import markdown
from factorstack.errors import EXIT_GUARD, GuardRefusal
from tests.support.aws_answers import (
    change_set,
    change_set_arn,
    detail,
    resource_change,
)
from tests.support.stubbed_aws import stubbed

STACK = "AWS::CloudFormation::Stack"
NESTED_DATA = change_set_arn("example-dev-DataStack-1AB2C3-fs-dev", "bbbb")
NESTED_WEB = change_set_arn("example-dev-WebStack-9XY8Z7-fs-dev", "cccc")
ROOT_ID = change_set_arn("fs-dev-0123456789ab")

ROOT = change_set(
    "fs-dev-0123456789ab",
    "example-dev",
    [
        resource_change("DataStack", STACK, "Modify", "False", nested=NESTED_DATA),
        resource_change("WebStack", STACK, "Modify", "False", nested=NESTED_WEB),
    ],
    cs_id=ROOT_ID,
)
DATA = change_set(
    "example-dev-DataStack-1AB2C3-fs-dev",
    "example-dev-DataStack-1AB2C3",
    [
        resource_change(
            "Database",
            "AWS::RDS::DBInstance",
            "Modify",
            "True",
            [detail("DBName", "Always"), detail("AllocatedStorage", "Never")],
        ),
        resource_change(
            "Cache",
            "AWS::ElastiCache::ReplicationGroup",
            "Modify",
            "Conditional",
            [detail("Port", "Conditionally", "Dynamic")],
        ),
        resource_change("DatabaseSecret", "AWS::SecretsManager::Secret", "Remove"),
    ],
    cs_id=NESTED_DATA,
    parent=ROOT_ID,
)
WEB = change_set(
    "example-dev-WebStack-9XY8Z7-fs-dev",
    "example-dev-WebStack-9XY8Z7",
    [
        resource_change(
            "WebTaskDefinition",
            "AWS::ECS::TaskDefinition",
            "Modify",
            "True",
            [detail("Cpu", "Always")],
        ),
        resource_change("WebService", "AWS::ECS::Service", "Modify", "False"),
    ],
    cs_id=NESTED_WEB,
    parent=ROOT_ID,
)


def reviewed():
    aws, stub = stubbed("cloudformation")
    with stub:
        stub.add_response(
            "describe_change_set", copy.deepcopy(DATA), {"ChangeSetName": NESTED_DATA}
        )
        stub.add_response("describe_change_set", copy.deepcopy(WEB), {"ChangeSetName": NESTED_WEB})
        review = review_change_set(aws, change_set_from_api([copy.deepcopy(ROOT)]))
        stub.assert_no_pending_responses()
    return review


def test_walks_every_nested_change_set_into_one_table() -> None:
    review = reviewed()
    table = [(r.stack, r.logical_id, r.action, r.replacement, r.causes) for r in review.rows]
    assert table == [
        ("example-dev", "DataStack", "Modify", "False", ()),
        ("example-dev/DataStack", "Database", "Modify", "True", ("DBName",)),
        ("example-dev/DataStack", "Cache", "Modify", "Conditional", ("Port",)),
        ("example-dev/DataStack", "DatabaseSecret", "Remove", "", ()),
        ("example-dev", "WebStack", "Modify", "False", ()),
        ("example-dev/WebStack", "WebTaskDefinition", "Modify", "True", ("Cpu",)),
        ("example-dev/WebStack", "WebService", "Modify", "False", ()),
    ]
    assert review.counts() == {"Modify": 6, "Remove": 1}
    assert review.nested_change_set_ids == {
        "example-dev/DataStack": NESTED_DATA,
        "example-dev/WebStack": NESTED_WEB,
    }
    assert review.console_link.startswith(
        "https://eu-west-1.console.aws.amazon.com/cloudformation/home?region=eu-west-1#/stacks/"
        "changesets/changes?stackId=arn%3Aaws%3Acloudformation"
    )
    assert "changeSetId=arn%3Aaws%3Acloudformation%3Aeu-west-1" in review.console_link


def test_markdown_table() -> None:
    text = markdown(reviewed(), ["- a guard line"])
    assert "| Stack | Logical id | Type | Action | Replacement | Caused by |" in text
    assert (
        "| example-dev/DataStack | Database | AWS::RDS::DBInstance | Modify | True | DBName |"
        in text
    )
    assert "**6 Modify, 1 Remove**" in text
    assert text.rstrip().endswith("- a guard line")


def test_guard_names_each_stateful_resource_and_its_cause() -> None:
    findings = guard.findings_from_rows(reviewed().rows)
    assert [f.line() for f in findings] == [
        "example-dev/DataStack: Database (AWS::RDS::DBInstance): "
        "replaced (Replacement True) by DBName",
        "example-dev/DataStack: Cache (AWS::ElastiCache::ReplicationGroup): "
        "replaced (Replacement Conditional) by Port",
        "example-dev/DataStack: DatabaseSecret (AWS::SecretsManager::Secret): removed",
    ]  # the task definition is replaced too, but holds no data
    with pytest.raises(GuardRefusal) as refused:
        guard.enforce(guard.judge(findings, ["Database"]), print)
    assert refused.value.exit_code == EXIT_GUARD
    blocked = refused.value.lines[1:-1]
    assert [line.split(": ")[1].split(" (")[0] for line in blocked] == ["Cache", "DatabaseSecret"]
    assert "--allow-replace Cache --allow-replace DatabaseSecret" in refused.value.lines[-1]


def test_guard_lets_named_resources_through() -> None:
    findings = guard.findings_from_rows(reviewed().rows)
    lines = guard.enforce(guard.judge(findings, ["Database", "Cache", "DatabaseSecret"]), print)
    assert len(lines) == 3 and all(line.startswith("allowed by --allow-replace") for line in lines)


def test_a_misspelt_allow_replace_is_a_warning_and_still_refused() -> None:
    findings = guard.findings_from_rows(reviewed().rows)
    said: list[str] = []
    with pytest.raises(GuardRefusal):
        guard.enforce(guard.judge(findings, ["Databse", "Cache", "DatabaseSecret"]), said.append)
    assert said[0] == (
        "warning: --allow-replace Databse: nothing of that id is removed or replaced in this "
        "change set (check its spelling)"
    )
    assert not any("Cache:" in line and "warning" in line for line in said)


def test_removing_the_database_is_refused() -> None:
    root = change_set(
        "fs-dev-x",
        "example-dev",
        [resource_change("Database", "AWS::RDS::DBInstance", "Remove")],
    )
    review = walk(
        change_set_from_api([root]), lambda _id: pytest.fail("no nested here"), "eu-west-1"
    )
    with pytest.raises(GuardRefusal, match="removed"):
        guard.enforce(guard.judge(guard.findings_from_rows(review.rows), []), print)


DB = {
    "Type": "AWS::RDS::DBInstance",
    "Properties": {"DBName": "example", "AllocatedStorage": "20", "MasterUsername": "app"},
}


def template(**resources: dict) -> dict:
    return {"Resources": copy.deepcopy(resources)}


def test_offline_create_only_change_predicts_replacement() -> None:
    new = template(Database=DB)
    new["Resources"]["Database"]["Properties"]["DBName"] = "renamed"
    new["Resources"]["Database"]["Properties"]["AllocatedStorage"] = "40"  # updatable in place
    [finding] = guard.predict("example-dev/DataStack", template(Database=DB), new)
    assert finding.reasons == ["replaced (offline: create-only DBName changed)"]


def test_offline_nested_create_only_property() -> None:
    old = {"Type": "AWS::ElastiCache::ReplicationGroup", "Properties": {"Port": 6379}}
    new = {"Type": "AWS::ElastiCache::ReplicationGroup", "Properties": {"Port": 6380}}
    [finding] = guard.predict("s", template(Cache=old), template(Cache=new))
    assert "create-only Port changed" in finding.reasons[0]


def test_offline_removed_or_retyped_resources() -> None:
    log = {"Type": "AWS::Logs::LogGroup", "Properties": {"RetentionInDays": 7}}
    found = guard.predict("s", template(Database=DB, WebLogGroup=log), template(Database=DB))
    assert [(f.logical_id, f.reasons) for f in found] == [
        ("WebLogGroup", ["removed (offline: not in the new template)"])
    ]
    queue = {"Type": "AWS::SQS::Queue"}
    assert guard.predict("s", template(Q=queue), template()) == []  # not stateful
    gone = guard.predict("s", template(Database=DB), None)  # a whole nested stack removed
    assert gone[0].reasons == ["removed (offline: not in the new template)"]


def test_offline_ignores_unchanged_and_non_create_only() -> None:
    new = template(Database=DB)
    new["Resources"]["Database"]["Properties"]["AllocatedStorage"] = "100"
    assert guard.predict("s", template(Database=DB), new) == []


def test_merge_combines_both_sources_per_resource() -> None:
    online = [
        guard.Finding("s", "Database", "AWS::RDS::DBInstance", ["replaced (Replacement True)"])
    ]
    offline = [guard.Finding("s", "Database", "AWS::RDS::DBInstance", ["replaced (offline)"])]
    [merged] = guard.merge(online, offline)
    assert merged.reasons == ["replaced (Replacement True)", "replaced (offline)"]


NESTED_RELEASE = change_set_arn("example-dev-ReleaseStack-4DE5F6-fs-dev", "dddd")
RELEASE_ROOT = change_set(
    "fs-dev-0123456789ac",
    "example-dev",
    [resource_change("ReleaseStack", STACK, "Modify", "False", nested=NESTED_RELEASE)],
    cs_id=change_set_arn("fs-dev-0123456789ac"),
)
RELEASE = change_set(
    "example-dev-ReleaseStack-4DE5F6-fs-dev",
    "example-dev-ReleaseStack-4DE5F6",
    [
        resource_change(
            "ReleaseTaskDefinition",
            "AWS::ECS::TaskDefinition",
            "Modify",
            "True",
            [detail("ContainerDefinitions", "Always")],
        ),
        resource_change(
            "ReleasePhase",
            "Custom::ReleasePhase",
            "Modify",
            "False",
            [detail("TaskDefinition", "Never", "Dynamic")],
        ),
    ],
    cs_id=NESTED_RELEASE,
    parent=change_set_arn("fs-dev-0123456789ac"),
)


def test_a_new_release_shows_the_release_phase_as_a_row_of_the_review() -> None:
    """A new image is a new release task definition, hence an update of the custom resource
    that runs the release command once: the reviewer sees that row before applying."""
    aws, stub = stubbed("cloudformation")
    with stub:
        stub.add_response(
            "describe_change_set", copy.deepcopy(RELEASE), {"ChangeSetName": NESTED_RELEASE}
        )
        review = review_change_set(aws, change_set_from_api([copy.deepcopy(RELEASE_ROOT)]))
        stub.assert_no_pending_responses()
    text = markdown(review, [])
    assert (
        "| example-dev/ReleaseStack | ReleasePhase | Custom::ReleasePhase | Modify | False | - |"
    ) in text
    assert (
        "| example-dev/ReleaseStack | ReleaseTaskDefinition | AWS::ECS::TaskDefinition | Modify "
        "| True | ContainerDefinitions |"
    ) in text
    assert guard.findings_from_rows(review.rows) == []  # a release replaces nothing stateful
