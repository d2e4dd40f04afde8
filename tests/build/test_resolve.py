"""One environment's view of shared child templates: what the policy gate, the cost estimate,
the preflight and the tests read. A wrong view would hide a value from every one of them."""

from __future__ import annotations

from typing import Any

from factorstack.build.resolve import resolve, resolve_set, resolve_tree

FLAG = {"Type": "String", "AllowedValues": ["true", "false"]}
CHILD: dict[str, Any] = {
    "Parameters": {
        "Cpu": {"Type": "String"},
        "Nodes": {"Type": "Number"},
        "MultiAz": FLAG,
        "EnvironmentName": {"Type": "String"},
        "CertificateArn": {"Type": "String"},
        "VpcId": {"Type": "String"},
    },
    "Conditions": {
        "MultiAzOn": {"Fn::Equals": [{"Ref": "MultiAz"}, "true"]},
        "HasCertificate": {"Fn::Not": [{"Fn::Equals": [{"Ref": "CertificateArn"}, ""]}]},
        "Both": {"Fn::And": [{"Condition": "MultiAzOn"}, {"Condition": "HasCertificate"}]},
        "Either": {"Fn::Or": [{"Condition": "MultiAzOn"}, {"Condition": "HasCertificate"}]},
    },
    "Resources": {
        "Task": {
            "Type": "AWS::ECS::TaskDefinition",
            "Properties": {
                "Cpu": {"Ref": "Cpu"},
                "Family": {"Fn::Sub": "example-${EnvironmentName}-web"},
                "Tags": [
                    {"Key": "a", "Value": "b"},
                    {
                        "Fn::If": [
                            "MultiAzOn",
                            {"Key": "ha", "Value": "yes"},
                            {"Ref": "AWS::NoValue"},
                        ]
                    },
                ],
            },
        },
        "Cache": {
            "Type": "AWS::ElastiCache::ReplicationGroup",
            "Properties": {
                "NumCacheClusters": {"Ref": "Nodes"},
                "MultiAZEnabled": {"Ref": "MultiAz"},
                "AutomaticFailoverEnabled": {"Fn::If": ["MultiAzOn", True, False]},
                "SecurityGroupIds": [{"Ref": "VpcId"}],
            },
        },
        "Listener": {
            "Type": "AWS::ElasticLoadBalancingV2::Listener",
            "Condition": "HasCertificate",
        },
        "Pair": {"Type": "AWS::SNS::Topic", "Condition": "Both"},
        "Any": {"Type": "AWS::SNS::Topic", "Condition": "Either"},
        "Group": {
            "Type": "AWS::Logs::LogGroup",
            "Properties": {
                "LogGroupName": {
                    "Fn::Sub": [
                        "/example/${EnvironmentName}/web-${StackSuffix}",
                        {"StackSuffix": {"Fn::Select": [0, {"Ref": "AWS::StackId"}]}},
                    ]
                }
            },
        },
    },
    "Outputs": {"Url": {"Condition": "HasCertificate", "Value": "https://example.com"}},
}
DEV = {
    "Cpu": "256",
    "Nodes": "1",
    "MultiAz": "false",
    "EnvironmentName": "dev",
    "CertificateArn": "",
}
PROD = {
    **DEV,
    "Nodes": "2",
    "MultiAz": "true",
    "EnvironmentName": "prod",
    "CertificateArn": "arn:c",
}


def test_values_arrive_typed_as_the_property_reads_them() -> None:
    dev = resolve(CHILD, DEV)["Resources"]
    assert dev["Task"]["Properties"]["Cpu"] == "256"  # a String setting stays text
    assert dev["Cache"]["Properties"]["NumCacheClusters"] == 1  # a Number is a number
    assert dev["Cache"]["Properties"]["MultiAZEnabled"] is False  # a flag is a bool


def test_conditions_decide_resources_outputs_branches_and_list_items() -> None:
    dev, prod = resolve(CHILD, DEV), resolve(CHILD, PROD)
    assert {"Listener", "Pair", "Any"}.isdisjoint(dev["Resources"])
    assert "Outputs" not in dev or "Url" not in dev["Outputs"]
    assert {"Listener", "Pair", "Any"} <= set(prod["Resources"])
    assert "Condition" not in prod["Resources"]["Listener"]
    assert prod["Outputs"]["Url"] == {"Value": "https://example.com"}
    assert dev["Resources"]["Task"]["Properties"]["Tags"] == [{"Key": "a", "Value": "b"}]
    assert prod["Resources"]["Task"]["Properties"]["Tags"][1] == {"Key": "ha", "Value": "yes"}
    assert dev["Resources"]["Cache"]["Properties"]["AutomaticFailoverEnabled"] is False
    assert prod["Resources"]["Cache"]["Properties"]["AutomaticFailoverEnabled"] is True


def test_subs_are_filled_and_a_fully_known_one_becomes_its_text() -> None:
    dev = resolve(CHILD, DEV)["Resources"]
    assert dev["Task"]["Properties"]["Family"] == "example-dev-web"
    assert dev["Group"]["Properties"]["LogGroupName"] == {
        "Fn::Sub": [
            "/example/dev/web-${StackSuffix}",
            {"StackSuffix": {"Fn::Select": [0, {"Ref": "AWS::StackId"}]}},
        ]
    }


def test_what_only_a_deploy_knows_stays_as_written() -> None:
    dev = resolve(CHILD, DEV)
    assert dev["Resources"]["Cache"]["Properties"]["SecurityGroupIds"] == [{"Ref": "VpcId"}]
    assert set(dev["Parameters"]) == {"VpcId"}  # the known ones are gone
    assert "Conditions" not in dev  # every condition was decided


def test_a_condition_on_an_unknown_value_is_left_for_cloudformation() -> None:
    partial = resolve(CHILD, {k: v for k, v in DEV.items() if k != "CertificateArn"})
    assert "Listener" in partial["Resources"]  # HasCertificate is unknown: kept, still guarded
    assert partial["Resources"]["Listener"]["Condition"] == "HasCertificate"
    assert "Pair" not in partial["Resources"]  # false AND unknown is false
    assert set(partial["Conditions"]) == {"HasCertificate", "Either"}


def test_without_substitution_only_conditions_are_decided() -> None:
    dev = resolve(CHILD, DEV, substitute=False)
    assert "Listener" not in dev["Resources"]
    assert dev["Resources"]["Task"]["Properties"]["Cpu"] == {"Ref": "Cpu"}
    assert "Cpu" in dev["Parameters"]


def _root(values: dict[str, str]) -> dict[str, Any]:
    passed = {**values, "VpcId": {"Fn::GetAtt": ["NetworkStack", "Outputs.VpcId"]}}
    stack = {
        "Type": "AWS::CloudFormation::Stack",
        "Properties": {"TemplateURL": "web.json", "Parameters": passed},
    }
    return {"Resources": {"WebStack": stack}}


def test_a_set_reads_each_child_with_what_its_root_passes() -> None:
    views = resolve_set({"root.json": _root(PROD), "web.json": CHILD})
    assert views["web.json"]["Resources"]["Task"]["Properties"]["Family"] == "example-prod-web"
    assert views["root.json"] == _root(PROD)  # the root itself is left as written


def test_a_tree_by_stack_path_reads_the_same_way() -> None:
    views = resolve_tree({"": _root(DEV), "WebStack": CHILD})
    assert "Listener" not in views["WebStack"]["Resources"]
    assert views["WebStack"]["Resources"]["Cache"]["Properties"]["NumCacheClusters"] == 1


def test_text_reads_a_number_as_it_was_passed() -> None:
    """CloudFormation compares and substitutes the text passed: "10.0" is not "10" there, even
    though the property reading it gets the number 10."""
    child = {
        "Parameters": {"Threshold": {"Type": "Number"}},
        "Conditions": {"IsTen": {"Fn::Equals": [{"Ref": "Threshold"}, "10"]}},
        "Resources": {
            "Alarm": {
                "Type": "AWS::CloudWatch::Alarm",
                "Properties": {
                    "Threshold": {"Ref": "Threshold"},
                    "AlarmDescription": {"Fn::Sub": "above ${Threshold}"},
                },
            },
            "Ten": {"Type": "AWS::SNS::Topic", "Condition": "IsTen"},
        },
    }
    view = resolve(child, {"Threshold": "10.0"})["Resources"]
    assert view["Alarm"]["Properties"] == {"Threshold": 10, "AlarmDescription": "above 10.0"}
    assert "Ten" not in view
    assert "Ten" in resolve(child, {"Threshold": "10"})["Resources"]
