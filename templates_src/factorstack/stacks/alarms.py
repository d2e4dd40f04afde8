"""Alarms that mean "this release is broken", wired into a service's deployment so that ECS
rolls the deployment back when one fires. Thresholds come from the environment file, as
settings the root passes (the template is the same in every environment).

Every service: tasks below the desired count (tasks that keep stopping); no running series
at all (no task has run yet) counts as zero running, not as missing data. A load-balanced
service also: the share of 5xx answers, and targets failing the health check. Each notifies the
environment's alarm topic (alerts.py) when it fires and when it clears, so a rollback reaches a
person too, where the environment has a topic (`notify.topic`).
"""

from __future__ import annotations

from troposphere import If, Ref, Template
from troposphere import cloudwatch as cw

from factorstack.model import Alarms, AppModel, Process
from factorstack.stacks.policy import justify_alarm
from factorstack.stacks.wiring import ChildStack

PERIOD_SECONDS = 60
TOPIC_FLAG = "NotifyTopic"  # notify.topic: whether the environment has an alarm topic
TOPIC_FLAG_DESCRIPTION = "Whether alarms notify a topic (environment file, notify.topic)."


def _metric(
    query_id: str, namespace: str, name: str, stat: str, dimensions: dict[str, object]
) -> cw.MetricDataQuery:
    return cw.MetricDataQuery(
        Id=query_id,
        ReturnData=False,
        MetricStat=cw.MetricStat(
            Metric=cw.Metric(
                Namespace=namespace,
                MetricName=name,
                Dimensions=[cw.MetricDimension(Name=k, Value=v) for k, v in dimensions.items()],
            ),
            Period=PERIOD_SECONDS,
            Stat=stat,
        ),
    )


class _Limits:
    """The environment's thresholds, each declared as a setting of this template when an
    alarm first uses it (an unused parameter is a lint finding)."""

    DESCRIPTIONS = {
        "ErrorRatePercent": "Share of 5xx answers in percent that rolls a deployment back",
        "UnhealthyTargets": "Targets failing the health check that roll a deployment back",
        "MissingTasks": "Tasks below the desired count that roll a deployment back",
        "EvaluationMinutes": "Minutes (one-minute periods) a release alarm must see",
    }

    def __init__(self, child: ChildStack, limits: Alarms) -> None:
        self.child = child
        self.values = {
            "ErrorRatePercent": limits.error_rate_percent,
            "UnhealthyTargets": limits.unhealthy_targets,
            "MissingTasks": limits.missing_tasks,
            "EvaluationMinutes": limits.evaluation_minutes,
        }

    def __getitem__(self, name: str) -> Ref:
        description = f"{self.DESCRIPTIONS[name]} (environment file, alarms)."
        return Ref(self.child.setting(name, self.values[name], description))


def notified(condition: str, topic: Ref) -> If:
    """An alarm's actions: the topic where the environment has one, none where it does not (the
    alarm still changes state, and a deployment still rolls back on it)."""
    return If(condition, [topic], Ref("AWS::NoValue"))


def add_alarm(
    template: Template, name: str, description: str, notify: object, **settings: object
) -> cw.Alarm:
    """Every alarm of the app, release or health: it notifies `notify` when it fires and when
    it clears, missing data counts as fine, and it carries the reason it may have no action
    (an environment without an alarm topic)."""
    return template.add_resource(
        justify_alarm(
            cw.Alarm(
                name,
                AlarmDescription=description,
                AlarmActions=notify,
                OKActions=notify,
                TreatMissingData="notBreaching",
                **settings,
            )
        )
    )


def _alarm(
    template: Template,
    name: str,
    description: str,
    threshold: Ref,
    notify: If | list[Ref],
    **metric: object,
) -> cw.Alarm:
    return add_alarm(
        template,
        name,
        description,
        notify,
        ComparisonOperator="GreaterThanOrEqualToThreshold",
        Threshold=threshold,
        EvaluationPeriods=metric.pop("periods"),
        DatapointsToAlarm=metric.pop("datapoints"),
        **metric,
    )


def has_release_alarms(process: Process) -> bool:
    """A singleton without a load balancer has none (see below)."""
    return not process.singleton or process.load_balanced


def add_release_alarms(
    child: ChildStack,
    model: AppModel,
    process: Process,
    cluster: Ref,
    service_name: str,
    load_balancer: tuple[Ref, Ref] | None,
    topic: Ref | None,
) -> list[cw.Alarm]:
    """The alarms of one service; `load_balancer` is (LoadBalancerFullName, TargetGroupFullName),
    `topic` the alarm topic they notify."""
    template = child.template
    if not has_release_alarms(process):
        return []
    limits = _Limits(child, model.alarms)
    notify: If | list[Ref] = []
    if topic is not None:
        has_topic = child.flag(TOPIC_FLAG, model.alarm_topic, TOPIC_FLAG_DESCRIPTION)
        notify = notified(has_topic, topic)  # where it has none, `topic` is ""
    periods = {"periods": limits["EvaluationMinutes"], "datapoints": limits["EvaluationMinutes"]}
    service = {"ClusterName": cluster, "ServiceName": service_name}
    alarms: list[cw.Alarm] = []
    # A singleton runs no task while its deployment swaps the old one for the new one, so
    # "below desired" is how every healthy release of it starts: it has no such alarm.
    if not process.singleton:
        alarms.append(
            _alarm(
                template,
                f"{process.logical}TasksBelowDesiredAlarm",
                f"{process.name}: tasks keep stopping (running below desired)",
                limits["MissingTasks"],
                notify,
                Metrics=[
                    _metric(
                        "desired", "ECS/ContainerInsights", "DesiredTaskCount", "Average", service
                    ),
                    _metric(
                        "running", "ECS/ContainerInsights", "RunningTaskCount", "Average", service
                    ),
                    cw.MetricDataQuery(
                        Id="missing", Expression="desired - FILL(running, 0)", ReturnData=True
                    ),
                ],
                **periods,
            )
        )
    if load_balancer is not None:
        balancer, target_group = load_balancer
        target = {"LoadBalancer": balancer, "TargetGroup": target_group}
        elb = "AWS/ApplicationELB"
        alarms.append(
            _alarm(
                template,
                f"{process.logical}ErrorRateAlarm",
                f"{process.name}: share of 5xx answers in percent",
                limits["ErrorRatePercent"],
                notify,
                Metrics=[
                    _metric("errors", elb, "HTTPCode_Target_5XX_Count", "Sum", target),
                    _metric("requests", elb, "RequestCount", "Sum", target),
                    cw.MetricDataQuery(
                        Id="rate",
                        Expression="IF(requests > 0, 100 * FILL(errors, 0) / requests, 0)",
                        ReturnData=True,
                    ),
                ],
                **periods,
            )
        )
        alarms.append(
            _alarm(
                template,
                f"{process.logical}UnhealthyTargetsAlarm",
                f"{process.name}: tasks failing the load balancer's health check",
                limits["UnhealthyTargets"],
                notify,
                Namespace=elb,
                MetricName="UnHealthyHostCount",
                Dimensions=[cw.MetricDimension(Name=k, Value=v) for k, v in target.items()],
                Statistic="Maximum",
                Period=PERIOD_SECONDS,
                **periods,
            )
        )
    return alarms
