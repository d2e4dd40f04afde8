"""The offline guard on shared child templates (issue 11 item 4): a value that moved into a
root-passed parameter, or a resource behind a condition, is judged as the environment runs it,
so parameterising the children weakens no protection."""

from __future__ import annotations

import copy
from typing import Any

from factorstack.deploy.decide import guard
from factorstack.deploy.decide.guard import DeployedStack

STACK = "AWS::CloudFormation::Stack"
FLAG = {"Type": "String", "AllowedValues": ["true", "false"]}


def _root(passed: dict[str, Any]) -> dict[str, Any]:
    return {
        "Resources": {
            "Data": {
                "Type": STACK,
                "Properties": {"TemplateURL": "data.json", "Parameters": passed},
            }
        }
    }


def _deployed(
    tree: dict[str, dict[str, Any]], values: dict[str, dict[str, str]]
) -> dict[str, DeployedStack]:
    return {
        path: DeployedStack(copy.deepcopy(t), parameters=lambda p=path: values.get(p, {}))
        for path, t in tree.items()
    }


def _findings(old: dict[str, dict[str, Any]], new: dict[str, dict[str, Any]], values=None):
    found = guard.predict_tree("app", _deployed(old, values or {}), new)
    return {(f.stack, f.logical_id): f.reasons for f in found}


def _literal_database(name: str) -> dict[str, dict[str, Any]]:
    """A child as built before sharing: the environment's value written into the template."""
    database = {"Type": "AWS::RDS::DBInstance", "Properties": {"DBName": name, "Engine": "mysql"}}
    return {"": _root({}), "Data": {"Resources": {"Db": database}}}


def _shared_database(passed: str) -> dict[str, dict[str, Any]]:
    """The same child shared: the value arrives as a parameter the root passes."""
    database = {
        "Type": "AWS::RDS::DBInstance",
        "Properties": {"DBName": {"Ref": "DbName"}, "Engine": "mysql"},
    }
    child = {"Parameters": {"DbName": {"Type": "String"}}, "Resources": {"Db": database}}
    return {"": _root({"DbName": passed}), "Data": child}


def test_moving_a_value_into_a_parameter_with_the_same_value_is_no_change() -> None:
    assert _findings(_literal_database("shop"), _shared_database("shop")) == {}


def test_moving_a_value_into_a_parameter_with_another_value_still_replaces() -> None:
    found = _findings(_literal_database("shop"), _shared_database("store"))
    assert list(found) == [("app/Data", "Db")]
    assert "DBName" in found[("app/Data", "Db")][0]


def _guarded_group(passed: str) -> dict[str, dict[str, Any]]:
    """A log group that exists only where the root passes Keep=true."""
    child = {
        "Parameters": {"Keep": FLAG},
        "Conditions": {"KeepOn": {"Fn::Equals": [{"Ref": "Keep"}, "true"]}},
        "Resources": {"Logs": {"Type": "AWS::Logs::LogGroup", "Condition": "KeepOn"}},
    }
    return {"": _root({"Keep": passed}), "Data": child}


def test_a_stateful_resource_its_condition_turns_off_counts_as_removed() -> None:
    old = {"": _root({}), "Data": {"Resources": {"Logs": {"Type": "AWS::Logs::LogGroup"}}}}
    found = _findings(old, _guarded_group("false"))
    assert list(found) == [("app/Data", "Logs")]
    assert _findings(old, _guarded_group("true")) == {}


def test_a_resource_its_condition_kept_out_was_never_deployed() -> None:
    """Deployed with Keep=false, the group never existed: building it now removes nothing."""
    assert _findings(_guarded_group("false"), _guarded_group("true")) == {}
    assert _findings(_guarded_group("false"), _guarded_group("false")) == {}


def _branch_database(replicated: str) -> dict[str, dict[str, Any]]:
    """A create-only property chosen by Fn::If on a root-passed flag."""
    database = {
        "Type": "AWS::RDS::DBInstance",
        "Properties": {"DBName": {"Fn::If": ["BigOn", "big", "small"]}, "Engine": "mysql"},
    }
    child = {
        "Parameters": {"Big": FLAG},
        "Conditions": {"BigOn": {"Fn::Equals": [{"Ref": "Big"}, "true"]}},
        "Resources": {"Db": database},
    }
    return {"": _root({"Big": replicated}), "Data": child}


def test_an_if_is_judged_by_the_branch_each_side_takes() -> None:
    assert _findings(_literal_database("small"), _branch_database("false")) == {}
    found = _findings(_branch_database("false"), _branch_database("true"))
    assert list(found) == [("app/Data", "Db")]
