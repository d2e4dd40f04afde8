"""The offline guard follows values across the nested tree: parameters fed by replaced resources,
regenerated secrets read at deploy time, and major engine versions (templates rendered from the
sample app, or small dicts where a rule needs a shape the sample does not have)."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from factorstack.deploy.decide import guard
from factorstack.deploy.decide.guard import Change, DeployedStack, Link
from factorstack.deploy.plan import offline_findings
from tests.support.aws_answers import T0, stack, stack_arn
from tests.support.sample import edit_yaml
from tests.support.stubbed_aws import stubbed
from tests.support.templates import templates_of

STACK = "AWS::CloudFormation::Stack"
ROOT_VALUES = {"ImageTag": "v1"}

Templates = dict[str, dict[str, Any]]


def by_path(files: Templates) -> Templates:
    """Rendered files keyed by stack path, as plan's new_templates keys them."""
    root = files["root.json"]
    tree = {"": root}
    for logical_id, resource in root["Resources"].items():
        if resource["Type"] == STACK:
            tree[logical_id] = files[resource["Properties"]["TemplateURL"]]
    return tree


def deployed_parameters(tree: Templates) -> dict[str, dict[str, str]]:
    """Plausible deployed values: root parameters at their default (ImageTag v1); a child's
    parameter passed a root Ref holds that root value, any other a made-up id."""
    root = tree[""]
    values = {
        "": {
            name: str(spec.get("Default", ROOT_VALUES.get(name, "x")))
            for name, spec in (root.get("Parameters") or {}).items()
        }
    }
    for path, template in tree.items():
        if not path:
            continue
        passed = root["Resources"][path]["Properties"].get("Parameters") or {}
        values[path] = {
            name: values[""][expression["Ref"]]
            if isinstance(expression, dict) and "Ref" in expression
            else f"deployed-{path}-{name}"
            for name, expression in passed.items()
        }
        for name, spec in (template.get("Parameters") or {}).items():
            if name not in values[path] and "Default" in spec:
                values[path][name] = str(spec["Default"])
    return values


def deployed_tree(
    tree: Templates, values: dict[str, dict[str, str]] | None = None
) -> dict[str, DeployedStack]:
    values = values if values is not None else deployed_parameters(tree)
    return {
        path: DeployedStack(copy.deepcopy(template), parameters=lambda path=path: values[path])
        for path, template in tree.items()
    }


def findings(old: Templates, new: Templates) -> dict[tuple[str, str], list[str]]:
    """(stack, logical id) → reasons, for the tree deployed as `old` and built as `new`."""
    found = guard.predict_tree("example-dev", deployed_tree(old), new)
    return {(f.stack, f.logical_id): f.reasons for f in found}


def rendered(root: Path) -> Templates:
    return by_path(templates_of(root, "dev"))


def rendered_after(root: Path, file: str, change: Callable[[dict], None]) -> Templates:
    edit_yaml(root / file, change)
    return rendered(root)


DATA = "example-dev/DataStack"


def test_an_unchanged_build_has_no_findings(sample_root: Path) -> None:
    tree = rendered(sample_root)
    assert findings(tree, copy.deepcopy(tree)) == {}


def test_a_new_vpc_cidr_moves_the_database_and_the_cache(sample_root: Path) -> None:
    old = rendered(sample_root)
    new = rendered_after(
        sample_root, "environments/dev.yaml", lambda d: d["network"].update(cidr="10.20.0.0/16")
    )
    assert new["DataStack"] == old["DataStack"]  # nothing in the data template's text changes
    found = findings(old, new)
    assert sorted(found) == [(DATA, "Cache"), (DATA, "Database")]
    assert found[(DATA, "Database")] == [
        "moves: VPCSecurityGroups changes because DatabaseSecurityGroup is replaced "
        "(create-only VpcId changes) because parameter VpcId changes because "
        "NetworkStack/Vpc is replaced (create-only CidrBlock changed)"
    ]
    assert found[(DATA, "Cache")] == [
        "moves: SecurityGroupIds changes because CacheSecurityGroup is replaced "
        "(create-only VpcId changes) because parameter VpcId changes because "
        "NetworkStack/Vpc is replaced (create-only CidrBlock changed)"
    ]


def test_a_new_database_username_strands_the_database_and_regenerates_its_secret(
    sample_root: Path,
) -> None:
    old = rendered(sample_root)
    new = rendered_after(sample_root, "app.yaml", lambda d: d["database"].update(username="admin"))
    assert old["DataStack"]["Resources"]["Database"] == new["DataStack"]["Resources"]["Database"]
    found = findings(old, new)
    assert sorted(found) == [(DATA, "Database"), (DATA, "DatabaseSecret")]
    assert found[(DATA, "Database")] == [
        "MasterUserPassword, MasterUsername read from DatabaseSecret, whose generated value "
        "changes (GenerateSecretString changed): Database would keep the old credentials while "
        "tasks read the new",
        "replaced once CloudFormation resolves the new value "
        "(create-only MasterUsername reads DatabaseSecret)",
    ]
    assert found[(DATA, "DatabaseSecret")] == [
        "regenerated while Database reads it (GenerateSecretString changed)"
    ]


def test_a_regenerated_cache_token_strands_the_cache(sample_root: Path) -> None:
    old = rendered(sample_root)
    new = copy.deepcopy(old)
    new["DataStack"]["Resources"]["CacheSecret"]["Properties"]["GenerateSecretString"][
        "PasswordLength"
    ] = 48
    found = findings(old, new)
    assert sorted(found) == [(DATA, "Cache"), (DATA, "CacheSecret")]
    assert found[(DATA, "Cache")] == [
        "AuthToken read from CacheSecret, whose generated value changes (GenerateSecretString "
        "changed): Cache would keep the old credentials while tasks read the new"
    ]  # AuthToken can change in place: no replacement to announce
    assert found[(DATA, "CacheSecret")] == [
        "regenerated while Cache reads it (GenerateSecretString changed)"
    ]


def test_a_secret_whose_description_changes_keeps_its_value(sample_root: Path) -> None:
    old = rendered(sample_root)
    new = copy.deepcopy(old)
    new["DataStack"]["Resources"]["DatabaseSecret"]["Properties"]["Description"] = "renamed"
    assert findings(old, new) == {}


def _web_cpu(d: dict) -> None:
    d["processes"]["web"].update(cpu=512, memory=1024)


def _plain_variable(d: dict) -> None:
    d["environment"]["LOG_LEVEL"] = "info"


def _deletion_protection(d: dict) -> None:
    d["database"]["deletion_protection"] = True


@pytest.mark.parametrize(
    "change",
    [_web_cpu, _plain_variable, _deletion_protection],
    ids=["web cpu", "plain variable", "deletion protection"],
)
def test_changes_that_move_no_data_are_not_flagged(
    sample_root: Path, change: Callable[[dict], None]
) -> None:
    old = rendered(sample_root)
    new = rendered_after(sample_root, "environments/dev.yaml", change)
    assert new != old
    assert findings(old, new) == {}


def test_a_replaced_task_security_group_does_not_move_the_database(sample_root: Path) -> None:
    """The task group is replaced and the data tier's ingress rules follow it in place; the
    database and cache keep their own groups, so nothing about them moves."""
    old = rendered(sample_root)
    new = copy.deepcopy(old)
    groups = {
        logical_id: resource
        for logical_id, resource in new["ClusterStack"]["Resources"].items()
        if resource["Type"] == "AWS::EC2::SecurityGroup"
        and "VpcId" in resource["Properties"]
        and "SecurityGroupIngress" not in resource["Properties"]
    }
    [task_group] = groups.values()  # the group of every task: no inline ingress
    task_group["Properties"]["GroupDescription"] += " (renamed)"
    resolution = guard.Resolution(deployed_tree(old), new)
    assert resolution.parameter("DataStack", "ServiceSecurityGroupId") is not None
    assert findings(old, new) == {}


def test_a_major_engine_upgrade_is_flagged_and_a_minor_one_is_not(sample_root: Path) -> None:
    old = rendered(sample_root)
    database = old["DataStack"]["Resources"]["Database"]["Properties"]
    database["Engine"], database["EngineVersion"] = "mysql", "8.0.43"
    cache = old["DataStack"]["Resources"]["Cache"]["Properties"]
    cache["Engine"], cache["EngineVersion"] = "valkey", "7.2"
    new = copy.deepcopy(old)
    new["DataStack"]["Resources"]["Database"]["Properties"]["EngineVersion"] = "8.4"
    new["DataStack"]["Resources"]["Cache"]["Properties"]["EngineVersion"] = "8.2"
    found = findings(old, new)
    assert found[(DATA, "Database")] == [
        "major version upgrade 8.0 → 8.4 (irreversible; take a snapshot first)"
    ]
    assert found[(DATA, "Cache")] == [
        "major version upgrade 7 → 8 (irreversible; take a snapshot first)"
    ]

    minor = copy.deepcopy(old)
    minor["DataStack"]["Resources"]["Database"]["Properties"]["EngineVersion"] = "8.0.44"
    minor["DataStack"]["Resources"]["Cache"]["Properties"]["EngineVersion"] = "7.3"
    assert findings(old, minor) == {}


def test_a_new_parameter_group_family_names_the_upgrade_on_the_database(
    sample_root: Path,
) -> None:
    old = rendered(sample_root)
    resources = old["DataStack"]["Resources"]
    resources["Database"]["Properties"]["EngineVersion"] = "8.0.43"
    [family_holder] = [r for r in resources.values() if r["Type"] == "AWS::RDS::DBParameterGroup"]
    family_holder["Properties"]["Family"] = "mysql8.0"
    new = rendered(sample_root)
    assert new["DataStack"]["Resources"]["Database"]["Properties"]["EngineVersion"] == "8.4"
    reasons = findings(old, new)[(DATA, "Database")]
    assert "major version upgrade 8.0 → 8.4 (irreversible; take a snapshot first)" in reasons
    assert any(r.startswith("moves: DBParameterGroupName changes because ") for r in reasons)


def test_redis_to_valkey_is_flagged(sample_root: Path) -> None:
    old = rendered(sample_root)
    cache = old["DataStack"]["Resources"]["Cache"]["Properties"]
    cache["Engine"], cache["EngineVersion"] = "redis", "7.1"
    new = copy.deepcopy(old)
    new_cache = new["DataStack"]["Resources"]["Cache"]["Properties"]
    new_cache["Engine"], new_cache["EngineVersion"] = "valkey", "8.2"
    assert findings(old, new)[(DATA, "Cache")] == [
        "engine changes redis → valkey (irreversible; take a snapshot first)"
    ]


# --- small trees for rules the sample does not exercise ------------------------------------------


def _stack(url: str, parameters: dict[str, Any]) -> dict[str, Any]:
    return {"Type": STACK, "Properties": {"TemplateURL": url, "Parameters": parameters}}


def _named_database_tree(name: Any) -> Templates:
    root = {"Resources": {"Data": _stack("data.json", {"DbName": name})}}
    data = {
        "Parameters": {"DbName": {"Type": "String"}},
        "Resources": {
            "Db": {
                "Type": "AWS::RDS::DBInstance",
                "Properties": {"DBName": {"Ref": "DbName"}, "Engine": "mysql"},
            }
        },
    }
    return {"": root, "Data": data}


def test_a_literal_passed_into_a_create_only_property_replaces_the_resource() -> None:
    old, new = _named_database_tree("shop"), _named_database_tree("store")
    deployed = deployed_tree(old, {"": {}, "Data": {"DbName": "shop"}})
    [finding] = guard.predict_tree("app", deployed, new)
    assert (finding.stack, finding.logical_id) == ("app/Data", "Db")
    assert finding.reasons == [
        "replaced (offline: create-only DBName changes because parameter DbName gets a new value)"
    ]
    hidden = deployed_tree(old, {"": {}, "Data": {"DbName": "****"}})  # NoEcho: unknown
    assert guard.predict_tree("app", hidden, new) == []


def test_parameters_are_read_only_when_a_change_leads_there() -> None:
    tree = _named_database_tree("shop")
    reads: list[str] = []

    def values(path: str) -> Callable[[], dict[str, str]]:
        return lambda: reads.append(path) or {"DbName": "shop"}

    deployed = {path: DeployedStack(t, parameters=values(path)) for path, t in tree.items()}
    assert guard.predict_tree("app", deployed, copy.deepcopy(tree)) == []
    assert reads == []  # same text, nothing upstream changes: no describe_stacks needed


def test_a_replacement_two_stacks_down_names_its_root_cause() -> None:
    """Root → Outer (a replaced security group) → Inner, whose database uses that group."""
    root = {"Resources": {"Outer": _stack("outer.json", {})}}
    group = {"Type": "AWS::EC2::SecurityGroup", "Properties": {"GroupDescription": "db"}}
    outer = {
        "Resources": {
            "Group": group,
            "Inner": _stack("inner.json", {"GroupId": {"Fn::GetAtt": ["Group", "GroupId"]}}),
        }
    }
    database = {
        "Type": "AWS::RDS::DBInstance",
        "Properties": {
            "Engine": "mysql",
            "VPCSecurityGroups": [{"Fn::Sub": "${GroupId}"}],
            "Tags": [{"Key": "group", "Value": {"Ref": "GroupId"}}],
        },
    }
    inner = {"Parameters": {"GroupId": {"Type": "String"}}, "Resources": {"Db": database}}
    old = {"": root, "Outer": outer, "Outer/Inner": inner}
    new = copy.deepcopy(old)
    new["Outer"]["Resources"]["Group"]["Properties"]["GroupDescription"] = "database"
    deployed = deployed_tree(old, {path: {} for path in old})
    [finding] = guard.predict_tree("example-dev", deployed, new)
    assert (finding.stack, finding.logical_id) == ("example-dev/Outer/Inner", "Db")
    assert finding.reasons == [
        "moves: VPCSecurityGroups changes because parameter GroupId changes because "
        "Outer/Group is replaced (create-only GroupDescription changed)"
    ]  # Tags name the group too, but a label moves no data


def test_offline_findings_read_only_the_parameters_a_change_leads_to() -> None:
    """A root parameter's new Default reaches a create-only property two stacks away: plan reads
    the root's parameters (one describe_stacks) and no child's."""
    root = {
        "Parameters": {"DbName": {"Type": "String", "Default": "store"}},
        "Resources": {"Data": _stack("data.json", {"DbName": {"Ref": "DbName"}})},
    }
    deployed_root = copy.deepcopy(root)
    deployed_root["Parameters"]["DbName"]["Default"] = "shop"
    data = _named_database_tree("x")["Data"]
    physical = stack_arn("app-Data-1")
    aws, stub = stubbed("cloudformation")
    with stub:
        stub.add_response(
            "list_stack_resources",
            {
                "StackResourceSummaries": [
                    {
                        "LogicalResourceId": "Data",
                        "PhysicalResourceId": physical,
                        "ResourceType": STACK,
                        "LastUpdatedTimestamp": T0,
                        "ResourceStatus": "UPDATE_COMPLETE",
                    }
                ]
            },
            {"StackName": "app"},
        )
        stub.add_response("list_stack_resources", {"StackResourceSummaries": []})
        for name, body in (("app", deployed_root), (physical, data)):
            stub.add_response(
                "get_template",
                {"TemplateBody": json.dumps(body)},
                {"StackName": name, "TemplateStage": "Original"},
            )
        parameters = [{"ParameterKey": "DbName", "ParameterValue": "shop"}]
        stub.add_response(
            "describe_stacks",
            stack("app", "UPDATE_COMPLETE", Parameters=parameters),
            {"StackName": "app"},
        )
        [finding] = offline_findings(aws, "app", {"": root, "Data": data})
        stub.assert_no_pending_responses()
    assert (finding.stack, finding.logical_id) == ("app/Data", "Db")
    assert finding.reasons == [
        "replaced (offline: create-only DBName changes because parameter DbName changes "
        "because root parameter DbName gets a new value)"
    ]


# --- the pieces ----------------------------------------------------------------------------------


def test_references_follow_ref_getatt_and_sub() -> None:
    value = {
        "Fn::Join": [
            "",
            [
                {"Ref": "A"},
                {"Fn::GetAtt": ["B", "Outputs.X"]},
                {"Fn::GetAtt": "C.Arn"},
                {"Fn::Sub": ["${D}-${E.Id}-${!Literal}-${AWS::Region}-${V}", {"V": {"Ref": "F"}}]},
            ],
        ]
    }
    assert guard.references(value) == [
        ("A", None),
        ("B", "Outputs.X"),
        ("C", "Arn"),
        ("D", None),
        ("E", "Id"),
        ("AWS::Region", None),
        ("F", None),
    ]


def test_concrete_values() -> None:
    values = {"P": "b"}.get
    assert guard.concrete({"Fn::Join": [",", ["a", {"Ref": "P"}, 3, True]]}, values) == "a,b,3,true"
    assert guard.concrete({"Ref": "AWS::Region"}, values) is None
    assert guard.concrete({"Fn::GetAtt": ["X", "Y"]}, values) is None


@pytest.mark.parametrize(
    ("engine", "version", "major"),
    [
        ("mysql", "8.0.43", (8, 0)),
        ("mysql", "8.4", (8, 4)),
        ("aurora-mysql", "8.0.mysql_aurora.3.05.2", (8, 0)),
        ("postgres", "16.4", (16,)),
        ("postgres", "9.6.24", (9, 6)),
        ("redis", "7.1", (7,)),
        ("valkey", "8.2", (8,)),
        ("mysql", "latest", None),
    ],
)
def test_major_versions(engine: str, version: str, major: tuple[int, ...] | None) -> None:
    assert guard.major_version(engine, version) == major


def test_a_long_cause_keeps_its_first_steps_and_root_cause() -> None:
    links = tuple(Link("S", f"R{i}", "is replaced") for i in range(6))
    assert (
        guard.explain(Change(links, True).links, "S")
        == "R0 is replaced because R1 is replaced because … because R5 is replaced"
    )
    assert Link("", "P", "gets a new value", "parameter").text("Data") == (
        "root parameter P gets a new value"
    )
