"""Alerts stack: the environment's alarm topic, who it mails, and the health alarms that are not
about one release (the load balancer's own errors, no healthy web task, database CPU and disk).

The topic is encrypted with a customer managed key whose policy lets CloudWatch use it:
CloudWatch cannot publish to a topic encrypted with the AWS managed key (alias/aws/sns), whose
policy nobody can change. The topic exists even when the environment lists no email: every
alarm names it, and a person can subscribe another endpoint (chat, pager) without a deploy. An
environment may do without it (`notify.topic: false`, for dev): the key costs $1 a month, and
without a topic the alarms still stop a bad deployment and show in the console. Whether it exists
is a flag, so the template stays one text whichever an environment chooses.

Everything else arrives from the root, so the template is the same text in every environment
that mails the same addresses. The email subscriptions stay here, one resource per address: a
list cannot arrive as a parameter, and moving them to another stack would lose them (SNS answers
a second subscribe of the same address with the existing subscription, so the new resource and
the old one share it and deleting the old one unsubscribes the address).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from awacs import kms as kms_actions
from awacs import sns as sns_actions
from awacs.aws import (
    Allow,
    AWSPrincipal,
    Bool,
    BoolIfExists,
    Condition,
    Deny,
    PolicyDocument,
    Principal,
    Statement,
    StringEquals,
)
from troposphere import Ref, Select, Split, Sub, Template, kms, sns
from troposphere import cloudwatch as cw

from factorstack.model import AppModel
from factorstack.stacks.alarms import TOPIC_FLAG, TOPIC_FLAG_DESCRIPTION, add_alarm, notified
from factorstack.stacks.cluster import ClusterOutputs
from factorstack.stacks.data import DataOutputs
from factorstack.stacks.wiring import Built, ChildStack, Handle

CLOUDWATCH = "cloudwatch.amazonaws.com"
KEY_DELETION_WINDOW_DAYS = 7
PERIOD_SECONDS = 300
# Health thresholds, the same in every environment (the release alarms' are per environment).
ELB_5XX_PER_PERIOD = 10  # answers the load balancer itself failed (no target, target timeout)
DATABASE_CPU_PERCENT = 80.0  # for three periods running
# Of the storage the database was given. RDS storage autoscaling acts at 10% free (of the current
# size), so an alarm there would fire at every normal growth; at half of that it means
# autoscaling is at its ceiling or could not keep up (it waits 6 hours between growths). Once
# the storage has grown, the same bytes are a smaller share: the alarm then fires later.
DATABASE_FREE_STORAGE_SHARE = 0.05
GIB = 1024**3
ACCOUNT_ROOT = Sub("arn:${AWS::Partition}:iam::${AWS::AccountId}:root")
# Grants only for AWS services acting for a principal (Control Tower CT.KMS.PR.3). SNS and
# CloudWatch use the key through this policy, not through grants, so nothing here needs one.
ONLY_SERVICE_GRANTS = Statement(
    Sid="GrantsOnlyForAwsServices",
    Effect=Deny,
    Principal=Principal("*"),
    Action=[kms_actions.CreateGrant],
    Resource=["*"],
    Condition=Condition(
        BoolIfExists({"kms:GrantIsForAWSResource": "false", "aws:PrincipalIsAWSService": "false"})
    ),
)


@dataclass(frozen=True)
class AlertsOutputs:
    topic_arn: Handle  # the literal "" where the environment has no topic


def _key(template: Template, condition: str) -> kms.Key:
    """The topic's key: the account administers it, CloudWatch may encrypt alarm messages."""
    return template.add_resource(
        kms.Key(
            "AlarmTopicKey",
            Condition=condition,
            # It encrypts messages in flight only: nothing is lost when it goes (after a
            # waiting period), and a new stack makes a new one.
            DeletionPolicy="Delete",
            UpdateReplacePolicy="Delete",
            Description="Encrypts the alarm topic; CloudWatch alarms may publish to it",
            EnableKeyRotation=True,
            PendingWindowInDays=KEY_DELETION_WINDOW_DAYS,
            KeyPolicy=PolicyDocument(
                Statement=[
                    Statement(
                        Sid="AccountAdministersKey",
                        Effect=Allow,
                        Principal=AWSPrincipal(ACCOUNT_ROOT),
                        Action=[kms_actions.Action("*")],
                        Resource=["*"],
                    ),
                    Statement(
                        Sid="CloudWatchPublishesAlarms",
                        Effect=Allow,
                        Principal=Principal("Service", CLOUDWATCH),
                        Action=[kms_actions.Decrypt, kms_actions.Action("GenerateDataKey*")],
                        Resource=["*"],
                    ),
                    ONLY_SERVICE_GRANTS,
                ]
            ),
        )
    )


def _topic(child: ChildStack, model: AppModel, condition: str) -> sns.Topic:
    template = child.template
    key = _key(template, condition)
    child.environment_name()
    topic = template.add_resource(
        sns.Topic(
            "AlarmTopic",
            Condition=condition,
            # The environment's name through a parameter: the same text in every environment.
            DisplayName=Sub(f"{model.app} ${{EnvironmentName}} alarms"),
            KmsMasterKeyId=Ref(key),
        )
    )
    template.add_resource(
        sns.TopicPolicy(
            "AlarmTopicPolicy",
            Condition=condition,
            Topics=[Ref(topic)],
            PolicyDocument=PolicyDocument(
                Statement=[
                    Statement(
                        Sid="AlarmsOfThisAccountPublish",
                        Effect=Allow,
                        Principal=Principal("Service", CLOUDWATCH),
                        Action=[sns_actions.Publish],
                        Resource=[Ref(topic)],
                        Condition=Condition(
                            StringEquals({"aws:SourceAccount": Ref("AWS::AccountId")})
                        ),
                    ),
                    Statement(
                        Sid="TlsOnly",
                        Effect=Deny,
                        Principal=Principal("*"),
                        Action=[sns_actions.Publish],
                        Resource=[Ref(topic)],
                        Condition=Condition(Bool("aws:SecureTransport", "false")),
                    ),
                ]
            ),
        )
    )
    for email in model.notify_emails:
        template.add_resource(
            sns.SubscriptionResource(
                subscription_id(email),
                Condition=condition,
                TopicArn=Ref(topic),
                Protocol="email",
                Endpoint=email,
            )
        )
    return topic


def subscription_id(email: str) -> str:
    """A logical id per address, not per position: reordering the list changes nothing."""
    return "AlarmEmail" + hashlib.sha256(email.lower().encode()).hexdigest()[:10]


def _alarm(
    template: Template, notify: object, name: str, description: str, **settings: object
) -> cw.Alarm:
    return add_alarm(template, name, description, notify, Period=PERIOD_SECONDS, **settings)


def _dimensions(**values: object) -> list[cw.MetricDimension]:
    return [cw.MetricDimension(Name=name, Value=value) for name, value in values.items()]


def _load_balancer_alarms(child: ChildStack, notify: object, cluster: ClusterOutputs) -> None:
    balancer = cluster.load_balancer
    if balancer is None:
        return
    name = Ref(child.take(balancer.load_balancer_full_name, "For the load balancer alarms."))
    group = Ref(child.take(balancer.target_group_full_name, "For the load balancer alarms."))
    _alarm(
        child.template,
        notify,
        "LoadBalancer5xxAlarm",
        f"the load balancer answered {ELB_5XX_PER_PERIOD} or more requests with its own 5xx "
        "in 5 minutes (no healthy task, or tasks timing out)",
        Namespace="AWS/ApplicationELB",
        MetricName="HTTPCode_ELB_5XX_Count",
        Dimensions=_dimensions(LoadBalancer=name),
        Statistic="Sum",
        ComparisonOperator="GreaterThanOrEqualToThreshold",
        Threshold=float(ELB_5XX_PER_PERIOD),
        EvaluationPeriods=1,
    )
    _alarm(
        child.template,
        notify,
        "NoHealthyTargetsAlarm",
        "no web task passes the load balancer's health check: the app is down",
        Namespace="AWS/ApplicationELB",
        MetricName="HealthyHostCount",
        Dimensions=_dimensions(LoadBalancer=name, TargetGroup=group),
        Statistic="Minimum",
        ComparisonOperator="LessThanThreshold",
        Threshold=1.0,
        EvaluationPeriods=1,
    )


def _database_alarms(
    child: ChildStack, model: AppModel, notify: object, data: DataOutputs | None
) -> None:
    if model.database is None or data is None or data.database is None:
        return
    host = Ref(child.take(data.database.host, "For the database alarms."))
    # The instance identifier is the first label of its endpoint address.
    instance = _dimensions(DBInstanceIdentifier=Select(0, Split(".", host)))
    _alarm(
        child.template,
        notify,
        "DatabaseCpuAlarm",
        f"database CPU at {DATABASE_CPU_PERCENT:.0f}% or more for 15 minutes",
        Namespace="AWS/RDS",
        MetricName="CPUUtilization",
        Dimensions=instance,
        Statistic="Average",
        ComparisonOperator="GreaterThanOrEqualToThreshold",
        Threshold=DATABASE_CPU_PERCENT,
        EvaluationPeriods=3,
    )
    free_bytes = model.database.allocated_storage_gb * GIB * DATABASE_FREE_STORAGE_SHARE
    # The allocated storage is the environment's, so the threshold in bytes is a setting.
    storage_threshold = child.setting(
        "DatabaseStorageAlarmBytes",
        int(free_bytes),
        "Free storage (bytes) below which the database storage alarm fires.",
        MinValue=0,
    )
    _alarm(
        child.template,
        notify,
        "DatabaseStorageAlarm",
        f"database free storage below {DATABASE_FREE_STORAGE_SHARE:.0%} of the storage it was "
        "given, half of where storage autoscaling first grows it (autoscaling has reached its "
        "ceiling, or cannot keep up)",
        Namespace="AWS/RDS",
        MetricName="FreeStorageSpace",
        Dimensions=instance,
        Statistic="Minimum",
        ComparisonOperator="LessThanThreshold",
        Threshold=Ref(storage_threshold),
        EvaluationPeriods=1,
    )


def build_alerts(
    model: AppModel, *, cluster: ClusterOutputs, data: DataOutputs | None
) -> Built[AlertsOutputs]:
    """The topic every alarm notifies, its subscribers and the health alarms."""
    child = ChildStack(
        "AlertsStack",
        "alerts.json",
        f"{model.app}: alarm topic, its subscribers, health alarms",
        environment=model.environment,
    )
    has_topic = child.flag(TOPIC_FLAG, model.alarm_topic, TOPIC_FLAG_DESCRIPTION)
    topic = _topic(child, model, has_topic)
    notify = notified(has_topic, Ref(topic))
    _load_balancer_alarms(child, notify, cluster)
    _database_alarms(child, model, notify, data)
    topic_arn = child.give(
        "AlarmTopicArn",
        Ref(topic),
        "SNS topic every alarm notifies; subscribe to it.",
        condition=has_topic,
    )
    if not model.alarm_topic:  # the output is not there to read: the processes get ""
        topic_arn = Handle.literal(topic_arn.name, "")
    return child.built(AlertsOutputs(topic_arn=topic_arn))
