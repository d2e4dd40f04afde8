"""An update of a stack keeps its un-named ECS cluster and the services in it, as AWS does (only
a new ClusterName replaces a cluster): the local endpoint must not lose them, or `status` after
staging's deletion-protection follow-up says its services are not found in ECS."""

from __future__ import annotations

import json

import boto3

from factorstack.deploy.local.server import LocalAws


def _template(insights: str, description: str) -> str:
    return json.dumps(
        {
            "Description": description,
            "Resources": {
                "Cluster": {
                    "Type": "AWS::ECS::Cluster",
                    "Properties": {
                        "ClusterSettings": [{"Name": "containerInsights", "Value": insights}]
                    },
                },
                "Task": {
                    "Type": "AWS::ECS::TaskDefinition",
                    "Properties": {
                        "Family": "web",
                        "ContainerDefinitions": [{"Name": "web", "Image": "web:v1", "Memory": 512}],
                    },
                },
                "Service": {
                    "Type": "AWS::ECS::Service",
                    "Properties": {
                        "Cluster": {"Ref": "Cluster"},
                        "ServiceName": "web",
                        "TaskDefinition": {"Ref": "Task"},
                        "DesiredCount": 1,
                    },
                },
            },
        }
    )


def _cluster_and_services(cloudformation, ecs) -> tuple[str, list[str]]:
    [resource] = [
        r
        for r in cloudformation.describe_stack_resources(StackName="c")["StackResources"]
        if r["LogicalResourceId"] == "Cluster"
    ]
    cluster = resource["PhysicalResourceId"]
    return cluster, ecs.list_services(cluster=cluster)["serviceArns"]


def test_an_update_keeps_the_unnamed_cluster_and_its_services(local_aws: LocalAws) -> None:
    cloudformation = boto3.client("cloudformation")
    ecs = boto3.client("ecs")
    cloudformation.create_stack(StackName="c", TemplateBody=_template("disabled", "one"))
    before, services = _cluster_and_services(cloudformation, ecs)
    assert len(services) == 1

    cloudformation.update_stack(StackName="c", TemplateBody=_template("enabled", "two"))

    after, services_after = _cluster_and_services(cloudformation, ecs)
    assert after == before
    assert services_after == services
    [cluster] = ecs.describe_clusters(clusters=[after], include=["SETTINGS"])["clusters"]
    assert cluster["status"] == "ACTIVE"
    assert cluster["settings"] == [{"name": "containerInsights", "value": "enabled"}]


def _child_template() -> str:
    template = json.loads(_template("disabled", "child"))
    template["Parameters"] = {"Insights": {"Type": "String"}}
    settings = template["Resources"]["Cluster"]["Properties"]["ClusterSettings"]
    settings[0]["Value"] = {"Ref": "Insights"}
    template["Outputs"] = {"ClusterName": {"Value": {"Ref": "Cluster"}}}
    return json.dumps(template)


def _root_template(insights: str) -> str:
    url = "https://nested.s3.eu-west-1.amazonaws.com/child.json"
    return json.dumps(
        {
            "Resources": {
                "Child": {
                    "Type": "AWS::CloudFormation::Stack",
                    "Properties": {"TemplateURL": url, "Parameters": {"Insights": insights}},
                }
            },
            "Outputs": {"ClusterName": {"Value": {"Fn::GetAtt": ["Child", "Outputs.ClusterName"]}}},
        }
    )


def test_an_update_of_a_nested_stack_keeps_it_and_what_it_holds(local_aws: LocalAws) -> None:
    """AWS updates a nested stack where it is; the root's outputs still name the cluster
    whose services were made in it (staging's deletion-protection follow-up is such an
    update)."""
    s3 = boto3.client("s3")
    s3.create_bucket(Bucket="nested", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    s3.put_object(Bucket="nested", Key="child.json", Body=_child_template().encode())
    cloudformation = boto3.client("cloudformation")
    ecs = boto3.client("ecs")
    cloudformation.create_stack(StackName="root", TemplateBody=_root_template("disabled"))

    def child_and_cluster() -> tuple[str, str]:
        [child] = cloudformation.describe_stack_resources(StackName="root")["StackResources"]
        [stack] = cloudformation.describe_stacks(StackName="root")["Stacks"]
        outputs = {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs") or []}
        return child["PhysicalResourceId"], outputs["ClusterName"]

    child_before, cluster_before = child_and_cluster()
    cloudformation.update_stack(StackName="root", TemplateBody=_root_template("enabled"))

    child_after, cluster_after = child_and_cluster()
    assert (child_after, cluster_after) == (child_before, cluster_before)
    assert len(ecs.list_services(cluster=cluster_after)["serviceArns"]) == 1
    [cluster] = ecs.describe_clusters(clusters=[cluster_after], include=["SETTINGS"])["clusters"]
    assert cluster["settings"] == [{"name": "containerInsights", "value": "enabled"}]
