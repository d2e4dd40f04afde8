"""The root's wiring, the network's tiers, the edge, and the logical ids that must never move."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.templates import resources_of_type, templates_of

REPO = Path(__file__).resolve().parents[2]

# Renaming one of these destroys the resource (and its data) on the next deploy.
PINNED_STATEFUL_IDS = {
    "data.json": {
        "Database": "AWS::RDS::DBInstance",
        "DatabaseSecret": "AWS::SecretsManager::Secret",
        "Cache": "AWS::ElastiCache::ReplicationGroup",
        "CacheSecret": "AWS::SecretsManager::Secret",
    },
    "cluster.json": {
        "WebLogGroup": "AWS::Logs::LogGroup",
        "WorkerLogGroup": "AWS::Logs::LogGroup",
        "SchedulerLogGroup": "AWS::Logs::LogGroup",
        "AccessLogsBucket": "AWS::S3::Bucket",
    },
    "network.json": {"FlowLogsLogGroup": "AWS::Logs::LogGroup"},
    "root.json": {
        "NetworkStack": "AWS::CloudFormation::Stack",
        "ClusterStack": "AWS::CloudFormation::Stack",
        "AlertsStack": "AWS::CloudFormation::Stack",
        "DataStack": "AWS::CloudFormation::Stack",
        "WebStack": "AWS::CloudFormation::Stack",
        "WorkerStack": "AWS::CloudFormation::Stack",
        "SchedulerStack": "AWS::CloudFormation::Stack",
        "AutoscalingStack": "AWS::CloudFormation::Stack",
    },
    "process-web.json": {"WebService": "AWS::ECS::Service"},
}
# Not stateful, but replacing one replaces or detaches what references it (tasks, database,
# cache, load balancer): their ids stay as they are too.
PINNED_REFERENCED_IDS = {
    "cluster.json": {
        "ServiceSecurityGroup": "AWS::EC2::SecurityGroup",
        "LoadBalancerSecurityGroup": "AWS::EC2::SecurityGroup",
        "TargetGroup": "AWS::ElasticLoadBalancingV2::TargetGroup",
    },
    "data.json": {
        "DatabaseSecurityGroup": "AWS::EC2::SecurityGroup",
        "CacheSecurityGroup": "AWS::EC2::SecurityGroup",
    },
    "network.json": {
        "Vpc": "AWS::EC2::VPC",
        "Private1RouteTable": "AWS::EC2::RouteTable",
        "IsolatedRouteTable": "AWS::EC2::RouteTable",
    },
}
STATEFUL_TYPES = {
    "AWS::RDS::DBInstance",
    "AWS::ElastiCache::ReplicationGroup",
    "AWS::SecretsManager::Secret",
    "AWS::Logs::LogGroup",
}


@pytest.fixture(scope="module", params=["dev", "staging", "prod"])
def env_templates(request) -> dict[str, dict]:
    return templates_of(REPO, request.param)


def test_stateful_logical_ids_are_pinned(env_templates):
    for file, expected in PINNED_STATEFUL_IDS.items():
        resources = env_templates[file]["Resources"]
        assert {name: resources[name]["Type"] for name in expected} == expected


def test_referenced_logical_ids_are_pinned(env_templates):
    for file, expected in PINNED_REFERENCED_IDS.items():
        resources = env_templates[file]["Resources"]
        assert {name: resources[name]["Type"] for name in expected} == expected


def test_every_stateful_resource_keeps_its_data(env_templates):
    # RetainExceptOnCreate: kept, unless the deploy that created it rolls back (then a named
    # log group left behind would block the next deploy).
    for template in env_templates.values():
        for name, resource in template["Resources"].items():
            if resource["Type"] in STATEFUL_TYPES:
                assert resource.get("DeletionPolicy") in {"RetainExceptOnCreate", "Snapshot"}, name
                assert resource.get("UpdateReplacePolicy") in {"Retain", "Snapshot"}, name


def test_root_children_use_local_template_files_that_exist(env_templates):
    stacks = resources_of_type(env_templates["root.json"], "AWS::CloudFormation::Stack")
    assert {s["Properties"]["TemplateURL"] for s in stacks.values()} == set(env_templates) - {
        "root.json"
    }


def test_children_exchange_values_only_through_the_root(env_templates):
    root = env_templates["root.json"]
    data = root["Resources"]["DataStack"]["Properties"]["Parameters"]
    assert data["ServiceSecurityGroupId"] == {
        "Fn::GetAtt": ["ClusterStack", "Outputs.ServiceSecurityGroupId"]
    }
    web = root["Resources"]["WebStack"]["Properties"]["Parameters"]
    assert web["ImageTag"] == {"Ref": "ImageTag"}
    assert web["DatabaseHost"] == {"Fn::GetAtt": ["DataStack", "Outputs.DatabaseHost"]}
    assert web["TargetGroupArn"] == {"Fn::GetAtt": ["ClusterStack", "Outputs.TargetGroupArn"]}
    scaling = root["Resources"]["AutoscalingStack"]["Properties"]["Parameters"]
    assert scaling["WebServiceName"] == {"Fn::GetAtt": ["WebStack", "Outputs.ServiceName"]}
    assert "SchedulerServiceName" not in scaling
    for name, template in env_templates.items():
        if name == "root.json":
            continue
        stacks = resources_of_type(template, "AWS::CloudFormation::Stack")
        assert not stacks, f"{name} nests stacks of its own"
        # every parameter a child declares is passed by the root (this view has already filled
        # in and dropped the literal settings; test_cluster_settings checks the written text)
        (child,) = [
            r for r in root["Resources"].values() if r["Properties"].get("TemplateURL") == name
        ]
        assert set(template.get("Parameters", {})) <= set(child["Properties"].get("Parameters", {}))


def test_root_outputs_name_the_url_cluster_services_and_log_groups(env_templates):
    outputs = env_templates["root.json"]["Outputs"]
    expected = {"AppUrl", "ClusterName", "LogGroupNames", "ImageTag"} | {
        f"{p}ServiceName" for p in ("Web", "Worker", "Scheduler")
    }
    if "AlarmTopic" in env_templates["alerts.json"]["Resources"]:
        expected.add("AlarmTopicArn")  # not in dev, which has no topic (notify.topic: false)
    assert set(outputs) == expected
    assert outputs["LogGroupNames"]["Value"] == {
        "Fn::Join": [
            ",",
            [
                {"Fn::GetAtt": ["ClusterStack", f"Outputs.{p}LogGroupName"]}
                for p in ("Web", "Worker", "Scheduler")
            ],
        ]
    }


def test_network_has_three_tiers_per_zone_and_nat_per_environment():
    # dev's one NAT is an instance (network.nat: instance), prod's three are gateways
    expectations = {"dev": (2, 1, "AWS::EC2::Instance"), "prod": (3, 3, "AWS::EC2::NatGateway")}
    for env, (zones, nats, nat_type) in expectations.items():
        network = templates_of(REPO, env)["network.json"]
        subnets = resources_of_type(network, "AWS::EC2::Subnet")
        tiers = sorted({s["Properties"]["Tags"][1]["Value"] for s in subnets.values()})
        assert tiers == ["isolated", "private", "public"]
        assert len(subnets) == 3 * zones
        assert len(resources_of_type(network, nat_type)) == nats
        assert resources_of_type(network, "AWS::EC2::FlowLog")


def test_isolated_subnets_have_no_route_out():
    network = templates_of(REPO, "prod")["network.json"]
    routes = resources_of_type(network, "AWS::EC2::Route")
    assert all(
        r["Properties"]["RouteTableId"] != {"Ref": "IsolatedRouteTable"} for r in routes.values()
    )


def test_dev_without_certificate_serves_plain_http():
    cluster = templates_of(REPO, "dev")["cluster.json"]
    listeners = resources_of_type(cluster, "AWS::ElasticLoadBalancingV2::Listener")
    assert list(listeners) == ["HttpListener"]
    assert listeners["HttpListener"]["Properties"]["DefaultActions"][0]["Type"] == "forward"
    ingress = cluster["Resources"]["LoadBalancerSecurityGroup"]["Properties"][
        "SecurityGroupIngress"
    ]
    assert [rule["FromPort"] for rule in ingress] == [80]


def test_prod_with_certificate_serves_tls13_and_redirects_http():
    cluster = templates_of(REPO, "prod")["cluster.json"]
    listeners = resources_of_type(cluster, "AWS::ElasticLoadBalancingV2::Listener")
    https = listeners["HttpsListener"]["Properties"]
    assert https["Protocol"] == "HTTPS"
    assert https["SslPolicy"].startswith("ELBSecurityPolicy-TLS13")
    redirect = listeners["HttpListener"]["Properties"]["DefaultActions"][0]
    assert redirect["Type"] == "redirect"
    assert redirect["RedirectConfig"]["Protocol"] == "HTTPS"
    ingress = cluster["Resources"]["LoadBalancerSecurityGroup"]["Properties"][
        "SecurityGroupIngress"
    ]
    assert sorted(rule["FromPort"] for rule in ingress) == [80, 443]


def test_target_group_is_ip_typed_and_probes_the_health_check():
    cluster = templates_of(REPO, "dev")["cluster.json"]
    target = cluster["Resources"]["TargetGroup"]["Properties"]
    assert target["TargetType"] == "ip"
    assert target["HealthCheckPath"] == "/api/health-check"


def test_cluster_has_container_insights_and_retained_log_groups():
    cluster = templates_of(REPO, "prod")["cluster.json"]
    settings = cluster["Resources"]["Cluster"]["Properties"]["ClusterSettings"]
    assert settings == [{"Name": "containerInsights", "Value": "enabled"}]
    group = cluster["Resources"]["WebLogGroup"]
    assert group["Properties"]["RetentionInDays"] == 365
    assert (group["DeletionPolicy"], group["UpdateReplacePolicy"]) == (
        "RetainExceptOnCreate",
        "Retain",
    )


STACK_SUFFIX = {
    "Fn::Select": [
        0,
        {"Fn::Split": ["-", {"Fn::Select": [2, {"Fn::Split": ["/", {"Ref": "AWS::StackId"}]}]}]},
    ]
}


@pytest.mark.parametrize(
    ("file", "group", "prefix"),
    [
        ("cluster.json", "WebLogGroup", "/example/dev/web-"),
        ("cluster.json", "SchedulerLogGroup", "/example/dev/scheduler-"),
        ("network.json", "FlowLogsLogGroup", "/example/dev/vpc-flow-logs-"),
    ],
)
def test_retained_log_groups_get_a_new_name_with_every_create(file, group, prefix):
    """A retained group outlives a deleted environment: a fixed name would make the next
    create of that environment fail with "already exists"."""
    name = templates_of(REPO, "dev")[file]["Resources"][group]["Properties"]["LogGroupName"]
    assert name == {"Fn::Sub": [f"{prefix}${{StackSuffix}}", {"StackSuffix": STACK_SUFFIX}]}


def test_no_retained_resource_has_a_fixed_name():
    """The same rule for every template of every environment: Retain-type resources are named
    by CloudFormation or carry the stack's suffix."""
    name_properties = {
        "AWS::Logs::LogGroup": "LogGroupName",
        "AWS::SecretsManager::Secret": "Name",
        "AWS::RDS::DBInstance": "DBInstanceIdentifier",
        "AWS::ElastiCache::ReplicationGroup": "ReplicationGroupId",
        "AWS::S3::Bucket": "BucketName",
    }
    for env in ("dev", "staging", "prod"):
        for file, template in templates_of(REPO, env).items():
            for logical_id, resource in template["Resources"].items():
                if resource.get("DeletionPolicy") not in {"Retain", "RetainExceptOnCreate"}:
                    continue
                name = resource.get("Properties", {}).get(name_properties.get(resource["Type"]))
                assert not isinstance(name, str), f"{env}/{file}: {logical_id} is named {name}"


def test_load_balancer_may_only_reach_the_tasks_on_their_port():
    cluster = templates_of(REPO, "dev")["cluster.json"]["Resources"]
    # inline: a rule that matches nothing, so the default allow-all egress is gone
    assert cluster["LoadBalancerSecurityGroup"]["Properties"]["SecurityGroupEgress"] == [
        {
            "CidrIp": "255.255.255.255/32",
            "Description": "Disallow all other traffic",
            "FromPort": 252,
            "IpProtocol": "icmp",
            "ToPort": 86,
        }
    ]
    assert cluster["LoadBalancerEgressToService"]["Properties"] == {
        "Description": "to web tasks only",
        "DestinationSecurityGroupId": {"Ref": "ServiceSecurityGroup"},
        "FromPort": 8080,
        "GroupId": {"Ref": "LoadBalancerSecurityGroup"},
        "IpProtocol": "tcp",
        "ToPort": 8080,
    }
    ingress = cluster["ServiceIngressFromLoadBalancer"]["Properties"]
    assert ingress["SourceSecurityGroupId"] == {"Ref": "LoadBalancerSecurityGroup"}


def test_app_url_is_the_domain_when_the_environment_names_one(sample_root):
    from factorstack.build import build
    from tests.support.sample import edit_yaml

    outputs = templates_of(sample_root, "dev")["cluster.json"]["Outputs"]
    assert outputs["AppUrl"]["Value"] == {"Fn::Sub": "http://${LoadBalancer.DNSName}"}
    outputs = templates_of(sample_root, "prod")["cluster.json"]["Outputs"]
    assert outputs["AppUrl"]["Value"] == "https://example.com"  # a certificate needs a domain
    edit_yaml(
        sample_root / "environments/prod.yaml", lambda d: d.update(domain_name="app.example.com")
    )
    outputs = templates_of(sample_root, "prod")["cluster.json"]["Outputs"]
    assert outputs["AppUrl"]["Value"] == "https://app.example.com"
    report = build(sample_root, ["prod"])  # and cfn-lint finds nothing
    assert report.linted_files == len(report.environments[0].files)


def test_flow_logs_role_is_scoped_to_its_log_group_and_this_account():
    network = templates_of(REPO, "dev")["network.json"]
    role = network["Resources"]["FlowLogsRole"]["Properties"]
    (trust,) = role["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Condition"] == {"StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}}
    statements = role["Policies"][0]["PolicyDocument"]["Statement"]
    prefix = "arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:log-group:"
    assert {tuple(s["Action"]): s["Resource"] for s in statements} == {
        ("logs:CreateLogStream", "logs:PutLogEvents"): [
            {
                "Fn::Sub": [
                    f"{prefix}/example/dev/vpc-flow-logs-${{StackSuffix}}:log-stream:*",
                    {"StackSuffix": STACK_SUFFIX},
                ]
            }
        ],
        ("logs:DescribeLogStreams",): [
            {
                "Fn::Sub": [
                    f"{prefix}/example/dev/vpc-flow-logs-${{StackSuffix}}:*",
                    {"StackSuffix": STACK_SUFFIX},
                ]
            }
        ],
    }


def test_tasks_may_send_only_https_out_besides_the_data_ports(env_templates):
    """Inline egress replaces the default allow-all on the tasks' group: 443 anywhere (AWS APIs,
    ECR and its layers in S3, CloudWatch Logs, Secrets Manager, SSM, the app's third parties).
    The only other rules out are the data stack's, to the database and cache groups."""
    tasks = env_templates["cluster.json"]["Resources"]["ServiceSecurityGroup"]["Properties"]
    assert tasks["SecurityGroupEgress"] == [
        {
            "CidrIp": "0.0.0.0/0",
            "Description": "HTTPS to AWS APIs, ECR and third parties",
            "FromPort": 443,
            "IpProtocol": "tcp",
            "ToPort": 443,
        }
    ]
    rules_out = {
        (file, name): resource["Properties"]
        for file, template in env_templates.items()
        for name, resource in resources_of_type(template, "AWS::EC2::SecurityGroupEgress").items()
    }
    tasks_out = {
        key: (rule["FromPort"], rule["DestinationSecurityGroupId"])
        for key, rule in rules_out.items()
        if rule["GroupId"] in ({"Ref": "ServiceSecurityGroup"}, {"Ref": "ServiceSecurityGroupId"})
    }
    assert tasks_out == {
        ("data.json", "ServiceEgressToDatabase"): (3306, {"Ref": "DatabaseSecurityGroup"}),
        ("data.json", "ServiceEgressToCache"): (6379, {"Ref": "CacheSecurityGroup"}),
    }
    assert set(rules_out) - set(tasks_out) == {("cluster.json", "LoadBalancerEgressToService")}


@pytest.mark.parametrize(("env", "zones"), [("dev", 2), ("prod", 3)])
def test_private_subnets_reach_s3_through_a_gateway_endpoint(env, zones):
    """ECR keeps image layers in S3: with a gateway endpoint on the tasks' route tables, pulls
    skip the NAT gateway. The isolated subnets (the data tier) get no route to S3 either."""
    network = templates_of(REPO, env)["network.json"]
    (endpoint,) = resources_of_type(network, "AWS::EC2::VPCEndpoint").values()
    props = endpoint["Properties"]
    assert props["VpcEndpointType"] == "Gateway"
    assert props["ServiceName"] == {"Fn::Sub": "com.amazonaws.${AWS::Region}.s3"}
    assert props["VpcId"] == {"Ref": "Vpc"}
    assert props["RouteTableIds"] == [
        {"Ref": f"Private{zone}RouteTable"} for zone in range(1, zones + 1)
    ]
    assert "PolicyDocument" not in props  # the app's own buckets take this route as well
