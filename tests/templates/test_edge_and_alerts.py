"""The load balancer's audit trail and protection, the alarm topic that reaches a person, the web
ACL and the interface endpoints: present or absent per environment, wired and ordered."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from factorstack.stacks.alerts import subscription_id
from tests.support.sample import edit_yaml
from tests.support.templates import raw_templates_of, resources_of_type, templates_of

REPO = Path(__file__).resolve().parents[2]
ALL_ENVS = ["dev", "staging", "prod"]


@pytest.fixture(scope="module")
def built() -> dict[str, dict[str, dict]]:
    return {env: templates_of(REPO, env) for env in ALL_ENVS}


def _props(template: dict, name: str) -> dict:
    return template["Resources"][name]["Properties"]


def _attributes(cluster: dict) -> dict:
    return {a["Key"]: a["Value"] for a in _props(cluster, "LoadBalancer")["LoadBalancerAttributes"]}


# ---------------------------------------------------------------- access logs


@pytest.mark.parametrize(("env", "days"), [("dev", 7), ("staging", 30), ("prod", 365)])
def test_access_logs_go_to_an_encrypted_private_bucket_kept_for_the_environment(built, env, days):
    cluster = built[env]["cluster.json"]
    bucket = cluster["Resources"]["AccessLogsBucket"]
    props = bucket["Properties"]
    # ELB access logs support SSE-S3 only, not SSE-KMS
    (rule,) = props["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert rule["ServerSideEncryptionByDefault"] == {"SSEAlgorithm": "AES256"}
    assert set(props["PublicAccessBlockConfiguration"].values()) == {True}
    (expiry,) = props["LifecycleConfiguration"]["Rules"]
    # versioned: an expired log becomes noncurrent and is deleted a day later, so the two
    # add up to the environment's retention (not twice it)
    assert props["VersioningConfiguration"] == {"Status": "Enabled"}
    assert expiry["NoncurrentVersionExpiration"] == {"NoncurrentDays": 1}
    assert expiry["ExpirationInDays"] + 1 == days
    # kept when the stack lets go of it, and never a fixed name that would block a re-create
    assert (bucket["DeletionPolicy"], bucket["UpdateReplacePolicy"]) == ("Retain", "Retain")
    assert "BucketName" not in props


def test_the_load_balancer_logs_drops_bad_headers_and_waits_for_the_bucket_policy(built):
    cluster = built["prod"]["cluster.json"]
    attributes = _attributes(cluster)
    assert attributes["access_logs.s3.enabled"] == "true"
    assert attributes["access_logs.s3.bucket"] == {"Ref": "AccessLogsBucket"}
    assert attributes["access_logs.s3.prefix"] == "load-balancer"
    assert attributes["routing.http.drop_invalid_header_fields.enabled"] == "true"
    # ELB checks its write access when logging is turned on: the policy must exist first
    assert cluster["Resources"]["LoadBalancer"]["DependsOn"] == ["AccessLogsBucketPolicy"]


def test_bucket_policy_lets_only_the_regions_elb_write_under_the_prefix_over_tls(built):
    policy = _props(built["dev"]["cluster.json"], "AccessLogsBucketPolicy")
    write, tls = policy["PolicyDocument"]["Statement"]
    assert write["Principal"] == {
        "AWS": {"Fn::Sub": "arn:${AWS::Partition}:iam::156460612806:root"}
    }
    assert write["Action"] == ["s3:PutObject"]
    assert write["Resource"] == [
        {"Fn::Sub": "${AccessLogsBucket.Arn}/load-balancer/AWSLogs/${AWS::AccountId}/*"}
    ]
    assert tls["Effect"] == "Deny"
    assert tls["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


@pytest.mark.parametrize(
    ("region", "principal"),
    [
        ("us-east-1", {"AWS": {"Fn::Sub": "arn:${AWS::Partition}:iam::127311923021:root"}}),
        ("eu-central-1", {"AWS": {"Fn::Sub": "arn:${AWS::Partition}:iam::054676820928:root"}}),
        # regions opened since August 2022 grant the log-delivery service instead
        ("eu-central-2", {"Service": "logdelivery.elasticloadbalancing.amazonaws.com"}),
        ("ap-south-2", {"Service": "logdelivery.elasticloadbalancing.amazonaws.com"}),
    ],
)
def test_bucket_policy_principal_follows_the_region(sample_root: Path, region, principal):
    edit_yaml(sample_root / "environments/dev.yaml", lambda d: d.update(region=region))
    policy = _props(templates_of(sample_root, "dev")["cluster.json"], "AccessLogsBucketPolicy")
    assert policy["PolicyDocument"]["Statement"][0]["Principal"] == principal


# ---------------------------------------------------------------- deletion protection


@pytest.mark.parametrize(
    ("env", "wanted"), [("dev", "false"), ("staging", "true"), ("prod", "true")]
)
def test_load_balancer_deletion_protection_is_a_root_parameter_off_on_first_create(
    built, env, wanted
):
    root = built[env]["root.json"]
    parameter = root["Parameters"]["LoadBalancerDeletionProtection"]
    assert parameter["Default"] == wanted
    wired = _props(root, "ClusterStack")["Parameters"]["LoadBalancerDeletionProtection"]
    assert wired == {"Ref": "LoadBalancerDeletionProtection"}
    # the environment's view reads the setting the root's parameter holds (its Default)
    assert _attributes(built[env]["cluster.json"])["deletion_protection.enabled"] == wanted
    raw = raw_templates_of(REPO, env)["cluster.json"]
    assert _attributes(raw)["deletion_protection.enabled"] == {
        "Ref": "LoadBalancerDeletionProtection"
    }
    # protection refuses the delete a failed first create's rollback needs: create without it,
    # then the follow-up update turns it on (beside the database's)
    create_first = (root.get("Metadata") or {}).get("FactorstackCreateFirstWith", {})
    if wanted == "true":
        assert create_first == {
            "DatabaseDeletionProtection": "false",
            "LoadBalancerDeletionProtection": "false",
        }
    else:
        assert "LoadBalancerDeletionProtection" not in create_first


# ---------------------------------------------------------------- alarm topic


def test_alarm_topic_is_encrypted_with_a_key_cloudwatch_may_use(built):
    alerts = built["prod"]["alerts.json"]
    topic = _props(alerts, "AlarmTopic")
    # not alias/aws/sns: CloudWatch alarms cannot publish to a topic under the AWS managed key
    assert topic["KmsMasterKeyId"] == {"Ref": "AlarmTopicKey"}
    key = _props(alerts, "AlarmTopicKey")
    assert key["EnableKeyRotation"] is True
    by_sid = {s["Sid"]: s for s in key["KeyPolicy"]["Statement"]}
    cloudwatch = by_sid["CloudWatchPublishesAlarms"]
    assert cloudwatch["Principal"] == {"Service": "cloudwatch.amazonaws.com"}
    assert sorted(cloudwatch["Action"]) == ["kms:Decrypt", "kms:GenerateDataKey*"]
    (policy,) = resources_of_type(alerts, "AWS::SNS::TopicPolicy").values()
    publish = policy["Properties"]["PolicyDocument"]["Statement"][0]
    assert publish["Principal"] == {"Service": "cloudwatch.amazonaws.com"}
    assert publish["Condition"] == {
        "StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}
    }


def test_subscriptions_come_from_the_environment_file(built, sample_root: Path):
    assert resources_of_type(built["dev"]["alerts.json"], "AWS::SNS::Subscription") == {}
    (prod,) = resources_of_type(built["prod"]["alerts.json"], "AWS::SNS::Subscription").values()
    assert prod["Properties"] == {
        "Protocol": "email",
        "Endpoint": "ops@example.com",
        "TopicArn": {"Ref": "AlarmTopic"},
    }
    emails = ["b@example.com", "a@example.com"]
    edit_yaml(sample_root / "environments/dev.yaml", lambda d: d.update(notify={"emails": emails}))
    first = resources_of_type(
        templates_of(sample_root, "dev")["alerts.json"], "AWS::SNS::Subscription"
    )
    edit_yaml(
        sample_root / "environments/dev.yaml", lambda d: d.update(notify={"emails": emails[::-1]})
    )
    again = resources_of_type(
        templates_of(sample_root, "dev")["alerts.json"], "AWS::SNS::Subscription"
    )
    # one id per address: reordering the list replaces no subscription
    assert set(first) == set(again) == {subscription_id(e) for e in emails}


@pytest.mark.parametrize(
    ("env", "emails"),
    [("dev", []), ("staging", ["ops@example.com"]), ("prod", ["ops@example.com"])],
)
def test_subscriptions_stay_in_the_alerts_template_where_the_deployed_ones_live(env, emails):
    """Moving a subscription to another stack would unsubscribe its address (SNS hands the new
    resource the existing subscription; deleting the old resource ends it), so they stay put
    and alerts.json is shared by the environments that mail the same addresses."""
    raw = raw_templates_of(REPO, env)
    assert resources_of_type(raw["root.json"], "AWS::SNS::Subscription") == {}
    subscriptions = resources_of_type(raw["alerts.json"], "AWS::SNS::Subscription")
    assert set(subscriptions) == {subscription_id(e) for e in emails}


def test_the_alerts_template_reads_the_environment_from_root_parameters():
    raw = {env: raw_templates_of(REPO, env) for env in ALL_ENVS}
    alerts = raw["prod"]["alerts.json"]
    assert _props(alerts, "AlarmTopic")["DisplayName"] == {
        "Fn::Sub": "example ${EnvironmentName} alarms"
    }
    storage = _props(alerts, "DatabaseStorageAlarm")
    assert storage["Threshold"] == {"Ref": "DatabaseStorageAlarmBytes"}
    assert alerts["Parameters"]["DatabaseStorageAlarmBytes"]["Type"] == "Number"
    for env in ALL_ENVS:
        passed = _props(raw[env]["root.json"], "AlertsStack")["Parameters"]
        assert passed["EnvironmentName"] == env
        # half of where storage autoscaling acts (10% free), so normal growth never fires it
        assert passed["DatabaseStorageAlarmBytes"] == str(int(20 * 1024**3 * 0.05))
        resolved = templates_of(REPO, env)["alerts.json"]
        if env != "dev":  # dev has no topic (notify.topic: false)
            assert _props(resolved, "AlarmTopic")["DisplayName"] == f"example {env} alarms"


def test_the_storage_alarm_follows_the_environments_allocated_storage(sample_root: Path):
    edit_yaml(
        sample_root / "environments/dev.yaml",
        lambda d: d["database"].update(allocated_storage_gb=100, max_allocated_storage_gb=200),
    )
    edit_yaml(  # the addresses staging mails: then the templates may be the same
        sample_root / "environments/dev.yaml",
        lambda d: d.update(notify={"emails": ["ops@example.com"]}),
    )
    dev = templates_of(sample_root, "dev")
    assert _props(dev["alerts.json"], "DatabaseStorageAlarm")["Threshold"] == 5 * 1024**3
    # only root.json carries the value: the alerts text is what staging runs (same addresses)
    assert json.dumps(raw_templates_of(sample_root, "dev")["alerts.json"], sort_keys=True) == (
        json.dumps(raw_templates_of(sample_root, "staging")["alerts.json"], sort_keys=True)
    )


@pytest.mark.parametrize("env", ["staging", "prod"])
def test_every_alarm_notifies_the_topic_when_it_fires_and_clears(built, env):
    root = built[env]["root.json"]
    topic_output = {"Fn::GetAtt": ["AlertsStack", "Outputs.AlarmTopicArn"]}
    seen = 0
    for file, template in built[env].items():
        for name, alarm in resources_of_type(template, "AWS::CloudWatch::Alarm").items():
            topic = {"Ref": "AlarmTopic"} if file == "alerts.json" else {"Ref": "AlarmTopicArn"}
            props = alarm["Properties"]
            assert props["AlarmActions"] == [topic], (file, name)
            assert props["OKActions"] == [topic], (file, name)
            seen += 1
            if file != "alerts.json":
                (stack,) = [
                    r
                    for r in root["Resources"].values()
                    if r["Properties"].get("TemplateURL") == file
                ]
                assert stack["Properties"]["Parameters"]["AlarmTopicArn"] == topic_output
    assert seen == 8  # web 3 and worker 1 release alarms, 4 health alarms
    assert root["Outputs"]["AlarmTopicArn"]["Value"] == topic_output


def test_without_a_topic_there_is_no_key_and_the_alarms_notify_nobody(built):
    """dev says `notify.topic: false`: the $1/month key goes with the topic, and every alarm
    stays (a deployment still rolls back on it) without actions."""
    dev = built["dev"]
    for kind in ("AWS::KMS::Key", "AWS::SNS::Topic", "AWS::SNS::TopicPolicy"):
        assert resources_of_type(dev["alerts.json"], kind) == {}, kind
    alarms = {
        (file, name): alarm["Properties"]
        for file, template in dev.items()
        for name, alarm in resources_of_type(template, "AWS::CloudWatch::Alarm").items()
    }
    assert len(alarms) == 8
    for where, props in alarms.items():
        assert "AlarmActions" not in props and "OKActions" not in props, where
    root = dev["root.json"]
    assert "AlarmTopicArn" not in root["Outputs"]
    # the root passes "" where the output is absent: reading it would fail the root stack
    for stack in ("WebStack", "WorkerStack"):
        assert _props(root, stack)["Parameters"]["AlarmTopicArn"] == ""
    # web's release alarms still stop its deployment
    web = _props(dev["process-web.json"], "WebService")
    assert web["DeploymentConfiguration"]["Alarms"]["Enable"] is True


def test_whether_there_is_a_topic_is_a_value_not_another_template():
    """The topic, its key and every alarm's actions hang on conditions: dev (no topic) runs the
    same process templates as staging, and the same alerts text as an environment that mails
    the same addresses."""
    raw = {env: raw_templates_of(REPO, env) for env in ("dev", "staging")}
    for file in ("process-web.json", "process-worker.json", "process-scheduler.json"):
        assert raw["dev"][file] == raw["staging"][file], file
    alerts = raw["dev"]["alerts.json"]
    for name in ("AlarmTopicKey", "AlarmTopic", "AlarmTopicPolicy"):
        assert alerts["Resources"][name]["Condition"] == "NotifyTopicOn", name
    assert alerts["Outputs"]["AlarmTopicArn"]["Condition"] == "NotifyTopicOn"
    for stack in ("AlertsStack", "WebStack", "WorkerStack"):
        assert _props(raw["dev"]["root.json"], stack)["Parameters"]["NotifyTopic"] == "false"
        assert _props(raw["staging"]["root.json"], stack)["Parameters"]["NotifyTopic"] == "true"
    actions = _props(raw["dev"]["process-web.json"], "WebErrorRateAlarm")["AlarmActions"]
    assert actions == {
        "Fn::If": ["NotifyTopicOn", [{"Ref": "AlarmTopicArn"}], {"Ref": "AWS::NoValue"}]
    }


def test_health_alarms_watch_the_load_balancer_and_the_database(built):
    alerts = built["prod"]["alerts.json"]
    alarms = resources_of_type(alerts, "AWS::CloudWatch::Alarm")
    assert set(alarms) == {
        "LoadBalancer5xxAlarm",
        "NoHealthyTargetsAlarm",
        "DatabaseCpuAlarm",
        "DatabaseStorageAlarm",
    }
    assert alarms["LoadBalancer5xxAlarm"]["Properties"]["MetricName"] == "HTTPCode_ELB_5XX_Count"
    healthy = alarms["NoHealthyTargetsAlarm"]["Properties"]
    assert (healthy["MetricName"], healthy["ComparisonOperator"], healthy["Threshold"]) == (
        "HealthyHostCount",
        "LessThanThreshold",
        1.0,
    )
    (dimension,) = alarms["DatabaseCpuAlarm"]["Properties"]["Dimensions"]
    # the instance identifier is the first label of the database's endpoint address
    assert dimension == {
        "Name": "DBInstanceIdentifier",
        "Value": {"Fn::Select": [0, {"Fn::Split": [".", {"Ref": "DatabaseHost"}]}]},
    }
    storage = alarms["DatabaseStorageAlarm"]["Properties"]
    assert storage["Threshold"] == float(int(20 * 1024**3 * 0.05))  # 5% of 20 GiB
    params = _props(built["prod"]["root.json"], "AlertsStack")["Parameters"]
    assert params["DatabaseHost"] == {"Fn::GetAtt": ["DataStack", "Outputs.DatabaseHost"]}


# ---------------------------------------------------------------- WAF


def test_no_web_acl_in_dev(built):
    assert resources_of_type(built["dev"]["cluster.json"], "AWS::WAFv2::WebACL") == {}
    assert resources_of_type(built["dev"]["cluster.json"], "AWS::WAFv2::WebACLAssociation") == {}


@pytest.mark.parametrize("env", ["staging", "prod"])
def test_web_acl_with_managed_rules_and_rate_limit_guards_the_load_balancer(built, env):
    cluster = built[env]["cluster.json"]
    acl = _props(cluster, "WebAcl")
    assert acl["Scope"] == "REGIONAL"
    assert acl["DefaultAction"] == {"Allow": {}}
    rules = {r["Name"]: r for r in acl["Rules"]}
    assert set(rules) == {
        "RateLimitPerIp",
        "AWSManagedRulesAmazonIpReputationList",
        "AWSManagedRulesCommonRuleSet",
        "AWSManagedRulesKnownBadInputsRuleSet",
    }
    assert sorted(r["Priority"] for r in acl["Rules"]) == [0, 1, 2, 3]
    rate = rules["RateLimitPerIp"]
    assert rate["Action"] == {"Block": {}}
    assert rate["Statement"]["RateBasedStatement"] == {
        "AggregateKeyType": "IP",
        "Limit": 2000,
        "EvaluationWindowSec": 300,
    }
    common = rules["AWSManagedRulesCommonRuleSet"]
    assert common["OverrideAction"] == {"None": {}}
    assert common["Statement"]["ManagedRuleGroupStatement"]["RuleActionOverrides"] == [
        {"Name": "SizeRestrictions_BODY", "ActionToUse": {"Count": {}}}
    ]
    for rule in acl["Rules"]:
        assert rule["VisibilityConfig"]["CloudWatchMetricsEnabled"] is True
    assert acl["VisibilityConfig"]["MetricName"] == f"example-{env}-web-acl"
    assert _props(cluster, "WebAclAssociation") == {
        "ResourceArn": {"Ref": "LoadBalancer"},
        "WebACLArn": {"Fn::GetAtt": ["WebAcl", "Arn"]},
    }


def test_rate_limit_comes_from_the_environment(sample_root: Path):
    edit_yaml(
        sample_root / "environments/dev.yaml",
        lambda d: d.update(waf={"enabled": True, "rate_limit": 500}),
    )
    acl = _props(templates_of(sample_root, "dev")["cluster.json"], "WebAcl")
    (rate,) = [r for r in acl["Rules"] if r["Name"] == "RateLimitPerIp"]
    assert rate["Statement"]["RateBasedStatement"]["Limit"] == 500


# ---------------------------------------------------------------- interface endpoints


def test_interface_endpoints_only_where_the_environment_asks(built):
    for env in ("dev", "staging"):
        assert "endpoints.json" not in built[env]
        assert "EndpointsStack" not in built[env]["root.json"]["Resources"]
    endpoints = built["prod"]["endpoints.json"]
    made = resources_of_type(endpoints, "AWS::EC2::VPCEndpoint")
    services = {e["Properties"]["ServiceName"]["Fn::Sub"].rsplit("}.", 1)[1] for e in made.values()}
    assert services == {"ecr.api", "ecr.dkr", "logs", "secretsmanager", "ssm"}
    for endpoint in made.values():
        props = endpoint["Properties"]
        assert props["VpcEndpointType"] == "Interface"
        assert props["PrivateDnsEnabled"] is True
        assert props["SubnetIds"] == {"Fn::Split": [",", {"Ref": "PrivateSubnetIds"}]}
        assert props["SecurityGroupIds"] == [{"Ref": "EndpointSecurityGroup"}]


def test_the_endpoints_template_holds_no_environment_value(built, sample_root: Path):
    prod = raw_templates_of(REPO, "prod")
    raw = prod["endpoints.json"]
    assert _props(raw, "EndpointSecurityGroup")["GroupDescription"] == {
        "Fn::Sub": "example ${EnvironmentName} interface endpoints"
    }
    passed = _props(prod["root.json"], "EndpointsStack")["Parameters"]
    assert passed["EnvironmentName"] == "prod"
    # resolved, the description is what it always was (a changed one replaces the group)
    group = _props(built["prod"]["endpoints.json"], "EndpointSecurityGroup")
    assert group["GroupDescription"] == "example prod interface endpoints"
    # asked for in dev too, dev runs the very text prod runs
    edit_yaml(
        sample_root / "environments/dev.yaml",
        lambda d: d["network"].update(interface_endpoints=True),
    )
    dev = raw_templates_of(sample_root, "dev")["endpoints.json"]
    assert json.dumps(dev, sort_keys=True) == json.dumps(raw, sort_keys=True)


def test_only_the_tasks_reach_the_endpoints_on_443(built):
    group = _props(built["prod"]["endpoints.json"], "EndpointSecurityGroup")
    (ingress,) = group["SecurityGroupIngress"]
    assert (ingress["IpProtocol"], ingress["FromPort"], ingress["ToPort"]) == ("tcp", 443, 443)
    assert ingress["SourceSecurityGroupId"] == {"Ref": "ServiceSecurityGroupId"}
    assert "CidrIp" not in ingress
    (egress,) = group["SecurityGroupEgress"]
    assert egress["CidrIp"] == "255.255.255.255/32"  # matches nothing: no traffic out
    wired = _props(built["prod"]["root.json"], "EndpointsStack")["Parameters"]
    assert wired["ServiceSecurityGroupId"] == {
        "Fn::GetAtt": ["ClusterStack", "Outputs.ServiceSecurityGroupId"]
    }


def test_a_one_day_retention_keeps_access_logs_the_shortest_s3_allows(sample_root: Path):
    """ExpirationInDays and NoncurrentDays are each at least 1: two days in all."""
    edit_yaml(
        sample_root / "environments/dev.yaml",
        lambda d: d["load_balancer"].update(access_log_days=1),
    )
    bucket = _props(templates_of(sample_root, "dev")["cluster.json"], "AccessLogsBucket")
    (expiry,) = bucket["LifecycleConfiguration"]["Rules"]
    assert expiry["ExpirationInDays"] == 1
    assert expiry["NoncurrentVersionExpiration"] == {"NoncurrentDays": 1}
